// PLACEHOLDER, replaced by the realtime module.
import type { ReactNode } from "react";
import type { ConnectionState, PresenceEntry, ServerFrame } from "./client";

export function LiveProvider({ children }: { children: ReactNode }) {
  return <>{children}</>;
}
export function useConnectionState(): ConnectionState {
  return "idle";
}
export function useLive(): null {
  return null;
}
export function useRoom(_room: string | null, _onEvent: (f: ServerFrame) => void, _onResync?: () => void): void {}
export function usePresence(_room: string | null): PresenceEntry[] {
  return [];
}
export function useUserEvents(_onEvent: (f: ServerFrame) => void): void {}
