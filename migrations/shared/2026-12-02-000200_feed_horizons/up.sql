-- The change feed's purge horizon, per user: the highest position of that user's tombstones
-- purged so far. A cursor older than its own user's horizon gets 410; other users' purges no
-- longer touch it. Seeded with the old global horizon, so cursors issued before stay safe.
CREATE TABLE feed_horizons (
    user_id TEXT PRIMARY KEY NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    seq     BIGINT NOT NULL
);
INSERT INTO feed_horizons (user_id, seq)
SELECT users.id, CAST(app_meta.value AS BIGINT)
FROM users, app_meta
WHERE app_meta.key = 'sessions_purged_seq';
