//! One integration-test binary: a real server on a random port over a fresh database per test
//! (SQLite by default; PostgreSQL when `TEST_DATABASE_URL` is set).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod adaptation;
mod auth;
mod catalogue;
mod errors;
mod examples;
mod hardening;
mod helpers;
mod meta;
mod oauth;
mod openapi;
mod ops;
mod partners;
mod process;
mod programmes;
mod replicas;
mod sessions;
mod webhooks;
