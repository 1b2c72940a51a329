-- Scheduled backups (`PITCHEY_BACKUP_DIR`): one row per period, claimed by the first node to
-- insert it, so several nodes sharing this database take one backup per period, not one each.
CREATE TABLE backup_runs (
    period_start TIMESTAMPTZ PRIMARY KEY,
    node         TEXT NOT NULL,
    started_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    finished_at  TIMESTAMPTZ,
    file         TEXT,
    error        TEXT
);
