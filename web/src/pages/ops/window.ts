// The time window the /ops charts show: one point per metrics frame, the last 15 minutes, kept in
// the browser only (nothing is stored on the server; a reload starts an empty window).
import type { OpsFigures } from "./data";

export const WINDOW_MS = 15 * 60 * 1000;

export interface WindowPoint {
  /** Milliseconds since the epoch, when the frame arrived. */
  t: number;
  events: number;
  deliveries: number;
  connections: number;
  subscribers: number;
  p99: number | null;
}

/** The window with one more point, older points dropped; a frame older than the last is ignored. */
export function addPoint(points: readonly WindowPoint[], figures: OpsFigures, now: number): WindowPoint[] {
  const last = points[points.length - 1];
  if (last && now < last.t) return points as WindowPoint[];
  const cutoff = now - WINDOW_MS;
  let start = 0;
  while (start < points.length && (points[start]?.t ?? cutoff) < cutoff) start++;
  const kept = points.slice(start);
  kept.push({
    t: now,
    events: figures.eventsPerSec,
    deliveries: figures.deliveriesPerSec,
    connections: figures.connections,
    subscribers: figures.subscribers,
    p99: figures.fanoutP99Ms ?? null,
  });
  return kept;
}

const clock = new Intl.DateTimeFormat("en-GB", { hour: "2-digit", minute: "2-digit", second: "2-digit" });

/** "14:03:07" in the viewer's time zone: the x axis of the charts. */
export function clockLabel(t: number): string {
  return clock.format(new Date(t));
}

/** A rate for people: whole numbers from 100 up, one decimal below. */
export function formatRate(n: number): string {
  return n >= 100 ? Math.round(n).toLocaleString("en-US") : n.toFixed(1);
}

/** Milliseconds with sub-millisecond precision kept where it matters; "—" when nothing was fanned out. */
export function formatMs(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return "—";
  return `${ms >= 10 ? ms.toFixed(0) : ms.toFixed(2)} ms`;
}
