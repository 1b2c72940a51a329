// /settings/billing: the plan (subscribe, switch, extend, cancel), the credit balance and ledger,
// buying credits with a card, and every payment attempt. A purchase carries an Idempotency-Key made
// here, one per intended purchase: a double-click, or pressing again after a lost answer, reuses it,
// so the server charges once; the key changes only when the purchase or the card does. Amounts are
// decimal strings, multiplied in integer cents and only formatted here.
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useRef, useState, type FormEvent } from "react";
import { useSearchParams } from "react-router";
import { api, ApiError, unwrap, type Schemas } from "../../api/client";
import { keys } from "../../api/keys";
import { useSession } from "../../auth/session";
import { formatCount, formatDate, formatDateTime, formatMoney } from "../../lib/format";
import {
  Alert,
  Badge,
  Button,
  Card,
  Empty,
  ErrorState,
  layout,
  Loading,
  PageHeader,
  RequestRef,
  Select,
  Stat,
  TextField,
} from "../../ui";
import { useDocumentTitle } from "../production/shared";
import {
  BRAND_LABEL,
  cardErrors,
  declineWords,
  EMPTY_CARD,
  newIdempotencyKey,
  pay,
  paymentFailure,
  PLAN_LABEL,
  purchasePrice,
  purchaseSignature,
  TEST_CARDS,
  useCreditBalance,
  useCreditLedger,
  usePaymentHistory,
  usePlans,
  useSubscription,
  type CardForm,
  type LedgerEntry,
  type PaidPlan,
  type Payment,
  type PaymentResult,
  type Purchase,
  type Subscription,
} from "./billing";
import { Pager, useUrlPage } from "./paging";
import s from "./billing.module.css";

type Plans = Schemas["PlansOut"];

const PAID: readonly PaidPlan[] = ["basic", "pro", "enterprise"];

function asPaidPlan(v: string | null): PaidPlan | null {
  return PAID.find((p) => p === v) ?? null;
}

export default function Billing() {
  useDocumentTitle("Billing");
  const session = useSession();
  const canPay = session.data?.userType === "investor" || session.data?.userType === "production";
  const plans = usePlans();
  const sub = useSubscription(canPay);
  const balance = useCreditBalance(canPay);

  return (
    <div className={s.page}>
      <PageHeader title="Billing" />
      {!canPay && (
        <Alert kind="info">
          Plans and credits are for investor and production company accounts. As a creator you use Pitchey for free.
        </Alert>
      )}

      {canPay && (
        <section aria-labelledby="summary-title">
          <h2 id="summary-title" className="visually-hidden">
            Your plan and credits
          </h2>
          <div className={s.stats}>
            <Stat
              label="Plan"
              value={
                sub.isPending ? "…" : sub.isError ? "—" : <span data-testid="current-plan">{PLAN_LABEL[sub.data.effectivePlan]}</span>
              }
            />
            <Stat
              label="Credits"
              value={
                balance.isPending ? "…" : balance.isError ? "—" : <span data-testid="credit-balance">{formatCount(balance.data.balance)}</span>
              }
            />
          </div>
          {balance.isError && <ErrorState error={balance.error} retry={() => void balance.refetch()} />}
        </section>
      )}

      {plans.isPending ? (
        <Loading label="Loading plans…" />
      ) : plans.isError ? (
        <ErrorState error={plans.error} retry={() => void plans.refetch()} />
      ) : canPay ? (
        <Paying plans={plans.data} sub={sub} />
      ) : (
        <Card aria-labelledby="plans-title">
          <h2 id="plans-title">Plans</h2>
          <PlanList plans={plans.data} current={null} onChoose={null} />
        </Card>
      )}

      {canPay && (
        <div className={s.columns}>
          <Ledger />
          <Payments />
        </div>
      )}
    </div>
  );
}

function Paying({ plans, sub }: { plans: Plans; sub: ReturnType<typeof useSubscription> }) {
  const [search, setSearch] = useSearchParams();
  const chosen = asPaidPlan(search.get("plan"));
  const [purchase, setPurchase] = useState<Purchase>(chosen ? { kind: "plan", plan: chosen } : { kind: "credits", credits: 25 });

  const choose = (plan: PaidPlan) => {
    setPurchase({ kind: "plan", plan });
    const next = new URLSearchParams(search);
    next.set("plan", plan);
    setSearch(next, { replace: true, preventScrollReset: true });
    document.getElementById("pay-number")?.focus();
  };

  return (
    <div className={s.columns}>
      <div className={s.column}>
        <Card aria-labelledby="sub-title">
          <h2 id="sub-title">Your plan</h2>
          {sub.isPending ? (
            <Loading label="Loading your plan…" />
          ) : sub.isError ? (
            <ErrorState error={sub.error} retry={() => void sub.refetch()} />
          ) : (
            <PlanStatus sub={sub.data} />
          )}
        </Card>
        <Card aria-labelledby="plans-title">
          <h2 id="plans-title">Plans</h2>
          <PlanList plans={plans} current={sub.data ?? null} onChoose={choose} />
        </Card>
      </div>
      <Checkout
        plans={plans}
        sub={sub.data ?? null}
        purchase={purchase}
        setPurchase={(p) => {
          setPurchase(p);
          if (p.kind === "credits" && search.has("plan")) {
            const next = new URLSearchParams(search);
            next.delete("plan");
            setSearch(next, { replace: true, preventScrollReset: true });
          }
        }}
      />
    </div>
  );
}

// --- plan ----------------------------------------------------------------------------------------

function PlanStatus({ sub }: { sub: Subscription }) {
  const qc = useQueryClient();
  const [confirming, setConfirming] = useState(false);
  const cancel = useMutation({
    mutationFn: () => unwrap(api.POST("/api/payments/subscription/cancel", { body: {} })),
    onSuccess: (next) => {
      qc.setQueryData(keys.subscription, next);
      setConfirming(false);
    },
    onSettled: () => void qc.invalidateQueries({ queryKey: keys.billing }),
  });
  const name = PLAN_LABEL[sub.plan];
  const until = formatDate(sub.currentPeriodEnd);

  let words: string;
  if (sub.status === "none") words = "You are on the Free plan. Choose a plan to get credits every month.";
  else if (sub.status === "active")
    words = `${name}, ${formatMoney(sub.price, sub.currency)} a month, with ${formatCount(sub.creditsPerPeriod)} credits each month. Paid until ${until}.`;
  else if (sub.status === "cancelled")
    words = `${name} is cancelled: you keep it until ${until}, and it will not renew.`;
  else if (sub.status === "past_due")
    words = `We could not renew ${name} with your saved card. You keep it while we try again; pay with another card below to keep it for sure.`;
  else words = `Your ${name} plan ended on ${until}. You are on the Free plan.`;

  return (
    <div className={s.planStatus}>
      <p>
        <Badge
          tone={
            sub.status === "active"
              ? "success"
              : sub.status === "cancelled"
                ? "warn"
                : sub.status === "past_due"
                  ? "danger"
                  : undefined
          }
        >
          {sub.status === "none"
            ? "Free"
            : sub.status === "past_due"
              ? "Past due"
              : sub.status.charAt(0).toUpperCase() + sub.status.slice(1)}
        </Badge>
      </p>
      <p data-testid="plan-status" aria-live="polite">
        {words}
      </p>
      {sub.status === "active" &&
        (confirming ? (
          <div className={s.confirm} role="group" aria-labelledby="cancel-q">
            <p id="cancel-q">
              Cancel your {name} plan? You keep it until {until}; after that you are on the Free plan. Nothing is refunded.
            </p>
            <div className={s.actions}>
              <Button variant="danger" busy={cancel.isPending} onClick={() => cancel.mutate()}>
                Yes, cancel {name}
              </Button>
              <Button variant="secondary" disabled={cancel.isPending} onClick={() => setConfirming(false)}>
                Keep my plan
              </Button>
            </div>
          </div>
        ) : (
          <div className={s.actions}>
            <Button variant="secondary" onClick={() => setConfirming(true)}>
              Cancel subscription
            </Button>
          </div>
        ))}
      {cancel.isError && <ErrorState error={cancel.error} />}
    </div>
  );
}

function planAction(plan: PaidPlan, sub: Subscription | null): string {
  if (sub && sub.effectivePlan === plan) return sub.status === "cancelled" ? `Resume ${PLAN_LABEL[plan]}` : `Extend ${PLAN_LABEL[plan]}`;
  if (sub && sub.effectivePlan !== "free") return `Switch to ${PLAN_LABEL[plan]}`;
  return `Choose ${PLAN_LABEL[plan]}`;
}

function PlanList({
  plans,
  current,
  onChoose,
}: {
  plans: Plans;
  current: Subscription | null;
  onChoose: ((plan: PaidPlan) => void) | null;
}) {
  const effective = current?.effectivePlan ?? null;
  return (
    <ul className={s.plans} aria-label="Plans">
      {plans.plans.map((p) => {
        const isCurrent = effective === p.name;
        const paid = asPaidPlan(p.name);
        return (
          <li key={p.name} className={`${s.plan} ${isCurrent ? s.planCurrent : ""}`} data-testid={`plan-${p.name}`}>
            <span className={s.planName}>
              {PLAN_LABEL[p.name]}
              {isCurrent && <Badge tone="primary">Your plan</Badge>}
            </span>
            <span className={s.planMeta}>
              {p.name === "free"
                ? "No charge, no monthly credits"
                : `${formatMoney(p.price, plans.currency)} a month · ${formatCount(p.creditsPerPeriod)} credits each month`}
            </span>
            {paid && onChoose && (
              <span className={s.planAction}>
                <Button small variant={isCurrent ? "secondary" : "primary"} onClick={() => onChoose(paid)}>
                  {planAction(paid, current)}
                </Button>
              </span>
            )}
          </li>
        );
      })}
    </ul>
  );
}

// --- checkout ------------------------------------------------------------------------------------

const PURPOSES = [
  { value: "credits", label: "Credits" },
  { value: "basic", label: "Basic plan" },
  { value: "pro", label: "Pro plan" },
  { value: "enterprise", label: "Enterprise plan" },
] as const;

function payLabel(p: Purchase, price: string | null, currency: string, sub: Subscription | null): string {
  const amount = formatMoney(price, currency);
  if (p.kind === "credits") return `Buy ${formatCount(p.credits)} ${p.credits === 1 ? "credit" : "credits"} for ${amount}`;
  const verb = planAction(p.plan, sub).replace(/^Choose/, "Subscribe to");
  return `${verb} for ${amount}`;
}

function successWords(r: PaymentResult, currency: string): string {
  const paid = formatMoney(r.payment.amount, r.payment.currency || currency);
  const again = r.replayed ? " This payment had already gone through: you were charged once." : "";
  if (r.payment.purpose === "credits") {
    return `Paid ${paid}: ${formatCount(r.creditsAdded)} credits added, your balance is ${formatCount(r.creditBalance ?? 0)} credits.${again}`;
  }
  const plan = r.subscription ? PLAN_LABEL[r.subscription.plan] : "your plan";
  const until = formatDate(r.subscription?.currentPeriodEnd);
  return `Paid ${paid}: ${plan} until ${until}, with ${formatCount(r.creditsAdded)} credits added.${again}`;
}

function Checkout({
  plans,
  sub,
  purchase,
  setPurchase,
}: {
  plans: Plans;
  sub: Subscription | null;
  purchase: Purchase;
  setPurchase: (p: Purchase) => void;
}) {
  const qc = useQueryClient();
  const [creditsText, setCreditsText] = useState(purchase.kind === "credits" ? String(purchase.credits) : "25");
  const [card, setCard] = useState<CardForm>(EMPTY_CARD);
  const [errors, setErrors] = useState<Partial<Record<string, string>>>({});
  const [failure, setFailure] = useState<{ message: string; error: unknown } | null>(null);
  const [done, setDone] = useState<string | null>(null);
  // The key of the purchase being attempted, with what it stands for. Memory only.
  const attempt = useRef<{ sig: string; key: string } | null>(null);
  const inFlight = useRef(false);

  const max = plans.maxCreditsPerPurchase;
  const price = purchasePrice(purchase, plans.creditPrice, plans.plans);

  const payment = useMutation({
    mutationFn: ({ p, key, c }: { p: Purchase; key: string; c: CardForm }) => pay(p, c, key),
    onSuccess: (r) => {
      attempt.current = null; // the next purchase is a new one
      setDone(successWords(r, plans.currency));
      setFailure(null);
      // The card's number and code are not kept a moment longer than needed.
      setCard((c) => ({ ...c, number: "", cvc: "" }));
      if (r.creditBalance !== null) {
        qc.setQueryData<Schemas["CreditBalanceOut"]>(keys.creditBalance, (old) =>
          old ? { ...old, balance: r.creditBalance ?? old.balance } : old,
        );
      }
      if (r.subscription) qc.setQueryData(keys.subscription, r.subscription);
    },
    onError: (e) => {
      const f = paymentFailure(e);
      // A decline is an answer: the same card again would replay it, so let the next press be new.
      if (!f.retrySame) attempt.current = null;
      const fields = e instanceof ApiError ? e.fieldErrors() : {};
      if (Object.keys(fields).length > 0) {
        setErrors(fields);
        setFailure({ message: "Check the card details marked below.", error: e });
      } else {
        setFailure({ message: f.message, error: e });
      }
    },
    onSettled: () => {
      inFlight.current = false;
      void qc.invalidateQueries({ queryKey: keys.billing });
    },
  });

  const setField = (name: keyof CardForm, value: string) => {
    setCard((c) => ({ ...c, [name]: value }));
    setErrors((e) => ({ ...e, [name]: undefined }));
    setDone(null);
  };

  const onPurpose = (v: string) => {
    setDone(null);
    setErrors({});
    const plan = asPaidPlan(v);
    if (plan) setPurchase({ kind: "plan", plan });
    else setPurchase({ kind: "credits", credits: parseCredits(creditsText, max) ?? 1 });
  };

  const onCredits = (v: string) => {
    setCreditsText(v);
    setDone(null);
    setErrors((e) => ({ ...e, credits: undefined }));
    const n = parseCredits(v, max);
    if (n !== null) setPurchase({ kind: "credits", credits: n });
  };

  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (inFlight.current) return; // a second press while the first is on its way
    const found: Record<string, string> = { ...cardErrors(card) };
    if (purchase.kind === "credits") {
      const n = parseCredits(creditsText, max);
      if (n === null) found.credits = `Buy between 1 and ${formatCount(max)} credits, in whole numbers.`;
    }
    setErrors(found);
    setDone(null);
    if (Object.keys(found).length > 0) {
      setFailure(null);
      const first = ["credits", "number", "expMonth", "expYear", "cvc"].find((k) => k in found);
      if (first) document.getElementById(`pay-${first}`)?.focus();
      return;
    }
    const sig = purchaseSignature(purchase, price, card);
    if (!attempt.current || attempt.current.sig !== sig) attempt.current = { sig, key: newIdempotencyKey() };
    inFlight.current = true;
    setFailure(null);
    payment.mutate({ p: purchase, key: attempt.current.key, c: card });
  };

  const purposeValue = purchase.kind === "credits" ? "credits" : purchase.plan;

  return (
    <Card aria-labelledby="checkout-title">
      <h2 id="checkout-title">Buy credits or a plan</h2>
      <form className={s.form} onSubmit={submit} noValidate aria-describedby="checkout-note">
        <p id="checkout-note" className={`${s.muted} ${s.small}`}>
          Credits cost {formatMoney(plans.creditPrice, plans.currency)} each. Card details go straight to the payment
          provider; Pitchey keeps only the brand and the last four digits.
        </p>
        <Select
          id="pay-purpose"
          label="What to buy"
          value={purposeValue}
          options={PURPOSES}
          onChange={(e) => onPurpose(e.target.value)}
          disabled={payment.isPending}
        />
        {purchase.kind === "credits" && (
          <TextField
            id="pay-credits"
            label="Number of credits"
            inputMode="numeric"
            autoComplete="off"
            value={creditsText}
            onChange={(e) => onCredits(e.target.value)}
            error={errors.credits}
            hint={`1 to ${formatCount(max)} per purchase`}
            disabled={payment.isPending}
          />
        )}
        <fieldset className={s.fieldset} disabled={payment.isPending}>
          <legend>Card</legend>
          <TextField
            id="pay-number"
            label="Card number"
            inputMode="numeric"
            autoComplete="cc-number"
            placeholder="1234 1234 1234 1234"
            value={card.number}
            onChange={(e) => setField("number", e.target.value)}
            error={errors.number}
          />
          <div className={s.cardRow}>
            <TextField
              id="pay-expMonth"
              label="Expiry month"
              inputMode="numeric"
              autoComplete="cc-exp-month"
              placeholder="MM"
              maxLength={2}
              value={card.expMonth}
              onChange={(e) => setField("expMonth", e.target.value)}
              error={errors.expMonth}
            />
            <TextField
              id="pay-expYear"
              label="Expiry year"
              inputMode="numeric"
              autoComplete="cc-exp-year"
              placeholder="YYYY"
              maxLength={4}
              value={card.expYear}
              onChange={(e) => setField("expYear", e.target.value)}
              error={errors.expYear}
            />
            <TextField
              id="pay-cvc"
              label="Security code"
              inputMode="numeric"
              autoComplete="cc-csc"
              maxLength={4}
              value={card.cvc}
              onChange={(e) => setField("cvc", e.target.value)}
              error={errors.cvc}
            />
          </div>
        </fieldset>
        <details className={s.testCards}>
          <summary>Test mode: which cards to use</summary>
          <p className={s.muted}>No real card is charged. Any future expiry date and any 3-digit code work.</p>
          <ul>
            {TEST_CARDS.map((c) => (
              <li key={c.number}>
                <code>{c.number}</code> {c.result}
              </li>
            ))}
          </ul>
        </details>
        <div className={s.total}>
          <span>Total</span>
          <strong data-testid="pay-total">{formatMoney(price, plans.currency)}</strong>
        </div>
        {failure && (
          <Alert kind="error">
            <span data-testid="pay-error">{failure.message}</span>
            <RequestRef error={failure.error} />
          </Alert>
        )}
        {done && (
          <Alert kind="success">
            <span data-testid="pay-done">{done}</span>
          </Alert>
        )}
        <div className={s.actions}>
          <Button type="submit" busy={payment.isPending}>
            {payment.isPending ? "Paying…" : payLabel(purchase, price, plans.currency, sub)}
          </Button>
        </div>
      </form>
    </Card>
  );
}

function parseCredits(text: string, max: number): number | null {
  const t = text.trim().replace(/,/g, "");
  if (!/^\d{1,6}$/.test(t)) return null;
  const n = Number(t);
  return n >= 1 && n <= max ? n : null;
}

// --- ledger and payments -------------------------------------------------------------------------

const REASON_LABEL: Record<LedgerEntry["reason"], string> = {
  purchase: "Credits bought",
  subscription_grant: "Plan credits",
  spend: "Spent",
  refund: "Refund",
  adjustment: "Adjustment",
};

function Ledger() {
  const [page, setPage] = useUrlPage("ledger");
  const q = useCreditLedger(page, true);
  return (
    <Card aria-labelledby="ledger-title">
      <h2 id="ledger-title">Credit ledger</h2>
      {q.isPending ? (
        <Loading label="Loading the ledger…" />
      ) : q.isError ? (
        <ErrorState error={q.error} retry={() => void q.refetch()} />
      ) : q.data.items.length === 0 ? (
        <Empty>No credits yet. Buy credits or choose a plan: every change shows up here.</Empty>
      ) : (
        <>
          <div className={layout.tableWrap}>
            <table className={`${layout.table} ${s.blocks}`} data-testid="ledger" aria-busy={q.isPlaceholderData || undefined}>
              <caption className="visually-hidden">Every change to your credits, newest first</caption>
              <thead>
                <tr>
                  <th scope="col">Date</th>
                  <th scope="col">What</th>
                  <th scope="col" className={s.num}>
                    Change
                  </th>
                  <th scope="col" className={s.num}>
                    Balance
                  </th>
                </tr>
              </thead>
              <tbody>
                {q.data.items.map((e) => (
                  <tr key={e.id}>
                    <td data-label="Date" className={s.date}>
                      {formatDateTime(e.createdAt)}
                    </td>
                    <td data-label="What">
                      {REASON_LABEL[e.reason]}
                      {e.note ? <span className={s.muted}> · {e.note}</span> : null}
                    </td>
                    <td data-label="Change" className={s.num}>
                      <span className={e.delta >= 0 ? s.plus : s.minus}>
                        {e.delta >= 0 ? "+" : "−"}
                        {formatCount(Math.abs(e.delta))}
                      </span>
                    </td>
                    <td data-label="Balance" className={s.num}>
                      {formatCount(e.balanceAfter)}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <Pager pagination={q.data.pagination} onPage={setPage} label="Ledger pages" busy={q.isPlaceholderData} />
        </>
      )}
    </Card>
  );
}

const STATUS_WORDS: Record<Payment["status"], { label: string; tone: "success" | "warn" | "danger" | undefined }> = {
  succeeded: { label: "Paid", tone: "success" },
  pending: { label: "Processing", tone: "warn" },
  declined: { label: "Declined", tone: "danger" },
  failed: { label: "Failed", tone: "danger" },
};

function Payments() {
  const [page, setPage] = useUrlPage("payments");
  const q = usePaymentHistory(page, true);
  return (
    <Card aria-labelledby="payments-title">
      <h2 id="payments-title">Payments</h2>
      {q.isPending ? (
        <Loading label="Loading payments…" />
      ) : q.isError ? (
        <ErrorState error={q.error} retry={() => void q.refetch()} />
      ) : q.data.items.length === 0 ? (
        <Empty>No payments yet.</Empty>
      ) : (
        <>
          <div className={layout.tableWrap}>
            <table className={`${layout.table} ${s.blocks}`} data-testid="payments" aria-busy={q.isPlaceholderData || undefined}>
              <caption className="visually-hidden">Every payment attempt, newest first</caption>
              <thead>
                <tr>
                  <th scope="col">Date</th>
                  <th scope="col">What</th>
                  <th scope="col" className={s.num}>
                    Amount
                  </th>
                  <th scope="col">Status</th>
                </tr>
              </thead>
              <tbody>
                {q.data.items.map((p) => {
                  const st = STATUS_WORDS[p.status];
                  return (
                    <tr key={p.id} data-testid="payment-row">
                      <td data-label="Date" className={s.date}>
                        {formatDateTime(p.createdAt)}
                      </td>
                      <td data-label="What">
                        {p.purpose === "credits"
                          ? `${formatCount(p.credits ?? 0)} credits`
                          : `${p.plan ? PLAN_LABEL[p.plan] : "Plan"} plan${p.purpose === "renewal" ? " (renewal)" : ""}`}
                        <span className={`${s.muted} ${s.small} ${s.sub}`}>
                          {BRAND_LABEL[p.cardBrand] ?? "Card"} ending {p.cardLast4}
                        </span>
                      </td>
                      <td data-label="Amount" className={s.num}>
                        {formatMoney(p.amount, p.currency)}
                      </td>
                      <td data-label="Status">
                        <Badge tone={st.tone}>{st.label}</Badge>
                        {p.status === "declined" && (
                          <span className={`${s.muted} ${s.small} ${s.sub}`}>{declineWords(p.failureCode)}</span>
                        )}
                        {p.status === "failed" && (
                          <span className={`${s.muted} ${s.small} ${s.sub}`}>provider error, nothing charged</span>
                        )}
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
          <Pager pagination={q.data.pagination} onPage={setPage} label="Payment pages" busy={q.isPlaceholderData} />
        </>
      )}
    </Card>
  );
}
