-- Trending without reading the whole catalog (storage/pitches.py: `trending`): the pitches with no
-- recent activity follow the scored ones most liked first, then newest, then by id; this index
-- gives them in exactly that order, so the page stops after its rows instead of sorting every
-- published pitch. (pitches_published_likes_idx orders ties by id only, not by publication.)
CREATE INDEX pitches_published_trending_idx ON pitches (like_count DESC, published_at DESC, id DESC)
    WHERE status = 'published';

-- ... and whether a pitch has a like in the trending window is one probe of this index (the primary
-- key would read every like the pitch ever had; the most liked come first in that order).
-- Views have theirs already (pitch_views_time_idx).
CREATE INDEX pitch_likes_pitch_time_idx ON pitch_likes (pitch_id, created_at);
