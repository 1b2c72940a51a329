// React on top of LiveClient: one client per signed-in person (LiveProvider, in the app shell) and
// small hooks for pages. Callbacks given to the hooks may be inline functions: the latest one is
// called, and the room subscription changes only when the room does.
import { useQueryClient } from "@tanstack/react-query";
import {
  createContext,
  useCallback,
  useContext,
  useEffect,
  useMemo,
  useRef,
  useSyncExternalStore,
  type ReactNode,
} from "react";
import { api, ApiError, unwrap } from "../api/client";
import { useSession } from "../auth/session";
import { applyLiveEvent, applyResync, applySignedOut } from "./cache";
import { LiveClient, type ConnectionState, type PresenceEntry, type ServerFrame } from "./client";

const LiveContext = createContext<LiveClient | null>(null);

/** Whether the session is still good, asked when a socket could not even open (a 401 upgrade). */
async function sessionAlive(): Promise<boolean> {
  try {
    await unwrap(api.GET("/api/auth/session"));
    return true;
  } catch (e) {
    return !(e instanceof ApiError && e.status === 401);
  }
}

/**
 * Connects while someone is signed in (a new client when the person changes, none when signed out)
 * and applies the generic cache updates of live events for the whole app.
 */
export function LiveProvider({ children }: { children: ReactNode }) {
  const session = useSession();
  const userId = session.data?.id ?? null;
  const qc = useQueryClient();
  // Created here, started in the effect: a discarded render must not leave a socket behind.
  const client = useMemo(
    () =>
      userId === null
        ? null
        : // The linger keeps a room across StrictMode's double mount and page-to-page navigation.
          new LiveClient({ userId, lingerMs: 1500, checkAuth: sessionAlive }),
    [userId],
  );

  useEffect(() => {
    if (!client) return;
    const offs = [
      client.onAnyEvent((f) => applyLiveEvent(qc, f, client)),
      client.onAnyResync((room) => applyResync(qc, room)),
      client.onState((s) => {
        if (s === "signed_out") applySignedOut(qc);
      }),
    ];
    client.start();
    return () => {
      for (const off of offs) off();
      client.stop();
    };
  }, [client, qc]);

  return <LiveContext.Provider value={client}>{children}</LiveContext.Provider>;
}

/** The live client, or null while nobody is signed in (for `send`, `post`, `retry`, `me`). */
export function useLive(): LiveClient | null {
  return useContext(LiveContext);
}

const noop = () => {};

/** idle | connecting | open | reconnecting | signed_out; "idle" while nobody is signed in. */
export function useConnectionState(): ConnectionState {
  const client = useLive();
  const subscribe = useCallback(
    (cb: () => void) => {
      if (!client) return noop;
      const off = client.onState(cb);
      return () => void off();
    },
    [client],
  );
  const get = useCallback((): ConnectionState => client?.state ?? "idle", [client]);
  return useSyncExternalStore(subscribe, get, get);
}

/** A ref always holding the latest value, so subscriptions need not follow callback identity. */
function useLatest<T>(value: T) {
  const ref = useRef(value);
  useEffect(() => {
    ref.current = value;
  });
  return ref;
}

/**
 * Listen to a room (`pitch:<id>`, `metrics:pitch:<id>`, ...) while mounted; null listens to nothing.
 * onEvent gets every room frame in seq order, without duplicates, plus `subscribed` and a refused
 * subscribe's `error` frame (data.code FORBIDDEN / NOT_FOUND). onResync: events may have been
 * missed (reconnect beyond the room's history): refetch what the page shows from this room.
 */
export function useRoom(room: string | null, onEvent: (f: ServerFrame) => void, onResync?: () => void): void {
  const client = useLive();
  const ev = useLatest(onEvent);
  const rs = useLatest(onResync);
  useEffect(() => {
    if (!client || !room) return;
    return client.subscribe(
      room,
      (f) => ev.current(f),
      () => rs.current?.(),
    );
  }, [client, room, ev, rs]);
}

const NO_ONE: PresenceEntry[] = [];

/** Who is in a room now: one entry per person, with their number of open connections. */
export function usePresence(room: string | null): PresenceEntry[] {
  const client = useLive();
  const subscribe = useCallback(
    (cb: () => void) => (client && room ? client.onPresence(room, cb) : noop),
    [client, room],
  );
  const get = useCallback(
    () => (client && room ? (client.presence(room) as PresenceEntry[]) : NO_ONE),
    [client, room],
  );
  return useSyncExternalStore(subscribe, get, get);
}

/** Events of the signed-in person's own room: notification, nda_request, nda_approved, nda_rejected. */
export function useUserEvents(onEvent: (f: ServerFrame) => void, onResync?: () => void): void {
  const client = useLive();
  const ev = useLatest(onEvent);
  const rs = useLatest(onResync);
  useEffect(() => {
    if (!client) return;
    const off = client.onUserEvent(
      (f) => ev.current(f),
      () => rs.current?.(),
    );
    return () => void off();
  }, [client, ev, rs]);
}
