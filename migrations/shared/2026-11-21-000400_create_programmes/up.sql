-- Generated programmes, owned by a user. `request` and `document` are JSON text; the document
-- is what the engine produced (it never changes: adaptation will add versions).
CREATE TABLE programmes (
    id                TEXT PRIMARY KEY NOT NULL,
    user_id           TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    source            TEXT NOT NULL,
    generator_version TEXT NOT NULL,
    request           TEXT NOT NULL,
    document          TEXT NOT NULL,
    created_at        TIMESTAMP NOT NULL
);
CREATE INDEX programmes_user_created ON programmes (user_id, created_at, id);
