import { describe, expect, it } from "vitest";
import { formatMoney, parseMoney } from "./format";

describe("formatMoney", () => {
  it("groups and pads without floating point", () => {
    expect(formatMoney("1234567.5")).toBe("$1,234,567.50");
    expect(formatMoney("0.1")).toBe("$0.10");
    expect(formatMoney("99999999999999.99")).toBe("$99,999,999,999,999.99");
    expect(formatMoney(null)).toBe("—");
  });
});

describe("parseMoney", () => {
  it("accepts positive amounts with at most two decimals", () => {
    expect(parseMoney("2,500.00")).toEqual({ value: "2500.00" });
    expect(parseMoney("10")).toEqual({ value: "10" });
  });
  it("refuses the rest with words", () => {
    expect(parseMoney("")).toHaveProperty("error");
    expect(parseMoney("-5")).toHaveProperty("error");
    expect(parseMoney("1.234")).toHaveProperty("error");
    expect(parseMoney("0.00")).toHaveProperty("error");
    expect(parseMoney("abc")).toHaveProperty("error");
  });
});
