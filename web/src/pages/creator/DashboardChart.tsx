// The views/likes chart. Loaded lazily by the dashboard only, so recharts never weighs on other
// routes. The picture is decorative for assistive technology: the dashboard renders the same
// numbers as a table next to it.
import { CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";

export interface ChartPoint {
  day: string;
  views: number;
  likes: number;
}

export default function DashboardChart({ points }: { points: ChartPoint[] }) {
  return (
    <ResponsiveContainer width="100%" height="100%">
      <LineChart data={points} margin={{ top: 8, right: 16, bottom: 8, left: 0 }} accessibilityLayer={false}>
        <CartesianGrid strokeDasharray="3 3" stroke="#dcdbe6" />
        <XAxis dataKey="day" tick={{ fill: "#5b5a6e", fontSize: 12 }} minTickGap={16} />
        <YAxis allowDecimals={false} tick={{ fill: "#5b5a6e", fontSize: 12 }} width={40} />
        <Tooltip />
        <Legend />
        <Line type="monotone" dataKey="views" name="Views" stroke="#6d28d9" strokeWidth={2} dot={false} isAnimationActive={false} />
        <Line type="monotone" dataKey="likes" name="Likes" stroke="#c11574" strokeWidth={2} dot={false} isAnimationActive={false} />
      </LineChart>
    </ResponsiveContainer>
  );
}
