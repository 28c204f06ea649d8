//! HTTP plumbing shared by every route: extractors, the request middleware, the fallback.

pub mod conditional;
pub mod deprecation;
pub mod extract;
pub mod fallback;
pub mod idempotency;
pub mod middleware;
pub mod rate_limit;
pub mod rendered;

pub use extract::{BodyLimit, BodyTimeout, Id, Json, Query, VersionNumber};

/// Paging for a list: `cursor` from the previous page's `next_cursor`, and `limit`.
#[derive(Debug, serde::Deserialize, validator::Validate, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// From `next_cursor` of the previous page.
    #[validate(length(max = 200))]
    #[param(max_length = 200, pattern = "^[A-Za-z0-9_-]*$")]
    pub cursor: Option<String>,
    /// 1–100, default 20.
    #[validate(range(min = 1, max = 100))]
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
}

/// Compares without an early exit, so the time taken says nothing about a secret.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0_u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// `Link: <this request with cursor=…>; rel="next"` (RFC 8288), for a page that has a next.
pub fn next_link(req: &actix_web::HttpRequest, cursor: &str) -> String {
    let mut pairs: Vec<(String, String)> = form_urlencoded::parse(req.query_string().as_bytes())
        .filter(|(k, _)| k != "cursor")
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    pairs.push(("cursor".into(), cursor.to_owned()));
    let query = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish();
    format!("<{}?{query}>; rel=\"next\"", req.path())
}

/// A FHIR document (`application/fhir+json`), not to be kept by any cache.
pub fn fhir_response(body: &serde_json::Value) -> actix_web::HttpResponse {
    actix_web::HttpResponse::Ok()
        .content_type(crate::domain::fhir::MEDIA_TYPE)
        .insert_header(("Cache-Control", "private, no-store"))
        .body(body.to_string())
}
