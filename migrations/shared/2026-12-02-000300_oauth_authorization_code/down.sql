DROP TABLE oauth_codes;
ALTER TABLE refresh_tokens DROP COLUMN scopes;
ALTER TABLE refresh_tokens DROP COLUMN client_id;
ALTER TABLE partners DROP COLUMN redirect_uris;
