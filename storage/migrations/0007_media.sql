-- Pitch media (posters, decks, videos). The bytes live in the blob store (a local directory or an
-- S3-compatible bucket such as R2) under `storage_key`; this table is the only index of them, so a
-- row exists only for an object that was stored whole and passed its content check.

CREATE TABLE pitch_media (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    pitch_id      BIGINT NOT NULL REFERENCES pitches (id) ON DELETE CASCADE,
    uploaded_by   BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind          TEXT NOT NULL,
    storage_key   TEXT NOT NULL,
    content_type  TEXT NOT NULL,
    size_bytes    BIGINT NOT NULL,
    sha256        TEXT NOT NULL,
    original_name TEXT,
    protected     BOOLEAN NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT pitch_media_kind_check CHECK (kind IN ('poster', 'deck', 'video')),
    CONSTRAINT pitch_media_key_check CHECK (storage_key ~ '^pitches/[0-9]+/[0-9a-f]{32}\.[a-z0-9]{2,5}$'),
    CONSTRAINT pitch_media_type_check CHECK (content_type IN (
        'image/jpeg', 'image/png', 'image/webp', 'application/pdf',
        'video/mp4', 'video/quicktime', 'video/webm')),
    CONSTRAINT pitch_media_size_check CHECK (size_bytes > 0),
    CONSTRAINT pitch_media_sha256_check CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    CONSTRAINT pitch_media_name_length CHECK (original_name IS NULL OR length(original_name) BETWEEN 1 AND 255)
);
CREATE UNIQUE INDEX pitch_media_key_idx ON pitch_media (storage_key);
CREATE INDEX pitch_media_pitch_idx ON pitch_media (pitch_id, created_at, id);
