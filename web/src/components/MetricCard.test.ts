import { describe, expect, it } from "vitest";
import { changeInWords } from "./MetricCard";

describe("changeInWords", () => {
  it("says the change against the range before in words", () => {
    expect(changeInWords({ current: 15, previous: 10, changePercent: 50, unit: "count" }, "30 days")).toBe(
      "+50% on the 30 days before",
    );
    expect(changeInWords({ current: 5, previous: 10, changePercent: -50, unit: "count" }, "7 days")).toBe(
      "-50% on the 7 days before",
    );
    expect(changeInWords({ current: 3, previous: 3, changePercent: 0, unit: "count" }, "90 days")).toBe(
      "same as the 90 days before",
    );
  });

  it("gives no percentage from nothing, and money with its currency", () => {
    expect(changeInWords({ current: "2500.00", previous: "0.00", changePercent: null, unit: "money" }, "30 days")).toBe(
      "up from $0.00 the 30 days before",
    );
  });
});
