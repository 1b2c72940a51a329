// The generic cache updates of live events, applied once by the LiveProvider for the whole app, so
// a page never shows a stale count next to a live one. Pages add only what is specific to them.
import type { QueryClient } from "@tanstack/react-query";
import { keys } from "../api/keys";
import type { ServerFrame } from "./client";

export interface PitchCounters {
  viewCount?: number;
  likeCount?: number;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null;
}

/**
 * `value` with the counters of pitch `pitchId` replaced wherever it appears: the pitch itself, an
 * array of pitches, or pitches nested in a page object (`{items: [...]}`, infinite `{pages: [...]}`).
 * Untouched parts keep their identity, and when nothing matches `value` itself comes back, so
 * queries without that pitch do not re-render.
 */
export function patchPitchCounters(value: unknown, pitchId: number, patch: PitchCounters, depth = 0): unknown {
  if (depth > 4 || !isRecord(value)) return value;
  if (Array.isArray(value)) {
    let changed = false;
    const out = value.map((item: unknown) => {
      const next = patchPitchCounters(item, pitchId, patch, depth + 1);
      if (next !== item) changed = true;
      return next;
    });
    return changed ? out : value;
  }
  if (value.id === pitchId && ("viewCount" in value || "likeCount" in value)) {
    const next: Record<string, unknown> = { ...value };
    let changed = false;
    for (const [k, v] of Object.entries(patch)) {
      if (v !== undefined && k in value && value[k] !== v) {
        next[k] = v;
        changed = true;
      }
    }
    return changed ? next : value;
  }
  let out: Record<string, unknown> | null = null;
  for (const [k, v] of Object.entries(value)) {
    if (!isRecord(v)) continue;
    const next = patchPitchCounters(v, pitchId, patch, depth + 1);
    if (next !== v) {
      out ??= { ...value };
      out[k] = next;
    }
  }
  return out ?? value;
}

function pitchIdOf(frame: ServerFrame): number | null {
  const fromData = frame.data.pitchId;
  if (typeof fromData === "number") return fromData;
  const m = /^pitch:(\d+)$/.exec(frame.room ?? "");
  return m ? Number(m[1]) : null;
}

/** New counters for one pitch: its own query and every cached list holding it, in place (no refetch). */
export function setPitchCounters(qc: QueryClient, pitchId: number, patch: PitchCounters): void {
  // Exact key: keys.pitch(id) is also the prefix of the pitch's media, which has no counters.
  qc.setQueryData(keys.pitch(pitchId), (old: unknown) => patchPitchCounters(old, pitchId, patch));
  qc.setQueriesData({ queryKey: keys.pitches }, (old: unknown) => patchPitchCounters(old, pitchId, patch));
}

export interface LiveActions {
  /** Ask again for a room that was refused (an NDA approval opens a private pitch's room). */
  retry(room: string): void;
}

/** One room event (after duplicates were dropped) applied to the cache. */
export function applyLiveEvent(qc: QueryClient, frame: ServerFrame, live?: LiveActions): void {
  const d = frame.data;
  switch (frame.type) {
    case "view_update": {
      const id = pitchIdOf(frame);
      if (id !== null && typeof d.views === "number") setPitchCounters(qc, id, { viewCount: d.views });
      return;
    }
    case "like_update": {
      const id = pitchIdOf(frame);
      if (id !== null && typeof d.likes === "number") setPitchCounters(qc, id, { likeCount: d.likes });
      return;
    }
    case "notification":
      void qc.invalidateQueries({ queryKey: keys.notifications });
      return;
    case "nda_request":
    case "nda_rejected":
      void qc.invalidateQueries({ queryKey: keys.ndas });
      return;
    case "nda_expired": {
      // Its term ended: the pitch's protected fields lock again; an open pitch page reloads it
      // (and the NDA lists, which hold the agreements) at once.
      void qc.invalidateQueries({ queryKey: keys.ndas });
      const id = pitchIdOf(frame);
      if (id !== null) void qc.invalidateQueries({ queryKey: keys.pitch(id) });
      void qc.invalidateQueries({ queryKey: keys.pitches });
      return;
    }
    case "nda_approved": {
      void qc.invalidateQueries({ queryKey: keys.ndas });
      const id = pitchIdOf(frame);
      if (id !== null) {
        // The protected fields (and media) come with the next read of the pitch: an open pitch page
        // unlocks without a reload.
        void qc.invalidateQueries({ queryKey: keys.pitch(id) });
        live?.retry(`pitch:${id}`);
      }
      void qc.invalidateQueries({ queryKey: keys.pitches });
      return;
    }
    default:
      return;
  }
}

/** Events of `room` may have been lost: reload what the generic updates maintain from it. */
export function applyResync(qc: QueryClient, room: string): void {
  const pitch = /^pitch:(\d+)$/.exec(room);
  if (pitch) {
    void qc.invalidateQueries({ queryKey: keys.pitch(Number(pitch[1])) });
    return;
  }
  if (room.startsWith("user:")) {
    void qc.invalidateQueries({ queryKey: keys.notifications });
    void qc.invalidateQueries({ queryKey: keys.ndas });
  }
}

/**
 * The server closed the socket with 4001 (this session signed out elsewhere or expired): show the
 * app signed out now, drop the previous person's data, and re-read the session to be sure.
 */
export function applySignedOut(qc: QueryClient): void {
  qc.setQueryData(keys.session, null);
  qc.removeQueries({ predicate: (q) => q.queryKey[0] !== keys.session[0] });
  void qc.invalidateQueries({ queryKey: keys.session });
}
