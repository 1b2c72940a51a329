-- Real-time core: deduplicated views, likes, room messages and passivated room snapshots.

-- One view per user per pitch per UTC day.
CREATE TABLE pitch_views (
    pitch_id  BIGINT NOT NULL REFERENCES pitches (id) ON DELETE CASCADE,
    user_id   BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    view_day  DATE NOT NULL DEFAULT (now() AT TIME ZONE 'utc')::date,
    viewed_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (pitch_id, user_id, view_day)
);
CREATE INDEX pitch_views_time_idx ON pitch_views (pitch_id, viewed_at);

CREATE TABLE pitch_likes (
    pitch_id   BIGINT NOT NULL REFERENCES pitches (id) ON DELETE CASCADE,
    user_id    BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (pitch_id, user_id)
);
CREATE INDEX pitch_likes_user_idx ON pitch_likes (user_id, created_at DESC);

-- Messages posted in a pitch room.
CREATE TABLE room_messages (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    pitch_id   BIGINT NOT NULL REFERENCES pitches (id) ON DELETE CASCADE,
    user_id    BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    body       TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT room_messages_body_length CHECK (length(body) BETWEEN 1 AND 4000)
);
CREATE INDEX room_messages_pitch_idx ON room_messages (pitch_id, id DESC);

-- What a passivated room keeps: its stream position and recent history, so a client that
-- reconnects within the history window still recovers after the room slept.
CREATE TABLE room_snapshots (
    room       TEXT PRIMARY KEY,
    epoch      TEXT NOT NULL,
    seq        BIGINT NOT NULL CHECK (seq >= 0),
    history    BYTEA NOT NULL,
    saved_at   TIMESTAMPTZ NOT NULL DEFAULT now()
);
