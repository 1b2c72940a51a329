-- Core tables of the seed: users, pitches, investments, nda_requests; plus token revocations.
-- One NDA table for the whole lifecycle (pending -> approved | rejected, approved -> revoked).

CREATE TABLE users (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email         TEXT NOT NULL,
    username      TEXT,
    name          TEXT,
    company_name  TEXT,
    user_type     TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT users_user_type_check CHECK (user_type IN ('creator', 'investor', 'production')),
    CONSTRAINT users_email_normalised CHECK (email = lower(btrim(email)) AND length(email) BETWEEN 3 AND 254),
    CONSTRAINT users_username_length CHECK (username IS NULL OR length(username) BETWEEN 2 AND 50),
    CONSTRAINT users_name_length CHECK (name IS NULL OR length(name) <= 200),
    CONSTRAINT users_company_length CHECK (company_name IS NULL OR length(company_name) <= 200)
);
CREATE UNIQUE INDEX users_email_key ON users (email);
CREATE UNIQUE INDEX users_username_key ON users (lower(username)) WHERE username IS NOT NULL;

CREATE TABLE pitches (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id         BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    title           TEXT NOT NULL,
    logline         TEXT,
    genre           TEXT,
    format          TEXT,
    synopsis        TEXT,
    budget          NUMERIC(14, 2),
    target_audience TEXT,
    status          TEXT NOT NULL DEFAULT 'draft',
    visibility      TEXT NOT NULL DEFAULT 'public',
    require_nda     BOOLEAN NOT NULL DEFAULT false,
    view_count      BIGINT NOT NULL DEFAULT 0,
    like_count      BIGINT NOT NULL DEFAULT 0,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    published_at    TIMESTAMPTZ,
    CONSTRAINT pitches_title_length CHECK (length(btrim(title)) BETWEEN 1 AND 255),
    CONSTRAINT pitches_status_check CHECK (status IN ('draft', 'published', 'archived')),
    CONSTRAINT pitches_visibility_check CHECK (visibility IN ('public', 'investors_only', 'private')),
    CONSTRAINT pitches_budget_check CHECK (budget IS NULL OR budget >= 0),
    CONSTRAINT pitches_counts_check CHECK (view_count >= 0 AND like_count >= 0)
);
CREATE INDEX pitches_user_id_idx ON pitches (user_id, created_at DESC);
CREATE INDEX pitches_published_idx ON pitches (created_at DESC) WHERE status = 'published';

CREATE TABLE investments (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    investor_id BIGINT NOT NULL REFERENCES users (id) ON DELETE RESTRICT,
    pitch_id    BIGINT NOT NULL REFERENCES pitches (id) ON DELETE RESTRICT,
    amount      NUMERIC(14, 2) NOT NULL,
    status      TEXT NOT NULL DEFAULT 'pending',
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT investments_amount_check CHECK (amount > 0),
    CONSTRAINT investments_status_check CHECK (status IN ('pending', 'completed', 'cancelled', 'refunded'))
);
CREATE INDEX investments_investor_idx ON investments (investor_id, created_at DESC);
CREATE INDEX investments_pitch_idx ON investments (pitch_id);

CREATE TABLE nda_requests (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    pitch_id     BIGINT NOT NULL REFERENCES pitches (id) ON DELETE CASCADE,
    requester_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    owner_id     BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    status       TEXT NOT NULL DEFAULT 'pending',
    message      TEXT,
    reason       TEXT,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    decided_at   TIMESTAMPTZ,
    CONSTRAINT nda_status_check CHECK (status IN ('pending', 'approved', 'rejected', 'revoked')),
    CONSTRAINT nda_not_self CHECK (requester_id <> owner_id),
    CONSTRAINT nda_decided CHECK ((status = 'pending') = (decided_at IS NULL)),
    CONSTRAINT nda_message_length CHECK (message IS NULL OR length(message) <= 2000),
    CONSTRAINT nda_reason_length CHECK (reason IS NULL OR length(reason) <= 2000)
);
-- At most one live (pending or approved) NDA per requester and pitch.
CREATE UNIQUE INDEX nda_live_key ON nda_requests (pitch_id, requester_id)
    WHERE status IN ('pending', 'approved');
CREATE INDEX nda_owner_idx ON nda_requests (owner_id, status, created_at DESC);
CREATE INDEX nda_requester_idx ON nda_requests (requester_id, status, created_at DESC);

-- Logged-out tokens, kept until they would have expired anyway.
CREATE TABLE revoked_tokens (
    jti        UUID PRIMARY KEY,
    user_id    BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    expires_at TIMESTAMPTZ NOT NULL,
    revoked_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX revoked_tokens_expires_idx ON revoked_tokens (expires_at);
