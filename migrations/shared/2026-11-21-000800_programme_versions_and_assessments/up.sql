-- Programmes adapt: each adaptation adds a version; the programmes row keeps the latest
-- document, its version number and status, and whether logging a session adapts it.
ALTER TABLE programmes ADD COLUMN current_version INTEGER NOT NULL DEFAULT 1;
ALTER TABLE programmes ADD COLUMN status TEXT NOT NULL DEFAULT 'active';
ALTER TABLE programmes ADD COLUMN auto_adapt BOOLEAN NOT NULL DEFAULT FALSE;

-- `cause`: generated | adapt (asked for) | session (a linked session was logged).
-- `adaptation`: JSON of the decisions that made this version ({} for version 1).
CREATE TABLE programme_versions (
    programme_id TEXT NOT NULL REFERENCES programmes (id) ON DELETE CASCADE,
    version      INTEGER NOT NULL,
    cause        TEXT NOT NULL,
    status       TEXT NOT NULL,
    adaptation   TEXT NOT NULL,
    document     TEXT NOT NULL,
    created_at   TIMESTAMP NOT NULL,
    PRIMARY KEY (programme_id, version)
);
INSERT INTO programme_versions (programme_id, version, cause, status, adaptation, document, created_at)
SELECT id, 1, 'generated', 'active', '{}', document, created_at FROM programmes;

-- Capacity tests. `content` is the result as sent (JSON); interpretation is computed on read.
CREATE TABLE assessments (
    id           TEXT PRIMARY KEY NOT NULL,
    user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    test         TEXT NOT NULL,
    performed_at TIMESTAMP NOT NULL,
    content      TEXT NOT NULL,
    created_at   TIMESTAMP NOT NULL
);
CREATE INDEX assessments_user_performed ON assessments (user_id, performed_at, id);

-- Adaptation reads one programme's sessions (partial: most sessions belong to no programme).
CREATE INDEX sessions_user_programme ON sessions (user_id, programme_id, started_at) WHERE programme_id IS NOT NULL;
