// A pitch's views and likes in the chosen range against the range before it, in words. The pitch
// analytics endpoint answers one range ending today, so the range before comes from the next longer
// one (the 7 days before from 30d, the 30 days before from 90d): one more request, whatever the size
// of the page. 90 days has nothing longer, so it says so instead of guessing.
import { useQuery } from "@tanstack/react-query";
import { formatCount } from "../../lib/format";
import { ErrorState, Loading } from "../../ui";
import { pitchAnalyticsQuery, type Range } from "./data";
import s from "./creator.module.css";

const DAYS: Record<Range, number> = { "7d": 7, "30d": 30, "90d": 90 };
const LONGER: Partial<Record<Range, Range>> = { "7d": "30d", "30d": "90d" };

/** The sums of one series over the current window and the window before it (days, oldest first). */
export function windowSums(data: readonly number[], days: number): { current: number; previous: number } | null {
  if (data.length < days * 2) return null;
  const sum = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0);
  return { current: sum(data.slice(-days)), previous: sum(data.slice(-days * 2, -days)) };
}

/** "12 views, up 4 (+50%) on the 7 days before (8)". Percentages rounded to whole numbers. */
export function changeWords(noun: [string, string], current: number, previous: number, period: string): string {
  const what = `${formatCount(current)} ${current === 1 ? noun[0] : noun[1]}`;
  if (current === previous) return `${what}, the same as the ${period} before`;
  const diff = current - previous;
  if (previous === 0) return `${what}, up from none the ${period} before`;
  const pct = Math.round((Math.abs(diff) / previous) * 100);
  const dir = diff > 0 ? "up" : "down";
  return `${what}, ${dir} ${formatCount(Math.abs(diff))} (${diff > 0 ? "+" : "−"}${pct}%) on the ${period} before (${formatCount(previous)})`;
}

export function PitchComparison({ pitchId, range }: { pitchId: number; range: Range }) {
  const longer = LONGER[range] ?? null;
  const days = DAYS[range];
  const period = `${days} days`;
  const q = useQuery({ ...pitchAnalyticsQuery(pitchId, longer ?? range), enabled: longer !== null });

  if (longer === null) {
    return (
      <p className={s.muted} data-testid="range-change">
        No comparison for this range: 90 days is the longest period the analytics offer. Choose 7 or 30 days to compare.
      </p>
    );
  }
  if (q.isPending) return <Loading label="Comparing with the range before…" />;
  if (q.isError) return <ErrorState error={q.error} retry={() => void q.refetch()} />;
  const series = (name: string) => q.data.series.find((x) => x.name === name)?.data ?? [];
  const views = windowSums(series("views"), days);
  const likes = windowSums(series("likes"), days);
  if (!views || !likes) return null;
  return (
    <div data-testid="range-change" style={{ marginBottom: 16 }}>
      <h3 className={s.sectionTitle}>Against the {period} before</h3>
      <ul style={{ margin: 0, paddingLeft: 20 }}>
        <li>{changeWords(["view", "views"], views.current, views.previous, period)}.</li>
        <li>{changeWords(["like", "likes"], likes.current, likes.previous, period)}.</li>
      </ul>
    </div>
  );
}
