-- The pitch catalog: full-text search, browse/trending/following indexes, follow lists.

-- Full-text search over the public-facing fields only (title, logline, genre): never synopsis or
-- budget, which an NDA may protect. The 2-argument to_tsvector with a constant regconfig is
-- immutable, so the column can be generated and kept in step by PostgreSQL itself.
ALTER TABLE pitches ADD COLUMN search tsvector GENERATED ALWAYS AS (
    setweight(to_tsvector('english'::regconfig, coalesce(title, '')), 'A') ||
    setweight(to_tsvector('english'::regconfig, coalesce(logline, '')), 'B') ||
    setweight(to_tsvector('english'::regconfig, coalesce(genre, '')), 'C')
) STORED;
CREATE INDEX pitches_search_idx ON pitches USING gin (search);

-- Browse: published pitches by publication time, counters, genre, title and budget.
CREATE INDEX pitches_published_at_idx ON pitches (published_at DESC, id DESC)
    WHERE status = 'published';
CREATE INDEX pitches_published_views_idx ON pitches (view_count DESC, id DESC)
    WHERE status = 'published';
CREATE INDEX pitches_published_likes_idx ON pitches (like_count DESC, id DESC)
    WHERE status = 'published';
CREATE INDEX pitches_published_genre_idx ON pitches (lower(genre), published_at DESC)
    WHERE status = 'published';
CREATE INDEX pitches_published_title_idx ON pitches (lower(title), id)
    WHERE status = 'published';
CREATE INDEX pitches_published_budget_idx ON pitches (budget, id)
    WHERE status = 'published';
-- "My pitches" filtered by status.
CREATE INDEX pitches_user_status_idx ON pitches (user_id, status, created_at DESC);

-- Trending reads the last 7 days of views and likes.
CREATE INDEX pitch_views_recent_idx ON pitch_views (viewed_at);
CREATE INDEX pitch_likes_recent_idx ON pitch_likes (created_at);

-- "Whom do I follow", newest first (followers use follows_followee_idx from 0003).
CREATE INDEX follows_follower_idx ON follows (follower_id, created_at DESC);

-- Lists of NDAs by pitch (the owner's incoming list joins on it) and approved holders per pitch
-- (room re-checks); nda_live_key already covers (pitch_id, requester_id) for live ones.
CREATE INDEX nda_pitch_idx ON nda_requests (pitch_id, status);

-- A published pitch always has its publication time, whoever writes the row: set on the first
-- publication and kept through later archive/re-publish cycles.
UPDATE pitches SET published_at = created_at WHERE status = 'published' AND published_at IS NULL;

CREATE FUNCTION pitches_stamp_published() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.status = 'published' AND NEW.published_at IS NULL THEN
        NEW.published_at := now();
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER pitches_stamp_published BEFORE INSERT OR UPDATE OF status, published_at ON pitches
    FOR EACH ROW EXECUTE FUNCTION pitches_stamp_published();
