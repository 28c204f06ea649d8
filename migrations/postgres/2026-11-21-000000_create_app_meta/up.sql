CREATE TABLE app_meta (
    key        TEXT PRIMARY KEY NOT NULL,
    value      TEXT NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
INSERT INTO app_meta (key, value, updated_at) VALUES ('schema_created', 'soleus-api', (now() AT TIME ZONE 'utc'));
