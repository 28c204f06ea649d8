-- The event log: one row per change partners may hear about (sessions, programme versions,
-- assessments, grants), written in the same transaction as the change. It is both the
-- partner change feed (`GET /v1/partner/changes`) and the webhook outbox: each endpoint keeps
-- the last position it delivered. Positions come from the same mechanism as the session feed
-- (`repository::sessions::next_positions`); a session's event takes the session's position.
CREATE TABLE events (
    seq BIGINT PRIMARY KEY NOT NULL,
    -- Stable across every retry and endpoint: receivers dedupe on it (`webhook-id`).
    id TEXT NOT NULL UNIQUE,
    user_id TEXT NOT NULL,
    -- Set for grant events: only this partner hears about them.
    partner_id TEXT NULL,
    type TEXT NOT NULL,
    -- JSON: the resource as the API returns it, or a thin reference.
    data TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX events_by_user ON events (user_id);
CREATE INDEX events_by_age ON events (created_at);

CREATE TABLE webhook_endpoints (
    id TEXT PRIMARY KEY NOT NULL,
    partner_id TEXT NOT NULL REFERENCES partners (id) ON DELETE CASCADE,
    url TEXT NOT NULL,
    description TEXT NOT NULL,
    -- Space-separated event types.
    event_types TEXT NOT NULL,
    enabled BOOLEAN NOT NULL,
    disabled_reason TEXT NULL,
    -- `whsec_…`: needed in clear to sign. The previous one signs too until it expires.
    secret TEXT NOT NULL,
    previous_secret TEXT NULL,
    previous_secret_expires_at TIMESTAMP NULL,
    -- The last event position delivered (or skipped as not for this endpoint).
    delivered_seq BIGINT NOT NULL,
    -- Consecutive failed attempts on the event at the head.
    failures INTEGER NOT NULL,
    next_attempt_at TIMESTAMP NOT NULL,
    -- The replica delivering to this endpoint now, and until when.
    lease_owner TEXT NULL,
    lease_expires_at TIMESTAMP NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX webhook_endpoints_by_partner ON webhook_endpoints (partner_id);
CREATE INDEX webhook_endpoints_due ON webhook_endpoints (next_attempt_at) WHERE enabled;

CREATE TABLE webhook_deliveries (
    id TEXT PRIMARY KEY NOT NULL,
    endpoint_id TEXT NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    event_seq BIGINT NOT NULL,
    event_id TEXT NOT NULL,
    event_type TEXT NOT NULL,
    -- 1 for the first attempt at this event on this endpoint.
    attempt INTEGER NOT NULL,
    -- `scheduled`, `manual` or `test`.
    cause TEXT NOT NULL,
    status_code INTEGER NULL,
    error TEXT NULL,
    latency_ms INTEGER NOT NULL,
    succeeded BOOLEAN NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX webhook_deliveries_by_endpoint ON webhook_deliveries (endpoint_id, created_at);

INSERT INTO change_counters (name, value) VALUES ('events_purged', 0);
