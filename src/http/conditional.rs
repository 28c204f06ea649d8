//! Conditional GET (RFC 9110 §13): strong ETags and `If-None-Match` → 304.

use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, HttpResponseBuilder};
use serde::Serialize;
use sha2::{Digest as _, Sha256};

use crate::http::rendered::Rendered;

/// A strong entity tag from the parts that determine a representation.
pub fn etag(parts: &[&str]) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update(part.as_bytes());
        hasher.update([0]);
    }
    let digest = hasher.finalize();
    let hex: String = digest.iter().take(12).map(|b| format!("{b:02x}")).collect();
    format!("\"{hex}\"")
}

/// Whether `If-None-Match` matches `etag` (weak comparison, as RFC 9110 §13.1.2 requires).
pub fn none_match(req: &HttpRequest, etag: &str) -> bool {
    let opaque = |t: &str| t.trim().trim_start_matches("W/").to_owned();
    let wanted = opaque(etag);
    req.headers().get_all(header::IF_NONE_MATCH).any(|value| {
        value
            .to_str()
            .unwrap_or("")
            .split(',')
            .any(|candidate| candidate.trim() == "*" || opaque(candidate) == wanted)
    })
}

/// 304 when the client's copy is current, otherwise 200 with `body`; both carry the validators.
pub fn cached_json<T: Serialize + ?Sized>(
    req: &HttpRequest,
    etag: &str,
    cache_control: &'static str,
    extra: &[(&'static str, &str)],
    body: &T,
) -> HttpResponse {
    match validators(req, etag, cache_control, extra) {
        (mut builder, true) => builder.finish(),
        (mut builder, false) => builder.json(body),
    }
}

/// [`cached_json`] for a response rendered earlier (see [`crate::http::rendered`]).
pub fn cached_rendered(req: &HttpRequest, rendered: &Rendered, cache_control: &'static str) -> HttpResponse {
    let extra: Vec<(&'static str, &str)> = rendered.headers.iter().map(|(n, v)| (*n, v.as_str())).collect();
    match validators(req, &rendered.etag, cache_control, &extra) {
        (mut builder, true) => builder.finish(),
        (mut builder, false) => builder
            .content_type(header::ContentType::json())
            .body(rendered.body.clone()),
    }
}

/// [`cached_json`] for a body that is already text of `content_type` (a calendar).
pub fn cached_text(
    req: &HttpRequest,
    etag: &str,
    cache_control: &'static str,
    content_type: &'static str,
    body: String,
) -> HttpResponse {
    match validators(req, etag, cache_control, &[]) {
        (mut builder, true) => builder.finish(),
        (mut builder, false) => builder.content_type(content_type).body(body),
    }
}

/// A 304 or 200 builder with the validators and `extra` headers set; true when it is a 304.
fn validators(
    req: &HttpRequest,
    etag: &str,
    cache_control: &'static str,
    extra: &[(&'static str, &str)],
) -> (HttpResponseBuilder, bool) {
    let not_modified = none_match(req, etag);
    let mut builder = if not_modified {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    builder
        .insert_header((header::ETAG, etag))
        .insert_header((header::CACHE_CONTROL, cache_control))
        .insert_header((header::VARY, "Accept-Encoding"));
    for (name, value) in extra {
        if let Ok(value) = HeaderValue::from_str(value) {
            builder.insert_header((*name, value));
        }
    }
    (builder, not_modified)
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    #[test]
    fn etags_are_quoted_and_depend_on_every_part() {
        let a = etag(&["v1", "x"]);
        assert!(a.starts_with('"') && a.ends_with('"'));
        assert_ne!(a, etag(&["v1", "y"]));
        assert_ne!(etag(&["v1x", ""]), etag(&["v1", "x"]));
    }

    #[test]
    fn if_none_match_uses_weak_comparison_and_lists() {
        let tag = etag(&["a"]);
        let req = TestRequest::default()
            .insert_header(("If-None-Match", format!("\"zzz\", W/{tag}")))
            .to_http_request();
        assert!(none_match(&req, &tag));
        let req = TestRequest::default()
            .insert_header(("If-None-Match", "*"))
            .to_http_request();
        assert!(none_match(&req, &tag));
        let req = TestRequest::default()
            .insert_header(("If-None-Match", "\"other\""))
            .to_http_request();
        assert!(!none_match(&req, &tag));
        assert!(!none_match(&TestRequest::default().to_http_request(), &tag));
    }
}
