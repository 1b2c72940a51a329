// The billing page's data and rules: queries over /api/payments/*, the purchase (one Idempotency-Key
// per intended purchase), card checks before anything is sent, the provider's decline codes in words.
// Card numbers and CVCs live only in the form's memory: never logged, stored or put in a URL.
import { useQuery } from "@tanstack/react-query";
import { api, ApiError, unwrap, type Schemas } from "../../api/client";
import { keys } from "../../api/keys";
import { fromCents, toCents } from "../production/money";
import { unwrapPage } from "./paging";

export type PlanName = Schemas["PlanOut"]["name"];
export type PaidPlan = Exclude<PlanName, "free">;
export type Subscription = Schemas["SubscriptionOut"];
export type Payment = Schemas["PaymentOut"];
export type PaymentResult = Schemas["PaymentResult"];
export type LedgerEntry = Schemas["LedgerEntryOut"];

export const PLAN_LABEL: Record<PlanName, string> = {
  free: "Free",
  basic: "Basic",
  pro: "Pro",
  enterprise: "Enterprise",
};

export const LIST_LIMIT = 10;

export function usePlans() {
  return useQuery({
    queryKey: keys.billingPlans,
    queryFn: () => unwrap(api.GET("/api/payments/plans")),
    staleTime: 5 * 60_000,
  });
}

export function useSubscription(enabled: boolean) {
  return useQuery({
    queryKey: keys.subscription,
    queryFn: () => unwrap(api.GET("/api/payments/subscription-status")),
    enabled,
  });
}

export function useCreditBalance(enabled: boolean) {
  return useQuery({
    queryKey: keys.creditBalance,
    queryFn: () => unwrap(api.GET("/api/payments/credits/balance")),
    enabled,
  });
}

export function useCreditLedger(page: number, enabled: boolean) {
  return useQuery({
    queryKey: keys.creditLedger(page),
    queryFn: () =>
      unwrapPage(api.GET("/api/payments/credits/history", { params: { query: { page, limit: LIST_LIMIT } } })),
    placeholderData: (prev) => prev,
    enabled,
  });
}

export function usePaymentHistory(page: number, enabled: boolean) {
  return useQuery({
    queryKey: keys.paymentHistory(page),
    queryFn: () => unwrapPage(api.GET("/api/payments/history", { params: { query: { page, limit: LIST_LIMIT } } })),
    placeholderData: (prev) => prev,
    enabled,
  });
}

// --- the purchase --------------------------------------------------------------------------------

export type Purchase = { kind: "credits"; credits: number } | { kind: "plan"; plan: PaidPlan };

export interface CardForm {
  number: string;
  expMonth: string;
  expYear: string;
  cvc: string;
}

export const EMPTY_CARD: CardForm = { number: "", expMonth: "", expYear: "", cvc: "" };

/** The price of a purchase as a decimal string, computed in integer cents (never floats). */
export function purchasePrice(p: Purchase, creditPrice: string, plans: readonly Schemas["PlanOut"][]): string | null {
  if (p.kind === "credits") {
    const unit = toCents(creditPrice);
    return unit === null ? null : fromCents(unit * BigInt(p.credits));
  }
  return plans.find((x) => x.name === p.plan)?.price ?? null;
}

/** A random Idempotency-Key; crypto.randomUUID needs a secure context, so a fallback of the same strength. */
export function newIdempotencyKey(): string {
  if (typeof crypto.randomUUID === "function") return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

export function cardDigits(number: string): string {
  return number.replace(/[\s-]/g, "");
}

/** Checks a person can fix before anything is sent; the server checks again (and runs Luhn). */
export function cardErrors(card: CardForm, now = new Date()): Partial<Record<keyof CardForm, string>> {
  const out: Partial<Record<keyof CardForm, string>> = {};
  const digits = cardDigits(card.number);
  if (!digits) out.number = "Enter the card number.";
  else if (!/^\d{12,19}$/.test(digits)) out.number = "A card number has 12 to 19 digits.";
  const month = Number(card.expMonth);
  if (!card.expMonth.trim()) out.expMonth = "Enter the expiry month.";
  else if (!/^\d{1,2}$/.test(card.expMonth.trim()) || month < 1 || month > 12) out.expMonth = "Use a month from 1 to 12.";
  const yearText = card.expYear.trim();
  if (!yearText) out.expYear = "Enter the expiry year.";
  else if (!/^\d{2}$|^\d{4}$/.test(yearText)) out.expYear = "Use the year as on the card, e.g. 2030 or 30.";
  else {
    const year = fullYear(yearText);
    const thisYear = now.getFullYear();
    if (year < thisYear || (year === thisYear && !out.expMonth && month < now.getMonth() + 1)) {
      out.expYear = "This card has expired.";
    }
  }
  if (!card.cvc.trim()) out.cvc = "Enter the security code.";
  else if (!/^\d{3,4}$/.test(card.cvc.trim())) out.cvc = "The security code has 3 or 4 digits.";
  return out;
}

function fullYear(text: string): number {
  const n = Number(text);
  return text.length === 2 ? 2000 + n : n;
}

export function cardBody(card: CardForm): Schemas["CardIn"] {
  return {
    number: cardDigits(card.number),
    expMonth: Number(card.expMonth),
    expYear: fullYear(card.expYear.trim()),
    cvc: card.cvc.trim(),
  };
}

/**
 * What the Idempotency-Key stands for: the purchase and the card facts the server compares. While
 * this stays the same, a retry reuses the key (and cannot charge twice); when it changes, it is a
 * new purchase with a new key. Kept in memory only.
 */
export function purchaseSignature(p: Purchase, price: string | null, card: CardForm): string {
  const c = cardBody(card);
  return JSON.stringify([p, price, c.number, c.expMonth, c.expYear]);
}

export async function pay(p: Purchase, card: CardForm, key: string): Promise<PaymentResult> {
  const headers = { "Idempotency-Key": key };
  const body = cardBody(card);
  return p.kind === "credits"
    ? unwrap(api.POST("/api/payments/credits/purchase", { body: { credits: p.credits, card: body }, headers }))
    : unwrap(api.POST("/api/payments/subscribe", { body: { plan: p.plan, card: body }, headers }));
}

// --- words ---------------------------------------------------------------------------------------

const DECLINE_WORDS: Record<string, string> = {
  card_declined: "the card issuer declined it",
  insufficient_funds: "the card has insufficient funds",
  test_mode_live_card: "this is test mode, which refuses real cards: use one of the test cards",
  expired_card: "the card has expired",
  incorrect_number: "the card number is not valid",
  incorrect_cvc: "the security code is wrong",
};

export function declineWords(code: string | null | undefined): string {
  if (!code) return "the card was declined";
  return DECLINE_WORDS[code] ?? `the card was declined (${code.replace(/_/g, " ")})`;
}

function detail(e: ApiError, name: string): string | undefined {
  const d = e.details;
  if (d && typeof d === "object" && !Array.isArray(d)) {
    const v = (d as Record<string, unknown>)[name];
    return v === undefined || v === null ? undefined : String(v);
  }
  return undefined;
}

/** A failed payment in words, and whether pressing the button again retries the same purchase. */
export function paymentFailure(e: unknown): { message: string; retrySame: boolean } {
  if (!(e instanceof ApiError)) return { message: "Something went wrong. Nothing was charged.", retrySame: true };
  switch (e.code) {
    case "PAYMENT_DECLINED":
      return {
        message: `Payment declined: ${declineWords(detail(e, "declineCode"))}. Nothing was charged.`,
        retrySame: false,
      };
    case "PAYMENT_PROVIDER_ERROR":
      return {
        message: "The payment provider did not complete the payment, and nothing was charged. Try again in a moment.",
        retrySame: true,
      };
    case "NETWORK":
      return {
        message:
          "We lost the connection before the answer came, so the payment may or may not have gone through. Press the button again: you will not be charged twice.",
        retrySame: true,
      };
    case "IDEMPOTENCY_IN_PROGRESS":
      return { message: "This payment is still being processed. Try again in a few seconds.", retrySame: true };
    case "RATE_LIMITED": {
      const after = Number(detail(e, "retryAfter"));
      const wait = !Number.isFinite(after) || after <= 0
        ? "later"
        : after < 90
          ? `in ${Math.ceil(after)} seconds`
          : `in ${Math.ceil(after / 60)} minutes`;
      return { message: `Too many declined attempts for now. Try again ${wait}.`, retrySame: true };
    }
    default:
      return { message: e.message, retrySame: e.status === 0 || e.status >= 500 };
  }
}

export const TEST_CARDS: readonly { number: string; result: string }[] = [
  { number: "4242 4242 4242 4242", result: "succeeds (Visa)" },
  { number: "5555 5555 5555 4444", result: "succeeds (Mastercard)" },
  { number: "4000 0000 0000 0002", result: "declined by the issuer" },
  { number: "4000 0000 0000 9995", result: "declined: insufficient funds" },
  { number: "4000 0000 0000 0119", result: "the provider fails; nothing is charged" },
];

export const BRAND_LABEL: Record<string, string> = {
  visa: "Visa",
  mastercard: "Mastercard",
  amex: "American Express",
  discover: "Discover",
};
