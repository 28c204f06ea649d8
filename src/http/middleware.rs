//! The one middleware every request passes through.
//!
//! * assigns the request id (echoing a sane client `X-Request-Id`) and returns it on every response;
//! * answers `HEAD` like `GET` (the body is dropped by the server);
//! * makes every error a problem document with `instance` and `request_id`, including errors
//!   raised by actix itself or by the docs service;
//! * writes one JSON log line per request, naming the caller (a user id or a partner's client
//!   id; never a token or an e-mail address) and the W3C trace it belongs to: a valid
//!   `traceparent` is continued (its trace id, our own span id, its flags) and answered in the
//!   `traceresponse` header (Trace Context Level 2); without one a new trace starts. A path
//!   that is itself a secret (a calendar address) is logged with the secret replaced.
//! * counts the request for `/metrics` and marks deprecated operations (when configured).

use std::time::Instant;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{HttpMessage as _, HttpResponse};
use tracing::Instrument as _;

use crate::error::{ApiError, PROBLEM_JSON, Problem};
use crate::http::deprecation::{self, Deprecation};

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// A client-supplied id is echoed when it is 1–128 visible ASCII characters without spaces.
fn sane_request_id(value: &HeaderValue) -> Option<String> {
    let s = value.to_str().ok()?;
    let ok = !s.is_empty() && s.len() <= 128 && s.bytes().all(|b| b.is_ascii_graphic());
    ok.then(|| s.to_owned())
}

/// W3C Trace Context: the trace id and flags of a valid `traceparent`
/// (`00-<32 hex>-<16 hex>-<2 hex>`, neither id all zeros), or `None`.
pub fn parse_traceparent(value: &str) -> Option<(String, String)> {
    let mut parts = value.trim().split('-');
    let (version, trace, parent, flags) = (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    let hex = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    // Version 00 has exactly four fields; a later version may append more (§3.2.4).
    let fields_ok = version != "00" || parts.next().is_none();
    let valid = hex(version, 2)
        && version != "ff"
        && fields_ok
        && hex(trace, 32)
        && hex(parent, 16)
        && hex(flags, 2)
        && trace.bytes().any(|b| b != b'0')
        && parent.bytes().any(|b| b != b'0');
    valid.then(|| (trace.to_owned(), flags.to_owned()))
}

const TRACEPARENT: HeaderName = HeaderName::from_static("traceparent");
const TRACERESPONSE: HeaderName = HeaderName::from_static("traceresponse");

/// The path as logged: a calendar address is a credential, so its token is replaced.
pub fn loggable_path(path: &str) -> std::borrow::Cow<'_, str> {
    match path.strip_prefix("/v1/calendars/") {
        Some(_) => "/v1/calendars/{token}.ics".into(),
        None => path.into(),
    }
}

/// Methods as metric labels: a fixed set, so made-up methods cannot add series.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        _ => "OTHER",
    }
}

/// The bearer token `GET /metrics` requires (`SOLEUS_METRICS_TOKEN`); requests are counted
/// only when it is configured.
#[derive(Debug, Clone)]
pub struct MetricsToken(pub String);

/// The request id of the current request, for handlers that want to log or return it.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

pub async fn request_context(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let started = Instant::now();
    let request_id = req
        .headers()
        .get(&REQUEST_ID)
        .and_then(sane_request_id)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let method = req.method().clone();
    if method == Method::HEAD {
        req.head_mut().method = Method::GET;
    }
    let path = req.path().to_owned();
    req.extensions_mut().insert(RequestId(request_id.clone()));
    let (trace_id, flags) = req
        .headers()
        .get(&TRACEPARENT)
        .and_then(|v| v.to_str().ok())
        .and_then(parse_traceparent)
        .unwrap_or_else(|| (uuid::Uuid::new_v4().simple().to_string(), "00".to_owned()));
    let span_id = format!("{:016x}", rand::random::<u64>() | 1);
    let span = tracing::info_span!(
        "request",
        request_id = %request_id,
        trace_id = %trace_id,
        span_id = %span_id,
        method = %method,
        path = %loggable_path(&path),
        caller = tracing::field::Empty,
    );

    // Handler and extractor errors arrive as responses carrying the error; `?` only passes on
    // failures of the service chain itself, which actix renders.
    let carries_credentials = req.headers().contains_key(actix_web::http::header::AUTHORIZATION);
    // A NUL character reaches no handler: no text column takes it (PostgreSQL refuses it).
    let mut res = if req.uri().path().contains("%00") {
        let refused = crate::error::ApiError::bad_request("The path must not contain a NUL character (%00).");
        req.error_response(refused)
    } else {
        next.call(req)
            .instrument(span.clone())
            .await?
            .map_into_boxed_body()
    };
    if let Some(verified) = res
        .request()
        .extensions()
        .get::<crate::http::rate_limit::Verified>()
    {
        span.record("caller", verified.0.caller());
    }
    if res.status().is_client_error() || res.status().is_server_error() {
        res = to_problem(res, &path, &request_id);
    }
    if let Ok(value) = HeaderValue::from_str(&format!("00-{trace_id}-{span_id}-{flags}")) {
        res.headers_mut().insert(TRACERESPONSE, value);
    }
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        res.headers_mut().insert(REQUEST_ID, value);
    }
    harden(res.headers_mut(), carries_credentials);
    let status = res.status().as_u16();
    let deprecations = res
        .request()
        .app_data::<actix_web::web::Data<Vec<Deprecation>>>()
        .filter(|list| !list.is_empty())
        .cloned();
    let metrics = res
        .request()
        .app_data::<actix_web::web::Data<MetricsToken>>()
        .is_some();
    // The route template costs a second match of the route table: only when something uses it.
    if metrics || deprecations.is_some() {
        let route = res.request().match_pattern();
        let route = route.as_deref().unwrap_or("unmatched");
        // HEAD was answered as GET: it is deprecated with it.
        let answered_as = res.request().method().as_str().to_owned();
        if let Some(deprecation) = deprecations
            .as_ref()
            .and_then(|l| deprecation::find(l, &answered_as, route))
        {
            deprecation::annotate(res.headers_mut(), deprecation);
        }
        if metrics {
            crate::metrics::request(
                method_label(&method),
                route,
                status,
                started.elapsed().as_secs_f64(),
            );
        }
    }
    let duration_us = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
    span.in_scope(|| tracing::info!(status, duration_us, "request finished"));
    Ok(res)
}

/// Outermost: one `Vary` field. Conditional GETs name `Accept-Encoding` themselves (so every
/// variant says so) and the compressor adds it again when it compresses; merge the two.
pub async fn single_vary(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let mut res = next.call(req).await?;
    let headers = res.headers_mut();
    if headers.get_all(header::VARY).nth(1).is_some() {
        let mut names: Vec<String> = Vec::new();
        for value in headers.get_all(header::VARY) {
            for name in value.to_str().unwrap_or_default().split(',').map(str::trim) {
                if !name.is_empty() && !names.iter().any(|n| n.eq_ignore_ascii_case(name)) {
                    names.push(name.to_owned());
                }
            }
        }
        if let Ok(value) = HeaderValue::from_str(&names.join(", ")) {
            headers.insert(header::VARY, value);
        }
    }
    Ok(res)
}

/// Security headers on every response (OWASP secure headers): no MIME sniffing, no referrer,
/// HTML pages (the docs) neither framed nor loading foreign scripts, and nothing that answers a
/// credentialed request kept in a cache unless the handler chose its own caching.
fn harden(headers: &mut actix_web::http::header::HeaderMap, carries_credentials: bool) {
    use actix_web::http::header;
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    let html = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    if html && !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(
                "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
            ),
        );
    }
    if html {
        headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    }
    if carries_credentials && !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
}

/// Re-renders an error response as a problem document carrying `instance` and `request_id`.
fn is_html(res: &ServiceResponse<BoxBody>) -> bool {
    res.headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|ct| ct.as_bytes().starts_with(b"text/html"))
}

fn to_problem(res: ServiceResponse<BoxBody>, path: &str, request_id: &str) -> ServiceResponse<BoxBody> {
    let status = res.status();
    let is_problem = res
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|ct| ct.as_bytes().starts_with(PROBLEM_JSON.as_bytes()));
    let api_error = res.response().error().and_then(|e| e.as_error::<ApiError>());
    let problem = match api_error {
        Some(err) => err.problem(),
        // Pages (the OAuth consent page) answer their errors in HTML, for people.
        None if is_problem || is_html(&res) => return res,
        None => problem_for_status(status, res.response().error().map(ToString::to_string)),
    };
    let problem = Problem {
        instance: Some(path.to_owned()),
        request_id: Some(request_id.to_owned()),
        ..problem
    };
    let (req, old) = res.into_parts();
    let mut builder = HttpResponse::build(status);
    // Keep headers such as Allow, WWW-Authenticate and Retry-After.
    for (name, value) in old.headers() {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            builder.append_header((name.clone(), value.clone()));
        }
    }
    let new = builder.content_type(PROBLEM_JSON).json(problem);
    ServiceResponse::new(req, new)
}

/// A problem for an error that did not come from [`ApiError`] (actix internals, the docs service).
fn problem_for_status(status: StatusCode, detail: Option<String>) -> Problem {
    let err = match status.as_u16() {
        400 => ApiError::bad_request(detail.unwrap_or_else(|| "The request is malformed.".into())),
        404 => ApiError::NotFound(detail.unwrap_or_else(|| "No such resource.".into())),
        413 => ApiError::PayloadTooLarge { limit: 0 },
        415 => ApiError::UnsupportedMediaType(detail.unwrap_or_default()),
        s if s >= 500 => ApiError::Internal(anyhow::anyhow!(detail.unwrap_or_default())),
        _ => {
            return Problem {
                type_uri: "about:blank".into(),
                title: status.canonical_reason().unwrap_or("Error").into(),
                status: status.as_u16(),
                detail,
                instance: None,
                request_id: None,
                error: None,
                error_description: None,
                errors: Vec::new(),
            };
        }
    };
    let mut problem = err.problem();
    if status.as_u16() == 413 {
        problem.detail = Some("The request body is too large.".into());
    }
    problem.status = status.as_u16();
    problem
}

#[cfg(test)]
mod tests {
    #[test]
    fn calendar_secrets_are_not_logged_and_method_labels_are_bounded() {
        use actix_web::http::Method;
        assert_eq!(
            super::loggable_path("/v1/calendars/s3cr3t.ics"),
            "/v1/calendars/{token}.ics"
        );
        assert_eq!(super::loggable_path("/v1/me/sessions/abc"), "/v1/me/sessions/abc");
        assert_eq!(
            super::method_label(&Method::from_bytes(b"FOO1").unwrap()),
            "OTHER"
        );
        assert_eq!(super::method_label(&Method::PATCH), "PATCH");
    }

    #[test]
    fn a_traceparent_is_continued_only_when_valid() {
        use super::parse_traceparent as p;
        let trace = "4bf92f3577b34da6a3ce929d0e0e4736";
        assert_eq!(
            p(&format!("00-{trace}-00f067aa0ba902b7-01")),
            Some((trace.to_owned(), "01".to_owned()))
        );
        assert!(p(&format!("00-{trace}-00f067aa0ba902b7-01-extra")).is_none());
        assert!(
            p(&format!("01-{trace}-00f067aa0ba902b7-01-extra")).is_some(),
            "a later version may add fields"
        );
        assert!(p(&format!("ff-{trace}-00f067aa0ba902b7-01")).is_none());
        assert!(p("00-00000000000000000000000000000000-00f067aa0ba902b7-01").is_none());
        assert!(p(&format!("00-{trace}-0000000000000000-01")).is_none());
        assert!(p(&format!("00-{}-00f067aa0ba902b7-01", trace.to_uppercase())).is_none());
        assert!(p("00-abc-def-01").is_none());
        assert!(p("").is_none());
    }
}
