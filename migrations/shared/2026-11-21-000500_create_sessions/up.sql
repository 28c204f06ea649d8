-- Workout sessions. The logged content (efforts, pain, notes, sets, programme week/session) is
-- one JSON document in `content`; the columns are what queries filter, order and sync on.
-- `seq` is the change-feed position: taken from change_counters inside the writing
-- transaction, so sequence order is commit order and a feed reader never skips a change.
CREATE TABLE sessions (
    id                 TEXT PRIMARY KEY NOT NULL,
    user_id            TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    programme_id       TEXT,
    started_at         TIMESTAMP NOT NULL,
    utc_offset_minutes INTEGER NOT NULL,
    duration_seconds   INTEGER NOT NULL,
    source             TEXT NOT NULL,
    external_id        TEXT,
    external_version   BIGINT,
    content            TEXT NOT NULL,
    content_hash       TEXT NOT NULL,
    version            BIGINT NOT NULL,
    seq                BIGINT NOT NULL UNIQUE,
    deleted            BOOLEAN NOT NULL DEFAULT FALSE,
    created_at         TIMESTAMP NOT NULL,
    updated_at         TIMESTAMP NOT NULL
);
CREATE INDEX sessions_user_started ON sessions (user_id, started_at, id);
CREATE INDEX sessions_user_seq ON sessions (user_id, seq);
CREATE UNIQUE INDEX sessions_external ON sessions (user_id, source, external_id);

CREATE TABLE change_counters (
    name  TEXT PRIMARY KEY NOT NULL,
    value BIGINT NOT NULL
);
INSERT INTO change_counters (name, value) VALUES ('sessions', 0);
