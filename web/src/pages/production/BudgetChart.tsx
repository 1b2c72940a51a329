// Allocated vs spent per budget line, as bars. Loaded lazily (recharts is large) and hidden from
// assistive technology: the budget table next to it holds the same figures as text.
import { Bar, BarChart, CartesianGrid, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import { formatMoney } from "../../lib/format";
import type { BudgetLine } from "./shared";
import s from "./production.module.css";

// Plotting needs numbers; the figures shown as text (axis ticks and tooltip) are formatted from the
// original decimal strings' values, and nothing here is summed.
const toPlot = (v: string | number) => (typeof v === "number" ? v : Number.parseFloat(v));

export default function BudgetChart({ lines }: { lines: readonly BudgetLine[] }) {
  const data = lines.map((l) => ({
    name: l.category,
    Allocated: toPlot(l.allocated),
    Spent: toPlot(l.spent),
    over: l.overBudget,
  }));
  return (
    <div className={s.chart}>
      <ResponsiveContainer width="100%" height="100%">
        <BarChart data={data} margin={{ top: 8, right: 8, bottom: 8, left: 8 }} accessibilityLayer={false}>
          <CartesianGrid strokeDasharray="3 3" vertical={false} />
          <XAxis dataKey="name" tick={{ fontSize: 12 }} interval={0} />
          <YAxis tickFormatter={(v: number) => compactMoney(v)} width={64} tick={{ fontSize: 12 }} />
          <Tooltip formatter={(v) => formatMoney(typeof v === "number" ? v : String(v))} />
          <Legend formatter={(v: string) => <span style={{ color: "var(--c-text)" }}>{v}</span>} />
          <Bar dataKey="Allocated" fill="#b9a6e8" maxBarSize={64} isAnimationActive={false} />
          <Bar dataKey="Spent" fill="#6d28d9" maxBarSize={64} isAnimationActive={false} />
        </BarChart>
      </ResponsiveContainer>
    </div>
  );
}

function compactMoney(v: number): string {
  return new Intl.NumberFormat("en-US", { style: "currency", currency: "USD", notation: "compact" }).format(v);
}
