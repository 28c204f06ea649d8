//! Who is calling. Handlers declare what they need by taking [`AuthUser`] (an end user's
//! token); the extractor verifies the token before the handler runs, so no handler can forget.

use std::future::{Ready, ready};

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, web};

use super::tokens::{self, Scope, TokenConfig, TokenKind};
use super::{keys::KeySet, rate_limit::LoginLimiter};
use crate::error::ApiError;

/// Everything token handling needs, shared by the extractors and the auth routes.
#[derive(Debug)]
pub struct AuthState {
    pub keys: KeySet,
    pub config: TokenConfig,
    pub login_limiter: LoginLimiter,
    /// New accounts per client address (the account key is unused).
    pub register_limiter: LoginLimiter,
    /// Reverse proxies whose `X-Forwarded-For` names the client.
    pub trusted_proxies: Vec<std::net::IpAddr>,
}

impl AuthState {
    /// The client's address: the TCP peer, or behind a trusted proxy the last address in
    /// `X-Forwarded-For` that is not itself a trusted proxy.
    pub fn client_address(&self, req: &actix_web::HttpRequest) -> String {
        let peer = req.peer_addr().map(|a| a.ip());
        if !peer.is_some_and(|p| self.trusted_proxies.contains(&p)) {
            return peer.map(|p| p.to_string()).unwrap_or_default();
        }
        let forwarded: Vec<std::net::IpAddr> = req
            .headers()
            .get_all("x-forwarded-for")
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .filter_map(|a| a.trim().parse().ok())
            .collect();
        forwarded
            .iter()
            .rev()
            .find(|a| !self.trusted_proxies.contains(a))
            .or(forwarded.first())
            .copied()
            .or(peer)
            .map(|a| a.to_string())
            .unwrap_or_default()
    }
}

/// A verified end-user access token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthUser {
    pub id: String,
    pub scopes: Vec<Scope>,
}

impl AuthUser {
    /// 403 `insufficient_scope` unless the token carries `scope`.
    pub fn require(&self, scope: Scope) -> Result<(), ApiError> {
        if self.scopes.contains(&scope) {
            Ok(())
        } else {
            Err(ApiError::InsufficientScope(scope.as_str()))
        }
    }
}

fn bearer(req: &HttpRequest) -> Result<&str, ApiError> {
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
    let claims = tokens::verify(&state.keys, &state.config, bearer(req)?)
        .map_err(|e| ApiError::InvalidToken(e.0.into()))?;
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
