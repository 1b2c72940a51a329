// One line chart of the 15-minute window. Loaded lazily by /ops only, so recharts weighs on no
// other route. Decorative for assistive technology: the page states the same numbers as text.
import { CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import { clockLabel, type WindowPoint } from "./window";

export interface Series {
  key: keyof Omit<WindowPoint, "t">;
  name: string;
  color: string;
  /** Dashed or solid: the series differ without colour too. */
  dashed?: boolean;
}

export default function OpsChart({ points, series }: { points: WindowPoint[]; series: Series[] }) {
  return (
    <ResponsiveContainer width="100%" height="100%">
      <LineChart data={points} margin={{ top: 8, right: 16, bottom: 8, left: 0 }} accessibilityLayer={false}>
        <CartesianGrid strokeDasharray="3 3" stroke="#dcdbe6" />
        <XAxis
          dataKey="t"
          type="number"
          scale="time"
          domain={["dataMin", "dataMax"]}
          tickFormatter={clockLabel}
          tick={{ fill: "#5b5a6e", fontSize: 12 }}
          minTickGap={40}
        />
        <YAxis tick={{ fill: "#5b5a6e", fontSize: 12 }} width={48} allowDecimals />
        <Tooltip labelFormatter={(t) => clockLabel(Number(t))} />
        <Legend />
        {series.map((s) => (
          <Line
            key={s.key}
            dataKey={s.key}
            name={s.name}
            stroke={s.color}
            strokeWidth={2}
            strokeDasharray={s.dashed ? "6 4" : undefined}
            dot={false}
            isAnimationActive={false}
            connectNulls
          />
        ))}
      </LineChart>
    </ResponsiveContainer>
  );
}
