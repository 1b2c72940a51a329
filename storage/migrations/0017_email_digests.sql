-- The daily email digest (server/tasks/digests.py): one row per user and day, written before
-- the mail is sent and marked sent after, so a day's digest goes out once per user however
-- many workers run the job (a run that died between the two resends it: at least once).
CREATE TABLE email_digests (
    user_id       BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    day           DATE NOT NULL,
    notifications INTEGER NOT NULL,
    last_id       BIGINT NOT NULL,
    claimed_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    sent_at       TIMESTAMPTZ,
    PRIMARY KEY (user_id, day)
);
