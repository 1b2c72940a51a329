-- Money: idempotent investments, card payments, an append-only credit ledger with a kept balance,
-- and subscriptions. Amounts are NUMERIC(14,2), never float; card numbers are never stored
-- (brand and last four digits only).

-- Investments: a client-chosen Idempotency-Key makes a retried create return the same row.
ALTER TABLE investments ADD COLUMN idempotency_key TEXT;
ALTER TABLE investments ADD CONSTRAINT investments_idempotency_key_check
    CHECK (idempotency_key IS NULL OR length(idempotency_key) BETWEEN 1 AND 255);
CREATE UNIQUE INDEX investments_idempotency_key ON investments (investor_id, idempotency_key)
    WHERE idempotency_key IS NOT NULL;
-- Portfolio positions group one investor's rows by pitch.
CREATE INDEX investments_investor_pitch_idx ON investments (investor_id, pitch_id);

-- One row per payment attempt. It is written 'pending' before the provider is called (outside any
-- transaction), then settled once: pending -> succeeded | declined | failed; a failed attempt
-- (provider error, nothing charged) may be claimed again by a retry with the same key.
CREATE TABLE payments (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id         BIGINT NOT NULL REFERENCES users (id) ON DELETE RESTRICT,
    amount          NUMERIC(14, 2) NOT NULL,
    currency        TEXT NOT NULL DEFAULT 'USD',
    purpose         TEXT NOT NULL,
    plan            TEXT,
    credits         INTEGER,
    status          TEXT NOT NULL DEFAULT 'pending',
    provider_ref    TEXT,
    failure_code    TEXT,
    card_brand      TEXT NOT NULL,
    card_last4      TEXT NOT NULL,
    idempotency_key TEXT,
    request_hash    TEXT NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    claimed_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    settled_at      TIMESTAMPTZ,
    CONSTRAINT payments_amount_check CHECK (amount > 0),
    CONSTRAINT payments_currency_check CHECK (currency ~ '^[A-Z]{3}$'),
    CONSTRAINT payments_purpose_check CHECK (purpose IN ('credits', 'subscription')),
    CONSTRAINT payments_plan_check CHECK (
        (purpose = 'subscription' AND plan IN ('basic', 'pro', 'enterprise') AND credits IS NULL)
        OR (purpose = 'credits' AND plan IS NULL AND credits > 0)),
    CONSTRAINT payments_status_check CHECK (status IN ('pending', 'succeeded', 'declined', 'failed')),
    CONSTRAINT payments_settled_check CHECK ((status = 'pending') = (settled_at IS NULL)),
    CONSTRAINT payments_succeeded_ref CHECK (status <> 'succeeded' OR provider_ref IS NOT NULL),
    CONSTRAINT payments_card_last4_check CHECK (card_last4 ~ '^[0-9]{4}$'),
    CONSTRAINT payments_idempotency_key_check
        CHECK (idempotency_key IS NULL OR length(idempotency_key) BETWEEN 1 AND 255),
    CONSTRAINT payments_idempotency_key UNIQUE (user_id, idempotency_key)
);
CREATE INDEX payments_user_idx ON payments (user_id, id DESC);
-- The card-testing guard counts recent declines per user.
CREATE INDEX payments_user_declined_idx ON payments (user_id, created_at)
    WHERE status = 'declined';

-- A settled payment is history: only pending -> settled and failed -> pending (a retry) may
-- change a row, and no row is ever deleted.
CREATE FUNCTION payments_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'payments are never deleted' USING ERRCODE = 'restrict_violation';
    END IF;
    IF NOT (OLD.status = 'pending' OR (OLD.status = 'failed' AND NEW.status = 'pending')) THEN
        RAISE EXCEPTION 'payment % is settled (%) and cannot change', OLD.id, OLD.status
            USING ERRCODE = 'restrict_violation';
    END IF;
    IF (NEW.user_id, NEW.amount, NEW.currency, NEW.purpose, NEW.request_hash)
        IS DISTINCT FROM (OLD.user_id, OLD.amount, OLD.currency, OLD.purpose, OLD.request_hash) THEN
        RAISE EXCEPTION 'what payment % charges cannot change', OLD.id
            USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER payments_guard BEFORE UPDATE OR DELETE ON payments
    FOR EACH ROW EXECUTE FUNCTION payments_guard();

-- Credits: every change is a ledger row; the balance row is updated in the same transaction
-- (the row lock serialises concurrent changes, the CHECK keeps it from going negative).
CREATE TABLE credit_balances (
    user_id    BIGINT PRIMARY KEY REFERENCES users (id) ON DELETE RESTRICT,
    balance    INTEGER NOT NULL DEFAULT 0,
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT credit_balances_balance_check CHECK (balance >= 0)
);

CREATE TABLE credit_ledger (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id       BIGINT NOT NULL REFERENCES users (id) ON DELETE RESTRICT,
    delta         INTEGER NOT NULL,
    balance_after INTEGER NOT NULL,
    reason        TEXT NOT NULL,
    payment_id    BIGINT REFERENCES payments (id) ON DELETE RESTRICT,
    note          TEXT,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT credit_ledger_delta_check CHECK (delta <> 0),
    CONSTRAINT credit_ledger_balance_check CHECK (balance_after >= 0),
    CONSTRAINT credit_ledger_reason_check
        CHECK (reason IN ('purchase', 'subscription_grant', 'spend', 'refund', 'adjustment')),
    CONSTRAINT credit_ledger_note_length CHECK (note IS NULL OR length(note) <= 200)
);
CREATE INDEX credit_ledger_user_idx ON credit_ledger (user_id, id DESC);
-- A payment credits the ledger at most once per reason.
CREATE UNIQUE INDEX credit_ledger_payment_key ON credit_ledger (payment_id, reason)
    WHERE payment_id IS NOT NULL;

-- Append-only: corrections are new rows (reason 'adjustment' or 'refund'), never edits.
CREATE FUNCTION credit_ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'credit_ledger is append-only (% refused)', TG_OP
        USING ERRCODE = 'restrict_violation';
END $$;
CREATE TRIGGER credit_ledger_append_only BEFORE UPDATE OR DELETE ON credit_ledger
    FOR EACH ROW EXECUTE FUNCTION credit_ledger_append_only();

-- One subscription per user. 'expired' is derived on read (current_period_end in the past).
CREATE TABLE subscriptions (
    user_id              BIGINT PRIMARY KEY REFERENCES users (id) ON DELETE RESTRICT,
    plan                 TEXT NOT NULL,
    status               TEXT NOT NULL DEFAULT 'active',
    current_period_start TIMESTAMPTZ NOT NULL,
    current_period_end   TIMESTAMPTZ NOT NULL,
    last_payment_id      BIGINT REFERENCES payments (id) ON DELETE RESTRICT,
    created_at           TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at           TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT subscriptions_plan_check CHECK (plan IN ('free', 'basic', 'pro', 'enterprise')),
    CONSTRAINT subscriptions_status_check CHECK (status IN ('active', 'cancelled', 'expired')),
    CONSTRAINT subscriptions_period_check CHECK (current_period_end > current_period_start)
);
