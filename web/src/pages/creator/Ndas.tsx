// The NDA inbox: requests on the creator's pitches by status; approve, or reject with a reason.
// New requests appear live: the LiveProvider refetches every keys.ndas list on `nda_request`.
import { useCallback, useId, useMemo, useState } from "react";
import { Link, useSearchParams } from "react-router";
import { errorMessage } from "../../api/client";
import { formatDateTime } from "../../lib/format";
import { Alert, Badge, Button, Card, Empty, ErrorState, Loading, PageHeader, TextArea } from "../../ui";
import { personName, useDecideNda, useIncomingNdas, type NdaFilter, type NdaItem, type NdaStatus } from "./data";
import s from "./creator.module.css";

const FILTERS: readonly { value: NdaFilter; label: string }[] = [
  { value: "pending", label: "Pending" },
  { value: "approved", label: "Signed" },
  { value: "rejected", label: "Rejected" },
  { value: "all", label: "All" },
];

const STATUS: Record<NdaStatus, { label: string; tone: "warn" | "success" | "danger" | undefined }> = {
  pending: { label: "Pending", tone: "warn" },
  approved: { label: "Approved", tone: "success" },
  rejected: { label: "Rejected", tone: "danger" },
  revoked: { label: "Revoked", tone: undefined },
  expired: { label: "Expired", tone: undefined },
};

function asFilter(v: string | null): NdaFilter {
  return v === "approved" || v === "rejected" || v === "revoked" || v === "all" ? v : "pending";
}

const USER_TYPE: Record<string, string> = { investor: "Investor", production: "Production company", creator: "Creator" };

function NdaCard({ nda, onDecided, movedTo }: { nda: NdaItem; onDecided: (n: NdaItem) => void; movedTo?: string }) {
  const decide = useDecideNda();
  const [rejecting, setRejecting] = useState(false);
  const [reason, setReason] = useState("");
  const headingId = useId();
  const who = personName(nda.otherParty);
  const st = STATUS[nda.status];

  return (
    <li>
      <Card aria-labelledby={headingId} data-nda-id={nda.id}>
        <div className={s.ndaHead}>
          <h2 id={headingId}>
            {who} <span className={s.muted}>({USER_TYPE[nda.otherParty.userType] ?? nda.otherParty.userType})</span> →{" "}
            <Link to={`/creator/pitches/${nda.pitchId}/edit`}>{nda.pitchTitle}</Link>
          </h2>
          <Badge tone={st.tone}>{st.label}</Badge>
        </div>
        <p className={s.muted}>
          Requested {formatDateTime(nda.createdAt)}
          {nda.decidedAt && ` · decided ${formatDateTime(nda.decidedAt)}`}
        </p>
        {nda.message && <blockquote className={s.quote}>{nda.message}</blockquote>}
        {nda.templateHash && nda.acceptedAt && (
          <p className={s.muted} data-testid="nda-signing">
            {nda.countersignedAt ? (
              <>
                Signed under your NDA template; you countersigned {formatDateTime(nda.countersignedAt)}
                {nda.status === "expired" ? " · expired" : nda.expiresAt ? ` · expires ${formatDateTime(nda.expiresAt)}` : ""}.{" "}
                <Link to="/agreements">Signed agreements</Link>
              </>
            ) : nda.status === "pending" ? (
              `Accepted your NDA template ${formatDateTime(nda.acceptedAt)}; approving countersigns it.`
            ) : (
              `Accepted your NDA template ${formatDateTime(nda.acceptedAt)}.`
            )}
          </p>
        )}
        {nda.reason && (
          <p>
            <strong>Reason given:</strong> {nda.reason}
          </p>
        )}
        {movedTo && <p className={s.muted}>Decided: from now on listed under {movedTo}.</p>}
        {decide.isError && <Alert>{errorMessage(decide.error)}</Alert>}
        {nda.status === "pending" && !rejecting && (
          <div className={s.actions}>
            <Button busy={decide.isPending} onClick={() => decide.mutate({ id: nda.id, decision: "approve" }, { onSuccess: (r) => onDecided({ ...nda, ...r }) })}
              aria-label={`Approve ${who}'s request for ${nda.pitchTitle}`}>
              Approve
            </Button>
            <Button variant="secondary" disabled={decide.isPending} onClick={() => setRejecting(true)}
              aria-label={`Reject ${who}'s request for ${nda.pitchTitle}`}>
              Reject…
            </Button>
          </div>
        )}
        {nda.status === "pending" && rejecting && (
          <form
            onSubmit={(e) => {
              e.preventDefault();
              decide.mutate({ id: nda.id, decision: "reject", reason }, { onSuccess: (r) => onDecided({ ...nda, ...r }) });
            }}
          >
            <TextArea label={`Reason for ${who} (optional)`} rows={3} maxLength={1000} value={reason}
              onChange={(e) => setReason(e.target.value)} hint="They will see this with the decision." autoFocus />
            <div className={s.actions}>
              <Button type="submit" variant="danger" busy={decide.isPending}>
                Reject request
              </Button>
              <Button variant="secondary" onClick={() => setRejecting(false)} disabled={decide.isPending}>
                Cancel
              </Button>
            </div>
          </form>
        )}
      </Card>
    </li>
  );
}

export default function Ndas() {
  const [search] = useSearchParams();
  const status = asFilter(search.get("status"));
  return (
    <>
      <PageHeader title="NDA requests" />
      <nav aria-label="Filter by status">
        <ul className={s.tabs}>
          {FILTERS.map((f) => (
            <li key={f.value}>
              <Link to={f.value === "pending" ? "/creator/ndas" : `/creator/ndas?status=${f.value}`}
                aria-current={f.value === status ? "page" : undefined}>
                {f.label}
              </Link>
            </li>
          ))}
        </ul>
      </nav>
      {/* Keyed by the filter: what was decided on one tab is not carried to another. */}
      <NdaList key={status} status={status} />
    </>
  );
}

function NdaList({ status }: { status: NdaFilter }) {
  const list = useIncomingNdas(status);
  // Requests decided while this list is shown stay in place with their new status, so the
  // decision is seen where it was made; the next visit lists only what still matches the filter.
  const [decided, setDecided] = useState<ReadonlyMap<number, NdaItem>>(new Map());
  const onDecided = useCallback((n: NdaItem) => setDecided((m) => new Map(m).set(n.id, n)), []);
  const items = useMemo(() => {
    const base = list.data?.items ?? [];
    if (decided.size === 0) return base;
    const shown = new Map<number, NdaItem>(base.map((n) => [n.id, n]));
    for (const n of decided.values()) shown.set(n.id, n);
    return [...shown.values()].sort((a, b) => b.createdAt.localeCompare(a.createdAt) || b.id - a.id);
  }, [list.data, decided]);

  if (list.isPending) return <Loading label="Loading NDA requests…" />;
  if (list.isError) return <ErrorState error={list.error} retry={() => void list.refetch()} />;
  if (items.length === 0) {
    return (
      <Empty>
        {status === "pending"
          ? "No requests waiting. New requests appear here as they arrive."
          : status === "approved"
            ? "No signed NDAs yet."
            : status === "rejected"
              ? "No rejected requests."
              : "No NDA requests yet."}
      </Empty>
    );
  }
  return (
    <ul className={s.ndaList} aria-label={`${FILTERS.find((f) => f.value === status)?.label ?? ""} NDA requests`}>
      {items.map((n) => (
        <NdaCard key={n.id} nda={n} onDecided={onDecided}
          movedTo={status !== "all" && n.status !== status ? FILTERS.find((f) => f.value === n.status)?.label : undefined} />
      ))}
    </ul>
  );
}
