//! Access tokens: short-lived EdDSA JWTs (RFC 8725 practice) and opaque refresh tokens.
//!
//! Verification pins the algorithm (EdDSA only), requires `kid`, `iss`, `aud`, `sub`, `iat`,
//! `nbf` and `exp`, and accepts the current key and the previous one, so keys can rotate
//! without logging everyone out.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, Header, Validation};
use rand::RngCore as _;
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};
use utoipa::ToSchema;

use super::keys::KeySet;

/// What a token lets its bearer do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema)]
pub enum Scope {
    #[serde(rename = "catalogue:read")]
    CatalogueRead,
    #[serde(rename = "programmes:read")]
    ProgrammesRead,
    #[serde(rename = "programmes:write")]
    ProgrammesWrite,
    #[serde(rename = "sessions:read")]
    SessionsRead,
    #[serde(rename = "sessions:write")]
    SessionsWrite,
}

impl Scope {
    pub const ALL: [Self; 5] = [
        Self::CatalogueRead,
        Self::ProgrammesRead,
        Self::ProgrammesWrite,
        Self::SessionsRead,
        Self::SessionsWrite,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::CatalogueRead => "catalogue:read",
            Self::ProgrammesRead => "programmes:read",
            Self::ProgrammesWrite => "programmes:write",
            Self::SessionsRead => "sessions:read",
            Self::SessionsWrite => "sessions:write",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|scope| scope.as_str() == s)
    }

    /// Space-separated scope string (RFC 6749 §3.3), in canonical order.
    pub fn join(scopes: &[Self]) -> String {
        let mut sorted = scopes.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        sorted.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(" ")
    }

    /// Parses a space- or comma-separated list; `Err` names the first unknown scope.
    pub fn parse_list(s: &str) -> Result<Vec<Self>, String> {
        let mut out = Vec::new();
        for part in s.split([' ', ',']).filter(|p| !p.is_empty()) {
            out.push(Self::parse(part).ok_or_else(|| part.to_owned())?);
        }
        out.sort_unstable();
        out.dedup();
        Ok(out)
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who a token was issued to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenKind {
    User,
    Partner,
}

/// The JWT claims.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    pub iss: String,
    pub aud: String,
    /// The user id, or the partner's client id.
    pub sub: String,
    pub iat: u64,
    pub nbf: u64,
    pub exp: u64,
    pub jti: String,
    /// Space-separated scopes.
    pub scope: String,
    /// Whether `sub` is a user or a partner.
    pub typ: TokenKind,
}

impl Claims {
    /// `user:<id>` or `partner:<client id>`: who is calling, for rate-limit budgets and logs.
    pub fn caller(&self) -> String {
        let kind = match self.typ {
            TokenKind::User => "user",
            TokenKind::Partner => "partner",
        };
        format!("{kind}:{}", self.sub)
    }
}

/// Token settings (from `SOLEUS_JWT_*` and `SOLEUS_*_TTL_*`).
#[derive(Debug, Clone)]
pub struct TokenConfig {
    pub issuer: String,
    pub audience: String,
    pub access_ttl_secs: u64,
    pub refresh_ttl_secs: u64,
    /// Clock skew tolerated on `exp` and `nbf`.
    pub leeway_secs: u64,
    /// A refresh token used again within this many seconds, before the login has moved on, is a
    /// retry (two parallel refreshes, a lost response), not theft: it gets a new pair instead of
    /// revoking the login (RFC 9700 §4.14.2 grace period).
    pub refresh_grace_secs: u64,
}

impl Default for TokenConfig {
    fn default() -> Self {
        Self {
            issuer: "soleus-api".into(),
            audience: "soleus-api".into(),
            access_ttl_secs: 15 * 60,
            refresh_ttl_secs: 30 * 24 * 3600,
            leeway_secs: 30,
            refresh_grace_secs: 10,
        }
    }
}

/// Why a token was refused (the text goes into `WWW-Authenticate: error_description`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidToken(pub &'static str);

/// Signs an access token for `sub` valid from `now` (seconds since the epoch).
pub fn issue(
    keys: &KeySet,
    config: &TokenConfig,
    sub: &str,
    typ: TokenKind,
    scopes: &[Scope],
    now: u64,
) -> Result<String, jsonwebtoken::errors::Error> {
    let mut header = Header::new(Algorithm::EdDSA);
    header.kid = Some(keys.current.kid.clone());
    let claims = Claims {
        iss: config.issuer.clone(),
        aud: config.audience.clone(),
        sub: sub.to_owned(),
        iat: now,
        nbf: now,
        exp: now + config.access_ttl_secs,
        jti: uuid::Uuid::new_v4().to_string(),
        scope: Scope::join(scopes),
        typ,
    };
    jsonwebtoken::encode(&header, &claims, &keys.current.encoding)
}

/// Verifies a token: EdDSA only, a known `kid`, and valid `iss`, `aud`, `exp`, `nbf`.
pub fn verify(keys: &KeySet, config: &TokenConfig, token: &str) -> Result<Claims, InvalidToken> {
    let header = jsonwebtoken::decode_header(token).map_err(|_| InvalidToken("the token is malformed"))?;
    if header.alg != Algorithm::EdDSA {
        return Err(InvalidToken("the token's algorithm is not accepted"));
    }
    let kid = header.kid.ok_or(InvalidToken("the token has no key id"))?;
    let key = keys
        .decoding_key(&kid)
        .ok_or(InvalidToken("the token was signed with an unknown key"))?;
    let mut validation = Validation::new(Algorithm::EdDSA);
    validation.leeway = config.leeway_secs;
    validation.validate_nbf = true;
    validation.set_issuer(&[&config.issuer]);
    validation.set_audience(&[&config.audience]);
    validation.set_required_spec_claims(&["exp", "nbf", "iat", "iss", "aud", "sub"]);
    let claims = jsonwebtoken::decode::<Claims>(token, key, &validation)
        .map(|data| data.claims)
        .map_err(|e| {
            use jsonwebtoken::errors::ErrorKind;
            InvalidToken(match e.kind() {
                ErrorKind::ExpiredSignature => "the token has expired",
                ErrorKind::ImmatureSignature => "the token is not valid yet",
                ErrorKind::InvalidIssuer => "the token was issued by someone else",
                ErrorKind::InvalidAudience => "the token is for another audience",
                ErrorKind::InvalidSignature => "the token's signature is invalid",
                ErrorKind::MissingRequiredClaim(_) => "the token lacks a required claim",
                _ => "the token is invalid",
            })
        })?;
    // A token issued in the future (beyond the clock leeway) was not issued by us.
    if claims.iat > jsonwebtoken::get_current_timestamp().saturating_add(config.leeway_secs) {
        return Err(InvalidToken("the token was issued in the future"));
    }
    Ok(claims)
}

/// A new opaque refresh token (256 random bits, base64url) and the hash that is stored.
pub fn new_refresh_token() -> (String, String) {
    let mut bytes = [0_u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let token = URL_SAFE_NO_PAD.encode(bytes);
    let hash = hash_refresh_token(&token);
    (token, hash)
}

/// Refresh tokens are stored only as SHA-256 hashes (they are random, so no salt is needed).
pub fn hash_refresh_token(token: &str) -> String {
    crate::domain::catalogue::hex(&Sha256::digest(token.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_round_trip_and_reject_unknown_ones() {
        assert_eq!(
            Scope::parse_list("sessions:read catalogue:read,sessions:read"),
            Ok(vec![Scope::CatalogueRead, Scope::SessionsRead])
        );
        assert_eq!(Scope::parse_list("sessions:read admin"), Err("admin".to_owned()));
        assert_eq!(
            Scope::join(&Scope::ALL),
            "catalogue:read programmes:read programmes:write sessions:read sessions:write"
        );
    }

    #[test]
    fn refresh_tokens_are_random_and_hashed() {
        let (a, hash_a) = new_refresh_token();
        let (b, _) = new_refresh_token();
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        assert_eq!(hash_a, hash_refresh_token(&a));
        assert_ne!(hash_a, a);
    }
}

#[cfg(test)]
mod rotation_tests {
    use super::*;
    use crate::auth::keys::{KeySet, SigningKeys, VerifyingKey};

    fn key(dir: &std::path::Path, name: &str) -> anyhow::Result<SigningKeys> {
        SigningKeys::load_or_create(&dir.join(name), true)
    }

    #[test]
    fn the_previous_key_keeps_verifying_after_a_rotation() -> anyhow::Result<()> {
        let dir = tempfile::tempdir()?;
        let old = key(dir.path(), "old.pem")?;
        let new = key(dir.path(), "new.pem")?;
        let config = TokenConfig::default();
        let before = KeySet {
            current: old.clone(),
            previous: None,
        };
        let token = issue(&before, &config, "u1", TokenKind::User, &Scope::ALL, now())?;

        let rotated = KeySet {
            current: new.clone(),
            previous: Some(VerifyingKey::load(&dir.path().join("old.pem"))?),
        };
        assert_eq!(
            verify(&rotated, &config, &token).map(|c| c.sub),
            Ok("u1".to_owned())
        );
        assert_eq!(rotated.jwks().len(), 2);

        let forgotten = KeySet {
            current: new,
            previous: None,
        };
        assert_eq!(
            verify(&forgotten, &config, &token),
            Err(InvalidToken("the token was signed with an unknown key"))
        );
        Ok(())
    }

    fn now() -> u64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs())
    }
}
