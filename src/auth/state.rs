//! The state token handling shares: keys, token settings, limiters, trusted proxies. Used by
//! the extractors and by the sign-in use cases.

use super::{keys::KeySet, rate_limit::LoginLimiter, tokens::TokenConfig};

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
}

impl AuthState {
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
