CREATE INDEX events_by_age ON events (created_at);
ALTER TABLE events ADD CONSTRAINT events_id_key UNIQUE (id);
ALTER TABLE sessions ADD CONSTRAINT sessions_seq_key UNIQUE (seq);
