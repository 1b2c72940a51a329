-- NDA templates and signing: a creator's NDA texts in versions, the template a pitch requires, the
-- requester's acceptance of one exact version and the owner's countersignature on each NDA, and
-- an end date after which an approved NDA lapses ('expired').

-- A template is a name for a line of versions; what is signed is always one version.
-- archived_at: deleted by its owner while agreements still refer to its versions (those keep
-- them); an archived template is not listed and no pitch may choose it.
CREATE TABLE nda_templates (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    owner_id        BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    current_version INTEGER NOT NULL DEFAULT 1,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    archived_at     TIMESTAMPTZ
);
CREATE INDEX nda_templates_owner_idx ON nda_templates (owner_id, updated_at DESC)
    WHERE archived_at IS NULL;

-- Versions are never changed: an edit adds the next one. content_hash is the SHA-256 (hex) of the
-- text the requester reads and accepts (title, body, term, jurisdiction; see
-- storage/nda_templates.py: content_hash), recorded on every NDA signed under it.
CREATE TABLE nda_template_versions (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    template_id  BIGINT NOT NULL REFERENCES nda_templates (id) ON DELETE CASCADE,
    version      INTEGER NOT NULL,
    title        TEXT NOT NULL,
    body         TEXT NOT NULL,
    term_months  INTEGER NOT NULL,
    jurisdiction TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT nda_template_versions_once UNIQUE (template_id, version),
    CONSTRAINT nda_template_versions_title CHECK (length(btrim(title)) BETWEEN 1 AND 200),
    CONSTRAINT nda_template_versions_body CHECK (length(btrim(body)) BETWEEN 1 AND 50000),
    CONSTRAINT nda_template_versions_term CHECK (term_months BETWEEN 1 AND 120),
    CONSTRAINT nda_template_versions_jurisdiction CHECK (length(btrim(jurisdiction)) BETWEEN 1 AND 200),
    CONSTRAINT nda_template_versions_hash CHECK (content_hash ~ '^[0-9a-f]{64}$')
);

-- The template a pitch requires. RESTRICT: a template a pitch names cannot disappear under it
-- (the API refuses such a delete with 409 before it gets here).
ALTER TABLE pitches ADD COLUMN nda_template_id BIGINT REFERENCES nda_templates (id) ON DELETE RESTRICT;
CREATE INDEX pitches_nda_template_idx ON pitches (nda_template_id) WHERE nda_template_id IS NOT NULL;

-- Signing. The requester accepts one version (its id and hash, when, from where) with the request;
-- the owner countersigns by approving. expires_at = countersignature + the version's term.
-- RESTRICT: a signed version outlives any attempt to delete its template.
ALTER TABLE nda_requests
    ADD COLUMN template_version_id BIGINT REFERENCES nda_template_versions (id) ON DELETE RESTRICT,
    ADD COLUMN template_hash       TEXT,
    ADD COLUMN accepted_at         TIMESTAMPTZ,
    ADD COLUMN accepted_ip         TEXT,
    ADD COLUMN countersigned_at    TIMESTAMPTZ,
    ADD COLUMN countersigned_ip    TEXT,
    ADD COLUMN expires_at          TIMESTAMPTZ,
    ADD COLUMN expired_at          TIMESTAMPTZ,
    ADD CONSTRAINT nda_acceptance CHECK (
        (template_version_id IS NULL) = (template_hash IS NULL)
        AND (template_version_id IS NULL) = (accepted_at IS NULL)),
    ADD CONSTRAINT nda_expired_when CHECK ((status = 'expired') = (expired_at IS NOT NULL));

ALTER TABLE nda_requests DROP CONSTRAINT nda_status_check;
ALTER TABLE nda_requests ADD CONSTRAINT nda_status_check
    CHECK (status IN ('pending', 'approved', 'rejected', 'revoked', 'expired'));

-- The expiry sweep: approved NDAs by end date.
CREATE INDEX nda_expiry_idx ON nda_requests (expires_at) WHERE status = 'approved' AND expires_at IS NOT NULL;
CREATE INDEX nda_template_version_idx ON nda_requests (template_version_id)
    WHERE template_version_id IS NOT NULL;
