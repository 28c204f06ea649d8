//! The domain: pure Rust with no HTTP, database, clock or error-policy imports, tested directly
//! (unit and property tests). Everything above (services, routes) calls down into it; nothing
//! here calls up. `architecture.rs` enforces it.
//!
//! - `catalogue`: the exercise catalogue, its model and its validation.
//! - `programme`: screening, prescription, adaptation, calendar, print page and diff of programmes.
//! - `fhir`: programmes and sessions as FHIR R4 Bundles (HL7 Physical Activity IG).
//! - `sessions`: a logged session's input, its normal form, and progress statistics.
//! - `assessments`: capacity tests and their interpretation against norms.
//! - `norms`: the thresholds several of them share (MDC, asymmetry).

pub mod assessments;
pub mod catalogue;
pub mod fhir;
pub mod norms;
pub mod programme;
pub mod sessions;
pub mod webhooks;
