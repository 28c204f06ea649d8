//! HTTP plumbing shared by every route: extractors, the request middleware, the fallback.

pub mod conditional;
pub mod extract;
pub mod fallback;
pub mod idempotency;
pub mod middleware;
pub mod rate_limit;

pub use extract::{BodyLimit, BodyTimeout, Id, Json, Query, VersionNumber};

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
