import { describe, expect, it } from "vitest";
import { fromCents, parseAmount, percentOf, sumMoney, toCents } from "./money";

describe("production money", () => {
  it("reads decimal strings into exact cents", () => {
    expect(toCents("1250.5")).toBe(125050n);
    expect(toCents("-10.50")).toBe(-1050n);
    expect(toCents("0.01")).toBe(1n);
    expect(toCents("1.001")).toBeNull();
    expect(toCents("abc")).toBeNull();
  });

  it("sums without floating point", () => {
    // 0.1 + 0.2 in floats is 0.30000000000000004.
    expect(sumMoney(["0.10", "0.20"])).toBe("0.30");
    expect(sumMoney(["65000", "1234.56"])).toBe("66234.56");
    expect(sumMoney(["999999999999.99", "0.01"])).toBe("1000000000000.00");
    expect(fromCents(-500n)).toBe("-5.00");
  });

  it("gives whole percents, none of nothing", () => {
    expect(percentOf("65000", "60000")).toBe(108);
    expect(percentOf("12.34", "2500")).toBe(0);
    expect(percentOf("1", "0")).toBeNull();
  });

  it("takes zero for allocations but not for expenses", () => {
    expect(parseAmount("0", true)).toEqual({ value: "0" });
    expect(parseAmount("0.00", true)).toEqual({ value: "0" });
    expect(parseAmount("0")).toHaveProperty("error");
    expect(parseAmount("5,000.5", true)).toEqual({ value: "5000.5" });
    expect(parseAmount("12.345")).toHaveProperty("error");
  });
});
