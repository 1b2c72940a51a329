// Server state of the shared pages (messages, notifications, NDAs sent): paginated lists over the
// typed client, keyed by keys.ts so that the live client's invalidations reach them.
import { api, unwrap, type Schemas } from "../../api/client";

export type Thread = Schemas["ThreadOut"];
export type Message = Schemas["MessageOut"];
export type Person = Schemas["PersonOut"];
export type Notification = Schemas["NotificationOut"];
export type NdaItem = Schemas["NdaListItem"];
export type NdaStatus = NdaItem["status"];
export type ConversationRead = Schemas["ConversationReadOut"];

export interface Pagination {
  page: number;
  limit: number;
  total: number;
  hasMore: boolean;
}

/** One page of a list answer, with the meta the page needs (pagination, unread counts). */
export interface Page<T> {
  items: T[];
  pagination: Pagination | null;
  meta: Record<string, unknown>;
}

type Enveloped<T> = Promise<{
  data?: { data: T; meta?: Record<string, unknown> };
  error?: unknown;
  response: Response;
}>;

/** Like `unwrap`, but keeps the envelope's meta (pagination, unreadCount). */
export async function unwrapPage<T>(call: Enveloped<T[]>): Promise<Page<T>> {
  const items = await unwrap(call);
  const meta = (await call).data?.meta ?? {};
  const p = meta.pagination as Pagination | undefined;
  return { items, pagination: p ?? null, meta };
}

/** The next page number for useInfiniteQuery, or undefined when the last one was the end. */
export function nextPage<T>(last: Page<T>): number | undefined {
  return last.pagination?.hasMore ? last.pagination.page + 1 : undefined;
}

/**
 * Mark what `otherId` sent us as read, up to message `upTo` (the newest one shown, so nothing that
 * arrived unseen meanwhile). Reading a conversation (a GET) never marks anything itself.
 */
export function markConversationRead(otherId: number, upTo: number): Promise<ConversationRead> {
  return unwrap(
    api.POST("/api/messages/conversations/{userId}/read", { params: { path: { userId: otherId } }, body: { upTo } }),
  );
}

export function metaNumber(meta: Record<string, unknown> | undefined, name: string): number | null {
  const v = meta?.[name];
  return typeof v === "number" && Number.isFinite(v) ? v : null;
}

/** A person's name as others see it: never an email (the API does not send one). */
export function displayName(p: Pick<Person, "id" | "name" | "companyName" | "username"> | null | undefined): string {
  if (!p) return "Someone";
  return p.name || p.companyName || p.username || `User ${p.id}`;
}

export const USER_TYPE_LABEL: Record<Person["userType"], string> = {
  creator: "Creator",
  investor: "Investor",
  production: "Production company",
};
