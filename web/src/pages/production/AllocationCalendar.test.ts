import { describe, expect, it } from "vitest";
import { initialMonth } from "./AllocationCalendar";

const booking = (startDate: string, endDate: string) => ({ id: 1, startDate, endDate, label: "x", kind: "crew" });

describe("initialMonth", () => {
  it("opens on the first booking still to come", () => {
    expect(initialMonth([booking("2027-03-01", "2027-03-10"), booking("2027-01-05", "2027-01-06")], "2026-12-01")).toEqual({
      y: 2027,
      m: 0,
    });
  });

  it("opens on this month while a booking runs through today, and when nothing is ahead", () => {
    expect(initialMonth([booking("2026-11-20", "2026-12-03")], "2026-12-01")).toEqual({ y: 2026, m: 11 });
    expect(initialMonth([booking("2025-01-01", "2025-01-02")], "2026-12-01")).toEqual({ y: 2026, m: 11 });
  });
});
