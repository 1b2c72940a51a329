// The creator's dashboard: figures over a range (kept in the URL), a views/likes chart with a
// table of the same numbers, recent NDA requests, top pitches and the ways onward.
import { useQueries } from "@tanstack/react-query";
import { useMemo } from "react";
import { Link, useSearchParams } from "react-router";
import { useSession } from "../../auth/session";
import { formatCount, formatDateTime, formatMoney } from "../../lib/format";
import { Badge, ButtonLink, Card, Empty, ErrorState, Loading, PageHeader, Select } from "../../ui";
import {
  asCount,
  asRange,
  personName,
  pitchAnalyticsQuery,
  RANGES,
  useDashboard,
  useIncomingNdas,
  useMyPitches,
  type Pitch,
  type Range,
} from "./data";
import { ActivityFigure, plural, pointsFrom, type ChartPoint } from "./ActivityFigure";
import s from "./creator.module.css";
import { ProfilePrompt } from "../../components/ProfilePrompt";
import { MetricCard } from "../../components/MetricCard";


const METRICS: readonly { key: string; label: string }[] = [
  { key: "views", label: "Views" },
  { key: "likes", label: "Likes" },
  { key: "ndaRequests", label: "NDA requests" },
  { key: "pitches", label: "Pitches created" },
  { key: "investmentsReceived", label: "Investment received" },
  { key: "investmentCount", label: "Investments" },
];

/** Daily views and likes summed over the creator's pitches that have any activity. */
function useActivitySeries(pitches: Pitch[], range: Range) {
  const active = pitches.filter((p) => p.viewCount > 0 || p.likeCount > 0);
  return useQueries({
    queries: active.map((p) => pitchAnalyticsQuery(p.id, range)),
    combine: (results) => {
      const error = results.find((r) => r.isError)?.error ?? null;
      const pending = results.some((r) => r.isPending);
      const byDay = new Map<string, ChartPoint>();
      for (const r of results) {
        if (!r.data) continue;
        for (const p of pointsFrom(r.data.labels, r.data.series)) {
          const pt = byDay.get(p.day) ?? { day: p.day, views: 0, likes: 0 };
          pt.views += p.views;
          pt.likes += p.likes;
          byDay.set(p.day, pt);
        }
      }
      const points = [...byDay.values()].sort((a, b) => a.day.localeCompare(b.day));
      return { points, pending, error, count: results.length, refetch: () => results.forEach((r) => void r.refetch()) };
    },
  });
}

function ActivityChart({ pitches, range }: { pitches: Pitch[]; range: Range }) {
  const series = useActivitySeries(pitches, range);
  const rangeLabel = RANGES.find((r) => r.value === range)?.label ?? range;
  if (series.count === 0) {
    return <Empty>No views or likes yet. Publish a pitch and share it: activity shows up here.</Empty>;
  }
  if (series.pending) return <Loading label="Loading activity…" />;
  if (series.error) return <ErrorState error={series.error} retry={series.refetch} />;
  return <ActivityFigure points={series.points} rangeLabel={rangeLabel} />;
}

export default function Dashboard() {
  const [search, setSearch] = useSearchParams();
  const range = asRange(search.get("range"));
  const rangeLabel = RANGES.find((r) => r.value === range)?.label ?? range;
  const session = useSession();
  const dash = useDashboard(range);
  const pitches = useMyPitches("all", 1);
  const ndas = useIncomingNdas("all", 5);
  const pending = useIncomingNdas("pending");

  const top = useMemo(
    () =>
      [...(pitches.data?.items ?? [])]
        .filter((p) => p.status === "published")
        .sort((a, b) => b.viewCount - a.viewCount || b.likeCount - a.likeCount)
        .slice(0, 5),
    [pitches.data],
  );
  const pendingCount = pending.data?.pagination?.total ?? pending.data?.items.length ?? 0;
  const name = session.data?.name ?? session.data?.username ?? null;

  return (
    <>
      <PageHeader title={name ? `Welcome back, ${name}` : "Dashboard"}>
        <Select
          label="Range"
          value={range}
          options={RANGES}
          onChange={(e) => {
            const next = new URLSearchParams(search);
            next.set("range", e.target.value);
            setSearch(next, { replace: true });
          }}
        />
        <ButtonLink to="/creator/pitches/new">New pitch</ButtonLink>
      </PageHeader>
      <ProfilePrompt />

      <section aria-labelledby="figures-title">
        <h2 id="figures-title" className="visually-hidden">
          Figures, {rangeLabel.toLowerCase()}
        </h2>
        {dash.isPending ? (
          <Loading label="Loading figures…" />
        ) : dash.isError ? (
          <ErrorState error={dash.error} retry={() => void dash.refetch()} />
        ) : (
          <>
            <div className={s.stats}>
              {METRICS.map((m) => {
                const metric = dash.data.metrics[m.key];
                return metric ? (
                  <MetricCard key={m.key} label={m.label} metric={metric} period={rangeLabel.replace("Last ", "")} />
                ) : null;
              })}
            </div>
            <p className={s.muted}>
              All time: {plural(asCount(dash.data.totals.pitches), "pitch", "pitches")} (
              {formatCount(asCount(dash.data.totals.publishedPitches))} published) ·{" "}
              {plural(asCount(dash.data.totals.views), "view", "views")} ·{" "}
              {plural(asCount(dash.data.totals.likes), "like", "likes")} ·{" "}
              {formatMoney(dash.data.totals.investmentsReceived)} invested
            </p>
          </>
        )}
      </section>

      <div className={s.dashGrid}>
        <Card aria-labelledby="chart-title">
          <div className={s.chartHead}>
            <h2 id="chart-title">Views and likes</h2>
            <span className={s.muted}>{rangeLabel}</span>
          </div>
          {pitches.isPending ? (
            <Loading label="Loading activity…" />
          ) : pitches.isError ? (
            <ErrorState error={pitches.error} retry={() => void pitches.refetch()} />
          ) : (
            <ActivityChart pitches={pitches.data.items} range={range} />
          )}
        </Card>

        <div className={s.side}>
          <Card aria-labelledby="next-title">
            <h2 id="next-title" className={s.sectionTitle}>
              Shortcuts
            </h2>
            <ul className={s.plainList}>
              <li>
                <Link to="/creator/pitches">My pitches</Link>
                <span className={s.muted}>{formatCount(pitches.data?.pagination?.total ?? pitches.data?.items.length ?? 0)}</span>
              </li>
              <li>
                <Link to="/creator/ndas">NDA requests</Link>
                {pendingCount > 0 ? <Badge tone="warn">{pendingCount} pending</Badge> : <span className={s.muted}>none pending</span>}
              </li>
              <li>
                <Link to="/creator/pitches/new">Create a pitch</Link>
              </li>
            </ul>
          </Card>

          <Card aria-labelledby="recent-title">
            <h2 id="recent-title" className={s.sectionTitle}>
              Recent NDA requests
            </h2>
            {ndas.isPending ? (
              <Loading />
            ) : ndas.isError ? (
              <ErrorState error={ndas.error} retry={() => void ndas.refetch()} />
            ) : ndas.data.items.length === 0 ? (
              <p className={s.muted}>No requests yet.</p>
            ) : (
              <ul className={s.plainList}>
                {ndas.data.items.map((n) => (
                  <li key={n.id}>
                    <span>
                      {personName(n.otherParty)} asked for <strong>{n.pitchTitle}</strong>
                      <span className={s.muted} style={{ display: "block" }}>
                        {formatDateTime(n.createdAt)}
                      </span>
                    </span>
                    <Badge tone={n.status === "pending" ? "warn" : n.status === "approved" ? "success" : "danger"}>
                      {n.status.charAt(0).toUpperCase() + n.status.slice(1)}
                    </Badge>
                  </li>
                ))}
              </ul>
            )}
          </Card>

          <Card aria-labelledby="top-title">
            <h2 id="top-title" className={s.sectionTitle}>
              Top pitches
            </h2>
            {pitches.isPending ? (
              <Loading />
            ) : pitches.isError ? null : top.length === 0 ? (
              <p className={s.muted}>Nothing published yet.</p>
            ) : (
              <ol className={s.plainList}>
                {top.map((p) => (
                  <li key={p.id}>
                    <Link to={`/creator/pitches/${p.id}/edit`}>{p.title}</Link>
                    <span className={s.muted}>
                      {plural(p.viewCount, "view", "views")} · {plural(p.likeCount, "like", "likes")}
                    </span>
                  </li>
                ))}
              </ol>
            )}
          </Card>
        </div>
      </div>
    </>
  );
}
