-- Fewer index entries per session write (each session write also writes its event).
-- * sessions.seq UNIQUE: no query reads sessions by position alone (the feed reads
--   sessions_user_seq), and positions stay unique system-wide through events' primary key,
--   since every session write stores its event at the session's position.
-- * events.id UNIQUE: ids are UUIDv7 minted here and never looked up; receivers dedupe on them.
-- * events_by_age: the purge walks the primary key instead (positions follow commit time).
ALTER TABLE sessions DROP CONSTRAINT sessions_seq_key;
ALTER TABLE events DROP CONSTRAINT events_id_key;
DROP INDEX events_by_age;
