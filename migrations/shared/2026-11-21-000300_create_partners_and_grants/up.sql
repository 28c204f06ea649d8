-- Partner platforms, registered by an operator (`soleus-api partners create`). The client
-- secret is random and stored only as a SHA-256 hash; scopes are space-separated.
CREATE TABLE partners (
    id          TEXT PRIMARY KEY NOT NULL,
    name        TEXT NOT NULL,
    secret_hash TEXT NOT NULL,
    scopes      TEXT NOT NULL,
    created_at  TIMESTAMP NOT NULL,
    revoked_at  TIMESTAMP
);

-- A user's consent for a partner to act on their data within some scopes.
CREATE TABLE partner_grants (
    id         TEXT PRIMARY KEY NOT NULL,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    partner_id TEXT NOT NULL REFERENCES partners (id) ON DELETE CASCADE,
    scopes     TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    revoked_at TIMESTAMP
);
CREATE INDEX partner_grants_user ON partner_grants (user_id);
CREATE INDEX partner_grants_partner_user ON partner_grants (partner_id, user_id);
