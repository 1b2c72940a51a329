// Paginated lists (billing ledgers, investment history): the envelope's `meta.pagination` next to
// the items, the page number kept in the URL (so a link or a reload shows the same page), and a
// Previous / Next bar that says where we are in words.
import { useSearchParams } from "react-router";
import { unwrap } from "../../api/client";
import { Button } from "../../ui";
import s from "./billing.module.css";

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

/** A page number kept in the URL under `param` (absent means 1); setting it keeps other params. */
export function useUrlPage(param = "page"): [number, (page: number) => void] {
  const [params, setParams] = useSearchParams();
  const page = Math.max(1, Number.parseInt(params.get(param) ?? "1", 10) || 1);
  const setPage = (n: number) => {
    setParams(
      (prev) => {
        const next = new URLSearchParams(prev);
        if (n > 1) next.set(param, String(n));
        else next.delete(param);
        return next;
      },
      { preventScrollReset: true },
    );
  };
  return [page, setPage];
}

/** Previous / next for a paginated list; hidden when everything fits on one page. */
export function Pager({
  pagination,
  onPage,
  label,
  busy,
}: {
  pagination: Pagination;
  onPage: (page: number) => void;
  label: string;
  busy?: boolean;
}) {
  const { page, limit, total, hasMore } = pagination;
  if (page === 1 && !hasMore) return null;
  const pages = Math.max(page, Math.ceil(total / Math.max(1, limit)));
  return (
    <nav className={s.pager} aria-label={label}>
      <Button small variant="secondary" disabled={page <= 1 || busy} onClick={() => onPage(page - 1)}>
        Previous<span className="visually-hidden"> page</span>
      </Button>
      <span aria-live="polite">
        Page {page} of {pages}
      </span>
      <Button small variant="secondary" disabled={!hasMore || busy} onClick={() => onPage(page + 1)}>
        Next<span className="visually-hidden"> page</span>
      </Button>
    </nav>
  );
}
