// Cumulative spend per day, in total and per budget line. Loaded lazily and hidden from assistive
// technology: the table beside it ("Spend by day") holds the same figures as text.
import { CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import type { Schemas } from "../../api/client";
import { formatMoney } from "../../lib/format";
import { formatDay } from "./shared";
import s from "./production.module.css";

const COLORS = ["#b42318", "#175cd3", "#067647", "#93370d", "#5b5a6e", "#c11574"];

// Plotting needs numbers; nothing here is summed (the server sent the running totals).
const toPlot = (v: string | number | undefined) => (v === undefined ? 0 : typeof v === "number" ? v : Number.parseFloat(v));

export default function SpendChart({ data: b }: { data: Schemas["BudgetAnalyticsOut"] }) {
  const rows = b.labels.map((day, i) => {
    const row: Record<string, string | number> = { day: formatDay(day), total: toPlot(b.cumulativeTotal[i]) };
    b.series.forEach((line, j) => {
      row[`line${j}`] = toPlot(line.data[i]);
    });
    return row;
  });
  return (
    <div className={s.chart}>
      <ResponsiveContainer width="100%" height="100%">
        <LineChart data={rows} margin={{ top: 8, right: 8, bottom: 8, left: 8 }} accessibilityLayer={false}>
          <CartesianGrid strokeDasharray="3 3" vertical={false} />
          <XAxis dataKey="day" tick={{ fontSize: 12 }} />
          <YAxis tickFormatter={(v: number) => compactMoney(v)} width={64} tick={{ fontSize: 12 }} />
          <Tooltip formatter={(v) => formatMoney(typeof v === "number" ? v : String(v))} />
          <Legend formatter={(v: string) => <span style={{ color: "var(--c-text)" }}>{v}</span>} />
          <Line type="monotone" dataKey="total" name="All lines" stroke="#6d28d9" strokeWidth={3} dot isAnimationActive={false} />
          {/* With one line its series is the total: drawn once. */}
          {b.series.length > 1 && b.series.map((line, j) => (
            <Line
              key={line.lineId ?? line.name}
              type="monotone"
              dataKey={`line${j}`}
              name={line.name}
              stroke={COLORS[j % COLORS.length]}
              strokeDasharray="4 3"
              dot={false}
              isAnimationActive={false}
            />
          ))}
        </LineChart>
      </ResponsiveContainer>
    </div>
  );
}

function compactMoney(v: number): string {
  return new Intl.NumberFormat("en-US", { style: "currency", currency: "USD", notation: "compact" }).format(v);
}
