// One figure of GET /api/analytics/dashboard: its value over the chosen range and, in words, its
// change against the range before (never by colour alone). The creator and investor dashboards share it.
import type { Schemas } from "../api/client";
import { formatCount, formatMoney } from "../lib/format";
import { Card } from "../ui";
import s from "./MetricCard.module.css";

/** A count that may arrive as "12" or "12.00" as an integer. */
function asCount(v: number | string | undefined | null): number {
  if (typeof v === "number") return v;
  if (!v) return 0;
  const n = Number.parseInt(v, 10);
  return Number.isFinite(n) ? n : 0;
}

/** The change in words: "+25% on the 30 days before", "same as …", "up from 0 …" (no percentage from 0). */
export function changeInWords(metric: Schemas["Metric"], period: string): string {
  const money = metric.unit === "money";
  const before = money ? formatMoney(metric.previous) : formatCount(asCount(metric.previous));
  const pct = metric.changePercent;
  if (pct === null) return `up from ${before} the ${period} before`;
  if (pct === 0) return `same as the ${period} before`;
  return `${pct > 0 ? "+" : ""}${pct.toLocaleString("en-US")}% on the ${period} before`;
}

export function MetricCard({ label, metric, period }: { label: string; metric: Schemas["Metric"]; period: string }) {
  const money = metric.unit === "money";
  const value = money ? formatMoney(metric.current) : formatCount(asCount(metric.current));
  const pct = metric.changePercent;
  const tone = pct === null || pct > 0 ? s.up : pct < 0 ? s.down : s.muted;
  return (
    <Card className={s.metric}>
      <span className={s.value}>{value}</span>
      <span className={s.label}>{label}</span>
      <span className={`${s.change} ${tone ?? ""}`}>{changeInWords(metric, period)}</span>
    </Card>
  );
}
