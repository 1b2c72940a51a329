import { describe, expect, it } from "vitest";
import { ApiError } from "../../api/client";
import { changeWords, windowSums } from "../creator/PitchComparison";
import {
  cardBody,
  cardErrors,
  declineWords,
  EMPTY_CARD,
  newIdempotencyKey,
  paymentFailure,
  purchasePrice,
  purchaseSignature,
} from "./billing";

const PLANS = [
  { name: "free", price: "0.00", creditsPerPeriod: 0, months: 1 },
  { name: "pro", price: "49.00", creditsPerPeriod: 50, months: 1 },
] as const;
const CARD = { number: "4242 4242 4242 4242", expMonth: "12", expYear: "2031", cvc: "123" };
const NOW = new Date("2026-12-01T00:00:00Z");

describe("billing", () => {
  it("prices credits in integer cents, never floats", () => {
    expect(purchasePrice({ kind: "credits", credits: 3 }, "0.10", [...PLANS])).toBe("0.30");
    expect(purchasePrice({ kind: "credits", credits: 10000 }, "1.00", [...PLANS])).toBe("10000.00");
    expect(purchasePrice({ kind: "plan", plan: "pro" }, "1.00", [...PLANS])).toBe("49.00");
    expect(purchasePrice({ kind: "plan", plan: "basic" }, "1.00", [...PLANS])).toBeNull();
  });

  it("checks the card before anything is sent, in words", () => {
    expect(cardErrors(CARD, NOW)).toEqual({});
    expect(cardErrors(EMPTY_CARD, NOW)).toEqual({
      number: "Enter the card number.",
      expMonth: "Enter the expiry month.",
      expYear: "Enter the expiry year.",
      cvc: "Enter the security code.",
    });
    expect(cardErrors({ ...CARD, number: "4242" }, NOW).number).toBe("A card number has 12 to 19 digits.");
    expect(cardErrors({ ...CARD, expMonth: "13" }, NOW).expMonth).toBe("Use a month from 1 to 12.");
    expect(cardErrors({ ...CARD, expMonth: "11", expYear: "2026" }, NOW).expYear).toBe("This card has expired.");
    expect(cardErrors({ ...CARD, expMonth: "12", expYear: "26" }, NOW)).toEqual({});
    expect(cardErrors({ ...CARD, cvc: "12" }, NOW).cvc).toBe("The security code has 3 or 4 digits.");
  });

  it("sends digits only and a four-digit year", () => {
    expect(cardBody({ ...CARD, number: "4242-4242 4242-4242", expYear: "31" })).toEqual({
      number: "4242424242424242",
      expMonth: 12,
      expYear: 2031,
      cvc: "123",
    });
  });

  it("keeps one key per purchase: the signature changes with the purchase or the card only", () => {
    const a = purchaseSignature({ kind: "credits", credits: 25 }, "25.00", CARD);
    expect(purchaseSignature({ kind: "credits", credits: 25 }, "25.00", { ...CARD, number: "4242424242424242", cvc: "999" })).toBe(a);
    expect(purchaseSignature({ kind: "credits", credits: 26 }, "26.00", CARD)).not.toBe(a);
    expect(purchaseSignature({ kind: "credits", credits: 25 }, "25.00", { ...CARD, number: "5555 5555 5555 4444" })).not.toBe(a);
    expect(newIdempotencyKey()).not.toBe(newIdempotencyKey());
  });

  it("says why a payment failed, and whether pressing again retries the same one", () => {
    const declined = new ApiError("PAYMENT_DECLINED", "The card was declined (insufficient_funds)", 402, {
      declineCode: "insufficient_funds",
      paymentId: 4,
    });
    expect(paymentFailure(declined)).toEqual({
      message: "Payment declined: the card has insufficient funds. Nothing was charged.",
      retrySame: false,
    });
    expect(paymentFailure(new ApiError("NETWORK", "offline", 0)).retrySame).toBe(true);
    expect(paymentFailure(new ApiError("PAYMENT_PROVIDER_ERROR", "x", 502)).retrySame).toBe(true);
    expect(paymentFailure(new ApiError("RATE_LIMITED", "x", 429, { retryAfter: 30 })).message).toBe(
      "Too many declined attempts for now. Try again in 30 seconds.",
    );
    expect(paymentFailure(new ApiError("RATE_LIMITED", "x", 429, { retryAfter: 3000 })).message).toBe(
      "Too many declined attempts for now. Try again in 50 minutes.",
    );
    expect(declineWords("do_not_honor")).toBe("the card was declined (do not honor)");
  });
});

describe("pitch comparison", () => {
  it("sums the range and the range before it", () => {
    const days = [1, 1, 1, 0, 2, 3, 4];
    expect(windowSums(days, 3)).toEqual({ current: 9, previous: 2 });
    expect(windowSums(days, 4)).toBeNull();
  });

  it("says the change in words", () => {
    expect(changeWords(["view", "views"], 12, 8, "7 days")).toBe("12 views, up 4 (+50%) on the 7 days before (8)");
    expect(changeWords(["view", "views"], 1, 4, "7 days")).toBe("1 view, down 3 (−75%) on the 7 days before (4)");
    expect(changeWords(["like", "likes"], 2, 0, "30 days")).toBe("2 likes, up from none the 30 days before");
    expect(changeWords(["like", "likes"], 0, 0, "30 days")).toBe("0 likes, the same as the 30 days before");
  });
});
