import { describe, expect, it } from "vitest";
import { parseRoomName } from "./data";
import { addPoint, formatMs, formatRate, WINDOW_MS, type WindowPoint } from "./window";

const figures = {
  connections: 3,
  subscribers: 5,
  watchers: 1,
  activeRooms: 2,
  eventsPerSec: 4.5,
  deliveriesPerSec: 9,
  slowConsumerCloses: 0,
  slowConsumerClosesTotal: 0,
  recovered: 0,
  recoveryLost: 0,
  recoveredTotal: 0,
  recoveryLostTotal: 0,
  fanoutP99Ms: 0.4,
  windowSeconds: 1,
};

describe("the 15-minute window", () => {
  it("keeps the last 15 minutes and drops the rest", () => {
    let points: WindowPoint[] = [];
    const start = 1_000_000;
    for (let i = 0; i <= 1000; i++) points = addPoint(points, figures, start + i * 1000);
    expect(points.at(-1)?.t).toBe(start + 1_000_000);
    expect(points[0]?.t).toBeGreaterThanOrEqual(start + 1_000_000 - WINDOW_MS);
    expect(points.length).toBe(901);
    expect(points[0]).toMatchObject({ events: 4.5, deliveries: 9, connections: 3, subscribers: 5, p99: 0.4 });
  });

  it("ignores a frame older than the last point and does not change the given array", () => {
    const one = addPoint([], figures, 5000);
    expect(addPoint(one, figures, 4000)).toBe(one);
    const two = addPoint(one, { ...figures, fanoutP99Ms: null }, 6000);
    expect(one).toHaveLength(1);
    expect(two[1]?.p99).toBeNull();
  });
});

describe("formatting and room names", () => {
  it("formats rates and latencies", () => {
    expect(formatRate(0)).toBe("0.0");
    expect(formatRate(12.345)).toBe("12.3");
    expect(formatRate(12345.6)).toBe("12,346");
    expect(formatMs(null)).toBe("—");
    expect(formatMs(0.123)).toBe("0.12 ms");
    expect(formatMs(250)).toBe("250 ms");
  });

  it("parses room names as the protocol spells them", () => {
    expect(parseRoomName(" pitch:42 ")).toEqual({ kind: "pitch", id: 42 });
    expect(parseRoomName("project:7")).toEqual({ kind: "project", id: 7 });
    expect(parseRoomName("pitch:0")).toBeNull();
    expect(parseRoomName("metrics:pitch:1")).toBeNull();
    expect(parseRoomName("pitch:1<script>")).toBeNull();
  });
});
