-- Live co-editing: who may edit a pitch's documents, and the documents themselves as Yjs CRDTs.
--
-- A document is a snapshot (the Yjs v1 encoding of its whole state, and its state vector) plus
-- the updates appended since. Every update is inserted before it is acknowledged or relayed (the
-- output gate); compaction folds the tail into a new snapshot and deletes exactly the rows it
-- folded, so updates appended meanwhile (another node) stay in the tail.

-- Collaborators of a pitch, invited by its owner; pending until they accept. Removing one
-- deletes the row: every document update re-reads it, so a removal holds at the next update.
CREATE TABLE pitch_collaborators (
    pitch_id     BIGINT NOT NULL REFERENCES pitches (id) ON DELETE CASCADE,
    user_id      BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role         TEXT NOT NULL,
    status       TEXT NOT NULL DEFAULT 'pending',
    invited_by   BIGINT REFERENCES users (id) ON DELETE SET NULL,
    invited_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    responded_at TIMESTAMPTZ,
    PRIMARY KEY (pitch_id, user_id),
    CONSTRAINT pitch_collaborators_role_check CHECK (role IN ('editor', 'viewer')),
    CONSTRAINT pitch_collaborators_status_check CHECK (status IN ('pending', 'accepted', 'declined'))
);
CREATE INDEX pitch_collaborators_user_idx ON pitch_collaborators (user_id);

CREATE TABLE pitch_documents (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    pitch_id      BIGINT NOT NULL REFERENCES pitches (id) ON DELETE CASCADE,
    name          TEXT NOT NULL,
    snapshot      BYTEA NOT NULL DEFAULT '\x0000'::bytea,  -- an empty Yjs update
    state_vector  BYTEA NOT NULL DEFAULT '\x00'::bytea,
    size          BIGINT NOT NULL DEFAULT 0,  -- bytes of snapshot plus the tail's updates
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    compacted_at  TIMESTAMPTZ,
    CONSTRAINT pitch_documents_name_check CHECK (name IN ('synopsis', 'treatment', 'notes')),
    CONSTRAINT pitch_documents_once UNIQUE (pitch_id, name)
);

CREATE TABLE document_updates (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    document_id BIGINT NOT NULL REFERENCES pitch_documents (id) ON DELETE CASCADE,
    user_id     BIGINT REFERENCES users (id) ON DELETE SET NULL,
    data        BYTEA NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX document_updates_document_idx ON document_updates (document_id, id);

-- Each compaction's snapshot, kept as a version (who wrote last before it, and when): restoring
-- one is an ordinary new update, nothing is rewritten.
CREATE TABLE document_versions (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    document_id BIGINT NOT NULL REFERENCES pitch_documents (id) ON DELETE CASCADE,
    author_id   BIGINT REFERENCES users (id) ON DELETE SET NULL,
    snapshot    BYTEA NOT NULL,
    size        BIGINT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX document_versions_document_idx ON document_versions (document_id, id);
