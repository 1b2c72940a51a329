// Browse and search. The URL is the state: every filter, the sort and the page live in the query
// string (useSearchParams), so a link or a reload reproduces the view. Typed fields are debounced
// into the URL (replacing the entry, so typing does not fill the history); selects apply at once.
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { useEffect, useId, useRef, useState, type FormEvent } from "react";
import { useSearchParams } from "react-router";
import { keys } from "../../api/keys";
import { PitchCard, PitchGrid, PitchGridItem } from "../../components/PitchCard";
import { formatCount, parseMoney } from "../../lib/format";
import { Button, ButtonLink, Card, Empty, ErrorState, Loading, PageHeader, Select, TextField } from "../../ui";
import { fetchBrowse, type BrowseQuery } from "./pitchLists";
import s from "./public.module.css";

const PAGE_SIZE = 12;
const DEBOUNCE_MS = 350;
const GENRES = ["Action", "Animation", "Comedy", "Documentary", "Drama", "Fantasy", "Horror", "Romance", "Sci-Fi", "Thriller"];

type Sort = NonNullable<BrowseQuery["sort"]>;
const SORTS: { value: Sort; label: string }[] = [
  { value: "newest", label: "Newest" },
  { value: "views", label: "Most viewed" },
  { value: "likes", label: "Most liked" },
  { value: "budget", label: "Budget" },
  { value: "title", label: "Title" },
  { value: "relevance", label: "Best match" },
];
const ORDERS = [
  { value: "", label: "Default" },
  { value: "desc", label: "Descending" },
  { value: "asc", label: "Ascending" },
];
const TEXT_KEYS = ["q", "genre", "budgetMin", "budgetMax"] as const;
type TextKey = (typeof TEXT_KEYS)[number];
type Draft = Record<TextKey, string>;

function isSort(v: string | null): v is Sort {
  return SORTS.some((o) => o.value === v);
}

/** Decimal string → cents, without floating point (parseMoney already checked the shape). */
function cents(v: string): bigint {
  const [i = "0", f = ""] = v.split(".");
  return BigInt(i) * 100n + BigInt((f + "00").slice(0, 2));
}

/** The draft's errors (budget fields), or the values to put in the URL. */
function checkDraft(d: Draft): { errors: Partial<Record<TextKey, string>>; values: Draft } {
  const errors: Partial<Record<TextKey, string>> = {};
  const values: Draft = { q: d.q.trim(), genre: d.genre.trim(), budgetMin: "", budgetMax: "" };
  for (const k of ["budgetMin", "budgetMax"] as const) {
    if (!d[k].trim()) continue;
    const r = parseMoney(d[k]);
    if ("error" in r) errors[k] = r.error;
    else values[k] = r.value;
  }
  if (values.budgetMin && values.budgetMax && cents(values.budgetMin) > cents(values.budgetMax)) {
    errors.budgetMax = "The maximum must be at least the minimum.";
  }
  if (values.q.length > 200) errors.q = "Search with at most 200 characters.";
  return { errors, values };
}

function draftFrom(params: URLSearchParams): Draft {
  return {
    q: params.get("q") ?? "",
    genre: params.get("genre") ?? "",
    budgetMin: params.get("budgetMin") ?? "",
    budgetMax: params.get("budgetMax") ?? "",
  };
}

export default function Browse() {
  const [params, setParams] = useSearchParams();
  const formId = useId();
  const resultsRef = useRef<HTMLHeadingElement>(null);

  // What the URL says (the source of truth for the query).
  const urlDraft = draftFrom(params);
  const sortParam = params.get("sort");
  const sort: Sort = isSort(sortParam) && (sortParam !== "relevance" || urlDraft.q) ? sortParam : "newest";
  const orderParam = params.get("order");
  const order = orderParam === "asc" || orderParam === "desc" ? orderParam : "";
  const page = Math.max(1, Number.parseInt(params.get("page") ?? "1", 10) || 1);

  // What the person is typing; follows the URL when it changes from elsewhere (back/forward, a link).
  const [draft, setDraft] = useState<Draft>(urlDraft);
  const urlKey = TEXT_KEYS.map((k) => urlDraft[k]).join("\u0000");
  const [seenUrl, setSeenUrl] = useState(urlKey);
  if (seenUrl !== urlKey) {
    setSeenUrl(urlKey);
    const { values } = checkDraft(draft);
    // Only overwrite what differs from the URL (keeps a trailing space while typing "dragon s…").
    if (TEXT_KEYS.some((k) => values[k] !== urlDraft[k])) setDraft(urlDraft);
  }
  const { errors, values } = checkDraft(draft);

  /** Write params to the URL; filters other than the page send you back to page 1. */
  function update(changes: Record<string, string>, replace: boolean) {
    setParams(
      (prev) => {
        const next = new URLSearchParams(prev);
        for (const [k, v] of Object.entries(changes)) {
          if (v) next.set(k, v);
          else next.delete(k);
        }
        if (!("page" in changes)) next.delete("page");
        if (!next.get("q") && next.get("sort") === "relevance") next.delete("sort");
        return next;
      },
      { replace },
    );
  }

  // Debounce typed fields into the URL when they are valid and differ from it.
  const pending = Object.keys(errors).length === 0 && TEXT_KEYS.some((k) => values[k] !== urlDraft[k]);
  const valuesKey = TEXT_KEYS.map((k) => values[k]).join("\u0000");
  useEffect(() => {
    if (!pending) return;
    const t = window.setTimeout(() => {
      const [q = "", genre = "", budgetMin = "", budgetMax = ""] = valuesKey.split("\u0000");
      update({ q, genre, budgetMin, budgetMax }, true);
    }, DEBOUNCE_MS);
    return () => window.clearTimeout(t);
    // `update` only closes over setParams, which is stable.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [pending, valuesKey]);

  const query: BrowseQuery = { page, limit: PAGE_SIZE, sort };
  if (urlDraft.q) query.q = urlDraft.q;
  if (urlDraft.genre) query.genre = urlDraft.genre;
  if (urlDraft.budgetMin) query.budgetMin = urlDraft.budgetMin;
  if (urlDraft.budgetMax) query.budgetMax = urlDraft.budgetMax;
  if (order) query.order = order;
  const keyParams: Record<string, string> = Object.fromEntries(
    Object.entries(query).map(([k, v]) => [k, String(v)]),
  );
  const results = useQuery({
    queryKey: keys.browse(keyParams),
    queryFn: ({ signal }) => fetchBrowse(query, signal),
    placeholderData: keepPreviousData,
  });

  function submit(e: FormEvent) {
    e.preventDefault();
    if (Object.keys(errors).length) return;
    update({ q: values.q, genre: values.genre, budgetMin: values.budgetMin, budgetMax: values.budgetMax }, false);
  }

  function clearAll() {
    setDraft({ q: "", genre: "", budgetMin: "", budgetMax: "" });
    setParams(new URLSearchParams(), { replace: false });
  }

  const setField = (k: TextKey) => (e: React.ChangeEvent<HTMLInputElement>) => setDraft({ ...draft, [k]: e.target.value });
  const pagination = results.data?.pagination;
  const totalPages = pagination ? Math.max(1, Math.ceil(pagination.total / pagination.limit)) : 1;
  const hasFilters = params.toString() !== "";
  const [showFilters, setShowFilters] = useState(false);
  const activeFilters = ["genre", "budgetMin", "budgetMax", "sort", "order"].filter((k) => params.get(k)).length;

  const pageLink = (p: number) => {
    const next = new URLSearchParams(params);
    if (p <= 1) next.delete("page");
    else next.set("page", String(p));
    const qs = next.toString();
    return qs ? `?${qs}` : "?";
  };

  // After paging, bring the results heading into view (keyboard and screen reader users land there).
  const firstRender = useRef(true);
  useEffect(() => {
    if (firstRender.current) {
      firstRender.current = false;
      return;
    }
    resultsRef.current?.focus({ preventScroll: false });
  }, [page]);

  return (
    <>
      <PageHeader title="Browse pitches" />
      <div className={s.browse}>
        <Card className={s.filters}>
          <h2 id={`${formId}-title`}>Filter</h2>
          <form onSubmit={submit} aria-labelledby={`${formId}-title`} role="search">
            <TextField label="Search" type="search" name="q" value={draft.q} onChange={setField("q")}
              error={errors.q} placeholder="Title, logline or genre" autoComplete="off" />
            <Button variant="secondary" small className={s.filtersToggle} aria-expanded={showFilters}
              aria-controls={`${formId}-more`} onClick={() => setShowFilters(!showFilters)}>
              {showFilters ? "Hide filters" : `More filters${activeFilters ? ` (${activeFilters} on)` : ""}`}
            </Button>
            <div id={`${formId}-more`} className={s.moreFilters} data-open={showFilters}>
            <TextField label="Genre" name="genre" value={draft.genre} onChange={setField("genre")}
              list={`${formId}-genres`} placeholder="Any genre" autoComplete="off" />
            <datalist id={`${formId}-genres`}>
              {GENRES.map((g) => (
                <option key={g} value={g} />
              ))}
            </datalist>
            <div className={s.budgetRow}>
              <TextField label="Min budget ($)" name="budgetMin" inputMode="decimal" value={draft.budgetMin}
                onChange={setField("budgetMin")} error={errors.budgetMin} placeholder="0" />
              <TextField label="Max budget ($)" name="budgetMax" inputMode="decimal" value={draft.budgetMax}
                onChange={setField("budgetMax")} error={errors.budgetMax} placeholder="Any" />
            </div>
            <Select label="Sort by" name="sort" value={sort}
              options={SORTS.filter((o) => o.value !== "relevance" || values.q || urlDraft.q)}
              onChange={(e) => update({ sort: e.target.value === "newest" ? "" : e.target.value }, false)} />
            <Select label="Order" name="order" value={order} options={ORDERS}
              onChange={(e) => update({ order: e.target.value }, false)} />
            </div>
            <div className={s.heroActions}>
              <Button type="submit" small>
                Apply
              </Button>
              {hasFilters && (
                <Button variant="secondary" small onClick={clearAll}>
                  Clear filters
                </Button>
              )}
            </div>
          </form>
        </Card>

        <section className={s.results} aria-labelledby={`${formId}-results`}>
          <div className={s.resultsHead}>
            <h2 id={`${formId}-results`} ref={resultsRef} tabIndex={-1} className="visually-hidden">
              Results
            </h2>
            <p aria-live="polite" data-testid="result-count">
              {results.isSuccess &&
                `${formatCount(results.data.pagination.total)}${results.data.pagination.totalIsCapped ? "+" : ""} ${results.data.pagination.total === 1 ? "pitch" : "pitches"} found`}
            </p>
          </div>
          {results.isPending ? (
            <Loading label="Loading pitches…" />
          ) : results.isError ? (
            <ErrorState error={results.error} retry={() => void results.refetch()} />
          ) : results.data.items.length === 0 ? (
            <Empty>
              {hasFilters ? "No pitches match these filters. Try fewer words or a wider budget." : "No pitches are published yet."}
            </Empty>
          ) : (
            <div className={results.isPlaceholderData ? s.stale : undefined} aria-busy={results.isFetching}>
              <PitchGrid label="Pitches">
                {results.data.items.map((p) => (
                  <PitchGridItem key={p.id}>
                    <PitchCard pitch={p} />
                  </PitchGridItem>
                ))}
              </PitchGrid>
              {totalPages > 1 && (
                <nav className={s.pager} aria-label="Pages">
                  {page > 1 ? (
                    <ButtonLink to={pageLink(page - 1)} variant="secondary" small>
                      Previous page
                    </ButtonLink>
                  ) : (
                    <Button variant="secondary" small disabled>
                      Previous page
                    </Button>
                  )}
                  <span aria-current="page">
                    Page {page} of {totalPages}
                    {pagination?.totalIsCapped ? "+" : ""}
                  </span>
                  {pagination?.hasMore ? (
                    <ButtonLink to={pageLink(page + 1)} variant="secondary" small>
                      Next page
                    </ButtonLink>
                  ) : (
                    <Button variant="secondary" small disabled>
                      Next page
                    </Button>
                  )}
                </nav>
              )}
            </div>
          )}
        </section>
      </div>
    </>
  );
}
