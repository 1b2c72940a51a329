-- Production projects (budget lines, expenses, milestones) and direct messages between users.

CREATE TABLE production_projects (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    company_id  BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    pitch_id    BIGINT REFERENCES pitches (id) ON DELETE SET NULL,
    title       TEXT NOT NULL,
    stage       TEXT NOT NULL DEFAULT 'development',
    budget      NUMERIC(14, 2) NOT NULL DEFAULT 0,
    start_date  DATE,
    end_date    DATE,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT production_projects_title_length CHECK (length(btrim(title)) BETWEEN 1 AND 255),
    CONSTRAINT production_projects_stage_check CHECK (stage IN (
        'development', 'pre_production', 'production', 'post_production', 'distribution',
        'completed')),
    CONSTRAINT production_projects_budget_check CHECK (budget >= 0),
    CONSTRAINT production_projects_dates_check CHECK (
        start_date IS NULL OR end_date IS NULL OR end_date >= start_date)
);
CREATE INDEX production_projects_company_idx ON production_projects (company_id, id DESC);
CREATE INDEX production_projects_pitch_idx ON production_projects (pitch_id)
    WHERE pitch_id IS NOT NULL;

-- `spent` is the running sum of the line's expenses (kept in the same transaction that appends
-- one), so it may exceed `allocated`: that is over budget, reported, not refused.
CREATE TABLE production_budget_lines (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    project_id  BIGINT NOT NULL REFERENCES production_projects (id) ON DELETE CASCADE,
    category    TEXT NOT NULL,
    allocated   NUMERIC(14, 2) NOT NULL DEFAULT 0,
    spent       NUMERIC(16, 2) NOT NULL DEFAULT 0,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT production_budget_lines_category_length CHECK (
        length(btrim(category)) BETWEEN 1 AND 100),
    CONSTRAINT production_budget_lines_allocated_check CHECK (allocated >= 0),
    CONSTRAINT production_budget_lines_spent_check CHECK (spent >= 0)
);
CREATE UNIQUE INDEX production_budget_lines_category_key
    ON production_budget_lines (project_id, lower(category));

-- Spend over time. An 'expense' is positive; an 'adjustment' (a PUT that sets a line's spent)
-- records the difference, so a line's spent always equals the sum of its rows.
CREATE TABLE production_expenses (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    project_id      BIGINT NOT NULL REFERENCES production_projects (id) ON DELETE CASCADE,
    budget_line_id  BIGINT NOT NULL REFERENCES production_budget_lines (id) ON DELETE CASCADE,
    kind            TEXT NOT NULL DEFAULT 'expense',
    amount          NUMERIC(14, 2) NOT NULL,
    note            TEXT,
    spent_at        TIMESTAMPTZ NOT NULL DEFAULT now(),
    created_by      BIGINT REFERENCES users (id) ON DELETE SET NULL,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT production_expenses_kind_check CHECK (kind IN ('expense', 'adjustment')),
    CONSTRAINT production_expenses_amount_check CHECK (
        amount <> 0 AND (kind = 'adjustment' OR amount > 0)),
    CONSTRAINT production_expenses_note_length CHECK (note IS NULL OR length(note) <= 1000)
);
CREATE INDEX production_expenses_project_idx ON production_expenses (project_id, spent_at, id);
CREATE INDEX production_expenses_line_idx ON production_expenses (budget_line_id);

CREATE TABLE production_milestones (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    project_id  BIGINT NOT NULL REFERENCES production_projects (id) ON DELETE CASCADE,
    title       TEXT NOT NULL,
    due_date    DATE,
    done        BOOLEAN NOT NULL DEFAULT false,
    done_at     TIMESTAMPTZ,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT production_milestones_title_length CHECK (length(btrim(title)) BETWEEN 1 AND 255),
    CONSTRAINT production_milestones_done_check CHECK (done = (done_at IS NOT NULL))
);
CREATE INDEX production_milestones_project_idx ON production_milestones (project_id, due_date);

-- One-to-one messages (the seed's "message" a user may create). Optionally about a pitch.
CREATE TABLE direct_messages (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    sender_id    BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    recipient_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    pitch_id     BIGINT REFERENCES pitches (id) ON DELETE SET NULL,
    content      TEXT NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    read_at      TIMESTAMPTZ,
    CONSTRAINT direct_messages_not_self CHECK (sender_id <> recipient_id),
    CONSTRAINT direct_messages_content_length CHECK (length(content) BETWEEN 1 AND 4000)
);
-- A conversation is both directions of one pair; each index serves one direction, and together
-- they serve "all threads of a user".
CREATE INDEX direct_messages_sender_idx ON direct_messages (sender_id, recipient_id, id DESC);
CREATE INDEX direct_messages_recipient_idx ON direct_messages (recipient_id, sender_id, id DESC);
CREATE INDEX direct_messages_unread_idx ON direct_messages (recipient_id, sender_id)
    WHERE read_at IS NULL;
