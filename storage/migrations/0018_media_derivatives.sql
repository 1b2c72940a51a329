-- Media derivatives (server/tasks/media.py): smaller WEBP renditions written beside the original
-- by the `media.derive` job, under `<storage_key>.<variant>.webp`. This column says which exist:
-- {"w320": {"width": 320, "height": 480, "bytes": 18231}, "w800": {...}, "preview": {...}}, and
-- for a poster "original": {"width": ..., "height": ...} (as displayed, EXIF orientation applied);
-- empty until the job ran (or for ever, for a file that cannot be rendered).
ALTER TABLE pitch_media ADD COLUMN derivatives JSONB NOT NULL DEFAULT '{}';

-- Media uploaded before this migration get their derivatives too: one job per item, as an upload
-- enqueues it (procrastinate's own insert function, so its NOTIFY wakes a worker).
SELECT procrastinate_defer_jobs_v1(ARRAY(
    SELECT ROW(
        'pitchey', 'media.derive', 0, 'media:' || id, NULL,
        jsonb_build_object('mediaId', id), NULL
    )::procrastinate_job_to_defer_v1
    FROM pitch_media ORDER BY id
))
WHERE EXISTS (SELECT 1 FROM pitch_media);
