// The pitchey.v1 live client (docs/protocol.md): one WebSocket per signed-in tab, ref-counted rooms,
// gap-free recovery after a reconnect, presence, and commands answered by id. Plain TypeScript, no
// React: hooks.tsx puts React on top, and tests drive it with a fake socket, fake timers and a fixed
// random, so every timing decision here is injectable.

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

/** What the client needs of a WebSocket; the browser's satisfies it. */
export interface SocketLike {
  readonly readyState: number;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}
export type SocketFactory = (url: string, protocols: string[]) => SocketLike;

export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  now(): number;
}

/** Something that emits `online`/`offline` (the window, in a browser). */
export interface NetworkEvents {
  addEventListener(type: "online" | "offline", fn: () => void): void;
  removeEventListener(type: "online" | "offline", fn: () => void): void;
}

export interface LiveClientOptions {
  /** Where to connect; may be async (a one-time ticket URL). Default: same-origin `/ws` with the cookie. */
  url?: () => string | Promise<string>;
  socket?: SocketFactory;
  timers?: Timers;
  /** In [0, 1); the jitter of every reconnect delay. */
  random?: () => number;
  /** The signed-in user: `user:<id>` is joined by the server itself, never subscribed or left by us. */
  userId?: number;
  /** Backoff: delay = random * min(capMs, baseMs * 2^attempt); attempts reset after stableMs open. */
  baseMs?: number;
  capMs?: number;
  stableMs?: number;
  /** After a 1012 (server restarting) the delay is random * restartWindowMs: soon, but spread out. */
  restartWindowMs?: number;
  commandTimeoutMs?: number;
  /** Send a `ping` after this long without any frame; no `pong` within pongTimeoutMs drops the link. */
  idlePingMs?: number;
  pongTimeoutMs?: number;
  /** Keep a room this long after its last listener leaves (re-renders and route changes re-use it). */
  lingerMs?: number;
  /**
   * Asked after a socket that never opened: a refused upgrade (HTTP 401) is invisible to a browser
   * (close 1006), so this tells a dead session from a server that is away. false → signed_out.
   */
  checkAuth?: () => Promise<boolean>;
  network?: NetworkEvents | null;
}

export class LiveError extends Error {
  readonly code: string;
  readonly frame: ServerFrame | undefined;

  constructor(code: string, message: string, frame?: ServerFrame) {
    super(message);
    this.name = "LiveError";
    this.code = code;
    this.frame = frame;
  }
}

type Listener = (frame: ServerFrame) => void;
interface Registration {
  onEvent: Listener;
  onResync: (() => void) | undefined;
}

interface Pending {
  resolve: (frame: ServerFrame) => void;
  reject: (err: LiveError) => void;
  timer: unknown;
}

type RoomStatus = "closed" | "pending" | "subscribed" | "error";

interface RoomState {
  name: string;
  regs: Set<Registration>;
  presenceListeners: Set<() => void>;
  presence: Map<number, PresenceEntry>;
  /** The array handed out (stable between changes, as useSyncExternalStore needs). */
  presenceView: readonly PresenceEntry[];
  /** Presence events at or below this seq are already in the snapshot we hold. */
  presenceSeq: number;
  /** Last applied seq and the epoch it belongs to (from `subscribed`). */
  seq: number | null;
  epoch: string | null;
  status: RoomStatus;
  /** The id of the subscribe in flight: replies to older ones (after a quick leave/rejoin) are stale. */
  pendingId: string | null;
  /** The subscribe in flight carried since+epoch: `recovered: false` then means we lost events. */
  askedReplay: boolean;
  /** Joined by the server on connect (`user:<me>`): never subscribed or unsubscribed by us. */
  auto: boolean;
  lingerTimer: unknown;
  retryTimer: unknown;
  retries: number;
}

export const SUBPROTOCOL = "pitchey.v1";
const OPEN = 1;
const NO_PRESENCE: readonly PresenceEntry[] = Object.freeze([]);
/** Frames that answer a command; everything else with a room and a seq is a room event. */
const REPLIES = new Set(["connected", "subscribed", "unsubscribed", "presence", "ack", "error", "pong"]);

/** The same-origin socket URL: the session cookie authenticates it, nothing goes in the URL. */
export function wsUrl(loc: { protocol: string; host: string }, path = "/ws"): string {
  return `${loc.protocol === "https:" ? "wss:" : "ws:"}//${loc.host}${path}`;
}

/**
 * For a deployment where the page and the API are on different origins: a one-time ticket from
 * GET /api/ws/token (usable once, within 60 s), so the URL it ends up in is worthless afterwards.
 */
export async function ticketUrl(
  apiBase: string,
  fetchImpl: typeof fetch = fetch,
): Promise<string> {
  const res = await fetchImpl(`${apiBase}/api/ws/token`, { credentials: "include" });
  if (!res.ok) throw new LiveError(`HTTP_${res.status}`, `The ticket request answered ${res.status}.`);
  const body = (await res.json()) as { data?: { url?: string } };
  const path = body.data?.url;
  if (!path) throw new LiveError("BAD_TICKET", "The ticket answer has no url.");
  const base = new URL(apiBase);
  return wsUrl(base, path);
}

const realTimers: Timers = {
  setTimeout: (fn, ms) => globalThis.setTimeout(fn, ms),
  clearTimeout: (h) => globalThis.clearTimeout(h as ReturnType<typeof setTimeout>),
  now: () => Date.now(),
};

function asObject(v: unknown): Record<string, unknown> | null {
  return typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
}

/** A frame as the server sends it, or null for anything malformed (ignored, never thrown). */
export function parseFrame(raw: unknown): ServerFrame | null {
  if (typeof raw !== "string") return null;
  let obj: Record<string, unknown> | null;
  try {
    obj = asObject(JSON.parse(raw));
  } catch {
    return null;
  }
  if (!obj || typeof obj.type !== "string") return null;
  const frame: ServerFrame = { type: obj.type, data: asObject(obj.data) ?? {} };
  if (typeof obj.room === "string") frame.room = obj.room;
  if (typeof obj.seq === "number" && Number.isInteger(obj.seq)) frame.seq = obj.seq;
  if (typeof obj.id === "string" || typeof obj.id === "number") frame.id = obj.id;
  if (typeof obj.timestamp === "string") frame.timestamp = obj.timestamp;
  return frame;
}

function presenceEntries(v: unknown): PresenceEntry[] {
  if (!Array.isArray(v)) return [];
  const out: PresenceEntry[] = [];
  for (const item of v) {
    const o = asObject(item);
    if (o && typeof o.userId === "number") {
      out.push({
        userId: o.userId,
        userType: typeof o.userType === "string" ? o.userType : "",
        connections: typeof o.connections === "number" ? o.connections : 1,
      });
    }
  }
  return out;
}

export class LiveClient {
  private readonly opts: Required<
    Omit<LiveClientOptions, "userId" | "checkAuth" | "network" | "url" | "socket">
  >;
  private readonly urlOf: () => string | Promise<string>;
  private readonly makeSocket: SocketFactory;
  private readonly checkAuth: (() => Promise<boolean>) | undefined;
  private readonly network: NetworkEvents | null;
  private readonly timers: Timers;

  private _state: ConnectionState = "idle";
  private readonly stateListeners = new Set<(s: ConnectionState) => void>();
  private socket: SocketLike | null = null;
  private socketOpened = false;
  /** Bumped on every start/stop/drop: async work of an older generation (a ticket fetch) is ignored. */
  private generation = 0;
  private attempt = 0;
  private reconnectTimer: unknown = null;
  private stableTimer: unknown = null;
  private idleTimer: unknown = null;
  private pongTimer: unknown = null;
  private lastFrameAt = 0;
  private nextId = 1;
  private readonly pending = new Map<string, Pending>();
  private readonly rooms = new Map<string, RoomState>();
  private readonly userRegs = new Set<Registration>();
  private readonly eventTaps = new Set<Listener>();
  private readonly resyncTaps = new Set<(room: string) => void>();
  private userId: number | null;
  /** From the server's `connected` frame. */
  me: { userId: number; userType: string; sessionId: string } | null = null;

  constructor(options: LiveClientOptions = {}) {
    this.opts = {
      timers: options.timers ?? realTimers,
      random: options.random ?? Math.random,
      baseMs: options.baseMs ?? 500,
      capMs: options.capMs ?? 15_000,
      stableMs: options.stableMs ?? 10_000,
      restartWindowMs: options.restartWindowMs ?? 2_000,
      commandTimeoutMs: options.commandTimeoutMs ?? 10_000,
      idlePingMs: options.idlePingMs ?? 30_000,
      pongTimeoutMs: options.pongTimeoutMs ?? 10_000,
      lingerMs: options.lingerMs ?? 0,
    };
    this.timers = this.opts.timers;
    this.urlOf = options.url ?? (() => wsUrl(globalThis.location));
    this.makeSocket =
      options.socket ?? ((url, protocols) => new WebSocket(url, protocols) as unknown as SocketLike);
    this.checkAuth = options.checkAuth;
    this.network =
      options.network !== undefined
        ? options.network
        : typeof window !== "undefined" && typeof window.addEventListener === "function"
          ? window
          : null;
    this.userId = options.userId ?? null;
  }

  // -- lifecycle ---------------------------------------------------------------------------

  get state(): ConnectionState {
    return this._state;
  }

  /** Connect (again). A no-op while connected or connecting. */
  start(): void {
    if (this._state === "open" || this._state === "connecting" || this._state === "reconnecting") return;
    this.network?.addEventListener("online", this.handleOnline);
    this.network?.addEventListener("offline", this.handleOffline);
    this.attempt = 0;
    this.setState("connecting");
    this.connect();
  }

  /** Close for good (sign-out, unmount): code 1000, no reconnect. Listeners stay registered. */
  stop(): void {
    this.halt();
    this.setState("idle");
  }

  onState(fn: (s: ConnectionState) => void): () => void {
    this.stateListeners.add(fn);
    return () => this.stateListeners.delete(fn);
  }

  // -- rooms -------------------------------------------------------------------------------

  /**
   * Listen to a room. The first listener subscribes on the wire, the last one leaving unsubscribes
   * (after lingerMs). onResync runs when events may have been lost: reload that room's data over REST.
   */
  subscribe(room: string, onEvent: Listener, onResync?: () => void): () => void {
    const reg: Registration = { onEvent, onResync };
    const st = this.acquire(room);
    st.regs.add(reg);
    return () => {
      if (st.regs.delete(reg)) this.release(st);
    };
  }

  /** Listen to the signed-in user's own room (`user:<id>`), whatever the id turns out to be. */
  onUserEvent(onEvent: Listener, onResync?: () => void): () => void {
    const reg: Registration = { onEvent, onResync };
    this.userRegs.add(reg);
    return () => this.userRegs.delete(reg);
  }

  /** Every room event of every room, after duplicates are dropped (the generic cache updates). */
  onAnyEvent(fn: Listener): () => void {
    this.eventTaps.add(fn);
    return () => this.eventTaps.delete(fn);
  }

  /** Every room whose events may have been lost (`recovered: false` after a gap, epoch change). */
  onAnyResync(fn: (room: string) => void): () => void {
    this.resyncTaps.add(fn);
    return () => this.resyncTaps.delete(fn);
  }

  /** Who is in a room; holds the room subscribed like a listener does. */
  onPresence(room: string, fn: () => void): () => void {
    const st = this.acquire(room);
    st.presenceListeners.add(fn);
    return () => {
      if (st.presenceListeners.delete(fn)) this.release(st);
    };
  }

  /** One entry per user, with their connection count; the same array until it changes. */
  presence(room: string): readonly PresenceEntry[] {
    return this.rooms.get(room)?.presenceView ?? NO_PRESENCE;
  }

  /** The last seq applied in a room (null before `subscribed`). */
  lastSeq(room: string): number | null {
    return this.rooms.get(room)?.seq ?? null;
  }

  /** Whether the room's subscription is live ("subscribed"), refused ("error"), in flight or down. */
  roomStatus(room: string): RoomStatus | null {
    return this.rooms.get(room)?.status ?? null;
  }

  /** Try a refused room again now (e.g. an NDA was just approved for a private pitch). */
  retry(room: string): void {
    const st = this.rooms.get(room);
    if (!st || st.status !== "error") return;
    this.clearRetry(st);
    st.retries = 0;
    this.sendSubscribe(st);
  }

  // -- commands ----------------------------------------------------------------------------

  /**
   * A command with an id: resolves with its answer (`ack`, `presence`, `pong`, ...), rejects with a
   * LiveError carrying the server's code on its `error`, on a timeout, or when the link drops.
   */
  send(type: string, room?: string, data?: Record<string, unknown>, timeoutMs?: number): Promise<ServerFrame> {
    return new Promise((resolve, reject) => {
      if (!this.isOpen()) {
        reject(new LiveError("OFFLINE", "Not connected to Pitchey live updates."));
        return;
      }
      const id = this.makeId();
      const timer = this.timers.setTimeout(() => {
        if (this.pending.delete(id)) reject(new LiveError("TIMEOUT", "No answer from the server in time."));
      }, timeoutMs ?? this.opts.commandTimeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      this.write({ type, id, ...(room !== undefined ? { room } : {}), ...(data ? { data } : {}) });
    });
  }

  /** A command without an id (e.g. `typing`, which has no answer): false when not connected. */
  post(type: string, room?: string, data?: Record<string, unknown>): boolean {
    if (!this.isOpen()) return false;
    this.write({ type, ...(room !== undefined ? { room } : {}), ...(data ? { data } : {}) });
    return true;
  }

  // -- internals: rooms --------------------------------------------------------------------

  private isOwnRoom(room: string): boolean {
    return this.userId !== null && room === `user:${this.userId}`;
  }

  private newRoom(name: string): RoomState {
    const st: RoomState = {
      name,
      regs: new Set(),
      presenceListeners: new Set(),
      presence: new Map(),
      presenceView: NO_PRESENCE,
      presenceSeq: -1,
      seq: null,
      epoch: null,
      status: "closed",
      pendingId: null,
      askedReplay: false,
      auto: this.isOwnRoom(name),
      lingerTimer: null,
      retryTimer: null,
      retries: 0,
    };
    this.rooms.set(name, st);
    return st;
  }

  private acquire(room: string): RoomState {
    let st = this.rooms.get(room);
    if (st) {
      if (st.lingerTimer !== null) {
        this.timers.clearTimeout(st.lingerTimer);
        st.lingerTimer = null;
      }
      // A refused room kept only by its linger: a new page deserves a fresh answer (access changes).
      if (st.status === "error" && this.refs(st) === 0 && !st.auto) {
        this.clearRetry(st);
        this.sendSubscribe(st);
      }
      return st;
    }
    st = this.newRoom(room);
    if (!st.auto && this.isOpen()) this.sendSubscribe(st);
    return st;
  }

  private refs(st: RoomState): number {
    return st.regs.size + st.presenceListeners.size;
  }

  private release(st: RoomState): void {
    if (this.refs(st) > 0 || st.auto) return;
    if (this.opts.lingerMs > 0) {
      if (st.lingerTimer === null) {
        st.lingerTimer = this.timers.setTimeout(() => {
          st.lingerTimer = null;
          if (this.refs(st) === 0) this.leave(st);
        }, this.opts.lingerMs);
      }
    } else {
      this.leave(st);
    }
  }

  private leave(st: RoomState): void {
    this.clearRetry(st);
    this.rooms.delete(st.name);
    if (this.isOpen() && (st.status === "pending" || st.status === "subscribed")) {
      // Fire and forget: a late `unsubscribed` or NOT_SUBSCRIBED has no one left to tell.
      this.write({ type: "unsubscribe", room: st.name, id: this.makeId() });
    }
  }

  private sendSubscribe(st: RoomState, since?: number): void {
    if (!this.isOpen()) return;
    const id = this.makeId();
    st.pendingId = id;
    st.status = "pending";
    const from = since ?? st.seq;
    // `since` without the epoch proves nothing to the server, and metrics rooms have no epoch.
    st.askedReplay = from !== null && !!st.epoch;
    const data = st.askedReplay ? { since: from, epoch: st.epoch } : undefined;
    this.write({ type: "subscribe", room: st.name, id, ...(data ? { data } : {}) });
  }

  private clearRetry(st: RoomState): void {
    if (st.retryTimer !== null) {
      this.timers.clearTimeout(st.retryTimer);
      st.retryTimer = null;
    }
  }

  private roomFor(frame: ServerFrame): RoomState | null {
    if (frame.room === undefined) return null;
    const st = this.rooms.get(frame.room);
    if (st) return st;
    // Our own room arrives without being asked for: keep its position even before anyone listens.
    return this.isOwnRoom(frame.room) ? this.newRoom(frame.room) : null;
  }

  private handleSubscribed(frame: ServerFrame, st: RoomState): void {
    const seq = typeof frame.data.seq === "number" ? frame.data.seq : 0;
    const epoch = typeof frame.data.epoch === "string" ? frame.data.epoch : "";
    const recovered = frame.data.recovered === true;
    if (frame.id !== undefined) {
      if (String(frame.id) !== st.pendingId) return; // the answer to a subscribe we have since replaced
      st.pendingId = null;
      st.status = "subscribed";
      st.retries = 0;
      this.setPresence(st, presenceEntries(frame.data.presence), seq);
      const lost = st.askedReplay && !recovered;
      st.askedReplay = false;
      if (recovered) {
        // The replay (seq+1 ... `seq`) follows in order through the normal path.
        st.epoch = epoch;
      } else {
        st.seq = seq;
        st.epoch = epoch;
      }
      this.deliver(st, frame);
      if (lost) this.resync(st);
      return;
    }
    // Unasked: our own room on connect, or a room the server restarted (`resync: true`). While a
    // subscribe of ours is in flight its answer is the truth, so this one is ignored.
    if (st.status === "pending") return;
    st.status = "subscribed";
    this.setPresence(st, presenceEntries(frame.data.presence), seq);
    this.deliver(st, frame);
    if (st.seq === null || st.epoch === null) {
      st.seq = seq;
      st.epoch = epoch;
    } else if (epoch === st.epoch && st.seq < seq) {
      // Same history, and we are behind it: ask for the gap (the server replays it).
      this.sendSubscribe(st);
    } else if (epoch !== st.epoch || st.seq > seq) {
      st.seq = seq;
      st.epoch = epoch;
      this.resync(st);
    }
  }

  private roomOfError(frame: ServerFrame): RoomState | null {
    if (frame.id === undefined) {
      return frame.room !== undefined ? (this.rooms.get(frame.room) ?? null) : null;
    }
    const id = String(frame.id);
    for (const st of this.rooms.values()) if (st.pendingId === id) return st;
    return null;
  }

  private handleRoomError(frame: ServerFrame, st: RoomState): void {
    st.pendingId = null;
    st.askedReplay = false;
    st.status = "error";
    this.deliver(st, frame);
    const code = frame.data.code;
    if (code === "UNAVAILABLE" || code === "RATE_LIMITED") {
      // Transient: try again, spaced out; FORBIDDEN/NOT_FOUND wait for retry() or a reconnect.
      const after = typeof frame.data.retryAfter === "number" ? frame.data.retryAfter * 1000 : 0;
      const delay = Math.max(after, this.backoffDelay(st.retries++));
      this.clearRetry(st);
      st.retryTimer = this.timers.setTimeout(() => {
        st.retryTimer = null;
        if (this.rooms.get(st.name) === st && st.status === "error") this.sendSubscribe(st);
      }, delay);
    }
  }

  private handleRoomEvent(frame: ServerFrame, st: RoomState): void {
    if (frame.seq === undefined) {
      // Unsequenced (typing, metrics): live only, nothing to track.
      if (st.status === "subscribed") this.deliver(st, frame);
      return;
    }
    // Until `subscribed` says where we stand, events are either replayed after it or lost (and
    // then onResync reloads them): never apply them twice or out of order.
    if (st.status !== "subscribed" || st.seq === null) return;
    if (frame.seq <= st.seq) return; // a duplicate (e.g. replay overlapping a live frame)
    if (frame.seq > st.seq + 1) {
      // A hole: the protocol promises none, so ask for a replay from where we are.
      this.sendSubscribe(st);
      return;
    }
    st.seq = frame.seq;
    if (frame.seq > st.presenceSeq) this.applyPresenceEvent(st, frame);
    this.deliver(st, frame);
    for (const tap of [...this.eventTaps]) tap(frame);
  }

  private deliver(st: RoomState, frame: ServerFrame): void {
    for (const reg of [...st.regs]) reg.onEvent(frame);
    if (this.isOwnRoom(st.name)) for (const reg of [...this.userRegs]) reg.onEvent(frame);
  }

  private resync(st: RoomState): void {
    for (const reg of [...st.regs]) reg.onResync?.();
    if (this.isOwnRoom(st.name)) for (const reg of [...this.userRegs]) reg.onResync?.();
    for (const tap of [...this.resyncTaps]) tap(st.name);
  }

  // -- internals: presence -----------------------------------------------------------------

  private setPresence(st: RoomState, entries: PresenceEntry[], atSeq: number): void {
    st.presence = new Map(entries.map((e) => [e.userId, e]));
    st.presenceSeq = atSeq;
    this.presenceChanged(st);
  }

  private applyPresenceEvent(st: RoomState, frame: ServerFrame): void {
    const uid = frame.data.userId;
    if (typeof uid !== "number") return;
    if (frame.type === "user_joined") {
      if (st.presence.has(uid)) return; // already in the snapshot
      const userType = typeof frame.data.userType === "string" ? frame.data.userType : "";
      st.presence.set(uid, { userId: uid, userType, connections: 1 });
    } else if (frame.type === "user_left") {
      if (!st.presence.delete(uid)) return;
    } else {
      return;
    }
    this.presenceChanged(st);
  }

  private presenceChanged(st: RoomState): void {
    st.presenceView = st.presence.size ? [...st.presence.values()] : NO_PRESENCE;
    for (const fn of [...st.presenceListeners]) fn();
  }

  private clearAllPresence(): void {
    for (const st of this.rooms.values()) {
      if (st.presence.size) {
        st.presence.clear();
        this.presenceChanged(st);
      }
    }
  }

  // -- internals: the socket ---------------------------------------------------------------

  private isOpen(): boolean {
    return this._state === "open" && this.socket !== null && this.socket.readyState === OPEN;
  }

  private makeId(): string {
    return `c${this.nextId++}`;
  }

  private write(frame: Record<string, unknown>): void {
    try {
      this.socket?.send(JSON.stringify(frame));
    } catch {
      // A socket closing under us: its onclose follows and takes care of the rest.
    }
  }

  private setState(s: ConnectionState): void {
    if (this._state === s) return;
    this._state = s;
    for (const fn of [...this.stateListeners]) fn(s);
  }

  private connect(): void {
    const gen = ++this.generation;
    let target: string | Promise<string>;
    try {
      target = this.urlOf();
    } catch {
      this.connectionLost(null, false);
      return;
    }
    if (typeof target === "string") {
      this.openSocket(target);
    } else {
      target.then(
        (url) => {
          if (gen === this.generation) this.openSocket(url);
        },
        () => {
          if (gen === this.generation) this.connectionLost(null, false);
        },
      );
    }
  }

  private openSocket(url: string): void {
    let sock: SocketLike;
    try {
      sock = this.makeSocket(url, [SUBPROTOCOL]);
    } catch {
      this.connectionLost(null, false);
      return;
    }
    this.socket = sock;
    this.socketOpened = false;
    sock.onopen = () => {
      if (this.socket !== sock) return;
      this.socketOpened = true;
      this.setState("open");
      this.lastFrameAt = this.timers.now();
      this.armIdle();
      this.stableTimer = this.timers.setTimeout(() => {
        this.stableTimer = null;
        this.attempt = 0;
      }, this.opts.stableMs);
      for (const st of this.rooms.values()) {
        if (st.auto) continue; // the server joins it and says so; see handleSubscribed
        if (this.refs(st) > 0 || st.lingerTimer !== null) this.sendSubscribe(st);
      }
    };
    sock.onmessage = (ev) => {
      if (this.socket === sock) this.handleMessage(ev.data);
    };
    sock.onerror = () => {
      // Always followed by onclose, which decides.
    };
    sock.onclose = (ev) => {
      if (this.socket === sock) this.connectionLost(ev.code, this.socketOpened);
    };
  }

  private detachSocket(code: number, reason: string): void {
    const sock = this.socket;
    this.socket = null;
    if (!sock) return;
    sock.onopen = sock.onmessage = sock.onerror = sock.onclose = null;
    try {
      sock.close(code, reason);
    } catch {
      // already closed
    }
  }

  /** Everything tied to one connection ends here; rooms keep their seq/epoch for recovery. */
  private teardown(): void {
    this.generation++;
    for (const t of [this.reconnectTimer, this.stableTimer, this.idleTimer, this.pongTimer]) {
      if (t !== null) this.timers.clearTimeout(t);
    }
    this.reconnectTimer = this.stableTimer = this.idleTimer = this.pongTimer = null;
    for (const [id, p] of this.pending) {
      this.timers.clearTimeout(p.timer);
      this.pending.delete(id);
      p.reject(new LiveError("DISCONNECTED", "The live connection dropped before the answer."));
    }
    for (const st of this.rooms.values()) {
      st.status = "closed";
      st.pendingId = null;
      st.askedReplay = false;
      this.clearRetry(st);
    }
  }

  private halt(): void {
    this.detachSocket(1000, "Client closing");
    this.teardown();
    this.network?.removeEventListener("online", this.handleOnline);
    this.network?.removeEventListener("offline", this.handleOffline);
    this.clearAllPresence();
  }

  private connectionLost(code: number | null, wasOpen: boolean): void {
    this.detachSocket(1000, "");
    this.teardown();
    if (code === 4001) {
      this.signOut();
      return;
    }
    this.setState("reconnecting");
    if (!wasOpen && this.checkAuth) {
      const gen = this.generation;
      this.checkAuth().then(
        (ok) => {
          if (gen !== this.generation || this._state !== "reconnecting") return;
          if (ok) this.scheduleReconnect(code);
          else this.signOut();
        },
        () => {
          if (gen === this.generation && this._state === "reconnecting") this.scheduleReconnect(code);
        },
      );
      return;
    }
    this.scheduleReconnect(code);
  }

  private signOut(): void {
    this.halt();
    this.setState("signed_out");
  }

  /** Full jitter: uniformly in [0, min(cap, base * 2^attempt)). */
  private backoffDelay(attempt: number): number {
    const ceiling = Math.min(this.opts.capMs, this.opts.baseMs * 2 ** Math.min(attempt, 30));
    return Math.floor(this.opts.random() * ceiling);
  }

  private scheduleReconnect(code: number | null): void {
    const delay =
      code === 1012
        ? Math.floor(this.opts.random() * this.opts.restartWindowMs)
        : this.backoffDelay(this.attempt);
    this.attempt++;
    this.reconnectTimer = this.timers.setTimeout(() => {
      this.reconnectTimer = null;
      this.connect();
    }, delay);
  }

  private readonly handleOnline = (): void => {
    if (this._state === "reconnecting" && this.reconnectTimer !== null) {
      // The network is back: no reason to sit out the rest of the backoff.
      this.timers.clearTimeout(this.reconnectTimer);
      this.reconnectTimer = null;
      this.connect();
    } else if (this._state === "open") {
      this.probe();
    }
  };

  private readonly handleOffline = (): void => {
    // The socket may be dead without knowing it; a ping finds out within pongTimeoutMs.
    if (this._state === "open") this.probe();
  };

  private armIdle(): void {
    if (this.idleTimer !== null) this.timers.clearTimeout(this.idleTimer);
    const wait = Math.max(0, this.lastFrameAt + this.opts.idlePingMs - this.timers.now());
    this.idleTimer = this.timers.setTimeout(() => {
      this.idleTimer = null;
      if (this.timers.now() - this.lastFrameAt >= this.opts.idlePingMs) this.probe();
      else this.armIdle();
    }, wait);
  }

  /** A `ping`; without any frame back within pongTimeoutMs the link is taken as dead. */
  private probe(): void {
    if (!this.isOpen() || this.pongTimer !== null) return;
    this.write({ type: "ping", id: this.makeId() });
    const sentAt = this.timers.now();
    this.pongTimer = this.timers.setTimeout(() => {
      this.pongTimer = null;
      if (this.lastFrameAt < sentAt) this.connectionLost(null, true);
    }, this.opts.pongTimeoutMs);
  }

  private handleMessage(raw: unknown): void {
    this.lastFrameAt = this.timers.now();
    if (this.pongTimer !== null) {
      // Any frame proves the link is alive.
      this.timers.clearTimeout(this.pongTimer);
      this.pongTimer = null;
    }
    if (this.idleTimer === null) this.armIdle();
    const frame = parseFrame(raw);
    if (!frame) return;

    if (frame.id !== undefined) {
      const p = this.pending.get(String(frame.id));
      if (p) {
        this.pending.delete(String(frame.id));
        this.timers.clearTimeout(p.timer);
        if (frame.type === "error") {
          const msg = typeof frame.data.message === "string" ? frame.data.message : "The server refused.";
          p.reject(new LiveError(String(frame.data.code ?? "ERROR"), msg, frame));
        } else {
          p.resolve(frame);
        }
      }
    }

    switch (frame.type) {
      case "connected": {
        const uid = frame.data.userId;
        if (typeof uid === "number") {
          if (this.userId !== null && uid !== this.userId) {
            // The cookie now belongs to someone else (a sign-in in another tab): this client is done.
            this.signOut();
            return;
          }
          this.userId = uid;
          this.me = {
            userId: uid,
            userType: String(frame.data.userType ?? ""),
            sessionId: String(frame.data.sessionId ?? ""),
          };
          const own = this.rooms.get(`user:${uid}`);
          if (own) own.auto = true;
        }
        return;
      }
      case "subscribed": {
        const st = this.roomFor(frame);
        if (st) this.handleSubscribed(frame, st);
        return;
      }
      case "error": {
        // Only the answer to a room's own subscribe (or an unasked error about the room) is the
        // room's business; errors of other commands are the rejected promises above. Some errors
        // (RATE_LIMITED, BAD_FRAME) carry the id but no room: find the room by its subscribe id.
        const st = this.roomOfError(frame);
        if (st) this.handleRoomError(frame, st);
        return;
      }
      case "presence": {
        const st = frame.room !== undefined ? this.rooms.get(frame.room) : undefined;
        if (st && st.status === "subscribed") {
          this.setPresence(st, presenceEntries(frame.data.users), st.seq ?? st.presenceSeq);
        }
        return;
      }
      default:
        if (REPLIES.has(frame.type)) return;
        {
          const st = this.roomFor(frame);
          if (st) this.handleRoomEvent(frame, st);
        }
    }
  }
}
