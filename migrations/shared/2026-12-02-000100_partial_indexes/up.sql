-- Indexes that only some rows need, so the common write (an app's live session) updates
-- fewer of them: tombstones are found by the purge, external ids by partner upserts.
DROP INDEX sessions_tombstones;
CREATE INDEX sessions_tombstones ON sessions (updated_at) WHERE deleted;
DROP INDEX sessions_external;
CREATE UNIQUE INDEX sessions_external ON sessions (user_id, source, external_id) WHERE external_id IS NOT NULL;
