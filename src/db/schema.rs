//! Hand-kept diesel schema, portable types only (Text, Integer, BigInt, Double, Bool, Timestamp):
//! `migrations/shared` plus each engine's own few (`migrations/sqlite`, `migrations/postgres`)
//! must produce these columns.

diesel::table! {
    /// The change feed's purge horizon per user: the highest position of their purged tombstones.
    feed_horizons (user_id) {
        user_id -> Text,
        seq -> BigInt,
    }
}

diesel::table! {
    /// Fixed-window counters of the login and registration limits, shared by all replicas.
    rate_counters (key) {
        key -> Text,
        window_start -> Timestamp,
        count -> Integer,
    }
}

diesel::table! {
    /// Key/value facts about this database (e.g. the loaded catalogue dataset version).
    app_meta (key) {
        key -> Text,
        value -> Text,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    /// A copy of the catalogue (see `repository::exercises`).
    exercises (id) {
        id -> Text,
        name -> Text,
        /// The exercise as JSON, as the API serves it.
        document -> Text,
        dataset_version -> Text,
        retired -> Bool,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    users (id) {
        id -> Text,
        /// Lower-cased.
        email -> Text,
        /// argon2id PHC string.
        password_hash -> Text,
        birth_year -> Nullable<Integer>,
        sex -> Nullable<Text>,
        body_mass_kg -> Nullable<Double>,
        activity_level -> Nullable<Text>,
        units -> Text,
        preferred_days -> Nullable<Integer>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    refresh_tokens (id) {
        id -> Text,
        user_id -> Text,
        family_id -> Text,
        token_hash -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
        /// The partner holding it for the user (OAuth consent); NULL for the user's own login.
        client_id -> Nullable<Text>,
        /// The scopes a partner's token was granted.
        scopes -> Nullable<Text>,
    }
}

diesel::table! {
    /// Authorization codes (RFC 6749 §4.1), single-use, stored as hashes.
    oauth_codes (code_hash) {
        code_hash -> Text,
        client_id -> Text,
        user_id -> Text,
        redirect_uri -> Text,
        scopes -> Text,
        code_challenge -> Text,
        family_id -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    partners (id) {
        /// The client id.
        id -> Text,
        name -> Text,
        secret_hash -> Text,
        scopes -> Text,
        created_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
        /// Registered redirect URIs, one per line (exact match, RFC 9700).
        redirect_uris -> Text,
    }
}

diesel::table! {
    partner_grants (id) {
        id -> Text,
        user_id -> Text,
        partner_id -> Text,
        scopes -> Text,
        created_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    programmes (id) {
        id -> Text,
        user_id -> Text,
        /// `app` or the partner's client id.
        source -> Text,
        generator_version -> Text,
        request -> Text,
        /// The latest version's document.
        document -> Text,
        created_at -> Timestamp,
        current_version -> Integer,
        /// `active` or `suspended`.
        status -> Text,
        /// Adapt when a linked session is logged.
        auto_adapt -> Bool,
    }
}

diesel::table! {
    programme_versions (programme_id, version) {
        programme_id -> Text,
        version -> Integer,
        /// `generated`, `adapt` or `session`.
        cause -> Text,
        status -> Text,
        /// JSON: the decisions that made this version.
        adaptation -> Text,
        document -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    assessments (id) {
        id -> Text,
        user_id -> Text,
        test -> Text,
        performed_at -> Timestamp,
        /// The result as sent (JSON).
        content -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    sessions (id) {
        id -> Text,
        user_id -> Text,
        programme_id -> Nullable<Text>,
        /// UTC.
        started_at -> Timestamp,
        utc_offset_minutes -> Integer,
        duration_seconds -> Integer,
        /// `app` or the partner's client id.
        source -> Text,
        external_id -> Nullable<Text>,
        external_version -> Nullable<BigInt>,
        /// JSON: efforts, pain, notes, sets, programme week and session.
        content -> Text,
        content_hash -> Text,
        version -> BigInt,
        seq -> BigInt,
        deleted -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    change_counters (name) {
        name -> Text,
        value -> BigInt,
    }
}

diesel::table! {
    idempotency_keys (owner, key) {
        owner -> Text,
        key -> Text,
        request_hash -> Text,
        /// 0 while the first request is still being processed.
        status -> Integer,
        /// JSON object of the replayed response headers.
        headers -> Text,
        body -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    /// The event log: the partner change feed and the webhook outbox.
    events (seq) {
        seq -> BigInt,
        id -> Text,
        user_id -> Text,
        /// Set for grant events: only this partner hears about them.
        partner_id -> Nullable<Text>,
        #[sql_name = "type"]
        kind -> Text,
        /// JSON.
        data -> Text,
        created_at -> Timestamp,
    }
}
diesel::table! {
    webhook_endpoints (id) {
        id -> Text,
        partner_id -> Text,
        url -> Text,
        description -> Text,
        /// Space-separated.
        event_types -> Text,
        enabled -> Bool,
        disabled_reason -> Nullable<Text>,
        secret -> Text,
        previous_secret -> Nullable<Text>,
        previous_secret_expires_at -> Nullable<Timestamp>,
        delivered_seq -> BigInt,
        failures -> Integer,
        next_attempt_at -> Timestamp,
        lease_owner -> Nullable<Text>,
        lease_expires_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}
diesel::table! {
    webhook_deliveries (id) {
        id -> Text,
        endpoint_id -> Text,
        event_seq -> BigInt,
        event_id -> Text,
        event_type -> Text,
        attempt -> Integer,
        /// `scheduled`, `manual` or `test`.
        cause -> Text,
        status_code -> Nullable<Integer>,
        error -> Nullable<Text>,
        latency_ms -> Integer,
        succeeded -> Bool,
        created_at -> Timestamp,
    }
}
diesel::table! {
    /// A programme's secret calendar URL (the hash of its token).
    calendar_subscriptions (programme_id) {
        programme_id -> Text,
        token_hash -> Text,
        created_at -> Timestamp,
    }
}

diesel::joinable!(calendar_subscriptions -> programmes (programme_id));
diesel::joinable!(refresh_tokens -> users (user_id));
diesel::joinable!(sessions -> users (user_id));
diesel::joinable!(programmes -> users (user_id));
diesel::joinable!(programme_versions -> programmes (programme_id));
diesel::joinable!(assessments -> users (user_id));
diesel::joinable!(partner_grants -> users (user_id));
diesel::joinable!(partner_grants -> partners (partner_id));
diesel::joinable!(webhook_deliveries -> webhook_endpoints (endpoint_id));
diesel::allow_tables_to_appear_in_same_query!(
    app_meta,
    exercises,
    users,
    refresh_tokens,
    partners,
    partner_grants,
    oauth_codes,
    programmes,
    programme_versions,
    calendar_subscriptions,
    assessments,
    events,
    webhook_endpoints,
    webhook_deliveries
);
