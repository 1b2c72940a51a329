-- Profiles, preferences and saved pitches (every portal's profile; investors' saved pitches).

-- Profile fields beside the registration ones. `name` stays the display name every summary shows;
-- the profile keeps it in step with first and last name when they are edited.
ALTER TABLE users
    ADD COLUMN first_name TEXT,
    ADD COLUMN last_name  TEXT,
    ADD COLUMN bio        TEXT,
    ADD COLUMN location   TEXT,
    ADD COLUMN website    TEXT,
    ADD COLUMN avatar_key TEXT,
    ADD CONSTRAINT users_first_name_length CHECK (first_name IS NULL OR length(first_name) BETWEEN 1 AND 100),
    ADD CONSTRAINT users_last_name_length CHECK (last_name IS NULL OR length(last_name) BETWEEN 1 AND 100),
    ADD CONSTRAINT users_bio_length CHECK (bio IS NULL OR length(bio) <= 2000),
    ADD CONSTRAINT users_location_length CHECK (location IS NULL OR length(location) <= 200),
    ADD CONSTRAINT users_website_check CHECK (website IS NULL OR (website ~* '^https?://' AND length(website) <= 500)),
    -- Server-generated keys only: avatars/<user id>/<uuid4 hex>.<ext>
    ADD CONSTRAINT users_avatar_key_check CHECK (avatar_key IS NULL OR avatar_key ~ '^avatars/[0-9]+/[0-9a-f]{32}\.(jpg|png|webp)$');

-- Existing display names split once into first and last name (the first word, the rest).
UPDATE users
SET first_name = nullif(left(split_part(btrim(name), ' ', 1), 100), ''),
    last_name = nullif(left(btrim(substr(btrim(name), length(split_part(btrim(name), ' ', 1)) + 1)), 100), '')
WHERE name IS NOT NULL;

-- One row per user who changed a default. `notifications` maps a notification kind to its
-- channels ({"new_message": {"live": false, "emailDigest": true}}); a kind not named is on for
-- live and off for the digest. Genres, formats and the budget range are what an investor invests
-- in (recommendations use them).
CREATE TABLE user_preferences (
    user_id       BIGINT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    notifications JSONB NOT NULL DEFAULT '{}'::jsonb,
    genres        TEXT[] NOT NULL DEFAULT '{}',
    formats       TEXT[] NOT NULL DEFAULT '{}',
    budget_min    NUMERIC(14, 2),
    budget_max    NUMERIC(14, 2),
    updated_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT user_preferences_notifications_object CHECK (jsonb_typeof(notifications) = 'object'),
    CONSTRAINT user_preferences_list_sizes CHECK (cardinality(genres) <= 20 AND cardinality(formats) <= 20),
    CONSTRAINT user_preferences_budget_check CHECK (
        (budget_min IS NULL OR budget_min >= 0) AND (budget_max IS NULL OR budget_max >= 0)
        AND (budget_min IS NULL OR budget_max IS NULL OR budget_min <= budget_max))
);

-- Pitches an investor saved for later. The pair is the key: saving twice is one row.
CREATE TABLE saved_pitches (
    user_id    BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    pitch_id   BIGINT NOT NULL REFERENCES pitches (id) ON DELETE CASCADE,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, pitch_id)
);
CREATE INDEX saved_pitches_user_idx ON saved_pitches (user_id, created_at DESC, pitch_id DESC);
-- An owner's save counts.
CREATE INDEX saved_pitches_pitch_idx ON saved_pitches (pitch_id);
