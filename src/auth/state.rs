//! The state token handling shares: keys, token settings, limiters, trusted proxies. Used by
//! the extractors and by the sign-in use cases.

use std::collections::HashMap;
use std::sync::Mutex;

use super::keys::KeySet;
use super::rate_limit::LoginLimiter;
use super::tokens::{self, Claims, InvalidToken, TokenConfig};

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
    /// `SOLEUS_PUBLIC_URL`: the base of the URLs the OAuth metadata names.
    pub public_url: Option<String>,
    /// Access tokens already verified, so a client's next requests skip the signature check.
    pub verified: VerifiedTokens,
}

/// Access tokens whose signature and claims were checked, by their exact text, until they
/// expire. A token is the same bytes each time, and everything [`tokens::verify`] checks but
/// `exp` can only stay true as time passes (`nbf` and `iat` lie behind us once passed; keys
/// are fixed for the process's life), so a hit needs only the expiry test. Only valid tokens are
/// kept, at most [`VerifiedTokens::CAPACITY`]: past that the map starts again empty.
#[derive(Debug, Default)]
pub struct VerifiedTokens(Mutex<HashMap<Box<str>, Claims>>);

impl VerifiedTokens {
    pub const CAPACITY: usize = 50_000;

    fn get(&self, token: &str, now: u64, leeway: u64) -> Option<Claims> {
        let map = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        map.get(token)
            .filter(|claims| claims.exp.saturating_add(leeway) > now)
            .cloned()
    }

    fn put(&self, token: &str, claims: &Claims) {
        let mut map = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if map.len() >= Self::CAPACITY {
            map.clear();
        }
        map.insert(token.into(), claims.clone());
    }
}

impl AuthState {
    /// [`tokens::verify`], remembered for the token's lifetime (see [`VerifiedTokens`]).
    pub fn verify(&self, token: &str) -> Result<Claims, InvalidToken> {
        let now = jsonwebtoken::get_current_timestamp();
        if let Some(claims) = self.verified.get(token, now, self.config.leeway_secs) {
            return Ok(claims);
        }
        let claims = tokens::verify(&self.keys, &self.config, token)?;
        self.verified.put(token, &claims);
        Ok(claims)
    }

    /// The API's public base URL: `SOLEUS_PUBLIC_URL` (true: configured, cacheable), or else
    /// the request's own scheme and host (false: the caller controls `X-Forwarded-Host`, so no
    /// shared cache may keep an answer built from it).
    pub fn public_base(&self, req: &actix_web::HttpRequest) -> (String, bool) {
        match &self.public_url {
            Some(url) => (url.clone(), true),
            None => {
                let info = req.connection_info();
                (format!("{}://{}", info.scheme(), info.host()), false)
            }
        }
    }

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::tokens::TokenKind;

    fn claims(sub: &str, exp: u64) -> Claims {
        Claims {
            iss: "iss".into(),
            aud: "aud".into(),
            sub: sub.into(),
            iat: 0,
            nbf: 0,
            exp,
            jti: sub.into(),
            scope: String::new(),
            typ: TokenKind::User,
        }
    }

    #[test]
    fn a_remembered_token_counts_until_it_expires_and_is_looked_up_by_its_exact_text() {
        let cache = VerifiedTokens::default();
        cache.put("a.b.c", &claims("u1", 1_000));
        assert_eq!(cache.get("a.b.c", 999, 0).map(|c| c.sub), Some("u1".into()));
        assert_eq!(cache.get("a.b.c", 1_000, 0), None, "expired at exp");
        assert_eq!(
            cache.get("a.b.c", 1_029, 30).map(|c| c.sub),
            Some("u1".into()),
            "within the leeway"
        );
        assert_eq!(cache.get("a.b.C", 999, 0), None);
        assert_eq!(cache.get("a.b.c ", 999, 0), None);
    }

    #[test]
    fn the_cache_starts_again_empty_when_full() {
        let cache = VerifiedTokens::default();
        for i in 0..VerifiedTokens::CAPACITY {
            cache.put(&format!("t{i}"), &claims("u", u64::MAX));
        }
        assert!(cache.get("t0", 0, 0).is_some());
        cache.put("one more", &claims("u", u64::MAX));
        assert!(cache.get("t0", 0, 0).is_none());
        assert!(cache.get("one more", 0, 0).is_some());
    }
}
