-- Stored responses for POSTs sent with an Idempotency-Key (kept 24 hours). `owner` scopes the
-- key to one caller (a user, or a partner acting for a user); status 0 marks a request still
-- in flight.
CREATE TABLE idempotency_keys (
    owner        TEXT NOT NULL,
    key          TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    status       INTEGER NOT NULL,
    headers      TEXT NOT NULL,
    body         TEXT NOT NULL,
    created_at   TIMESTAMP NOT NULL,
    PRIMARY KEY (owner, key)
);
