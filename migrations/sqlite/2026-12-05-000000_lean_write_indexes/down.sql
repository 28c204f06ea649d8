CREATE INDEX events_by_age ON events (created_at);
