// "My pitches": every pitch of the creator with the numbers a creator watches. Views and likes of
// the published ones change live: each row on screen joins its `pitch:<id>` room.
import { useQueryClient } from "@tanstack/react-query";
import { useCallback, useMemo, useState } from "react";
import { Link, useSearchParams } from "react-router";
import { keys } from "../../api/keys";
import { useRoom } from "../../realtime";
import { formatCount, formatDate } from "../../lib/format";
import { Badge, ButtonLink, Empty, ErrorState, layout, Loading, PageHeader } from "../../ui";
import { MY_PITCHES_LIMIT, STATUS_LABEL, STATUS_TONE, useIncomingNdas, useMyPitches, type Pitch, type PitchStatus } from "./data";
import s from "./creator.module.css";

const FILTERS: readonly { value: PitchStatus | "all"; label: string }[] = [
  { value: "all", label: "All" },
  { value: "published", label: "Published" },
  { value: "draft", label: "Drafts" },
  { value: "archived", label: "Archived" },
];

const VISIBILITY_SHORT: Record<Pitch["visibility"], string> = {
  public: "Public",
  investors_only: "Investors only",
  private: "Private",
};

function asFilter(v: string | null): PitchStatus | "all" {
  return v === "published" || v === "draft" || v === "archived" ? v : "all";
}

/** A number that briefly highlights when it changes (remounted by its key, so the CSS animation replays). */
function LiveCount({ value }: { value: number }) {
  const [initial] = useState(value);
  return (
    <span key={value} className={`${s.count} ${value !== initial ? s.flash : ""}`}>
      {formatCount(value)}
    </span>
  );
}

function PitchRow({ pitch, pendingNdas }: { pitch: Pitch; pendingNdas: number }) {
  const qc = useQueryClient();
  // Joining the room is what brings its events to this tab; the LiveProvider applies view_update
  // and like_update to every cached list holding the pitch (this list's {items} included).
  const onEvent = useCallback(() => undefined, []);
  // Events missed beyond the room's history: refetch the list rather than trust stale counts.
  const onResync = useCallback(() => void qc.invalidateQueries({ queryKey: keys.myPitches }), [qc]);
  useRoom(pitch.status === "published" ? `pitch:${pitch.id}` : null, onEvent, onResync);

  return (
    <tr data-pitch-id={pitch.id}>
      <td className={s.titleCell}>
        <Link to={`/creator/pitches/${pitch.id}/edit`}>{pitch.title}</Link>
        <span className={s.muted}>
          {[pitch.genre, pitch.format].filter(Boolean).join(" · ") || "No genre yet"} · created {formatDate(pitch.createdAt)}
        </span>
      </td>
      <td data-label="Status">
        <Badge tone={STATUS_TONE[pitch.status]}>{STATUS_LABEL[pitch.status]}</Badge>
      </td>
      <td data-label="Visibility">
        {VISIBILITY_SHORT[pitch.visibility]}
        {pitch.requireNda ? " · NDA" : ""}
      </td>
      <td data-label="Views" className={s.num} data-testid="views">
        <LiveCount value={pitch.viewCount} />
      </td>
      <td data-label="Likes" className={s.num} data-testid="likes">
        <LiveCount value={pitch.likeCount} />
      </td>
      <td data-label="Saves" className={s.num} data-testid="saves">
        {formatCount(pitch.saveCount ?? 0)}
      </td>
      <td data-label="NDA requests" className={s.num}>
        {pendingNdas > 0 ? (
          <Link to="/creator/ndas" aria-label={`${pendingNdas} pending NDA requests for ${pitch.title}`}>
            {pendingNdas} pending
          </Link>
        ) : (
          <span className={s.muted}>0</span>
        )}
      </td>
      <td data-label="Actions">
        <div className={s.rowActions}>
          <ButtonLink to={`/creator/pitches/${pitch.id}/edit`} small variant="secondary" aria-label={`Edit ${pitch.title}`}>
            Edit
          </ButtonLink>
          <ButtonLink to={`/creator/pitches/${pitch.id}/analytics`} small variant="secondary" aria-label={`Analytics of ${pitch.title}`}>
            Analytics
          </ButtonLink>
          {pitch.status === "published" && (
            <ButtonLink to={`/pitches/${pitch.id}`} small variant="ghost" aria-label={`View ${pitch.title}`}>
              View
            </ButtonLink>
          )}
        </div>
      </td>
    </tr>
  );
}

export default function MyPitches() {
  const [search] = useSearchParams();
  const status = asFilter(search.get("status"));
  const page = Math.max(1, Number.parseInt(search.get("page") ?? "1", 10) || 1);
  const pitches = useMyPitches(status, page);
  const ndas = useIncomingNdas("pending");

  const pendingByPitch = useMemo(() => {
    const m = new Map<number, number>();
    for (const n of ndas.data?.items ?? []) m.set(n.pitchId, (m.get(n.pitchId) ?? 0) + 1);
    return m;
  }, [ndas.data]);

  const linkFor = (v: PitchStatus | "all") => (v === "all" ? "/creator/pitches" : `/creator/pitches?status=${v}`);
  const pag = pitches.data?.pagination;

  return (
    <>
      <PageHeader title="My pitches">
        <ButtonLink to="/creator/pitches/new">New pitch</ButtonLink>
      </PageHeader>
      <nav aria-label="Filter by status">
        <ul className={s.tabs}>
          {FILTERS.map((f) => (
            <li key={f.value}>
              <Link to={linkFor(f.value)} aria-current={f.value === status ? "page" : undefined}>
                {f.label}
              </Link>
            </li>
          ))}
        </ul>
      </nav>
      {pitches.isPending ? (
        <Loading label="Loading your pitches…" />
      ) : pitches.isError ? (
        <ErrorState error={pitches.error} retry={() => void pitches.refetch()} />
      ) : pitches.data.items.length === 0 ? (
        <Empty>
          {status === "all" ? (
            <>
              <p>You have no pitches yet.</p>
              <ButtonLink to="/creator/pitches/new">Create your first pitch</ButtonLink>
            </>
          ) : (
            <p>No {FILTERS.find((f) => f.value === status)?.label.toLowerCase()} pitches.</p>
          )}
        </Empty>
      ) : (
        <>
          {ndas.isError && <ErrorState error={ndas.error} retry={() => void ndas.refetch()} />}
          <div className={layout.tableWrap}>
            <table className={`${layout.table} ${s.pitchTable}`}>
              <caption className="visually-hidden">
                Your pitches with views, likes and pending NDA requests. Views and likes update live.
              </caption>
              <thead>
                <tr>
                  <th scope="col">Pitch</th>
                  <th scope="col">Status</th>
                  <th scope="col">Visibility</th>
                  <th scope="col" className={s.num}>Views</th>
                  <th scope="col" className={s.num}>Likes</th>
                  <th scope="col" className={s.num}>Saves</th>
                  <th scope="col" className={s.num}>NDA requests</th>
                  <th scope="col"><span className="visually-hidden">Actions</span></th>
                </tr>
              </thead>
              <tbody>
                {pitches.data.items.map((p) => (
                  <PitchRow key={p.id} pitch={p} pendingNdas={pendingByPitch.get(p.id) ?? 0} />
                ))}
              </tbody>
            </table>
          </div>
          {pag && (pag.page > 1 || pag.hasMore) && (
            <nav aria-label="Pages" className={s.actions}>
              <ButtonLink
                to={`?${new URLSearchParams({ ...(status === "all" ? {} : { status }), page: String(page - 1) })}`}
                variant="secondary"
                small
                aria-disabled={page <= 1}
                onClick={(e) => {
                  if (page <= 1) e.preventDefault();
                }}
              >
                Previous
              </ButtonLink>
              <span className={s.muted}>
                Page {pag.page} of {Math.max(1, Math.ceil(pag.total / MY_PITCHES_LIMIT))}
              </span>
              <ButtonLink
                to={`?${new URLSearchParams({ ...(status === "all" ? {} : { status }), page: String(page + 1) })}`}
                variant="secondary"
                small
                aria-disabled={!pag.hasMore}
                onClick={(e) => {
                  if (!pag.hasMore) e.preventDefault();
                }}
              >
                Next
              </ButtonLink>
            </nav>
          )}
        </>
      )}
    </>
  );
}
