-- OAuth 2.0 authorization code with PKCE (RFC 6749 §4.1, RFC 7636): the redirect URIs each
-- partner registered, single-use codes (stored as hashes), and refresh tokens a partner holds
-- for a user who consented (client_id set; NULL for a user's own login).
ALTER TABLE partners ADD COLUMN redirect_uris TEXT NOT NULL DEFAULT '';

ALTER TABLE refresh_tokens ADD COLUMN client_id TEXT NULL REFERENCES partners (id) ON DELETE CASCADE;
ALTER TABLE refresh_tokens ADD COLUMN scopes TEXT NULL;

CREATE TABLE oauth_codes (
    code_hash TEXT PRIMARY KEY NOT NULL,
    client_id TEXT NOT NULL REFERENCES partners (id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    redirect_uri TEXT NOT NULL,
    scopes TEXT NOT NULL,
    code_challenge TEXT NOT NULL,
    -- The refresh-token family the exchange starts: a code presented twice revokes it.
    family_id TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP NULL
);

CREATE INDEX oauth_codes_by_expiry ON oauth_codes (expires_at);
