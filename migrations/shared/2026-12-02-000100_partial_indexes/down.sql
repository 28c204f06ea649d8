DROP INDEX sessions_external;
CREATE UNIQUE INDEX sessions_external ON sessions (user_id, source, external_id);
DROP INDEX sessions_tombstones;
CREATE INDEX sessions_tombstones ON sessions (deleted, updated_at);
