// Pitch lists with their pagination: `unwrap` gives the envelope's data only, lists also need
// `meta.pagination` to page. Shared by the landing page, browse and the investor dashboard.
import { api, unwrap, type Schemas } from "../../api/client";
import type { paths } from "../../api/schema";

export type CatalogPitch = Schemas["CatalogPitchOut"];

export interface Pagination {
  page: number;
  limit: number;
  total: number;
  hasMore: boolean;
  /** `total` is a lower bound: the catalog stops counting at 1,000 (docs/api-catalog.md). */
  totalIsCapped: boolean;
}

export interface PitchPage {
  items: CatalogPitch[];
  pagination: Pagination;
}

interface ListResult {
  data?: { data: CatalogPitch[]; meta?: Schemas["Meta"] };
  error?: unknown;
  response: Response;
}

async function withPagination(call: Promise<ListResult>, page: number, limit: number): Promise<PitchPage> {
  let meta: Schemas["Meta"] | undefined;
  const items = await unwrap(
    call.then((r) => {
      meta = r.data?.meta;
      return r;
    }),
  );
  const p = meta?.pagination as Partial<Pagination> | undefined;
  return {
    items,
    pagination: {
      page: p?.page ?? page,
      limit: p?.limit ?? limit,
      total: p?.total ?? items.length,
      hasMore: p?.hasMore ?? false,
      totalIsCapped: p?.totalIsCapped ?? false,
    },
  };
}

export type BrowseQuery = NonNullable<paths["/api/pitches/browse"]["get"]["parameters"]["query"]>;

export function fetchBrowse(query: BrowseQuery, signal?: AbortSignal): Promise<PitchPage> {
  return withPagination(
    api.GET("/api/pitches/browse", { params: { query }, signal }),
    query.page ?? 1,
    query.limit ?? 20,
  );
}

export function fetchTrending(limit: number, signal?: AbortSignal): Promise<PitchPage> {
  return withPagination(api.GET("/api/pitches/trending", { params: { query: { limit } }, signal }), 1, limit);
}

export function fetchFollowing(limit: number, signal?: AbortSignal): Promise<PitchPage> {
  return withPagination(api.GET("/api/pitches/following", { params: { query: { limit } }, signal }), 1, limit);
}
