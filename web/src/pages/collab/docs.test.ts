import * as encoding from "lib0/encoding";
import { describe, expect, it } from "vitest";
import * as syncProtocol from "y-protocols/sync";
import * as Y from "yjs";
import {
  asDocName,
  closeInfo,
  docServerUrl,
  encodeSyncStep1,
  PALETTE,
  presentPeople,
  SaveTracker,
  saveStatusText,
  shouldReconnect,
  syncMessageType,
  userColour,
} from "./docs";

function luminance(hex: string): number {
  const c = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16) / 255);
  const [r, g, b] = c.map((v) => (v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4)) as [number, number, number];
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

describe("documents", () => {
  it("knows the three documents and nothing else", () => {
    expect(asDocName("synopsis")).toBe("synopsis");
    expect(asDocName("notes")).toBe("notes");
    expect(asDocName("budget")).toBeNull();
    expect(asDocName(undefined)).toBeNull();
  });

  it("puts the socket on the page's own origin, ws or wss as the page", () => {
    expect(docServerUrl({ protocol: "http:", host: "127.0.0.1:8080" }, 7)).toBe("ws://127.0.0.1:8080/ws/docs/7");
    expect(docServerUrl({ protocol: "https:", host: "pitchey.example" }, 42)).toBe("wss://pitchey.example/ws/docs/42");
  });
});

describe("colours", () => {
  it("gives a person the same colour every time, and neighbours different ones", () => {
    expect(userColour(5)).toBe(userColour(5));
    expect(userColour(5)).not.toBe(userColour(6));
    expect(PALETTE).toContain(userColour(-3));
  });

  it("keeps white label text readable on every colour (4.5:1)", () => {
    for (const c of PALETTE) expect(1.05 / (luminance(c) + 0.05)).toBeGreaterThanOrEqual(4.5);
  });
});

describe("close codes", () => {
  it("says refused, removed, read only and too large in words, and stops reconnecting", () => {
    for (const code of [4001, 4003, 4004, 4005, 4008, 4013, 4014, 1009]) {
      expect(closeInfo(code)?.terminal).toBe(true);
      expect(shouldReconnect(code)).toBe(false);
    }
    expect(closeInfo(4003)?.message).toMatch(/do not have access/);
    expect(closeInfo(4003, "Access removed")?.message).toMatch(/no longer have access/);
    expect(closeInfo(4003, "Forbidden", true)?.message).toMatch(/no longer have access/);
    expect(closeInfo(4013)?.message).toMatch(/too large/);
    expect(closeInfo(4014)?.message).toMatch(/size limit/);
    expect(closeInfo(4005)?.message).toMatch(/only read/);
  });

  it("reconnects after a restart, a network drop, a failed store or a rate pause", () => {
    for (const code of [1006, 1012, 1013, 4009, 4029]) expect(shouldReconnect(code)).toBe(true);
    expect(closeInfo(1006)).toBeNull();
    expect(closeInfo(1000)).toBeNull();
    // Any other 4xxx of ours is permanent.
    expect(shouldReconnect(4099)).toBe(false);
  });
});

describe("SaveTracker", () => {
  it("is saved once the answer to a step 1 sent after the edits arrives", () => {
    const t = new SaveTracker();
    expect(t.status().kind).toBe("connecting");
    t.onConnected();
    expect(t.status().kind).toBe("loading");
    t.onStep2(); // the answer to the provider's own step 1
    expect(t.status().kind).toBe("saved");
    t.onLocalEdit();
    expect(t.status().kind).toBe("saving");
    expect(t.needsFlush()).toBe(true);
    t.onFlushSent();
    expect(t.needsFlush()).toBe(false);
    t.onLocalEdit(); // typed again before the answer came
    t.onStep2(); // confirms the first edit only
    expect(t.status().kind).toBe("saving");
    expect(t.needsFlush()).toBe(true);
    t.onFlushSent();
    t.onStep2();
    expect(t.status().kind).toBe("saved");
    expect(saveStatusText(t.status())).toBe("All changes saved");
  });

  it("the provider's step 1 on connect confirms nothing typed before it", () => {
    const t = new SaveTracker();
    t.onConnected();
    t.onLocalEdit(); // typed while loading
    t.onStep2();
    expect(t.status().kind).toBe("saving");
  });

  it("keeps offline edits as unsaved until a new connection confirms them", () => {
    const t = new SaveTracker();
    t.onConnected();
    t.onStep2();
    t.onLocalEdit();
    t.onFlushSent();
    t.onDisconnected(); // the answer never came
    expect(t.status()).toEqual({ kind: "offline", unsaved: true });
    expect(saveStatusText(t.status())).toMatch(/kept in this tab/);
    t.onLocalEdit();
    t.onConnected();
    t.onStep2();
    expect(t.status().kind).toBe("saving");
    t.onFlushSent();
    t.onStep2();
    expect(t.status().kind).toBe("saved");
  });
});

describe("messages", () => {
  it("reads the sync message type after the message type", () => {
    expect(syncMessageType(new Uint8Array([0, 1, 5]), 1)).toBe(1);
    expect(syncMessageType(new Uint8Array([0]), 1)).toBeNull();
  });
});

describe("presentPeople", () => {
  it("lists each other person once, however many tabs, never oneself", () => {
    const people = presentPeople(
      [
        [1, { user: { id: 10, name: "Me", color: "#000000" } }],
        [2, { user: { id: 11, name: "Zoe", color: "#1d4ed8" } }],
        [3, { user: { id: 11, name: "Zoe", color: "#1d4ed8" } }],
        [4, { user: { id: 12, name: "Ann", color: "#067647" } }],
        [5, null],
        [6, { cursor: {} }],
      ],
      1,
    );
    expect(people).toEqual([
      { userId: 12, name: "Ann", colour: "#067647", tabs: 1 },
      { userId: 11, name: "Zoe", colour: "#1d4ed8", tabs: 2 },
    ]);
  });
});

describe("encodeSyncStep1", () => {
  it("writes the bytes of docs/protocol.md's worked exchange", () => {
    expect([...encodeSyncStep1(new Uint8Array([0]))]).toEqual([0x00, 0x00, 0x01, 0x00]);
  });

  it("writes a long state vector's length as a var-uint", () => {
    const sv = new Uint8Array(300).fill(7);
    const msg = encodeSyncStep1(sv);
    expect([...msg.slice(0, 4)]).toEqual([0, 0, 0xac, 0x02]);
    expect(msg.length).toBe(304);
  });

  it("is byte for byte what y-protocols writes for a real document", () => {
    const doc = new Y.Doc();
    doc.getXmlFragment("default").insert(0, [new Y.XmlText("Hello")]);
    const ref = encoding.createEncoder();
    encoding.writeVarUint(ref, 0);
    syncProtocol.writeSyncStep1(ref, doc);
    expect([...encodeSyncStep1(Y.encodeStateVector(doc))]).toEqual([...encoding.toUint8Array(ref)]);
    // and the type reader agrees: a step 1 is type 0
    expect(syncMessageType(encodeSyncStep1(Y.encodeStateVector(doc)), 1)).toBe(0);
  });
});
