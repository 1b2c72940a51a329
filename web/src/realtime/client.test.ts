// LiveClient against a fake socket fed with the frames of docs/protocol.md's worked session.
// Timers, random and the socket are injected, so every delay asserted here is exact.
import { describe, expect, it } from "vitest";
import { LiveClient, LiveError, type LiveClientOptions, type ServerFrame, type SocketLike } from "./client";

// -- fakes -------------------------------------------------------------------------------------

class FakeTimers {
  t = 0;
  private seq = 0;
  private readonly queue = new Map<number, { at: number; fn: () => void }>();

  now = (): number => this.t;
  setTimeout = (fn: () => void, ms: number): unknown => {
    const id = ++this.seq;
    this.queue.set(id, { at: this.t + ms, fn });
    return id;
  };
  clearTimeout = (h: unknown): void => {
    this.queue.delete(h as number);
  };

  /** Run every timer due within `ms`, in time order (timers set meanwhile included). */
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      let next: [number, { at: number; fn: () => void }] | null = null;
      for (const e of this.queue) if (e[1].at <= end && (!next || e[1].at < next[1].at)) next = e;
      if (!next) break;
      this.queue.delete(next[0]);
      this.t = next[1].at;
      next[1].fn();
    }
    this.t = end;
  }
}

class FakeSocket implements SocketLike {
  readyState = 0;
  onopen: ((ev: unknown) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  onclose: ((ev: { code: number; reason: string }) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;
  readonly sent: Record<string, unknown>[] = [];
  closedWith: number | null = null;

  constructor(
    readonly url: string,
    readonly protocols: string[],
  ) {}

  send(data: string): void {
    if (this.readyState !== 1) throw new Error("send on a socket that is not open");
    this.sent.push(JSON.parse(data) as Record<string, unknown>);
  }
  close(code?: number): void {
    this.closedWith = code ?? 1005;
    this.readyState = 3;
  }

  // server side
  accept(): void {
    this.readyState = 1;
    this.onopen?.({});
  }
  receive(frame: string | object): void {
    this.onmessage?.({ data: typeof frame === "string" ? frame : JSON.stringify(frame) });
  }
  drop(code: number, reason = ""): void {
    this.readyState = 3;
    this.onclose?.({ code, reason });
  }
  /** The commands of one type the client sent. */
  commands(type: string): Record<string, unknown>[] {
    return this.sent.filter((f) => f.type === type);
  }
  last(type: string): Record<string, unknown> {
    const all = this.commands(type);
    const f = all[all.length - 1];
    if (!f) throw new Error(`no ${type} command sent`);
    return f;
  }
}

function harness(opts: Partial<LiveClientOptions> = {}) {
  const timers = new FakeTimers();
  const sockets: FakeSocket[] = [];
  const client = new LiveClient({
    url: () => "ws://pitchey.test/ws",
    socket: (url, protocols) => {
      const s = new FakeSocket(url, protocols);
      sockets.push(s);
      return s;
    },
    timers,
    random: () => 0.5,
    network: null,
    userId: 3,
    ...opts,
  });
  const states: string[] = [];
  client.onState((s) => states.push(s));
  const sock = (): FakeSocket => {
    const s = sockets[sockets.length - 1];
    if (!s) throw new Error("no socket");
    return s;
  };
  return { client, timers, sockets, sock, states };
}

function at<T>(list: readonly T[], i: number): T {
  const v = list[i];
  if (v === undefined) throw new Error(`nothing at ${i}`);
  return v;
}

/** A frame of the worked session (docs/protocol.md), its id replaced by the one our client used. */
function rec(line: string, id?: unknown): Record<string, unknown> {
  const f = JSON.parse(line) as Record<string, unknown>;
  if (id !== undefined) f.id = id;
  return f;
}

// The investor's side of docs/protocol.md's worked session, verbatim.
const W = {
  connected: `{"type":"connected","timestamp":"2026-11-25T12:10:13.280Z","data":{"userId":3,"userType":"investor","sessionId":"7bf0e4543109bf10"}}`,
  userSubscribed: `{"type":"subscribed","room":"user:3","timestamp":"...","data":{"seq":0,"epoch":"1c3586ed","recovered":false,"presence":[{"userId":3,"userType":"investor","connections":1}]}}`,
  pitchSubscribed: `{"type":"subscribed","room":"pitch:1","id":1,"timestamp":"...","data":{"seq":0,"epoch":"1861864d","recovered":false,"presence":[{"userId":3,"userType":"investor","connections":1}]}}`,
  joined: `{"type":"user_joined","room":"pitch:1","seq":1,"timestamp":"...","data":{"userId":3,"userType":"investor"}}`,
  view: `{"type":"view_update","room":"pitch:1","seq":2,"timestamp":"...","data":{"pitchId":1,"views":1,"userId":3}}`,
  like: `{"type":"like_update","room":"pitch:1","seq":3,"timestamp":"...","data":{"pitchId":1,"likes":1,"userId":3,"liked":true}}`,
  ack: `{"type":"ack","room":"pitch:1","seq":4,"id":"m1","timestamp":"...","data":{"messageId":1}}`,
  message: `{"type":"message","room":"pitch:1","seq":4,"timestamp":"...","data":{"id":1,"pitchId":1,"userId":3,"userType":"investor","text":"hello","createdAt":"2026-11-25T12:10:13.288239Z"}}`,
  ndaApproved: `{"type":"nda_approved","room":"user:3","seq":1,"timestamp":"...","data":{"ndaId":1,"pitchId":1,"status":"approved","decidedAt":"..."}}`,
  pong: `{"type":"pong","id":9,"timestamp":"...","data":{}}`,
};

/** Connected, own room announced, pitch:1 subscribed at seq 0: the start of the worked session. */
function session(opts: Partial<LiveClientOptions> = {}) {
  const h = harness(opts);
  const events: ServerFrame[] = [];
  const resyncs: number[] = [];
  h.client.start();
  h.sock().accept();
  h.sock().receive(W.connected);
  h.sock().receive(W.userSubscribed);
  const off = h.client.subscribe("pitch:1", (f) => events.push(f), () => resyncs.push(1));
  const sub = h.sock().last("subscribe");
  h.sock().receive(rec(W.pitchSubscribed, sub.id));
  return { ...h, events, resyncs, off, types: () => events.map((e) => `${e.type}${e.seq ?? ""}`) };
}

// -- tests -------------------------------------------------------------------------------------

describe("connecting", () => {
  it("opens the same-origin URL with the pitchey.v1 subprotocol and nothing in the URL", () => {
    const h = harness();
    expect(h.client.state).toBe("idle");
    h.client.start();
    expect(h.states).toEqual(["connecting"]);
    expect(h.sock().url).toBe("ws://pitchey.test/ws");
    expect(h.sock().protocols).toEqual(["pitchey.v1"]);
    h.sock().accept();
    expect(h.client.state).toBe("open");
    h.sock().receive(W.connected);
    expect(h.client.me).toEqual({ userId: 3, userType: "investor", sessionId: "7bf0e4543109bf10" });
  });

  it("stop() closes with 1000 and never reconnects", () => {
    const h = harness();
    h.client.start();
    h.sock().accept();
    h.client.stop();
    expect(h.sock().closedWith).toBe(1000);
    expect(h.client.state).toBe("idle");
    h.timers.advance(60_000);
    expect(h.sockets).toHaveLength(1);
  });

  it("ignores frames that are not JSON objects", () => {
    const s = session();
    s.sock().receive("not json");
    s.sock().receive("[1,2]");
    s.sock().receive(`{"room":"pitch:1","seq":1}`);
    s.sock().receive(W.joined);
    expect(s.types()).toEqual(["subscribed", "user_joined1"]);
  });
});

describe("rooms are ref-counted", () => {
  it("subscribes on the first listener and unsubscribes on the last", () => {
    const h = harness();
    h.client.start();
    h.sock().accept();
    const a = h.client.subscribe("pitch:7", () => {});
    const b = h.client.subscribe("pitch:7", () => {});
    expect(h.sock().commands("subscribe")).toEqual([{ type: "subscribe", room: "pitch:7", id: expect.any(String) }]);
    a();
    expect(h.sock().commands("unsubscribe")).toHaveLength(0);
    a(); // calling an unsubscribe twice must not release someone else's reference
    expect(h.sock().commands("unsubscribe")).toHaveLength(0);
    b();
    expect(h.sock().commands("unsubscribe")).toEqual([{ type: "unsubscribe", room: "pitch:7", id: expect.any(String) }]);
    h.client.subscribe("pitch:7", () => {});
    expect(h.sock().commands("subscribe")).toHaveLength(2);
  });

  it("subscribes rooms asked for before the socket opened, once it opens", () => {
    const h = harness();
    h.client.subscribe("pitch:1", () => {});
    h.client.subscribe("pitch:2", () => {});
    h.client.start();
    expect(h.sock().sent).toEqual([]);
    h.sock().accept();
    expect(h.sock().commands("subscribe").map((f) => f.room)).toEqual(["pitch:1", "pitch:2"]);
  });

  it("with a linger, a listener coming back in time costs no wire traffic", () => {
    const h = harness({ lingerMs: 1000 });
    h.client.start();
    h.sock().accept();
    const off = h.client.subscribe("pitch:1", () => {});
    off();
    h.timers.advance(999);
    const again = h.client.subscribe("pitch:1", () => {});
    h.timers.advance(5000);
    expect(h.sock().commands("subscribe")).toHaveLength(1);
    expect(h.sock().commands("unsubscribe")).toHaveLength(0);
    again();
    h.timers.advance(999);
    expect(h.sock().commands("unsubscribe")).toHaveLength(0);
    h.timers.advance(1);
    expect(h.sock().commands("unsubscribe")).toHaveLength(1);
  });

  it("ignores the answer to a subscribe it has since replaced (leave and rejoin quickly)", () => {
    const h = harness();
    h.client.start();
    h.sock().accept();
    const seen: string[] = [];
    h.client.subscribe("pitch:1", () => {})();
    h.client.subscribe("pitch:1", (f) => seen.push(`${f.type}${f.seq ?? ""}`));
    const [first, second] = h.sock().commands("subscribe");
    h.sock().receive(rec(W.pitchSubscribed, first?.id));
    h.sock().receive(W.joined); // belongs to the first subscription: not ours yet
    expect(seen).toEqual([]);
    expect(h.client.roomStatus("pitch:1")).toBe("pending");
    h.sock().receive({ ...rec(W.pitchSubscribed, second?.id), data: { seq: 1, epoch: "1861864d", recovered: false, presence: [] } });
    h.sock().receive(W.view);
    expect(seen).toEqual(["subscribed", "view_update2"]);
  });

  it("never subscribes or leaves the user's own room: the server joins it", () => {
    const h = harness();
    h.client.start();
    h.sock().accept();
    const got: string[] = [];
    const off = h.client.subscribe("user:3", (f) => got.push(f.type));
    const offUser = h.client.onUserEvent((f) => got.push(`me:${f.type}`));
    h.sock().receive(W.connected);
    h.sock().receive(W.userSubscribed);
    h.sock().receive(W.ndaApproved);
    off();
    offUser();
    expect(h.sock().sent).toEqual([]);
    expect(got).toEqual(["subscribed", "me:subscribed", "nda_approved", "me:nda_approved"]);
    expect(h.client.lastSeq("user:3")).toBe(1);
  });
});

describe("seq tracking", () => {
  it("applies the worked session in order and drops duplicates and old events", () => {
    const s = session();
    s.sock().receive(W.joined);
    s.sock().receive(W.view);
    s.sock().receive(W.view); // duplicate
    s.sock().receive(W.joined); // old
    s.sock().receive(W.like);
    s.sock().receive(W.ack); // an answer, not a room event: must not advance seq
    s.sock().receive(W.message);
    expect(s.types()).toEqual(["subscribed", "user_joined1", "view_update2", "like_update3", "message4"]);
    expect(s.client.lastSeq("pitch:1")).toBe(4);
  });

  it("a hole in seq asks for a replay from the last seq it has", () => {
    const s = session();
    s.sock().receive(W.joined);
    s.sock().receive(W.like); // seq 3 while we have 1
    expect(s.types()).toEqual(["subscribed", "user_joined1"]);
    const again = s.sock().last("subscribe");
    expect(again).toMatchObject({ room: "pitch:1", data: { since: 1, epoch: "1861864d" } });
    s.sock().receive({ type: "subscribed", room: "pitch:1", id: again.id, data: { seq: 3, epoch: "1861864d", recovered: true, presence: [] } });
    s.sock().receive(W.view);
    s.sock().receive(W.like);
    expect(s.types()).toEqual(["subscribed", "user_joined1", "subscribed", "view_update2", "like_update3"]);
    expect(s.resyncs).toEqual([]);
  });

  it("delivers unsequenced room frames (typing) live without touching seq", () => {
    const s = session();
    s.sock().receive({ type: "typing", room: "pitch:1", data: { userId: 2 } });
    expect(s.types()).toEqual(["subscribed", "typing"]);
    expect(s.client.lastSeq("pitch:1")).toBe(0);
  });
});

describe("recovery after a reconnect", () => {
  function dropAndReconnect(s: ReturnType<typeof session>, code = 1006): FakeSocket {
    const before = s.sockets.length;
    s.sock().drop(code);
    expect(s.client.state).toBe("reconnecting");
    s.timers.advance(15_000);
    expect(s.sockets).toHaveLength(before + 1);
    s.sock().accept();
    s.sock().receive(W.connected);
    return s.sock();
  }

  it("resubscribes every room with since + epoch and applies the replay in order", () => {
    const s = session();
    s.client.subscribe("pitch:2", () => {});
    const p2 = at(s.sockets, 0).last("subscribe");
    at(s.sockets, 0).receive({ type: "subscribed", room: "pitch:2", id: p2.id, data: { seq: 10, epoch: "e2", recovered: false, presence: [] } });
    s.sock().receive(W.joined);
    s.sock().receive(W.view);
    const sock = dropAndReconnect(s);
    const subs = sock.commands("subscribe");
    expect(subs.map((f) => [f.room, f.data])).toEqual([
      ["pitch:1", { since: 2, epoch: "1861864d" }],
      ["pitch:2", { since: 10, epoch: "e2" }],
    ]);
    sock.receive({ type: "subscribed", room: "pitch:1", id: at(subs, 0).id, data: { seq: 4, epoch: "1861864d", recovered: true, presence: [] } });
    sock.receive(W.like);
    sock.receive(W.message);
    sock.receive(W.message); // a live copy overlapping the replay
    expect(s.types()).toEqual(["subscribed", "user_joined1", "view_update2", "subscribed", "like_update3", "message4"]);
    expect(s.resyncs).toEqual([]);
    expect(s.client.roomStatus("pitch:1")).toBe("subscribed");
  });

  it("recovered: false calls onResync and carries on from the server's seq", () => {
    const s = session();
    const taps: string[] = [];
    s.client.onAnyResync((room) => taps.push(room));
    s.sock().receive(W.joined);
    const sock = dropAndReconnect(s);
    const sub = sock.last("subscribe");
    expect(sub.data).toEqual({ since: 1, epoch: "1861864d" });
    sock.receive({ type: "subscribed", room: "pitch:1", id: sub.id, data: { seq: 3, epoch: "9999aaaa", recovered: false, presence: [] } });
    expect(s.resyncs).toEqual([1]);
    expect(taps).toEqual(["pitch:1"]);
    expect(s.client.lastSeq("pitch:1")).toBe(3);
    sock.receive(W.like); // seq 3: already in what the reload fetches
    sock.receive(W.message);
    expect(s.types().slice(-2)).toEqual(["subscribed", "message4"]);
  });

  it("a first subscribe answered recovered: false is no resync", () => {
    const s = session();
    expect(s.resyncs).toEqual([]);
  });

  it("asks the own room for the events it missed while away", () => {
    const s = session();
    const mine: string[] = [];
    s.client.onUserEvent((f) => mine.push(`${f.type}${f.seq ?? ""}`), () => mine.push("RESYNC"));
    const sock = dropAndReconnect(s);
    // The server joins user:3 afresh: seq 1 in the same epoch, we have 0.
    sock.receive({ ...rec(W.userSubscribed), data: { seq: 1, epoch: "1c3586ed", recovered: false, presence: [] } });
    const ask = at(sock.commands("subscribe").filter((f) => f.room === "user:3"), 0);
    expect(ask).toMatchObject({ data: { since: 0, epoch: "1c3586ed" } });
    sock.receive(W.ndaApproved); // before the answer: the replay will carry it
    sock.receive({ type: "subscribed", room: "user:3", id: ask.id, data: { seq: 1, epoch: "1c3586ed", recovered: true, presence: [] } });
    sock.receive(W.ndaApproved);
    expect(mine).toEqual(["subscribed", "subscribed", "nda_approved1"]);
  });

  it("the own room in a new epoch means notifications may be lost: resync", () => {
    const s = session();
    const mine: string[] = [];
    s.client.onUserEvent(() => {}, () => mine.push("RESYNC"));
    const sock = dropAndReconnect(s);
    sock.receive({ ...rec(W.userSubscribed), data: { seq: 0, epoch: "ffff0000", recovered: false, presence: [] } });
    expect(mine).toEqual(["RESYNC"]);
    expect(sock.commands("subscribe").filter((f) => f.room === "user:3")).toEqual([]);
  });

  it("a room restarted by the server (resync: true) behind us asks for the gap, in a new epoch reloads", () => {
    const s = session();
    s.sock().receive(W.joined);
    s.sock().receive({ type: "subscribed", room: "pitch:1", data: { seq: 3, epoch: "1861864d", recovered: false, resync: true, presence: [] } });
    const ask = s.sock().last("subscribe");
    expect(ask.data).toEqual({ since: 1, epoch: "1861864d" });
    s.sock().receive({ type: "subscribed", room: "pitch:1", id: ask.id, data: { seq: 3, epoch: "1861864d", recovered: true, presence: [] } });
    s.sock().receive(W.view);
    s.sock().receive(W.like);
    expect(s.client.lastSeq("pitch:1")).toBe(3);
    expect(s.resyncs).toEqual([]);
    s.sock().receive({ type: "subscribed", room: "pitch:1", data: { seq: 0, epoch: "0000beef", recovered: false, resync: true, presence: [] } });
    expect(s.resyncs).toEqual([1]);
    expect(s.client.lastSeq("pitch:1")).toBe(0);
  });
});

describe("presence", () => {
  it("keeps one entry per user from the snapshot, user_joined and user_left", () => {
    const h = harness();
    h.client.start();
    h.sock().accept();
    let changes = 0;
    h.client.onPresence("pitch:1", () => changes++);
    const sub = h.sock().last("subscribe");
    h.sock().receive({
      type: "subscribed",
      room: "pitch:1",
      id: sub.id,
      data: {
        seq: 5,
        epoch: "e",
        recovered: false,
        presence: [
          { userId: 2, userType: "creator", connections: 3 },
          { userId: 3, userType: "investor", connections: 1 },
        ],
      },
    });
    expect(h.client.presence("pitch:1")).toEqual([
      { userId: 2, userType: "creator", connections: 3 },
      { userId: 3, userType: "investor", connections: 1 },
    ]);
    const snapshot = h.client.presence("pitch:1");
    expect(h.client.presence("pitch:1")).toBe(snapshot); // stable until it changes
    h.sock().receive({ type: "user_joined", room: "pitch:1", seq: 6, data: { userId: 3, userType: "investor" } });
    expect(h.client.presence("pitch:1")).toBe(snapshot); // already there: no change
    h.sock().receive({ type: "user_joined", room: "pitch:1", seq: 7, data: { userId: 9, userType: "production" } });
    h.sock().receive({ type: "user_left", room: "pitch:1", seq: 8, data: { userId: 2 } });
    expect(h.client.presence("pitch:1")).toEqual([
      { userId: 3, userType: "investor", connections: 1 },
      { userId: 9, userType: "production", connections: 1 },
    ]);
    expect(changes).toBe(3);
    h.sock().receive({ type: "presence", room: "pitch:1", id: "x", data: { users: [{ userId: 9, userType: "production", connections: 2 }] } });
    expect(h.client.presence("pitch:1")).toEqual([{ userId: 9, userType: "production", connections: 2 }]);
  });

  it("does not replay presence events older than the snapshot onto it", () => {
    const s = session();
    s.sock().drop(1006);
    s.timers.advance(15_000);
    s.sock().accept();
    const sub = s.sock().last("subscribe");
    s.sock().receive({
      type: "subscribed",
      room: "pitch:1",
      id: sub.id,
      data: {
        seq: 2,
        epoch: "1861864d",
        recovered: true,
        presence: [
          { userId: 5, userType: "creator", connections: 2 },
          { userId: 3, userType: "investor", connections: 1 },
        ],
      },
    });
    // replayed: 5 left and came back (with two tabs) while we were away; the snapshot, taken at
    // seq 2, already says so and must not be rewound by the replay
    s.sock().receive({ type: "user_left", room: "pitch:1", seq: 1, data: { userId: 5 } });
    expect(s.client.presence("pitch:1")).toHaveLength(2);
    s.sock().receive({ type: "user_joined", room: "pitch:1", seq: 2, data: { userId: 5, userType: "creator" } });
    expect(s.client.presence("pitch:1")).toEqual([
      { userId: 5, userType: "creator", connections: 2 },
      { userId: 3, userType: "investor", connections: 1 },
    ]);
    s.sock().receive({ type: "user_left", room: "pitch:1", seq: 3, data: { userId: 3 } });
    expect(s.client.presence("pitch:1")).toEqual([{ userId: 5, userType: "creator", connections: 2 }]);
    expect(s.types()).toEqual(["subscribed", "subscribed", "user_left1", "user_joined2", "user_left3"]);
  });

  it("the presence hook's subscription holds the room like a listener", () => {
    const h = harness();
    h.client.start();
    h.sock().accept();
    const off = h.client.onPresence("pitch:4", () => {});
    expect(h.sock().commands("subscribe")).toHaveLength(1);
    off();
    expect(h.sock().commands("unsubscribe")).toHaveLength(1);
  });
});

describe("close codes", () => {
  it("4001: signed out, listeners told, pending commands rejected, no reconnect", async () => {
    const s = session();
    const pending = s.client.send("presence", "pitch:1");
    s.sock().drop(4001, "Session revoked");
    expect(s.client.state).toBe("signed_out");
    expect(s.states).toEqual(["connecting", "open", "signed_out"]);
    await expect(pending).rejects.toMatchObject({ code: "DISCONNECTED" });
    s.timers.advance(10 * 60_000);
    expect(s.sockets).toHaveLength(1);
    expect(s.client.presence("pitch:1")).toEqual([]);
  });

  it("4009 reconnects with full-jitter exponential backoff inside its bounds", () => {
    const h = harness({ random: () => 0.999 });
    h.client.start();
    h.sock().accept();
    h.sock().drop(4009, "Slow consumer");
    // attempt n waits floor(0.999 * min(15000, 500 * 2^n)) ms; the sockets below never open
    const expected = [499, 999, 1998, 3996, 7992, 14985, 14985];
    for (const [i, delay] of expected.entries()) {
      h.timers.advance(delay - 1);
      expect(h.sockets, `attempt ${i} too early`).toHaveLength(i + 1);
      h.timers.advance(1);
      expect(h.sockets, `attempt ${i} too late`).toHaveLength(i + 2);
      h.sock().drop(1006);
    }
    expect(h.client.state).toBe("reconnecting");
  });

  it("with random 0 the next attempt is immediate (full jitter has no floor)", () => {
    const h = harness({ random: () => 0 });
    h.client.start();
    h.sock().accept();
    h.sock().drop(1008);
    h.timers.advance(0);
    expect(h.sockets).toHaveLength(2);
  });

  it("1012 reconnects soon: within the restart window, whatever the attempt count", () => {
    const h = harness({ random: () => 0.75, restartWindowMs: 2000 });
    h.client.start();
    for (let i = 0; i < 5; i++) {
      // raise the attempt count: a plain backoff would now wait up to 15 s
      h.sock().drop(1006);
      h.timers.advance(15_000);
    }
    const before = h.sockets.length;
    h.sock().accept();
    h.sock().drop(1012, "Server restarting");
    h.timers.advance(1499);
    expect(h.sockets).toHaveLength(before);
    h.timers.advance(1);
    expect(h.sockets).toHaveLength(before + 1);
  });

  it("a connection that stayed up resets the backoff", () => {
    const h = harness({ random: () => 0.999, stableMs: 10_000 });
    h.client.start();
    for (let i = 0; i < 4; i++) {
      h.sock().drop(1006);
      h.timers.advance(15_000);
    }
    h.sock().accept();
    h.timers.advance(10_000);
    h.sock().drop(4009);
    h.timers.advance(498);
    const n = h.sockets.length;
    h.timers.advance(1);
    expect(h.sockets).toHaveLength(n + 1);
  });

  it("a socket that never opens asks checkAuth; a dead session means signed out", async () => {
    let asked = 0;
    const h = harness({
      checkAuth: () => {
        asked++;
        return Promise.resolve(false);
      },
    });
    h.client.start();
    h.sock().drop(1006);
    await Promise.resolve();
    expect(asked).toBe(1);
    expect(h.client.state).toBe("signed_out");
    h.timers.advance(60_000);
    expect(h.sockets).toHaveLength(1);
  });

  it("a socket that never opens with a live session retries with backoff", async () => {
    const h = harness({ checkAuth: () => Promise.resolve(true) });
    h.client.start();
    h.sock().drop(1006);
    await Promise.resolve();
    await Promise.resolve();
    expect(h.client.state).toBe("reconnecting");
    h.timers.advance(250); // 0.5 * 500
    expect(h.sockets).toHaveLength(2);
  });

  it("the cookie of another user on reconnect ends this client", () => {
    const h = harness();
    h.client.start();
    h.sock().accept();
    h.sock().receive({ type: "connected", data: { userId: 4, userType: "creator", sessionId: "x" } });
    expect(h.client.state).toBe("signed_out");
  });

  it("online cuts the backoff short", () => {
    const listeners = new Map<string, () => void>();
    const h = harness({
      random: () => 0.999,
      network: {
        addEventListener: (t, fn) => void listeners.set(t, fn),
        removeEventListener: (t) => void listeners.delete(t),
      },
    });
    h.client.start();
    h.sock().accept();
    h.sock().drop(1006);
    expect(h.sockets).toHaveLength(1);
    listeners.get("online")?.();
    expect(h.sockets).toHaveLength(2);
    h.client.stop();
    expect(listeners.size).toBe(0);
  });
});

describe("commands", () => {
  it("resolves on the answer with its id", async () => {
    const s = session();
    const p = s.client.send("message", "pitch:1", { text: "hello" });
    const cmd = s.sock().last("message");
    expect(cmd).toEqual({ type: "message", room: "pitch:1", id: expect.any(String), data: { text: "hello" } });
    s.sock().receive(rec(W.ack, cmd.id));
    await expect(p).resolves.toMatchObject({ type: "ack", seq: 4, data: { messageId: 1 } });
  });

  it("ping resolves on pong", async () => {
    const s = session();
    const p = s.client.send("ping");
    s.sock().receive(rec(W.pong, s.sock().last("ping").id));
    await expect(p).resolves.toMatchObject({ type: "pong" });
  });

  it("rejects on the error frame with that id, with the server's code and words", async () => {
    const s = session();
    const p = s.client.send("message", "pitch:9", { text: "x" });
    const other = s.client.send("ping");
    s.sock().receive({ type: "error", room: "pitch:9", id: s.sock().last("message").id, data: { code: "NOT_SUBSCRIBED", message: "Subscribe to the room first" } });
    const err = await p.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LiveError);
    expect(err).toMatchObject({ code: "NOT_SUBSCRIBED", message: "Subscribe to the room first" });
    s.sock().receive(rec(W.pong, s.sock().last("ping").id));
    await expect(other).resolves.toMatchObject({ type: "pong" });
  });

  it("times out", async () => {
    const s = session({ commandTimeoutMs: 5000 });
    const p = s.client.send("presence", "pitch:1");
    s.timers.advance(5000);
    await expect(p).rejects.toMatchObject({ code: "TIMEOUT" });
  });

  it("refuses while not connected", async () => {
    const h = harness();
    await expect(h.client.send("ping")).rejects.toMatchObject({ code: "OFFLINE" });
    expect(h.client.post("typing", "pitch:1")).toBe(false);
  });
});

describe("room errors", () => {
  it("a refused subscribe reaches the room's listeners; retry() asks again", () => {
    const h = harness();
    h.client.start();
    h.sock().accept();
    const got: ServerFrame[] = [];
    h.client.subscribe("pitch:5", (f) => got.push(f));
    const sub = h.sock().last("subscribe");
    h.sock().receive({ type: "error", room: "pitch:5", id: sub.id, data: { code: "FORBIDDEN", message: "This pitch needs an approved NDA" } });
    expect(got).toMatchObject([{ type: "error", data: { code: "FORBIDDEN" } }]);
    expect(h.client.roomStatus("pitch:5")).toBe("error");
    h.timers.advance(20_000);
    expect(h.sock().commands("subscribe")).toHaveLength(1); // FORBIDDEN is not retried by itself
    h.client.retry("pitch:5");
    expect(h.sock().commands("subscribe")).toHaveLength(2);
  });

  it("RATE_LIMITED (id, no room) on a subscribe is retried after retryAfter", () => {
    const h = harness({ random: () => 0 });
    h.client.start();
    h.sock().accept();
    h.client.subscribe("pitch:5", () => {});
    const sub = h.sock().last("subscribe");
    h.sock().receive({ type: "error", id: sub.id, data: { code: "RATE_LIMITED", message: "Too many commands", retryAfter: 0.2 } });
    expect(h.client.roomStatus("pitch:5")).toBe("error");
    h.timers.advance(199);
    expect(h.sock().commands("subscribe")).toHaveLength(1);
    h.timers.advance(1);
    expect(h.sock().commands("subscribe")).toHaveLength(2);
  });
});

describe("heartbeat", () => {
  it("pings after a long silence and drops a link that does not answer", () => {
    const h = harness({ idlePingMs: 30_000, pongTimeoutMs: 10_000 });
    h.client.start();
    h.sock().accept();
    h.timers.advance(20_000);
    h.sock().receive(W.connected); // traffic pushes the ping back
    h.timers.advance(29_999);
    expect(h.sock().commands("ping")).toHaveLength(0);
    h.timers.advance(1);
    expect(h.sock().commands("ping")).toHaveLength(1);
    h.timers.advance(9_999);
    expect(h.client.state).toBe("open");
    h.timers.advance(1);
    expect(h.client.state).toBe("reconnecting");
    expect(at(h.sockets, 0).closedWith).toBe(1000);
  });

  it("a pong keeps the link", () => {
    const h = harness({ idlePingMs: 30_000, pongTimeoutMs: 10_000 });
    h.client.start();
    h.sock().accept();
    h.timers.advance(30_000);
    h.sock().receive(rec(W.pong, h.sock().last("ping").id));
    h.timers.advance(20_000);
    expect(h.client.state).toBe("open");
  });
});
