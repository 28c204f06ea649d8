-- Finds tombstones past the retention window without scanning live sessions.
CREATE INDEX sessions_tombstones ON sessions (deleted, updated_at);
