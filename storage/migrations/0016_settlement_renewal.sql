-- Work that happens later (server/tasks/): investments settle through the payment provider,
-- subscriptions renew at the end of their period.

-- An investment settles to `completed` or `failed` (the transfer was declined).
ALTER TABLE investments DROP CONSTRAINT investments_status_check;
ALTER TABLE investments ADD CONSTRAINT investments_status_check
    CHECK (status IN ('pending', 'completed', 'failed', 'cancelled', 'refunded'));
ALTER TABLE investments ADD COLUMN settled_at TIMESTAMPTZ;
ALTER TABLE investments ADD COLUMN provider_ref TEXT;
ALTER TABLE investments ADD COLUMN failure_code TEXT;

-- The money ledger of settled investments: two entries per completed investment, the
-- investor's debit and the pitch owner's credit, summing to zero. Append-only, and unique per
-- investment and side, so a settlement run twice (a worker killed after its commit) books once.
CREATE TABLE investment_ledger (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    investment_id BIGINT NOT NULL REFERENCES investments (id) ON DELETE RESTRICT,
    user_id       BIGINT NOT NULL REFERENCES users (id) ON DELETE RESTRICT,
    side          TEXT NOT NULL,
    amount        NUMERIC(14, 2) NOT NULL,
    currency      TEXT NOT NULL DEFAULT 'USD',
    provider_ref  TEXT NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT investment_ledger_side_check CHECK (side IN ('investor', 'creator')),
    CONSTRAINT investment_ledger_sign_check
        CHECK ((side = 'investor' AND amount < 0) OR (side = 'creator' AND amount > 0)),
    CONSTRAINT investment_ledger_once UNIQUE (investment_id, side)
);
CREATE INDEX investment_ledger_user_idx ON investment_ledger (user_id, id DESC);
CREATE TRIGGER investment_ledger_append_only BEFORE UPDATE OR DELETE ON investment_ledger
    FOR EACH ROW EXECUTE FUNCTION credit_ledger_append_only();

-- Renewals charge the payment method saved at subscription time (the provider's reusable
-- reference, never a card number); a declined renewal makes the subscription `past_due` until a
-- retry succeeds or the last one fails and the account goes back to the free plan.
ALTER TABLE subscriptions DROP CONSTRAINT subscriptions_status_check;
ALTER TABLE subscriptions ADD CONSTRAINT subscriptions_status_check
    CHECK (status IN ('active', 'past_due', 'cancelled', 'expired'));
ALTER TABLE subscriptions ADD COLUMN payment_method TEXT;
ALTER TABLE subscriptions ADD COLUMN card_brand TEXT;
ALTER TABLE subscriptions ADD COLUMN card_last4 TEXT;
ALTER TABLE subscriptions ADD COLUMN renewal_failures INTEGER NOT NULL DEFAULT 0;
ALTER TABLE payments DROP CONSTRAINT payments_purpose_check;
ALTER TABLE payments ADD CONSTRAINT payments_purpose_check
    CHECK (purpose IN ('credits', 'subscription', 'renewal'));
ALTER TABLE payments DROP CONSTRAINT payments_plan_check;
ALTER TABLE payments ADD CONSTRAINT payments_plan_check CHECK (
    (purpose IN ('subscription', 'renewal') AND plan IN ('basic', 'pro', 'enterprise') AND credits IS NULL)
    OR (purpose = 'credits' AND plan IS NULL AND credits > 0));
