-- A copy of the exercise catalogue, written at start-up from the embedded data file, so that
-- stored sessions can reference exercise ids. Exercises are never deleted: one that leaves the
-- catalogue is marked retired and keeps its id.
CREATE TABLE exercises (
    id              TEXT PRIMARY KEY NOT NULL,
    name            TEXT NOT NULL,
    document        TEXT NOT NULL,
    dataset_version TEXT NOT NULL,
    retired         BOOLEAN NOT NULL DEFAULT FALSE,
    updated_at      TIMESTAMP NOT NULL
);
