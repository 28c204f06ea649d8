//! OAuth 2.0 consent for partner apps: the authorization code grant with PKCE (RFC 6749 §4.1,
//! RFC 7636, S256 only) under RFC 9700's rules, refresh tokens a partner holds for a user who
//! consented (rotating, reuse revokes the family, as for users), and revocation (RFC 7009).
//!
//! - A request names a registered partner and one of its registered redirect URIs, exactly;
//!   otherwise the error is shown on our page and nothing is redirected (RFC 6749 §4.1.2.1).
//!   Every later error goes back to the redirect URI with `error` and the caller's `state`.
//! - Approving signs the user in (under the login throttle), creates the same grant that
//!   `POST /v1/me/partner-grants` creates, and issues a code: single use, 60 seconds, bound
//!   to the client, the redirect URI and the PKCE challenge. A code presented twice revokes
//!   the tokens its first exchange issued.
//! - The access token is the partner's (subject = its client id) with the scopes the user
//!   granted; it reaches the user through `/v1/users/{user_id}/…`, as long as the grant is
//!   active. The token response names the `user_id`.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{Duration, Utc};
use sha2::{Digest as _, Sha256};

use super::Subject;
use super::auth::{Rotation, rotate, sign_in, store_refresh_token};
use super::partners::PartnerTokenResponse;
pub use super::partners::authenticate_client;
use crate::auth::AuthState;
use crate::auth::tokens::{self, Scope, TokenKind};
use crate::db::{self, DbPool};
use crate::error::ApiError;
use crate::repository::oauth_codes::{self, CodeRow};
use crate::repository::partners::{self, PartnerRow};
use crate::repository::refresh_tokens;

/// How long an authorization code may wait for its exchange.
pub const CODE_TTL_SECS: i64 = 60;

/// The parameters of an authorization request (RFC 6749 §4.1.1, RFC 7636 §4.3): the query of
/// the consent page, and hidden fields of its form.
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::IntoParams, utoipa::ToSchema)]
#[into_params(parameter_in = Query)]
pub struct AuthorizeParams {
    /// Must be `code`.
    pub response_type: Option<String>,
    /// The partner's client id.
    pub client_id: Option<String>,
    /// Exactly one of the partner's registered redirect URIs.
    pub redirect_uri: Option<String>,
    /// Space-separated scopes within the partner's registration; default: all of them.
    pub scope: Option<String>,
    /// Echoed on the redirect; use it against CSRF on your side.
    pub state: Option<String>,
    /// BASE64URL(SHA-256(code_verifier)), 43 characters.
    pub code_challenge: Option<String>,
    /// Must be `S256`.
    pub code_challenge_method: Option<String>,
}

impl AuthorizeParams {
    /// The parameters among a form's fields.
    pub fn from_fields(field: impl Fn(&str) -> Option<String>) -> Self {
        Self {
            response_type: field("response_type"),
            client_id: field("client_id"),
            redirect_uri: field("redirect_uri"),
            scope: field("scope"),
            state: field("state"),
            code_challenge: field("code_challenge"),
            code_challenge_method: field("code_challenge_method"),
        }
    }
}

/// A valid request, ready for the user's decision.
#[derive(Debug, Clone)]
pub struct Consent {
    pub partner_name: String,
    pub client_id: String,
    pub redirect_uri: String,
    pub scopes: Vec<Scope>,
    pub state: Option<String>,
    pub code_challenge: String,
}

/// Why a request cannot be asked of the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The client or its redirect URI is unknown: say so on our page, redirect nowhere.
    Page(String),
    /// Anything else: back to the partner with `error` (and `state`), at this URL.
    Redirect(String),
}

fn oauth(error: &'static str, description: impl Into<String>) -> ApiError {
    ApiError::OAuth {
        error,
        description: description.into(),
    }
}

fn invalid_grant(description: impl Into<String>) -> ApiError {
    oauth("invalid_grant", description)
}

/// `redirect_uri` with the query parameters added (`?` or `&` as needed).
pub fn with_query(redirect_uri: &str, pairs: &[(&str, &str)]) -> String {
    let query = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish();
    let joiner = if redirect_uri.contains('?') { '&' } else { '?' };
    format!("{redirect_uri}{joiner}{query}")
}

/// The partner's redirect with an RFC 6749 §4.1.2.1 error and the caller's `state`.
fn error_redirect(redirect_uri: &str, error: &str, description: &str, state: Option<&str>) -> String {
    let mut pairs = vec![("error", error), ("error_description", description)];
    if let Some(state) = state {
        pairs.push(("state", state));
    }
    with_query(redirect_uri, &pairs)
}

/// A redirect URI a partner may register (RFC 9700 §2.1, RFC 8252): absolute `https`, or
/// `http` on a loopback IP literal (`127.0.0.1`, `[::1]`) for native and development clients;
/// no fragment, no user information, nothing a browser would read differently (a `\\`, spaces).
pub fn check_redirect_uri(uri: &str) -> Result<(), String> {
    if uri.contains(['\\', '#']) || uri.chars().any(char::is_whitespace) {
        return Err(format!(
            "`{uri}` has a fragment, a backslash or a space, which a redirect URI must not have"
        ));
    }
    let parsed = url::Url::parse(uri).map_err(|e| format!("`{uri}` is not an absolute URL ({e})"))?;
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(format!("`{uri}` names a user, which a redirect URI must not"));
    }
    let loopback = matches!(
        parsed.host(),
        Some(url::Host::Ipv4(ip)) if ip.is_loopback()
    ) || matches!(parsed.host(), Some(url::Host::Ipv6(ip)) if ip.is_loopback());
    match parsed.scheme() {
        "https" if parsed.host().is_some() => Ok(()),
        "http" if loopback => Ok(()),
        _ => Err(format!(
            "`{uri}` must use https (http only on the loopback address 127.0.0.1 or [::1])"
        )),
    }
}

/// The origin (`scheme://host[:port]`) of a redirect URI, for the consent page's CSP.
pub fn origin(uri: &str) -> Option<String> {
    let origin = url::Url::parse(uri).ok()?.origin();
    origin.is_tuple().then(|| origin.ascii_serialization())
}

/// A PKCE code challenge or verifier: 43–128 characters of `[A-Za-z0-9-._~]` (RFC 7636 §4.1).
fn pkce_text(s: &str) -> bool {
    (43..=128).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

/// Checks an authorization request in RFC 6749's order: the client and redirect URI first
/// (errors shown, not redirected), then the rest (errors redirected with `state`).
pub async fn check_request(
    pool: &DbPool,
    params: &AuthorizeParams,
) -> Result<Result<Consent, Refusal>, ApiError> {
    let Some(client_id) = params.client_id.clone().filter(|c| !c.is_empty()) else {
        return Ok(Err(Refusal::Page(
            "The request names no client (`client_id`).".into(),
        )));
    };
    let lookup = client_id.clone();
    let partner = db::query(pool, move |conn| partners::find(conn, &lookup)).await?;
    let Some(partner) = partner.filter(|p| p.revoked_at.is_none()) else {
        return Ok(Err(Refusal::Page(
            "The app that sent you here is not registered with Soleus (unknown client_id).".into(),
        )));
    };
    let Some(redirect_uri) = params.redirect_uri.clone() else {
        return Ok(Err(Refusal::Page(
            "The request names no redirect URI (`redirect_uri`).".into(),
        )));
    };
    if !partner.redirect_uris().any(|u| u == redirect_uri) {
        return Ok(Err(Refusal::Page(format!(
            "The redirect URI is not one {} registered, so you are not sent back there.",
            partner.name
        ))));
    }
    let state = params.state.as_deref();
    let back = |error: &str, description: &str| {
        Ok(Err(Refusal::Redirect(error_redirect(
            &redirect_uri,
            error,
            description,
            state,
        ))))
    };
    if params.response_type.as_deref() != Some("code") {
        return back(
            "unsupported_response_type",
            "Only the authorization code flow (response_type=code) is supported.",
        );
    }
    let Some(challenge) = params.code_challenge.clone().filter(|c| pkce_text(c)) else {
        return back(
            "invalid_request",
            "PKCE is required: send code_challenge (43-128 characters) with code_challenge_method=S256.",
        );
    };
    if params.code_challenge_method.as_deref() != Some("S256") {
        return back("invalid_request", "Only code_challenge_method=S256 is supported.");
    }
    let registered = Scope::parse_list(&partner.scopes).unwrap_or_default();
    let scopes = match params.scope.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => registered.clone(),
        Some(asked) => match Scope::parse_list(asked) {
            Err(unknown) => return back("invalid_scope", &format!("Unknown scope `{unknown}`.")),
            Ok(asked) if asked.iter().all(|s| registered.contains(s)) => asked,
            Ok(_) => {
                return back(
                    "invalid_scope",
                    "The requested scope exceeds what this app registered.",
                );
            }
        },
    };
    Ok(Ok(Consent {
        partner_name: partner.name,
        client_id,
        redirect_uri,
        scopes,
        state: params.state.clone(),
        code_challenge: challenge,
    }))
}

/// The user said no: back to the partner with `access_denied`.
pub fn deny(consent: &Consent) -> String {
    error_redirect(
        &consent.redirect_uri,
        "access_denied",
        "The user declined the request.",
        consent.state.as_deref(),
    )
}

/// The user approved: sign them in, grant the partner the scopes, and send the partner a code.
/// Returns the redirect URL. A failed sign-in is the login's own error (401, or 429).
pub async fn approve(
    pool: &DbPool,
    auth: &AuthState,
    consent: Consent,
    address: &str,
    email: &str,
    password: String,
) -> Result<String, ApiError> {
    let user = sign_in(pool, auth, address, email, password).await?;
    let grant = super::partners::grant(
        pool,
        Subject::app(user.id.clone()),
        consent.client_id.clone(),
        consent.scopes.clone(),
    )
    .await?;
    let (code, hash) = tokens::new_refresh_token();
    let now = db::now();
    let row = CodeRow {
        code_hash: hash,
        client_id: consent.client_id.clone(),
        user_id: user.id,
        redirect_uri: consent.redirect_uri.clone(),
        scopes: Scope::join(&consent.scopes),
        code_challenge: consent.code_challenge.clone(),
        family_id: uuid::Uuid::new_v4().to_string(),
        created_at: now,
        expires_at: now + Duration::seconds(CODE_TTL_SECS),
        used_at: None,
    };
    db::autocommit(pool, move |conn| oauth_codes::insert(conn, &row)).await?;
    tracing::info!(target: "audit", event = "oauth_consent", grant_id = %grant.id, partner_id = %grant.partner_id, "consent given");
    let mut pairs = vec![("code", code.as_str())];
    if let Some(state) = consent.state.as_deref() {
        pairs.push(("state", state));
    }
    Ok(with_query(&consent.redirect_uri, &pairs))
}

/// Issues the partner's tokens for `user_id` in `family`, if the user's grant is still
/// active; the scopes are what the consent holds and the grant still allows.
fn issue_for_user(
    conn: &mut db::AnyConnection,
    auth: &AuthState,
    client_id: &str,
    user_id: &str,
    scopes: &str,
    family: String,
) -> Result<PartnerTokenResponse, ApiError> {
    let grant = partners::active_grant(conn, client_id, user_id)?
        .ok_or_else(|| invalid_grant("The user revoked this app's access."))?;
    let granted = Scope::parse_list(&grant.scopes).unwrap_or_default();
    let scopes: Vec<Scope> = Scope::parse_list(scopes)
        .unwrap_or_default()
        .into_iter()
        .filter(|s| granted.contains(s))
        .collect();
    let access = tokens::issue(
        &auth.keys,
        &auth.config,
        client_id,
        TokenKind::Partner,
        &scopes,
        Utc::now().timestamp().unsigned_abs(),
    )
    .map_err(|e| ApiError::Internal(e.into()))?;
    let refresh = store_refresh_token(conn, auth, user_id, Some(family), Some((client_id, &scopes)))?;
    Ok(PartnerTokenResponse {
        access_token: access,
        token_type: "Bearer",
        expires_in: auth.config.access_ttl_secs,
        scope: Scope::join(&scopes),
        refresh_token: Some(refresh),
        refresh_token_expires_in: Some(auth.config.refresh_ttl_secs),
        user_id: Some(user_id.to_owned()),
    })
}

/// `grant_type=authorization_code`: a code, once, within its minute, by the client it was
/// issued to, with the same redirect URI and the PKCE verifier of its challenge.
pub async fn exchange_code(
    pool: &DbPool,
    auth: &std::sync::Arc<AuthState>,
    partner: PartnerRow,
    code: Option<&str>,
    redirect_uri: Option<&str>,
    verifier: Option<&str>,
) -> Result<PartnerTokenResponse, ApiError> {
    let code = code.ok_or_else(|| super::partners::invalid_request("The `code` parameter is required."))?;
    let verifier = verifier.ok_or_else(|| {
        super::partners::invalid_request("The `code_verifier` parameter is required (PKCE).")
    })?;
    let redirect_uri = redirect_uri
        .ok_or_else(|| super::partners::invalid_request("The `redirect_uri` parameter is required."))?
        .to_owned();
    let hash = tokens::hash_refresh_token(code);
    let computed = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    let verifier_ok = pkce_text(verifier);
    let state = std::sync::Arc::clone(auth);
    // The refusals commit too (`Ok(Err(…))`): a failed attempt still spends the code, and a
    // replay still revokes the first exchange's tokens.
    db::write(pool, move |conn| -> Result<Result<PartnerTokenResponse, ApiError>, ApiError> {
        let now = db::now();
        let Some(row) = oauth_codes::find(conn, &hash)?.filter(|row| row.client_id == partner.id) else {
            return Ok(Err(invalid_grant("The authorization code is not valid.")));
        };
        if row.used_at.is_some() || !oauth_codes::mark_used(conn, &hash, now)? {
            // Replayed: whoever holds the tokens of the first exchange may not be the client.
            // Access comes from the grant the consent made, so that goes too (RFC 6749 §4.1.2),
            // and with it the partner's refresh tokens for the user.
            refresh_tokens::revoke_family(conn, &row.family_id, now)?;
            partners::revoke_grants_to(conn, &row.user_id, &row.client_id, now)?;
            tracing::warn!(target: "audit", event = "oauth_code_reuse", partner_id = %row.client_id, "authorization code reused: its tokens revoked");
            return Ok(Err(invalid_grant(
                "The authorization code was already used; its tokens are revoked.",
            )));
        }
        if row.expires_at <= now {
            return Ok(Err(invalid_grant("The authorization code has expired.")));
        }
        if row.redirect_uri != redirect_uri {
            return Ok(Err(invalid_grant(
                "The redirect_uri differs from the authorization request's.",
            )));
        }
        if !verifier_ok || computed != row.code_challenge {
            return Ok(Err(invalid_grant(
                "The code_verifier does not match the code_challenge.",
            )));
        }
        issue_for_user(conn, &state, &row.client_id, &row.user_id, &row.scopes, row.family_id.clone()).map(Ok)
    })
    .await?
}

/// `grant_type=refresh_token` for a partner: rotation with reuse detection, while the user's
/// grant is active.
pub async fn refresh(
    pool: &DbPool,
    auth: &std::sync::Arc<AuthState>,
    partner: PartnerRow,
    refresh_token: Option<&str>,
) -> Result<PartnerTokenResponse, ApiError> {
    let token = refresh_token
        .ok_or_else(|| super::partners::invalid_request("The `refresh_token` parameter is required."))?;
    let hash = tokens::hash_refresh_token(token);
    let state = std::sync::Arc::clone(auth);
    let outcome = db::write(pool, move |conn| {
        let client = partner.id.clone();
        rotate(
            conn,
            &hash,
            Some(&client),
            state.config.refresh_grace_secs,
            |conn, row| {
                let scopes = row.scopes.clone().unwrap_or_default();
                issue_for_user(
                    conn,
                    &state,
                    &client,
                    &row.user_id,
                    &scopes,
                    row.family_id.clone(),
                )
            },
        )
    })
    .await?;
    match outcome {
        Rotation::Issued(tokens) => Ok(tokens),
        Rotation::Invalid(why) => Err(invalid_grant(why)),
    }
}

/// RFC 7009: revokes a refresh token this client holds, with every token of its consent.
/// Unknown tokens, other clients' tokens and access tokens (they expire within minutes) are
/// answered the same way, so the endpoint tells nothing.
pub async fn revoke(pool: &DbPool, partner: PartnerRow, token: Option<&str>) -> Result<(), ApiError> {
    let token =
        token.ok_or_else(|| super::partners::invalid_request("The `token` parameter is required."))?;
    let hash = tokens::hash_refresh_token(token);
    db::write(pool, move |conn| -> Result<(), ApiError> {
        if let Some(row) = refresh_tokens::find_by_hash(conn, &hash)?
            && row.client_id.as_deref() == Some(partner.id.as_str())
        {
            refresh_tokens::revoke_family(conn, &row.family_id, db::now())?;
        }
        Ok(())
    })
    .await
}

/// Deletes authorization codes that expired over a day ago (until then a replayed code is
/// still recognised, and revokes what its first exchange gave). Run by the server's purge task.
pub async fn purge_codes(pool: &DbPool) -> Result<usize, ApiError> {
    let before = db::now() - Duration::days(1);
    Ok(db::autocommit(pool, move |conn| oauth_codes::purge(conn, before)).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirect_uris_are_https_or_loopback_without_fragments() {
        assert!(check_redirect_uri("https://partner.example/callback").is_ok());
        assert!(check_redirect_uri("http://127.0.0.1:8123/cb").is_ok());
        assert!(
            check_redirect_uri("http://localhost/cb").is_err(),
            "RFC 8252 §8.3: an IP literal"
        );
        assert!(check_redirect_uri("http://evil.example\\@127.0.0.1/cb").is_err());
        assert!(check_redirect_uri("https://user@partner.example/cb").is_err());
        assert!(check_redirect_uri("https://a.example */cb").is_err());
        assert!(check_redirect_uri("http://[::1]:9/cb").is_ok());
        assert!(check_redirect_uri("http://partner.example/cb").is_err());
        assert!(check_redirect_uri("https://partner.example/cb#x").is_err());
        assert!(check_redirect_uri("partner.example/cb").is_err());
        assert!(check_redirect_uri("javascript://x").is_err());
        assert_eq!(
            origin("https://a.example:8443/cb?x=1").as_deref(),
            Some("https://a.example:8443")
        );
    }

    #[test]
    fn pkce_texts_and_queries() {
        assert!(pkce_text(&"a".repeat(43)));
        assert!(!pkce_text(&"a".repeat(42)));
        assert!(!pkce_text(&format!("{}+", "a".repeat(43))));
        assert_eq!(
            with_query("https://p.example/cb", &[("code", "a b")]),
            "https://p.example/cb?code=a+b"
        );
        assert_eq!(
            with_query("https://p.example/cb?x=1", &[("state", "s")]),
            "https://p.example/cb?x=1&state=s"
        );
        // RFC 7636 appendix B.
        let challenge =
            URL_SAFE_NO_PAD.encode(Sha256::digest(b"dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"));
        assert_eq!(challenge, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
    }
}
