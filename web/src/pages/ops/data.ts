// The operators' server state: whether I am one, the first paint of the figures (then live from
// the `metrics:ops` room) and one room's presence. Keys from keys.ts, calls through the typed client.
import { queryOptions } from "@tanstack/react-query";
import { api, unwrap, type Schemas } from "../../api/client";
import { keys } from "../../api/keys";

export type OpsOverview = Schemas["OpsMetricsData"];
export type OpsFigures = Schemas["OpsFigures"];
export type OpsNode = Schemas["OpsNodeFigures"];
export type OpsRoomFigures = Schemas["OpsRoomFigures"];
export type OpsRoom = Schemas["OpsRoom"];

export const OPS_ROOM = "metrics:ops";

export const opsStatusQuery = queryOptions({
  queryKey: keys.opsStatus,
  queryFn: () => unwrap(api.GET("/api/ops/status")),
});

export const opsOverviewQuery = queryOptions({
  queryKey: keys.opsOverview,
  queryFn: () => unwrap(api.GET("/api/ops/overview")),
  // Live frames replace it every second; refetching would only paint older figures.
  staleTime: Infinity,
});

/** Presence is not in the room's metrics frames: read it again every few seconds while shown. */
export function opsRoomQuery(kind: RoomKind, id: number) {
  return queryOptions({
    queryKey: keys.opsRoom(kind, id),
    queryFn: () => unwrap(api.GET("/api/ops/rooms/{kind}/{id}", { params: { path: { kind, id } } })),
    refetchInterval: 3000,
  });
}

export type RoomKind = "pitch" | "user" | "project";

/** "pitch:42" → {kind, id}, or null for anything that is not a room name. */
export function parseRoomName(text: string): { kind: RoomKind; id: number } | null {
  const m = /^(pitch|user|project):([1-9][0-9]{0,15})$/.exec(text.trim());
  if (!m) return null;
  return { kind: m[1] as RoomKind, id: Number(m[2]) };
}
