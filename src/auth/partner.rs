//! Partner platforms: client credentials, their tokens, and the per-request check that a
//! user's grant covers what the partner asks to do.

use super::tokens::{self, Scope};
use crate::db::{self, DbPool};
use crate::error::ApiError;
use crate::repository::partners;

/// A verified partner access token (built by [`super::Acting`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartnerCaller {
    pub client_id: String,
    pub scopes: Vec<Scope>,
}

impl PartnerCaller {
    /// Allows the call only if the token has `scope`, the partner is still registered, and
    /// `user_id` has an active grant to it that includes `scope`. Checked on every request, so
    /// revoking a grant or a partner takes effect at once.
    pub async fn authorize(&self, pool: &DbPool, user_id: &str, scope: Scope) -> Result<(), ApiError> {
        if !self.scopes.contains(&scope) {
            return Err(ApiError::InsufficientScope(scope.as_str()));
        }
        let (client, user) = (self.client_id.clone(), user_id.to_owned());
        let grant = db::query(pool, move |conn| partners::active_grant(conn, &client, &user)).await?;
        let grant = grant.ok_or_else(|| {
            ApiError::Forbidden("This user has not granted your platform access (or has revoked it).".into())
        })?;
        let granted = Scope::parse_list(&grant.scopes).unwrap_or_default();
        if granted.contains(&scope) {
            Ok(())
        } else {
            Err(ApiError::InsufficientScope(scope.as_str()))
        }
    }
}

impl PartnerCaller {
    /// The partner's client id, if it is still registered (a revoked partner's tokens stop
    /// working on their next request).
    pub async fn registered(self, pool: &DbPool) -> Result<String, ApiError> {
        let client = self.client_id.clone();
        let partner = db::query(pool, move |conn| partners::find(conn, &client)).await?;
        if partner.is_some_and(|p| p.revoked_at.is_none()) {
            Ok(self.client_id)
        } else {
            Err(ApiError::InvalidToken(
                "this partner is no longer registered".into(),
            ))
        }
    }
}

/// A new client secret (256 random bits, base64url) and its stored hash.
pub fn new_secret() -> (String, String) {
    tokens::new_refresh_token()
}

/// Client secrets are random, so a SHA-256 hash is enough to store them.
pub fn hash_secret(secret: &str) -> String {
    tokens::hash_refresh_token(secret)
}
