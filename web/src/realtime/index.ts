// PLACEHOLDER interface, replaced by the realtime module (web/src/realtime/). Pages code against this.
export type ConnectionState = "idle" | "connecting" | "open" | "reconnecting" | "signed_out";

export interface ServerFrame {
  type: string;
  room?: string;
  seq?: number;
  id?: string | number;
  timestamp?: string;
  data: Record<string, unknown>;
}

export interface PresenceEntry {
  userId: number;
  userType: string;
  connections: number;
}
export { LiveProvider, useConnectionState, useLive, usePresence, useRoom, useUserEvents } from "./hooks";
