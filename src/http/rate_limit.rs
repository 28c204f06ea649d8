//! Rate limits on every route, as a middleware over [`crate::limits`]: a budget per caller (a
//! user's token, a partner's client, or the client address for anonymous calls) and per kind
//! of request.
//!
//! Every limited response carries the IETF `RateLimit-Policy` and `RateLimit` fields
//! (draft-ietf-httpapi-ratelimit-headers): `"read";q=1200;w=60` and `"read";r=1187;t=23`.
//! A refused request is a 429 problem with `Retry-After`.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{HttpMessage as _, web};

use crate::auth::AuthState;
use crate::auth::tokens::{Claims, TokenKind};
use crate::error::ApiError;
use crate::limits::{Class, Limiter};

/// The budget a request spends, or `None` for the probes orchestrators poll.
pub fn class_of(method: &Method, path: &str) -> Option<Class> {
    if matches!(path, "/healthz" | "/readyz" | "/metrics") {
        return None;
    }
    Some(
        if path.starts_with("/v1/auth/") || path.starts_with("/v1/oauth/") {
            Class::Auth
        } else if path == "/v1/programmes/preview" || path == "/v1/programmes/simulate" {
            Class::Expensive
        } else if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
            Class::Read
        } else {
            Class::Write
        },
    )
}

pub const RATELIMIT: HeaderName = HeaderName::from_static("ratelimit");
pub const RATELIMIT_POLICY: HeaderName = HeaderName::from_static("ratelimit-policy");

/// Who is calling, for the budget: a valid token's subject, else the client address. The
/// verified claims are kept for the route's extractor, which then does not verify again.
fn caller(req: &ServiceRequest, auth: &AuthState) -> (String, bool) {
    let token = crate::auth::extract::bearer(req.request()).ok();
    if let Some(claims) = token.and_then(|t| auth.verify(t).ok()) {
        let partner = claims.typ == TokenKind::Partner;
        let who = claims.caller();
        req.extensions_mut().insert(Verified(claims));
        return (who, partner);
    }
    (format!("address:{}", auth.client_address(req.request())), false)
}

/// A bearer token the rate limiter already verified for this request.
#[derive(Debug, Clone)]
pub struct Verified(pub Claims);

/// The middleware: counts the request, refuses it with 429 past the budget, and adds the
/// `RateLimit` fields to the response.
pub async fn limit(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let limiter = req.app_data::<web::Data<Limiter>>().cloned();
    let auth = req.app_data::<web::Data<AuthState>>().cloned();
    let (Some(limiter), Some(auth), Some(class)) = (limiter, auth, class_of(req.method(), req.path())) else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    let (who, partner) = caller(&req, &auth);
    let Some(decision) = limiter.check(class, &who, partner, chrono::Utc::now().timestamp()) else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    let mut res = if decision.allowed {
        next.call(req).await?.map_into_boxed_body()
    } else {
        tracing::info!(class = class.as_str(), caller = %who, "rate limited");
        crate::metrics::rate_limited(class.as_str());
        req.error_response(ApiError::TooManyRequests {
            retry_after_secs: u64::from(decision.reset_secs.max(1)),
        })
    };
    let name = decision.class.as_str();
    let fields = [
        (
            RATELIMIT_POLICY,
            format!("\"{name}\";q={};w={}", decision.quota, decision.window_secs),
        ),
        (
            RATELIMIT,
            format!("\"{name}\";r={};t={}", decision.remaining, decision.reset_secs),
        ),
    ];
    for (header, value) in fields {
        if let Ok(value) = HeaderValue::from_str(&value) {
            res.headers_mut().insert(header, value);
        }
    }
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_request_spends_the_budget_of_its_kind() {
        assert_eq!(class_of(&Method::GET, "/v1/exercises"), Some(Class::Read));
        assert_eq!(class_of(&Method::POST, "/v1/me/sessions"), Some(Class::Write));
        assert_eq!(class_of(&Method::POST, "/v1/auth/token"), Some(Class::Auth));
        assert_eq!(class_of(&Method::POST, "/v1/oauth/token"), Some(Class::Auth));
        assert_eq!(
            class_of(&Method::POST, "/v1/programmes/preview"),
            Some(Class::Expensive)
        );
        assert_eq!(class_of(&Method::GET, "/healthz"), None);
        assert_eq!(class_of(&Method::GET, "/readyz"), None);
    }
}
