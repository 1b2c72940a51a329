// Money arithmetic for the production pages, in integer cents (BigInt): sums and percentages of
// decimal strings are never computed in floating point.
import { parseMoney } from "../../lib/format";

const MONEY = /^(-)?(\d+)(?:\.(\d{1,2}))?$/;

/** "1250.5" → 125050n. Anything that is not a decimal with at most 2 places gives null. */
export function toCents(amount: string | number | null | undefined): bigint | null {
  if (amount === null || amount === undefined) return null;
  const text = typeof amount === "number" ? amount.toFixed(2) : amount.trim();
  const m = MONEY.exec(text);
  if (!m) return null;
  const [, sign, whole = "0", frac = ""] = m;
  const cents = BigInt(whole) * 100n + BigInt((frac + "00").slice(0, 2));
  return sign ? -cents : cents;
}

/** 125050n → "1250.50". */
export function fromCents(cents: bigint): string {
  const neg = cents < 0n;
  const abs = neg ? -cents : cents;
  const whole = abs / 100n;
  const frac = (abs % 100n).toString().padStart(2, "0");
  return `${neg ? "-" : ""}${whole}.${frac}`;
}

/** The sum of decimal strings; unparseable entries count as zero. */
export function sumMoney(values: readonly (string | number | null | undefined)[]): string {
  return fromCents(values.reduce<bigint>((acc, v) => acc + (toCents(v) ?? 0n), 0n));
}

/** Whole percent of `part` in `whole` (rounded down), or null when `whole` is zero. */
export function percentOf(part: string | number, whole: string | number): number | null {
  const p = toCents(part);
  const w = toCents(whole);
  if (p === null || w === null || w === 0n) return null;
  return Number((p * 100n) / w);
}

export function isNegative(amount: string | number): boolean {
  return (toCents(amount) ?? 0n) < 0n;
}

/**
 * An amount as typed. Budgets and allocations may be zero (the API takes >= 0); expenses may not.
 * Returns the normalised decimal string or a sentence for the person.
 */
export function parseAmount(input: string, allowZero = false): { value: string } | { error: string } {
  const t = input.trim().replace(/,/g, "");
  if (allowZero && /^0+(\.0{1,2})?$/.test(t)) return { value: "0" };
  return parseMoney(input);
}
