// One pitch's analytics: views, likes and unique viewers over a range (kept in the URL), the daily
// chart with its table, all-time counters and who is looking at the pitch right now, all live.
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useCallback } from "react";
import { useParams, useSearchParams } from "react-router";
import { keys } from "../../api/keys";
import { useSession } from "../../auth/session";
import { formatCount } from "../../lib/format";
import { usePresence, useRoom, type ServerFrame } from "../../realtime";
import { Alert, ButtonLink, Card, ErrorState, Loading, PageHeader, Select } from "../../ui";
import { ActivityFigure, pointsFrom } from "./ActivityFigure";
import { PitchComparison } from "./PitchComparison";
import { asRange, pitchAnalyticsQuery, RANGES, usePitch, type Pitch, type Range } from "./data";
import s from "./creator.module.css";

function Figure({ label, value }: { label: string; value: number }) {
  return (
    <Card className={s.metric}>
      <span className={s.metricValue}>{formatCount(value)}</span>
      <span className={s.metricLabel}>{label}</span>
    </Card>
  );
}

export default function PitchAnalytics() {
  const params = useParams();
  const id = Number(params.id);
  if (!Number.isInteger(id) || id <= 0) return <Alert>There is no pitch at this address.</Alert>;
  return <PitchAnalyticsPage key={id} id={id} />;
}

function PitchAnalyticsPage({ id }: { id: number }) {
  const [search, setSearch] = useSearchParams();
  const range = asRange(search.get("range"));
  const pitch = usePitch(id);
  if (pitch.isPending) return <Loading label="Loading the pitch…" />;
  if (pitch.isError) {
    return (
      <>
        <PageHeader title="Pitch analytics" />
        <ErrorState error={pitch.error} retry={() => void pitch.refetch()} />
        <ButtonLink to="/creator/pitches" variant="secondary">
          Back to my pitches
        </ButtonLink>
      </>
    );
  }
  return (
    <Analytics
      pitch={pitch.data}
      range={range}
      onRange={(r) => {
        const next = new URLSearchParams(search);
        next.set("range", r);
        setSearch(next, { replace: true });
      }}
    />
  );
}

function Analytics({ pitch, range, onRange }: { pitch: Pitch; range: Range; onRange: (r: Range) => void }) {
  const qc = useQueryClient();
  const me = useSession().data?.id ?? null;
  const analytics = useQuery(pitchAnalyticsQuery(pitch.id, range));
  const room = pitch.status === "published" ? `pitch:${pitch.id}` : null;
  // The counters are patched by the LiveProvider; the daily series is re-read when they move.
  const onEvent = useCallback(
    (f: ServerFrame) => {
      if (f.type === "view_update" || f.type === "like_update") {
        void qc.invalidateQueries({ queryKey: [...keys.analytics, "pitch", pitch.id] });
      }
    },
    [qc, pitch.id],
  );
  const onResync = useCallback(() => void qc.invalidateQueries({ queryKey: keys.pitch(pitch.id) }), [qc, pitch.id]);
  useRoom(room, onEvent, onResync);
  const watching = usePresence(room).filter((p) => p.userId !== me).length;
  const rangeLabel = RANGES.find((r) => r.value === range)?.label ?? range;

  return (
    <>
      <PageHeader title={`Analytics: ${pitch.title}`}>
        <Select label="Range" value={range} options={RANGES} onChange={(e) => onRange(e.target.value as Range)} />
        <ButtonLink to={`/creator/pitches/${pitch.id}/edit`} variant="secondary" small>
          Edit pitch
        </ButtonLink>
        {pitch.status === "published" && (
          <ButtonLink to={`/pitches/${pitch.id}`} variant="secondary" small>
            View public page
          </ButtonLink>
        )}
      </PageHeader>
      {pitch.status !== "published" && (
        <Alert kind="info">This pitch is not published: nobody else can see it, so it gathers no views or likes.</Alert>
      )}

      <section aria-labelledby="now-title">
        <h2 id="now-title" className="visually-hidden">
          All time and right now
        </h2>
        <div className={s.stats}>
          <Figure label="Views, all time" value={pitch.viewCount} />
          <Figure label="Likes, all time" value={pitch.likeCount} />
          <Card className={s.metric} data-testid="viewers-now">
            <span className={s.metricValue} aria-live="polite">
              {formatCount(watching)}
            </span>
            <span className={s.metricLabel}>{watching === 1 ? "person viewing now" : "people viewing now"}</span>
          </Card>
        </div>
      </section>

      <Card aria-labelledby="range-title">
        <div className={s.chartHead}>
          <h2 id="range-title">In the {rangeLabel.toLowerCase()}</h2>
        </div>
        {analytics.isPending ? (
          <Loading label="Loading activity…" />
        ) : analytics.isError ? (
          <ErrorState error={analytics.error} retry={() => void analytics.refetch()} />
        ) : (
          <>
            <div className={s.stats}>
              <Figure label="Views" value={analytics.data.totals.views} />
              <Figure label="Likes" value={analytics.data.totals.likes} />
              <Figure label="Unique viewers" value={analytics.data.totals.uniqueViewers} />
            </div>
            <PitchComparison pitchId={pitch.id} range={range} />
            <ActivityFigure points={pointsFrom(analytics.data.labels, analytics.data.series)} rangeLabel={rangeLabel} />
          </>
        )}
      </Card>
    </>
  );
}
