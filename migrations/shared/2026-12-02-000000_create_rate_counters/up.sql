-- Fixed-window counters for login throttling and registration limits, shared by every
-- replica on one database. `key` is `<limiter>:<account|address>:<value>`.
CREATE TABLE rate_counters (
    key          TEXT PRIMARY KEY NOT NULL,
    window_start TIMESTAMP NOT NULL,
    count        INTEGER NOT NULL
);
CREATE INDEX rate_counters_window ON rate_counters (window_start);
