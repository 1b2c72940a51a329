// Signed NDA agreements (/agreements), for both parties: the NDAs the caller accepted as the
// receiving party or countersigned as the pitch's creator, each with its document (a standalone
// HTML page the server serves to the two parties only). Under keys.ndas, so the live NDA events
// (approved, expired) refresh it.
import { useInfiniteQuery, type InfiniteData } from "@tanstack/react-query";
import { useEffect, useId, useMemo } from "react";
import { Link } from "react-router";
import { api, type Schemas } from "../../api/client";
import { keys } from "../../api/keys";
import { formatCount, formatDateTime } from "../../lib/format";
import { Badge, Button, Card, Empty, ErrorState, Loading, PageHeader } from "../../ui";
import { displayName, nextPage, unwrapPage, type Page } from "./data";
import s from "./shared.module.css";

type Agreement = Schemas["AgreementOut"];
const LIMIT = 20;

const STATUS: Record<Agreement["status"], { label: string; tone: "success" | "warn" | "danger" | undefined }> = {
  approved: { label: "In force", tone: "success" },
  expired: { label: "Expired", tone: undefined },
  revoked: { label: "Revoked", tone: "danger" },
  pending: { label: "Pending", tone: "warn" },
  rejected: { label: "Rejected", tone: "danger" },
};

function flatten(data: InfiniteData<Page<Agreement>> | undefined): Agreement[] {
  const byId = new Map<number, Agreement>();
  for (const p of data?.pages ?? []) for (const a of p.items) if (!byId.has(a.ndaId)) byId.set(a.ndaId, a);
  return [...byId.values()];
}

export default function Agreements() {
  useEffect(() => {
    const before = document.title;
    document.title = "Signed agreements · Pitchey";
    return () => {
      document.title = before;
    };
  }, []);
  const list = useInfiniteQuery({
    queryKey: keys.agreements,
    queryFn: ({ pageParam }) =>
      unwrapPage(api.GET("/api/ndas/agreements", { params: { query: { page: pageParam, limit: LIMIT } } })),
    initialPageParam: 1,
    getNextPageParam: nextPage,
  });
  const items = useMemo(() => flatten(list.data), [list.data]);
  const total = list.data?.pages[0]?.pagination?.total ?? null;

  return (
    <>
      <PageHeader title={`Signed agreements${total !== null ? ` (${formatCount(total)})` : ""}`} />
      <p className={s.muted}>
        NDAs signed under a creator&rsquo;s template, by both sides. Only the two parties can open an agreement.
      </p>
      {list.isPending ? (
        <Loading label="Loading your agreements…" />
      ) : list.data === undefined ? (
        <ErrorState error={list.error} retry={() => void list.refetch()} />
      ) : items.length === 0 ? (
        <Empty>
          No signed agreements yet. An agreement appears here once an NDA made under a template is approved.
        </Empty>
      ) : (
        <>
          <ul className={s.ndaList} aria-label="Signed agreements">
            {items.map((a) => (
              <AgreementItem key={a.ndaId} agreement={a} />
            ))}
          </ul>
          {list.isFetchNextPageError && <ErrorState error={list.error} retry={() => void list.fetchNextPage()} />}
          {list.hasNextPage && (
            <div className={s.more}>
              <Button variant="secondary" busy={list.isFetchingNextPage} onClick={() => void list.fetchNextPage()}>
                Show more agreements
              </Button>
            </div>
          )}
        </>
      )}
    </>
  );
}

function AgreementItem({ agreement: a }: { agreement: Agreement }) {
  const headingId = useId();
  const st = STATUS[a.status];
  const other = displayName(a.otherParty);
  return (
    <li data-nda-id={a.ndaId}>
      <Card aria-labelledby={headingId}>
        <div className={s.ndaHead}>
          <h2 id={headingId} className={s.agreementTitle}>
            <Link to={`/pitches/${a.pitchId}`}>{a.pitchTitle}</Link>
          </h2>
          <span data-testid="agreement-status">
            <Badge tone={st.tone}>{st.label}</Badge>
          </span>
        </div>
        <p>
          {a.templateTitle} (version {a.templateVersion}) · {a.jurisdiction}
        </p>
        <p className={s.muted}>
          {a.role === "requester"
            ? `You accepted it ${formatDateTime(a.acceptedAt)}; ${other} countersigned ${formatDateTime(a.countersignedAt)}.`
            : `${other} accepted it ${formatDateTime(a.acceptedAt)}; you countersigned ${formatDateTime(a.countersignedAt)}.`}
        </p>
        <p className={s.muted}>
          {a.status === "expired"
            ? `Expired ${formatDateTime(a.expiredAt)}.`
            : a.expiresAt
              ? `Expires ${formatDateTime(a.expiresAt)}.`
              : null}
        </p>
        <p className={s.muted}>
          Version hash <code className={s.hash}>{a.templateHash}</code>
        </p>
        <div className={s.actionsRow}>
          <a className={s.docLink} href={a.documentUrl} download={`nda-${a.ndaId}.html`}
            aria-label={`Download agreement for ${a.pitchTitle}`}>
            Download agreement
          </a>
          <a href={a.documentUrl} target="_blank" rel="noopener noreferrer" aria-label={`Open in a new tab: the agreement for ${a.pitchTitle}`}>
            Open in a new tab
          </a>
        </div>
      </Card>
    </li>
  );
}
