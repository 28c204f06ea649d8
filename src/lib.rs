//! soleus-api: exercise catalogue, personalised soleus programmes and workout-session sync.
//!
//! Layout: `routes/` (thin handlers, one module per resource, one registration table),
//! `http/` (extractors, middleware, fallback), `db/` (the diesel connection, pool and schema),
//! `auth/` (keys and tokens), `error.rs` (the problem+json policy), `openapi.rs` (the document).

pub mod assessments;
pub mod auth;
pub mod catalogue;
pub mod cli;
pub mod config;
pub mod db;
pub mod error;
pub mod http;
pub mod openapi;
pub mod programme;
pub mod repository;
pub mod routes;
pub mod sessions;
pub mod startup;
pub mod telemetry;
