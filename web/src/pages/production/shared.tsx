// Pieces shared by the production pages: stage names, paginated reads, VALIDATION_ERROR details
// by their full dotted path (so `budgetLines.1.allocated` lands on the second row), small widgets.
import { useEffect } from "react";
import { ApiError, unwrap, type FieldError, type Schemas } from "../../api/client";
import { Badge, Button } from "../../ui";
import { percentOf, toCents } from "./money";
import s from "./production.module.css";

export type Project = Schemas["ProjectOut"];
export type Stage = Project["stage"];
export type BudgetLine = Schemas["BudgetLineOut"];
export type Milestone = Schemas["MilestoneOut"];

export const STAGES: readonly Stage[] = [
  "development",
  "pre_production",
  "production",
  "post_production",
  "distribution",
  "completed",
];

export const STAGE_LABEL: Record<Stage, string> = {
  development: "Development",
  pre_production: "Pre-production",
  production: "Production",
  post_production: "Post-production",
  distribution: "Distribution",
  completed: "Completed",
};

export const STAGE_OPTIONS = STAGES.map((v) => ({ value: v, label: STAGE_LABEL[v] }));

export function asStage(v: string | null | undefined): Stage | null {
  return STAGES.find((s) => s === v) ?? null;
}

export function StageBadge({ stage }: { stage: Stage }) {
  const tone = stage === "completed" ? "success" : stage === "development" ? undefined : "primary";
  return <Badge tone={tone}>{STAGE_LABEL[stage]}</Badge>;
}

export interface Pagination {
  page: number;
  limit: number;
  total: number;
  hasMore: boolean;
}

export interface PageOf<T> {
  items: T[];
  pagination: Pagination;
}

type PagedResult<T> = {
  data?: { data: T[]; meta: Record<string, unknown> };
  error?: unknown;
  response: Response;
};

/** Like `unwrap`, for list endpoints: also returns `meta.pagination`. */
export async function unwrapPage<T>(call: Promise<PagedResult<T>>): Promise<PageOf<T>> {
  let meta: Record<string, unknown> | undefined;
  const items = await unwrap(
    call.then((r) => {
      meta = r.data?.meta;
      return r;
    }),
  );
  const p = (meta?.pagination ?? {}) as Partial<Pagination>;
  return {
    items,
    pagination: {
      page: p.page ?? 1,
      limit: p.limit ?? items.length,
      total: p.total ?? items.length,
      hasMore: p.hasMore ?? false,
    },
  };
}

/**
 * VALIDATION_ERROR details keyed by their full path without the `body.` prefix, e.g.
 * `budgetLines.1.allocated`. Errors of the whole body (empty path) go under "".
 */
export function errorsByPath(error: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (!(error instanceof ApiError) || error.code !== "VALIDATION_ERROR" || !Array.isArray(error.details)) return out;
  for (const d of error.details as FieldError[]) {
    const path = String(d.field ?? "").replace(/^body\.?/, "");
    if (!(path in out)) out[path] = d.message.replace(/^Value error, /, "");
  }
  return out;
}

/** Previous / next for a paginated list; says where we are in words. */
export function Pager({
  pagination,
  onPage,
  label,
}: {
  pagination: Pagination;
  onPage: (page: number) => void;
  label: string;
}) {
  const { page, limit, total, hasMore } = pagination;
  if (page === 1 && !hasMore) return null;
  const pages = Math.max(1, Math.ceil(total / Math.max(1, limit)));
  return (
    <nav className={s.pager} aria-label={label}>
      <Button small variant="secondary" disabled={page <= 1} onClick={() => onPage(page - 1)}>
        Previous
      </Button>
      <span>
        Page {page} of {pages}
      </span>
      <Button small variant="secondary" disabled={!hasMore} onClick={() => onPage(page + 1)}>
        Next
      </Button>
    </nav>
  );
}

/** A bar of spent against allocated. Decorative: the figures are always written next to it. */
export function SpendBar({ spent, allocated }: { spent: string | number; allocated: string | number }) {
  const pct = percentOf(spent, allocated);
  const over = pct !== null ? pct > 100 : (toCents(spent) ?? 0n) > 0n;
  const width = pct === null ? (over ? 100 : 0) : Math.min(100, pct);
  return (
    <span className={s.bar} aria-hidden="true">
      <span className={over ? s.barOver : s.barFill} style={{ width: `${width}%` }} />
    </span>
  );
}

/** Today as YYYY-MM-DD in the person's time zone (for date inputs). */
export function todayIso(): string {
  const d = new Date();
  const m = String(d.getMonth() + 1).padStart(2, "0");
  const day = String(d.getDate()).padStart(2, "0");
  return `${d.getFullYear()}-${m}-${day}`;
}

/** A YYYY-MM-DD date for people, without shifting it through a time zone. */
export function formatDay(iso: string | null | undefined): string {
  if (!iso) return "—";
  const [y, m, d] = iso.slice(0, 10).split("-").map(Number);
  if (!y || !m || !d) return iso;
  return new Intl.DateTimeFormat("en-US", { dateStyle: "medium", timeZone: "UTC" }).format(
    new Date(Date.UTC(y, m - 1, d)),
  );
}

/** The tab's title while the page shows (screen readers announce it on navigation too). */
export function useDocumentTitle(title: string | null) {
  useEffect(() => {
    if (!title) return;
    const before = document.title;
    document.title = `${title} · Pitchey`;
    return () => {
      document.title = before;
    };
  }, [title]);
}
