// Views and likes per day: the chart (recharts, loaded lazily with the first chart shown) and the
// same numbers as a table for anyone who cannot see the picture.
import { lazy, Suspense } from "react";
import { formatCount } from "../../lib/format";
import { layout, Loading } from "../../ui";
import type { ChartPoint } from "./DashboardChart";
import s from "./creator.module.css";

const DashboardChart = lazy(() => import("./DashboardChart"));

export type { ChartPoint };

const dayFmt = new Intl.DateTimeFormat("en-US", { month: "short", day: "numeric", timeZone: "UTC" });

/** "2026-11-24" (a UTC day) → "Nov 24". */
export function dayLabel(isoDay: string): string {
  const d = new Date(`${isoDay.slice(0, 10)}T00:00:00Z`);
  return Number.isNaN(d.getTime()) ? isoDay : dayFmt.format(d);
}

export function plural(n: number, one: string, many: string): string {
  return `${formatCount(n)} ${n === 1 ? one : many}`;
}

/** Chart-ready points from an analytics answer's labels and `views`/`likes` series. */
export function pointsFrom(labels: string[], series: { name: string; data: number[] }[]): ChartPoint[] {
  const views = series.find((x) => x.name === "views")?.data ?? [];
  const likes = series.find((x) => x.name === "likes")?.data ?? [];
  return labels.map((label, i) => ({ day: label, views: views[i] ?? 0, likes: likes[i] ?? 0 }));
}

export function ActivityFigure({ points, rangeLabel }: { points: ChartPoint[]; rangeLabel: string }) {
  const totals = points.reduce((t, p) => ({ views: t.views + p.views, likes: t.likes + p.likes }), { views: 0, likes: 0 });
  const shown = points.map((p) => ({ ...p, day: dayLabel(p.day) }));
  const summary = `Views and likes per day, ${rangeLabel.toLowerCase()}: ${plural(totals.views, "view", "views")} and ${plural(totals.likes, "like", "likes")} in all.`;
  return (
    <figure className={s.figure}>
      <div className={s.chartBox} role="img" aria-label={summary}>
        <Suspense fallback={<Loading label="Loading chart…" />}>
          <DashboardChart points={shown} />
        </Suspense>
      </div>
      <figcaption className={s.muted}>{summary}</figcaption>
      <details>
        <summary>Show the numbers as a table</summary>
        <div className={layout.tableWrap}>
          <table className={layout.table}>
            <caption className="visually-hidden">Views and likes per day</caption>
            <thead>
              <tr>
                <th scope="col">Day (UTC)</th>
                <th scope="col">Views</th>
                <th scope="col">Likes</th>
              </tr>
            </thead>
            <tbody>
              {shown.map((p) => (
                <tr key={p.day}>
                  <th scope="row">{p.day}</th>
                  <td>{formatCount(p.views)}</td>
                  <td>{formatCount(p.likes)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </details>
    </figure>
  );
}
