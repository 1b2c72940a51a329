// The NDAs an investor or a production company asked for (GET /api/ndas/outgoing-requests, by
// status, kept in the URL) and the signed ones they hold (GET /api/ndas/incoming-signed: approved
// NDAs, most recently approved first: the pitches whose protected parts are open to them). A
// decision arrives live: the LiveProvider invalidates every keys.ndas list on nda_approved /
// nda_rejected, and both lists here live under that prefix.
import { useInfiniteQuery, type InfiniteData } from "@tanstack/react-query";
import { useEffect, useId, useMemo } from "react";
import { Link, useLocation, useSearchParams } from "react-router";
import { api } from "../../api/client";
import { keys } from "../../api/keys";
import { formatCount, formatDateTime } from "../../lib/format";
import { Badge, Button, Card, Empty, ErrorState, Loading, PageHeader } from "../../ui";
import { displayName, nextPage, unwrapPage, type NdaItem, type NdaStatus, type Page } from "./data";
import s from "./shared.module.css";

const LIMIT = 20;
type Filter = NdaStatus | "all";

const FILTERS: readonly { value: Filter; label: string }[] = [
  { value: "all", label: "All" },
  { value: "pending", label: "Pending" },
  { value: "approved", label: "Approved" },
  { value: "rejected", label: "Rejected" },
  { value: "expired", label: "Expired" },
];

const STATUS: Record<NdaStatus, { label: string; tone: "warn" | "success" | "danger" | undefined }> = {
  pending: { label: "Pending", tone: "warn" },
  approved: { label: "Approved", tone: "success" },
  rejected: { label: "Rejected", tone: "danger" },
  revoked: { label: "Revoked", tone: undefined },
  expired: { label: "Expired", tone: undefined },
};

function asFilter(v: string | null): Filter {
  return v === "pending" || v === "approved" || v === "rejected" || v === "revoked" || v === "expired" ? v : "all";
}

function flatten(data: InfiniteData<Page<NdaItem>> | undefined): NdaItem[] {
  const byId = new Map<number, NdaItem>();
  for (const p of data?.pages ?? []) for (const n of p.items) if (!byId.has(n.id)) byId.set(n.id, n);
  return [...byId.values()];
}

function total(data: InfiniteData<Page<NdaItem>> | undefined): number | null {
  return data?.pages[0]?.pagination?.total ?? null;
}

export default function OutgoingNdas() {
  const [search] = useSearchParams();
  const status = asFilter(search.get("status"));
  const { pathname } = useLocation();

  useEffect(() => {
    const before = document.title;
    document.title = "NDAs · Pitchey";
    return () => {
      document.title = before;
    };
  }, []);

  return (
    <>
      <PageHeader title="Your NDAs" />
      <div className={s.ndaLayout}>
        <section aria-labelledby="sent-title">
          <h2 id="sent-title">Requests you sent</h2>
          <nav aria-label="Filter requests by status">
            <ul className={s.tabs}>
              {FILTERS.map((f) => (
                <li key={f.value}>
                  <Link
                    to={f.value === "all" ? pathname : `${pathname}?status=${f.value}`}
                    aria-current={f.value === status ? "page" : undefined}
                  >
                    {f.label}
                  </Link>
                </li>
              ))}
            </ul>
          </nav>
          <SentList status={status} />
        </section>
        <SignedList />
      </div>
    </>
  );
}

function SentList({ status }: { status: Filter }) {
  const list = useInfiniteQuery({
    queryKey: keys.sentNdas(status),
    queryFn: ({ pageParam }) =>
      unwrapPage(
        api.GET("/api/ndas/outgoing-requests", { params: { query: { status, page: pageParam, limit: LIMIT } } }),
      ),
    initialPageParam: 1,
    getNextPageParam: nextPage,
  });
  const items = useMemo(() => flatten(list.data), [list.data]);

  if (list.isPending) return <Loading label="Loading your NDA requests…" />;
  if (list.data === undefined) return <ErrorState error={list.error} retry={() => void list.refetch()} />;
  if (items.length === 0) {
    return (
      <Empty>
        {status === "all" ? (
          <>
            You have not asked for an NDA yet. Open a pitch marked “NDA required” and request one;{" "}
            <Link to="/browse">browse pitches</Link>.
          </>
        ) : (
          `No ${STATUS[status].label.toLowerCase()} requests.`
        )}
      </Empty>
    );
  }
  return (
    <>
      <ul className={s.ndaList} aria-label={`${FILTERS.find((f) => f.value === status)?.label ?? ""} NDA requests`}>
        {items.map((n) => (
          <SentItem key={n.id} nda={n} />
        ))}
      </ul>
      {list.isFetchNextPageError && <ErrorState error={list.error} retry={() => void list.fetchNextPage()} />}
      {list.hasNextPage && (
        <div className={s.more}>
          <Button variant="secondary" busy={list.isFetchingNextPage} onClick={() => void list.fetchNextPage()}>
            Show more requests
          </Button>
        </div>
      )}
    </>
  );
}

function SentItem({ nda }: { nda: NdaItem }) {
  const headingId = useId();
  const st = STATUS[nda.status];
  return (
    <li data-nda-id={nda.id}>
      <Card aria-labelledby={headingId}>
        <div className={s.ndaHead}>
          <h3 id={headingId}>
            <Link to={`/pitches/${nda.pitchId}`}>{nda.pitchTitle}</Link>
          </h3>
          <span data-testid="nda-status">
            <Badge tone={st.tone}>{st.label}</Badge>
          </span>
        </div>
        <p className={s.muted}>
          by {displayName(nda.otherParty)} · requested {formatDateTime(nda.createdAt)}
          {nda.decidedAt && ` · decided ${formatDateTime(nda.decidedAt)}`}
        </p>
        {nda.message && (
          <blockquote className={s.quote}>
            <span className="visually-hidden">Your message: </span>
            {nda.message}
          </blockquote>
        )}
        {nda.status === "rejected" && (
          <>
            <p>
              {nda.reason ? (
                <>
                  <strong>Reason given:</strong> {nda.reason}
                </>
              ) : (
                "No reason given."
              )}
            </p>
            <p className={s.muted}>You may ask again from the pitch page.</p>
          </>
        )}
        {nda.status === "approved" && <p className={s.muted}>The synopsis, budget and protected materials are open to you.</p>}
        {nda.status === "expired" && <p className={s.muted}>Its term ended: the protected details are locked again. You may ask again from the pitch page.</p>}
        {nda.status === "pending" && <p className={s.muted}>Waiting for the creator. This page updates when they decide.</p>}
      </Card>
    </li>
  );
}

function SignedList() {
  const headingId = useId();
  const list = useInfiniteQuery({
    queryKey: keys.signedNdas,
    queryFn: ({ pageParam }) =>
      unwrapPage(api.GET("/api/ndas/incoming-signed", { params: { query: { page: pageParam, limit: LIMIT } } })),
    initialPageParam: 1,
    getNextPageParam: nextPage,
  });
  const items = useMemo(() => flatten(list.data), [list.data]);
  const count = total(list.data);

  return (
    <Card className={s.sideCard} aria-labelledby={headingId}>
      <h2 id={headingId}>Signed NDAs{count !== null ? ` (${formatCount(count)})` : ""}</h2>
      <p className={s.muted}>Approved NDAs you hold, most recently approved first.</p>
      {list.isPending ? (
        <Loading label="Loading signed NDAs…" />
      ) : list.data === undefined ? (
        <ErrorState error={list.error} retry={() => void list.refetch()} />
      ) : items.length === 0 ? (
        <Empty>No signed NDAs yet.</Empty>
      ) : (
        <>
          <ul className={s.signedList} aria-labelledby={headingId}>
            {items.map((n) => (
              <li key={n.id} data-nda-id={n.id}>
                <Link to={`/pitches/${n.pitchId}`}>{n.pitchTitle}</Link>
                <span className={s.muted}>
                  by {displayName(n.otherParty)} · approved {formatDateTime(n.decidedAt)}
                </span>
              </li>
            ))}
          </ul>
          {list.isFetchNextPageError && <ErrorState error={list.error} retry={() => void list.fetchNextPage()} />}
          {list.hasNextPage && (
            <div className={s.more}>
              <Button variant="secondary" small busy={list.isFetchingNextPage} onClick={() => void list.fetchNextPage()}>
                Show more
              </Button>
            </div>
          )}
        </>
      )}
    </Card>
  );
}
