-- A secret calendar URL per programme, for calendar apps that cannot send a bearer token:
-- stored as the SHA-256 hash of its token; a new one replaces the old (which stops working);
-- deleted with the programme.
CREATE TABLE calendar_subscriptions (
    programme_id TEXT PRIMARY KEY NOT NULL REFERENCES programmes (id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL UNIQUE,
    created_at TIMESTAMP NOT NULL
);
