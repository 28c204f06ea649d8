//! HTTP plumbing shared by every route: extractors, the request middleware, the fallback.

pub mod conditional;
pub mod extract;
pub mod fallback;
pub mod idempotency;
pub mod middleware;

pub use extract::{BodyLimit, BodyTimeout, Id, Json, Query, VersionNumber};
