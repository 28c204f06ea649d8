//! soleus-api: exercise catalogue, personalised soleus programmes and workout-session sync.
//!
//! Arrows point down only: `routes` → `services` → `domain` and `repository` → `db`.
//! `architecture.rs` checks it on the source tree (the domain imports nothing above it, use
//! cases no HTTP, storage no use case, handlers not each other).

/// Accounts, tokens, keys, passwords, rate limits, and the extractors that say who is acting.
pub mod auth;
/// The `soleus-api` subcommands (serve, healthcheck, partners, catalogue checks).
pub mod cli;
/// Settings from `SOLEUS_*` environment variables, validated at start-up.
pub mod config;
/// The diesel connection for SQLite and PostgreSQL, the pool, migrations and transactions.
pub mod db;
/// Pure rules: catalogue, programme engine, sessions, assessments, shared norms.
pub mod domain;
/// The one error type of handlers and use cases, rendered as RFC 9457 problem+json.
pub mod error;
/// Strict extractors, middleware, conditional requests, idempotency keys, the 405 fallback.
pub mod http;
pub mod limits;
/// Prometheus counters and the exposition text (`GET /metrics`).
pub mod metrics;
/// The OpenAPI document, built from the route table.
pub mod openapi;
pub mod outbound;
/// Storage: one module per resource (table), plain diesel queries.
pub mod repository;
/// HTTP handlers: parse, call a use case, respond; one registration table.
pub mod routes;
/// Use cases, one module per capability: the rules that need storage, and their transactions.
pub mod services;
/// Builds the app (state, middleware, routes) and runs the server and its background tasks.
pub mod startup;
/// Logging (text or JSON) and request ids.
pub mod telemetry;
/// Field-level validation errors, shared by every layer.
pub mod validation;

/// The layering rules, as tests.
#[cfg(test)]
mod architecture;
