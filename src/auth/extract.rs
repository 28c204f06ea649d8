//! Who is calling. Handlers declare what they need by taking [`AuthUser`] (an end user's
//! token); the extractor verifies the token before the handler runs, so no handler can forget.

use std::future::{Ready, ready};

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpMessage as _, HttpRequest, web};

use super::AuthState;
use super::tokens::{Scope, TokenKind};
use crate::error::ApiError;

/// A verified end-user access token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthUser {
    pub id: String,
    pub scopes: Vec<Scope>,
}

/// The bearer token of `Authorization` (scheme in any case), or the 401 that explains why not.
pub fn bearer(req: &HttpRequest) -> Result<&str, ApiError> {
    let value = req.headers().get(header::AUTHORIZATION).ok_or_else(|| {
        ApiError::Unauthorized("This endpoint needs an access token (Authorization: Bearer …).".into())
    })?;
    let value = value
        .to_str()
        .map_err(|_| ApiError::InvalidToken("the Authorization header is not text".into()))?;
    let (scheme, token) = value.split_once(' ').ok_or_else(|| {
        ApiError::InvalidToken("use the Bearer scheme: Authorization: Bearer <token>".into())
    })?;
    if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
        return Err(ApiError::InvalidToken(
            "use the Bearer scheme: Authorization: Bearer <token>".into(),
        ));
    }
    Ok(token.trim())
}

/// Verifies the bearer token and checks it was issued to `kind`: the subject and scopes.
pub(super) fn verified(req: &HttpRequest, kind: TokenKind) -> Result<(String, Vec<Scope>), ApiError> {
    let state = req
        .app_data::<web::Data<AuthState>>()
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("AuthState is not configured")))?;
    let token = bearer(req)?;
    // The rate limiter verified it already when it was valid.
    let known = req
        .extensions()
        .get::<crate::http::rate_limit::Verified>()
        .map(|v| v.0.clone());
    let claims = match known {
        Some(claims) => claims,
        None => {
            let claims = state
                .verify(token)
                .map_err(|e| ApiError::InvalidToken(e.0.into()))?;
            // Kept for the request log's `caller` (the limiter had no budget for this route).
            req.extensions_mut()
                .insert(crate::http::rate_limit::Verified(claims.clone()));
            claims
        }
    };
    if claims.typ != kind {
        return Err(ApiError::Forbidden(
            match kind {
                TokenKind::User => {
                    "This endpoint is for end users; partners use the routes under /v1/users/{user_id}."
                }
                TokenKind::Partner => {
                    "This route is for partner platforms; end users use the routes under /v1/me."
                }
            }
            .into(),
        ));
    }
    let scopes = Scope::parse_list(&claims.scope)
        .map_err(|_| ApiError::InvalidToken("the token's scope is invalid".into()))?;
    Ok((claims.sub, scopes))
}

impl FromRequest for AuthUser {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(verified(req, TokenKind::User).map(|(id, scopes)| Self { id, scopes }))
    }
}

/// A verified partner access token, for routes about the partner itself (`/v1/partner/…`).
/// [`super::PartnerCaller::registered`] then checks the partner is still registered.
impl FromRequest for super::PartnerCaller {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(verified(req, TokenKind::Partner).map(|(client_id, scopes)| Self { client_id, scopes }))
    }
}
