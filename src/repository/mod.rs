//! Storage, one module per resource: sync functions over `&mut AnyConnection` returning
//! `diesel::QueryResult`, knowing nothing of HTTP. Handlers call them through `db::run`.

pub mod app_meta;
pub mod assessments;
pub mod calendar_subscriptions;
pub mod events;
pub mod exercises;
pub mod idempotency;
pub mod oauth_codes;
pub mod partners;
pub mod programmes;
pub mod rate_counters;
pub mod refresh_tokens;
pub mod sessions;
pub mod users;
pub mod webhooks;
