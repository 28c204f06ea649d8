//! The OAuth 2.0 endpoints partner platforms use: the consent page (authorization code with
//! PKCE, RFC 6749 §4.1 + RFC 7636), the token endpoint (client credentials, authorization
//! code, refresh token), revocation (RFC 7009) and the server metadata (RFC 8414). The rules
//! are in `services::oauth`; this module parses, renders the page and redirects.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::AuthState;
use crate::auth::tokens::{self, Scope};
use crate::db::DbPool;
use crate::error::{ApiError, Problem};
use crate::services::oauth::{self, AuthorizeParams, Consent, Refusal};
use crate::services::partners::{self as service, PartnerTokenResponse, invalid_client, invalid_request};

/// The fields of `POST /v1/oauth/token`, for every grant type.
#[derive(Debug, Deserialize, ToSchema)]
pub struct TokenForm {
    /// `client_credentials`, `authorization_code` or `refresh_token`.
    #[schema(example = "authorization_code")]
    pub grant_type: String,
    /// `client_credentials`: space-separated scopes; default: all the partner's scopes.
    #[schema(example = "sessions:read sessions:write")]
    pub scope: Option<String>,
    /// `authorization_code`: the code from the redirect.
    pub code: Option<String>,
    /// `authorization_code`: the same redirect URI as the authorization request.
    pub redirect_uri: Option<String>,
    /// `authorization_code`: the PKCE verifier whose S256 hash was the `code_challenge`.
    pub code_verifier: Option<String>,
    /// `refresh_token`: the refresh token from the last answer.
    pub refresh_token: Option<String>,
    /// When not using HTTP Basic authentication (`client_secret_post`).
    pub client_id: Option<String>,
    /// When not using HTTP Basic authentication (`client_secret_post`).
    pub client_secret: Option<String>,
}

/// Client id and secret from HTTP Basic (RFC 6749 §2.3.1) or the form, never both.
fn client_credentials(
    req: &HttpRequest,
    form: &BTreeMap<String, String>,
) -> Result<(String, String), ApiError> {
    let basic = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic ").or_else(|| v.strip_prefix("basic ")))
        .map(|encoded| {
            let decoded = STANDARD.decode(encoded.trim()).map_err(|_| invalid_client())?;
            let text = String::from_utf8(decoded).map_err(|_| invalid_client())?;
            let (id, secret) = text.split_once(':').ok_or_else(invalid_client)?;
            let unescape = |s: &str| {
                form_urlencoded::parse(format!("x={s}").as_bytes())
                    .next()
                    .map(|(_, v)| v.into_owned())
            };
            Ok::<_, ApiError>((
                unescape(id).unwrap_or_default(),
                unescape(secret).unwrap_or_default(),
            ))
        })
        .transpose()?;
    let in_form = (form.get("client_id"), form.get("client_secret"));
    match (basic, in_form) {
        (Some(_), (Some(_), _) | (_, Some(_))) => Err(invalid_request(
            "Authenticate the client with HTTP Basic or the form, not both.",
        )),
        (Some(pair), _) => Ok(pair),
        (None, (Some(id), Some(secret))) => Ok((id.clone(), secret.clone())),
        (None, _) => Err(invalid_client()),
    }
}

/// Partner tokens.
///
/// The OAuth 2.0 token endpoint. Authenticate the client with HTTP Basic
/// (`client_id:client_secret`, `client_secret_basic`) or the `client_id` and `client_secret`
/// form fields (`client_secret_post`), never both.
///
/// - `client_credentials` (RFC 6749 §4.4): the partner's own token, with `scope` (default: all
///   its scopes). It acts on a user's data only through routes that name the user, only while
///   that user's grant is active, and only within both the token's and the grant's scopes.
/// - `authorization_code` (RFC 6749 §4.1 with PKCE): the `code` from the consent redirect,
///   once, within 60 seconds, with the same `redirect_uri` and the `code_verifier`. The answer
///   adds a rotating `refresh_token` and the consenting `user_id`; the access token carries
///   the scopes the user granted. A code presented twice revokes the tokens it gave.
/// - `refresh_token`: a new pair; the old refresh token is spent (presenting it again revokes
///   the consent's tokens, except a retry within a few seconds). Refused once the user revokes
///   the grant.
///
/// Errors carry the RFC 6749 `error` code (`invalid_request`, `invalid_client`,
/// `invalid_grant`, `invalid_scope`, `unsupported_grant_type`).
#[utoipa::path(
    tag = "partners",
    request_body(content = TokenForm, content_type = "application/x-www-form-urlencoded"),
    security((), ("partner_basic" = [])),
    responses(
        (status = 200, description = "Tokens.", body = PartnerTokenResponse),
        (status = 400, description = "`invalid_request`, `invalid_grant`, `invalid_scope` or `unsupported_grant_type`.", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "`invalid_client`.", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/oauth/token")]
pub async fn oauth_token(
    req: HttpRequest,
    body: web::Bytes,
    pool: web::Data<DbPool>,
    auth: web::Data<AuthState>,
) -> Result<HttpResponse, ApiError> {
    let form = token_form(&req, &body, &TOKEN_FIELDS)?;
    let credentials = client_credentials(&req, &form);
    let field = |name: &str| form.get(name).map(String::as_str);
    let auth = auth.into_inner();
    let token = match field("grant_type") {
        Some("authorization_code") => {
            let partner = service::authenticate_client(&pool, credentials).await?;
            oauth::exchange_code(
                &pool,
                &auth,
                partner,
                field("code"),
                field("redirect_uri"),
                field("code_verifier"),
            )
            .await?
        }
        Some("refresh_token") => {
            let partner = service::authenticate_client(&pool, credentials).await?;
            oauth::refresh(&pool, &auth, partner, field("refresh_token")).await?
        }
        grant_type => service::issue_token(&pool, &auth, credentials, grant_type, field("scope")).await?,
    };
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(token))
}

/// The fields of `POST /v1/oauth/revoke` (RFC 7009).
#[derive(Debug, Deserialize, ToSchema)]
pub struct RevokeForm {
    /// A refresh token this client holds.
    pub token: String,
    /// `refresh_token` or `access_token` (access tokens expire within minutes and are not
    /// tracked: revoking one changes nothing).
    pub token_type_hint: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
}

/// Revoke a token.
///
/// RFC 7009: revokes a refresh token this client holds, and every token of the same consent.
/// Always 200 once the client authenticates, whatever the token was, so the answer tells
/// nothing about tokens of others. The user's grant stays; the user revokes that.
#[utoipa::path(
    tag = "partners",
    request_body(content = RevokeForm, content_type = "application/x-www-form-urlencoded"),
    security((), ("partner_basic" = [])),
    responses(
        (status = 200, description = "Revoked (or it was not a token of this client)."),
        (status = 400, description = "`invalid_request`.", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "`invalid_client`.", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/oauth/revoke")]
pub async fn oauth_revoke(
    req: HttpRequest,
    body: web::Bytes,
    pool: web::Data<DbPool>,
) -> Result<HttpResponse, ApiError> {
    let form = token_form(&req, &body, &REVOKE_FIELDS)?;
    let partner = service::authenticate_client(&pool, client_credentials(&req, &form)).await?;
    oauth::revoke(&pool, partner, form.get("token").map(String::as_str)).await?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .finish())
}

/// `__Host-`: only this origin, over a secure context, may set it (no sibling subdomain).
const CSRF_COOKIE: &str = "__Host-soleus_oauth_csrf";

fn templates() -> &'static minijinja::Environment<'static> {
    static ENV: OnceLock<minijinja::Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = minijinja::Environment::new();
        // `.html`: every value is HTML-escaped.
        if let Err(e) = env.add_template("consent.html", include_str!("templates/consent.html")) {
            tracing::error!(error = %e, "the consent template does not parse");
        }
        env
    })
}

/// What a scope lets a partner do, in plain words.
fn scope_words(scope: Scope) -> &'static str {
    match scope {
        Scope::CatalogueRead => "read the exercise catalogue",
        Scope::ProgrammesRead => "see your programmes",
        Scope::ProgrammesWrite => "create and change your programmes",
        Scope::SessionsRead => "see your workout sessions and test results",
        Scope::SessionsWrite => "log, change and delete your workout sessions and test results",
    }
}

/// The page: the consent form for `consent`, or an error that redirects nowhere.
fn page(
    status: StatusCode,
    consent: Option<(&Consent, &str, &str)>,
    error: Option<&str>,
) -> Result<HttpResponse, ApiError> {
    let mut builder = HttpResponse::build(status);
    builder
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"));
    let context = match consent {
        Some((consent, csrf, email)) => {
            let mut hidden = vec![
                ("response_type", "code".to_owned()),
                ("client_id", consent.client_id.clone()),
                ("redirect_uri", consent.redirect_uri.clone()),
                ("scope", Scope::join(&consent.scopes)),
                ("code_challenge", consent.code_challenge.clone()),
                ("code_challenge_method", "S256".to_owned()),
                ("csrf", csrf.to_owned()),
            ];
            if let Some(state) = &consent.state {
                hidden.push(("state", state.clone()));
            }
            builder.insert_header((
                header::SET_COOKIE,
                format!("{CSRF_COOKIE}={csrf}; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=900"),
            ));
            // The form posts here and is redirected to the partner: allow that origin only.
            let back = oauth::origin(&consent.redirect_uri).unwrap_or_default();
            builder.insert_header((
                header::CONTENT_SECURITY_POLICY,
                format!(
                    "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'self' {back}"
                ),
            ));
            minijinja::context! {
                consent => true,
                title => format!("Allow {}?", consent.partner_name),
                partner => consent.partner_name,
                scopes => consent.scopes.iter().map(|s| scope_words(*s)).collect::<Vec<_>>(),
                hidden => hidden,
                email => email,
                error => error,
            }
        }
        None => minijinja::context! {
            consent => false,
            title => "This request cannot be completed",
            error => error,
        },
    };
    let html = templates()
        .get_template("consent.html")
        .and_then(|t| t.render(context))
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("consent page: {e}")))?;
    Ok(builder.body(html))
}

fn see_other(url: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, url))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .finish()
}

fn refused(refusal: Refusal) -> Result<HttpResponse, ApiError> {
    match refusal {
        Refusal::Page(why) => page(StatusCode::BAD_REQUEST, None, Some(&why)),
        Refusal::Redirect(url) => Ok(see_other(&url)),
    }
}

/// Consent page.
///
/// Starts the authorization code flow with PKCE (S256 only). Shows the user the partner's name
/// and what it asks for, in plain words, with a sign-in form and Allow / Deny; it needs no
/// JavaScript. An unknown `client_id` or a `redirect_uri` that is not exactly one the partner
/// registered is shown here (400) and redirects nowhere; every other error goes back to the
/// redirect URI with `error` and `state` (303).
#[utoipa::path(
    tag = "partners",
    params(AuthorizeParams),
    security(()),
    responses(
        (status = 200, description = "The consent page.", content_type = "text/html", body = String),
        (status = 303, description = "Back to the partner with `error` and `state`.", headers(("Location" = String))),
        (status = 400, description = "Unknown client or redirect URI: an error page.", content_type = "text/html", body = String),
    ),
)]
#[get("/oauth/authorize")]
pub async fn authorize_page(
    pool: web::Data<DbPool>,
    query: web::Query<AuthorizeParams>,
) -> Result<HttpResponse, ApiError> {
    match oauth::check_request(&pool, &query).await? {
        Ok(consent) => {
            let (csrf, _) = tokens::new_refresh_token();
            page(StatusCode::OK, Some((&consent, &csrf, "")), None)
        }
        Err(refusal) => refused(refusal),
    }
}

/// The consent form's fields.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ConsentForm {
    /// `approve` or `deny`.
    pub decision: String,
    pub email: Option<String>,
    pub password: Option<String>,
    /// The page's CSRF token (also in its cookie).
    pub csrf: String,
    /// The authorization request, as the page received it.
    #[serde(flatten)]
    pub request: AuthorizeParams,
}

/// Consent decision.
///
/// The consent page's form: Deny goes back to the partner with `error=access_denied`; Allow
/// signs the user in (under the login throttle), creates the same grant as
/// `POST /v1/me/partner-grants`, and goes back with a single-use `code` (60 seconds) and the
/// `state`. A wrong password shows the page again (401). The form must come from the page: its
/// CSRF token must match the page's cookie (403 otherwise).
#[utoipa::path(
    tag = "partners",
    request_body(content = ConsentForm, content_type = "application/x-www-form-urlencoded"),
    security(()),
    responses(
        (status = 303, description = "Back to the partner with `code` and `state`, or `error=access_denied`.", headers(("Location" = String))),
        (status = 400, description = "The request is not valid: an error page.", content_type = "text/html", body = String),
        (status = 401, description = "Wrong email or password: the page again.", content_type = "text/html", body = String),
        (status = 403, description = "The form did not come from the consent page.", content_type = "text/html", body = String),
        (status = 429, description = "Too many sign-in attempts: the page again.", content_type = "text/html", body = String),
    ),
)]
#[post("/oauth/authorize")]
pub async fn authorize_decision(
    req: HttpRequest,
    body: web::Bytes,
    pool: web::Data<DbPool>,
    auth: web::Data<AuthState>,
) -> Result<HttpResponse, ApiError> {
    let form = match token_form(&req, &body, &CONSENT_FIELDS) {
        Ok(form) => form,
        // A page for people: its errors are pages too.
        Err(ApiError::OAuth { description, .. }) => {
            return page(StatusCode::BAD_REQUEST, None, Some(&description));
        }
        Err(other) => return Err(other),
    };
    let field = |name: &str| form.get(name).cloned();
    let cookie = req
        .headers()
        .get_all(header::COOKIE)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == CSRF_COOKIE)
        .map(|(_, value)| value.to_owned());
    let csrf = field("csrf").unwrap_or_default();
    // Browsers say where a form came from; another site's is refused whatever it carries.
    let cross_site = req
        .headers()
        .get("sec-fetch-site")
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"cross-site"));
    let same = !cross_site
        && cookie.is_some_and(|c| {
            !csrf.is_empty() && crate::http::constant_time_eq(c.as_bytes(), csrf.as_bytes())
        });
    if !same {
        return page(
            StatusCode::FORBIDDEN,
            None,
            Some("This form expired or was not sent from the consent page. Start again from the app."),
        );
    }
    let params = AuthorizeParams::from_fields(field);
    let consent = match oauth::check_request(&pool, &params).await? {
        Ok(consent) => consent,
        Err(refusal) => return refused(refusal),
    };
    match field("decision").as_deref() {
        Some("deny") => return Ok(see_other(&oauth::deny(&consent))),
        Some("approve") => {}
        _ => return page(StatusCode::BAD_REQUEST, None, Some("Choose Allow or Deny.")),
    }
    let email = field("email").unwrap_or_default();
    let address = auth.client_address(&req);
    let password = field("password").unwrap_or_default();
    match oauth::approve(&pool, &auth, consent.clone(), &address, &email, password).await {
        Ok(url) => Ok(see_other(&url)),
        Err(ApiError::Unauthorized(_)) => page(
            StatusCode::UNAUTHORIZED,
            Some((&consent, &csrf, &email)),
            Some("The email or password is wrong."),
        ),
        Err(ApiError::TooManyRequests { retry_after_secs }) => page(
            StatusCode::TOO_MANY_REQUESTS,
            Some((&consent, &csrf, &email)),
            Some(&format!(
                "Too many sign-in attempts. Try again in {} minutes.",
                retry_after_secs.div_ceil(60)
            )),
        ),
        Err(other) => Err(other),
    }
}

/// The authorization server's metadata (RFC 8414).
#[derive(Debug, Serialize, ToSchema)]
pub struct ServerMetadata {
    pub issuer: String,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    pub revocation_endpoint: String,
    pub jwks_uri: String,
    pub response_types_supported: Vec<&'static str>,
    pub grant_types_supported: Vec<&'static str>,
    pub code_challenge_methods_supported: Vec<&'static str>,
    pub token_endpoint_auth_methods_supported: Vec<&'static str>,
    pub revocation_endpoint_auth_methods_supported: Vec<&'static str>,
    pub scopes_supported: Vec<Scope>,
}

/// OAuth server metadata.
///
/// RFC 8414: where the endpoints are and what they support, for partner OAuth libraries.
#[utoipa::path(
    tag = "partners",
    security(()),
    responses((status = 200, description = "The metadata.", body = ServerMetadata)),
)]
#[get("/.well-known/oauth-authorization-server")]
pub async fn server_metadata(req: HttpRequest, auth: web::Data<AuthState>) -> HttpResponse {
    let (base, configured) = auth.public_base(&req);
    let caching = if configured {
        "public, max-age=3600"
    } else {
        "no-store"
    };
    let auth_methods = vec!["client_secret_basic", "client_secret_post"];
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, caching))
        .json(ServerMetadata {
            authorization_endpoint: format!("{base}/v1/oauth/authorize"),
            token_endpoint: format!("{base}/v1/oauth/token"),
            revocation_endpoint: format!("{base}/v1/oauth/revoke"),
            jwks_uri: format!("{base}/.well-known/jwks.json"),
            issuer: base,
            response_types_supported: vec!["code"],
            grant_types_supported: vec!["authorization_code", "refresh_token", "client_credentials"],
            code_challenge_methods_supported: vec!["S256"],
            token_endpoint_auth_methods_supported: auth_methods.clone(),
            revocation_endpoint_auth_methods_supported: auth_methods,
            scopes_supported: Scope::ALL.to_vec(),
        })
}

/// The form of a token request: `application/x-www-form-urlencoded`, each parameter once, no NUL.
/// The fields of the token endpoint.
const TOKEN_FIELDS: [&str; 8] = [
    "grant_type",
    "scope",
    "code",
    "redirect_uri",
    "code_verifier",
    "refresh_token",
    "client_id",
    "client_secret",
];
/// The fields of the revocation endpoint.
const REVOKE_FIELDS: [&str; 4] = ["token", "token_type_hint", "client_id", "client_secret"];
/// The fields of the consent form.
const CONSENT_FIELDS: [&str; 11] = [
    "decision",
    "email",
    "password",
    "csrf",
    "response_type",
    "client_id",
    "redirect_uri",
    "scope",
    "state",
    "code_challenge",
    "code_challenge_method",
];

/// The `known` fields of a form (`application/x-www-form-urlencoded`): each at most once and
/// without NUL (RFC 6749 §3.2); other parameters are ignored, as RFC 6749 asks.
fn token_form(req: &HttpRequest, body: &[u8], known: &[&str]) -> Result<BTreeMap<String, String>, ApiError> {
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !content_type
        .to_ascii_lowercase()
        .starts_with("application/x-www-form-urlencoded")
    {
        return Err(ApiError::UnsupportedMediaType(
            "Send the token request as application/x-www-form-urlencoded (RFC 6749).".into(),
        ));
    }
    let mut form = BTreeMap::new();
    for (key, value) in form_urlencoded::parse(body) {
        if !known.contains(&key.as_ref()) {
            continue;
        }
        if value.contains('\0') {
            return Err(invalid_request(format!(
                "The parameter `{key}` contains a NUL character."
            )));
        }
        if form
            .insert(key.clone().into_owned(), value.into_owned())
            .is_some()
        {
            return Err(invalid_request(format!(
                "The parameter `{key}` appears more than once."
            )));
        }
    }
    Ok(form)
}
