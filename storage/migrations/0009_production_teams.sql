-- Production teams, resources with their allocations (double booking refused by the database),
-- project timelines, and archiving a project before it may be deleted.
--
-- Numbered 0009 while 0008 belongs to another change: storage/migrate.py applies every shipped
-- migration the database has not recorded, by version, so a gap is harmless and 0008 lands after
-- this one on databases that ran 0009 first (the two touch different tables).

ALTER TABLE production_projects ADD COLUMN archived_at TIMESTAMPTZ;

-- A company's team. The company is a production account (users.id); members are other
-- production accounts, invited by email, pending until they accept through their notification.
-- Removing a member deletes the row: every request re-reads it, so the removal holds at once.
CREATE TABLE production_team_members (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    company_id   BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    user_id      BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role         TEXT NOT NULL,
    status       TEXT NOT NULL DEFAULT 'pending',
    invited_by   BIGINT REFERENCES users (id) ON DELETE SET NULL,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    responded_at TIMESTAMPTZ,
    CONSTRAINT production_team_members_role_check CHECK (
        role IN ('producer', 'coordinator', 'finance', 'viewer')),
    CONSTRAINT production_team_members_status_check CHECK (status IN ('pending', 'active')),
    CONSTRAINT production_team_members_not_self CHECK (company_id <> user_id),
    CONSTRAINT production_team_members_once UNIQUE (company_id, user_id)
);
CREATE INDEX production_team_members_user_idx ON production_team_members (user_id, status);

-- Crew, equipment and locations a company books, with a cost per day.
CREATE TABLE production_resources (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    company_id   BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind         TEXT NOT NULL,
    name         TEXT NOT NULL,
    cost_per_day NUMERIC(12, 2) NOT NULL DEFAULT 0,
    notes        TEXT,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT production_resources_kind_check CHECK (kind IN ('crew', 'equipment', 'location')),
    CONSTRAINT production_resources_name_length CHECK (length(btrim(name)) BETWEEN 1 AND 200),
    CONSTRAINT production_resources_cost_check CHECK (cost_per_day >= 0),
    CONSTRAINT production_resources_notes_length CHECK (notes IS NULL OR length(notes) <= 2000)
);
CREATE INDEX production_resources_company_idx ON production_resources (company_id, kind, id);

-- A resource booked for a project over inclusive dates. `cost` is days x cost per day at the
-- time of booking (a later price change does not rewrite past bookings); it is added to the
-- project's budget line of the resource's kind and taken off again when the booking goes.
--
-- No double booking: an exclusion constraint, so two concurrent requests cannot both commit.
-- The usual spelling, `resource_id WITH =` beside the range, needs btree_gist, which the embedded
-- PostgreSQL (pgserver) does not ship; a one-point int8range `&&` another one-point range is the
-- same equality and is served by the built-in range GiST operator class.
CREATE TABLE production_allocations (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    resource_id BIGINT NOT NULL REFERENCES production_resources (id) ON DELETE CASCADE,
    project_id  BIGINT NOT NULL REFERENCES production_projects (id) ON DELETE CASCADE,
    start_date  DATE NOT NULL,
    end_date    DATE NOT NULL,
    cost        NUMERIC(16, 2) NOT NULL,
    created_by  BIGINT REFERENCES users (id) ON DELETE SET NULL,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT production_allocations_dates_check CHECK (end_date >= start_date),
    CONSTRAINT production_allocations_cost_check CHECK (cost >= 0),
    CONSTRAINT production_allocations_no_double_booking EXCLUDE USING gist (
        int8range(resource_id, resource_id, '[]') WITH &&,
        daterange(start_date, end_date, '[]') WITH &&)
);
CREATE INDEX production_allocations_project_idx ON production_allocations (project_id);

-- A project's timeline: at most one row per phase, with finish-to-start dependencies on other
-- phases of the same project (acyclic; checked when the timeline is written).
CREATE TABLE production_timeline_phases (
    project_id  BIGINT NOT NULL REFERENCES production_projects (id) ON DELETE CASCADE,
    phase       TEXT NOT NULL,
    start_date  DATE NOT NULL,
    end_date    DATE NOT NULL,
    depends_on  TEXT[] NOT NULL DEFAULT '{}',
    done        BOOLEAN NOT NULL DEFAULT false,
    updated_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (project_id, phase),
    CONSTRAINT production_timeline_phases_phase_check CHECK (
        phase IN ('development', 'pre_production', 'shooting', 'post', 'distribution')),
    CONSTRAINT production_timeline_phases_dates_check CHECK (end_date >= start_date)
);
