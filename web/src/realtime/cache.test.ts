// The provider's generic cache updates, on a real QueryClient, fed with the worked session's frames.
import { QueryClient } from "@tanstack/react-query";
import { describe, expect, it } from "vitest";
import { keys } from "../api/keys";
import { applyLiveEvent, applyResync, applySignedOut, patchPitchCounters } from "./cache";
import { parseFrame, type ServerFrame } from "./client";

function frame(line: string): ServerFrame {
  const f = parseFrame(line);
  if (!f) throw new Error("bad frame");
  return f;
}

const view = frame(`{"type":"view_update","room":"pitch:1","seq":2,"timestamp":"...","data":{"pitchId":1,"views":1,"userId":3}}`);
const like = frame(`{"type":"like_update","room":"pitch:1","seq":3,"timestamp":"...","data":{"pitchId":1,"likes":1,"userId":3,"liked":true}}`);
const approved = frame(`{"type":"nda_approved","room":"user:3","seq":1,"timestamp":"...","data":{"ndaId":1,"pitchId":1,"status":"approved","decidedAt":"..."}}`);
const notification = frame(`{"type":"notification","room":"user:2","seq":2,"data":{"id":7,"kind":"nda_request","title":"T","body":null,"data":{"pitchId":1},"createdAt":"2026-11-25T12:10:13Z","readAt":null}}`);
const request = frame(`{"type":"nda_request","room":"user:2","seq":1,"data":{"ndaId":1,"pitchId":1,"pitchTitle":"T","requesterId":3,"ownerId":2,"status":"pending","message":"pls"}}`);

const pitch = (id: number, viewCount = 0, likeCount = 0) => ({ id, title: `P${id}`, viewCount, likeCount });

function cache() {
  const qc = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  qc.setQueryData(keys.pitch(1), pitch(1));
  qc.setQueryData(keys.pitchMedia(1), [{ id: 1, kind: "poster" }]);
  qc.setQueryData(keys.pitch(2), pitch(2, 5, 5));
  qc.setQueryData(keys.browse({ q: "" }), { items: [pitch(2, 5, 5), pitch(1)], total: 2 });
  qc.setQueryData(keys.trending, [pitch(1), pitch(3)]);
  qc.setQueryData(keys.newest, [pitch(3)]);
  qc.setQueryData([...keys.myPitches, "infinite"], { pages: [[pitch(1)]], pageParams: [1] });
  qc.setQueryData(keys.notifications, { items: [], unread: 0 });
  qc.setQueryData(keys.ndas, []);
  qc.setQueryData(keys.session, { id: 3 });
  return qc;
}

const invalidated = (qc: QueryClient, key: readonly unknown[]) =>
  qc.getQueryCache().find({ queryKey: key, exact: true })?.state.isInvalidated ?? null;

describe("patchPitchCounters", () => {
  it("replaces counters of that pitch only, keeping untouched parts identical", () => {
    const other = pitch(2);
    const list = [other, pitch(1)];
    const out = patchPitchCounters(list, 1, { viewCount: 9 }) as ReturnType<typeof pitch>[];
    expect(out).toEqual([pitch(2), pitch(1, 9)]);
    expect(out[0]).toBe(other);
    expect(patchPitchCounters(list, 4, { viewCount: 9 })).toBe(list);
    expect(patchPitchCounters(list, 1, { viewCount: 0 })).toBe(list); // same value: nothing changes
  });

  it("adds no field a cached object did not have", () => {
    expect(patchPitchCounters({ id: 1, viewCount: 0 }, 1, { likeCount: 4 })).toEqual({ id: 1, viewCount: 0 });
  });
});

describe("applyLiveEvent", () => {
  it("view_update and like_update set the counters of the pitch and of every list holding it, without refetching", () => {
    const qc = cache();
    const untouched = qc.getQueryData(keys.newest);
    applyLiveEvent(qc, view);
    applyLiveEvent(qc, like);
    expect(qc.getQueryData(keys.pitch(1))).toEqual(pitch(1, 1, 1));
    expect(qc.getQueryData(keys.browse({ q: "" }))).toEqual({ items: [pitch(2, 5, 5), pitch(1, 1, 1)], total: 2 });
    expect(qc.getQueryData(keys.trending)).toEqual([pitch(1, 1, 1), pitch(3)]);
    expect(qc.getQueryData([...keys.myPitches, "infinite"])).toEqual({ pages: [[pitch(1, 1, 1)]], pageParams: [1] });
    expect(qc.getQueryData(keys.pitch(2))).toEqual(pitch(2, 5, 5));
    expect(qc.getQueryData(keys.pitchMedia(1))).toEqual([{ id: 1, kind: "poster" }]);
    expect(qc.getQueryData(keys.newest)).toBe(untouched);
    expect(invalidated(qc, keys.pitch(1))).toBe(false);
    expect(invalidated(qc, keys.trending)).toBe(false);
  });

  it("notification invalidates the notifications (and their unread count)", () => {
    const qc = cache();
    applyLiveEvent(qc, notification);
    expect(invalidated(qc, keys.notifications)).toBe(true);
    expect(invalidated(qc, keys.ndas)).toBe(false);
  });

  it("nda_request invalidates the NDA lists", () => {
    const qc = cache();
    applyLiveEvent(qc, request);
    expect(invalidated(qc, keys.ndas)).toBe(true);
    expect(invalidated(qc, keys.pitch(1))).toBe(false);
  });

  it("nda_approved reloads the pitch (its protected fields), the lists, and retries a refused room", () => {
    const qc = cache();
    const retried: string[] = [];
    applyLiveEvent(qc, approved, { retry: (room) => retried.push(room) });
    expect(invalidated(qc, keys.ndas)).toBe(true);
    expect(invalidated(qc, keys.pitch(1))).toBe(true);
    expect(invalidated(qc, keys.pitchMedia(1))).toBe(true);
    expect(invalidated(qc, keys.trending)).toBe(true);
    expect(invalidated(qc, keys.pitch(2))).toBe(false);
    expect(retried).toEqual(["pitch:1"]);
  });

  it("nda_expired reloads the pitch (locked again) and the lists", () => {
    const qc = cache();
    const retried: string[] = [];
    const expired = frame(`{"type":"nda_expired","room":"user:3","seq":2,"timestamp":"...","data":{"id":1,"pitchId":1,"status":"expired"}}`);
    applyLiveEvent(qc, expired, { retry: (room) => retried.push(room) });
    expect(invalidated(qc, keys.ndas)).toBe(true);
    expect(invalidated(qc, keys.pitch(1))).toBe(true);
    expect(invalidated(qc, keys.pitch(2))).toBe(false);
    expect(retried).toEqual([]);
  });
});

describe("applyResync", () => {
  it("a pitch room reloads that pitch", () => {
    const qc = cache();
    applyResync(qc, "pitch:1");
    expect(invalidated(qc, keys.pitch(1))).toBe(true);
    expect(invalidated(qc, keys.pitch(2))).toBe(false);
  });

  it("the user room reloads notifications and NDAs", () => {
    const qc = cache();
    applyResync(qc, "user:3");
    expect(invalidated(qc, keys.notifications)).toBe(true);
    expect(invalidated(qc, keys.ndas)).toBe(true);
    expect(invalidated(qc, keys.pitch(1))).toBe(false);
  });
});

describe("applySignedOut", () => {
  it("shows the app signed out and forgets the previous person's data", () => {
    const qc = cache();
    applySignedOut(qc);
    expect(qc.getQueryData(keys.session)).toBeNull();
    expect(qc.getQueryData(keys.notifications)).toBeUndefined();
    expect(qc.getQueryData(keys.pitch(1))).toBeUndefined();
  });
});
