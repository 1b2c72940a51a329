// The views/likes chart. Loaded lazily by the dashboard only, so recharts never weighs on other
// routes. The picture is decorative for assistive technology: the dashboard renders the same
// numbers as a table next to it.
import { Bar, BarChart, CartesianGrid, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";

export interface ChartPoint {
  day: string;
  views: number;
  likes: number;
}

export default function DashboardChart({ points }: { points: ChartPoint[] }) {
  return (
    <ResponsiveContainer width="100%" height="100%">
      <BarChart data={points} margin={{ top: 8, right: 16, bottom: 8, left: 0 }} accessibilityLayer={false} barGap={1}>
        {/* Likes are striped, views solid: the two series differ without colour (legend included). */}
        <defs>
          <pattern id="likes-stripes" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">
            <rect width="6" height="6" fill="#db2777" />
            <line x1="0" y1="0" x2="0" y2="6" stroke="#ffffff" strokeWidth="2.5" />
          </pattern>
        </defs>
        <CartesianGrid strokeDasharray="3 3" stroke="#dcdbe6" />
        <XAxis dataKey="day" tick={{ fill: "#5b5a6e", fontSize: 12 }} minTickGap={16} />
        <YAxis allowDecimals={false} tick={{ fill: "#5b5a6e", fontSize: 12 }} width={40} />
        <Tooltip cursor={{ fill: "#f4ebff" }} />
        <Legend />
        <Bar dataKey="views" name="Views" fill="#6d28d9" isAnimationActive={false} />
        <Bar dataKey="likes" name="Likes" fill="url(#likes-stripes)" stroke="#db2777" isAnimationActive={false} />
      </BarChart>
    </ResponsiveContainer>
  );
}
