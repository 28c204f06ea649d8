//! Partner platforms: the OAuth 2.0 client-credentials token endpoint, and the grants users
//! give partners (`/v1/me/partner-grants`).

use std::collections::BTreeMap;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, delete, get, post, web};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

use crate::auth::tokens::Scope;
use crate::auth::{AuthState, AuthUser};
use crate::db::DbPool;
use crate::error::{ApiError, Problem};
use crate::http::Json;
use crate::services::Subject;
use crate::services::partners::{
    self as service, Grant, PartnerTokenResponse, invalid_client, invalid_request,
};

/// The form fields of `POST /v1/oauth/token` (RFC 6749 §4.4).
#[derive(Debug, Deserialize, ToSchema)]
pub struct ClientCredentialsForm {
    /// Must be `client_credentials`.
    #[schema(example = "client_credentials")]
    pub grant_type: String,
    /// Space-separated scopes; default: all the partner's scopes.
    #[schema(example = "sessions:read sessions:write")]
    pub scope: Option<String>,
    /// When not using HTTP Basic authentication.
    pub client_id: Option<String>,
    /// When not using HTTP Basic authentication.
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

/// Partner access token.
///
/// OAuth 2.0 client credentials (RFC 6749 §4.4). Authenticate with HTTP Basic
/// (`client_id:client_secret`) or the `client_id` and `client_secret` form fields. The token
/// acts on a user's data only through routes that name the user, only while that user's grant
/// is active, and only within both the token's and the grant's scopes. Errors carry the RFC 6749
/// `error` code (`invalid_request`, `invalid_client`, `invalid_scope`, `unsupported_grant_type`).
#[utoipa::path(
    tag = "partners",
    request_body(content = ClientCredentialsForm, content_type = "application/x-www-form-urlencoded"),
    security((), ("partner_basic" = [])),
    responses(
        (status = 200, description = "A partner access token.", body = PartnerTokenResponse),
        (status = 400, description = "`invalid_request`, `invalid_scope` or `unsupported_grant_type`.", body = Problem, content_type = "application/problem+json"),
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
    let form = token_form(&req, &body)?;
    let credentials = client_credentials(&req, &form);
    let (grant_type, scope) = (form.get("grant_type"), form.get("scope"));
    let token = service::issue_token(
        &pool,
        &auth,
        credentials,
        grant_type.map(String::as_str),
        scope.map(String::as_str),
    )
    .await?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(token))
}

/// The form of a token request: `application/x-www-form-urlencoded`, each parameter once, no NUL.
fn token_form(req: &HttpRequest, body: &[u8]) -> Result<BTreeMap<String, String>, ApiError> {
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
        if key.contains('\0') || value.contains('\0') {
            return Err(invalid_request(format!(
                "The parameter `{}` contains a NUL character.",
                key.replace('\0', "")
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

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"partner_id": "3f0c…", "scopes": ["sessions:read", "sessions:write"]}))]
pub struct GrantRequest {
    /// The partner's client id.
    #[validate(length(min = 1, max = 100))]
    #[schema(min_length = 1, max_length = 100)]
    pub partner_id: String,
    #[validate(length(min = 1, max = 5))]
    #[schema(value_type = std::collections::BTreeSet<Scope>, min_items = 1, max_items = 5)]
    pub scopes: Vec<Scope>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct GrantList {
    pub items: Vec<Grant>,
}

/// Grant a partner access.
///
/// Lets a partner platform act on your data within `scopes` (replacing an earlier grant to the
/// same partner). Revoke it at any time; it takes effect on the partner's next request.
#[utoipa::path(
    tag = "partners",
    security(("bearer_auth" = [])),
    request_body = GrantRequest,
    responses(
        (status = 201, description = "Granted.", body = Grant, headers(("Location" = String))),
    ),
)]
#[post("/me/partner-grants")]
pub async fn create_grant(
    user: AuthUser,
    pool: web::Data<DbPool>,
    body: Json<GrantRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let grant = service::grant(&pool, Subject::app(user.id), body.partner_id, body.scopes).await?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/v1/me/partner-grants/{}", grant.id)))
        .json(grant))
}

/// Your partner grants.
#[utoipa::path(
    tag = "partners",
    security(("bearer_auth" = [])),
    responses(
        (status = 200, description = "Active grants.", body = GrantList),
    ),
)]
#[get("/me/partner-grants")]
pub async fn list_grants(user: AuthUser, pool: web::Data<DbPool>) -> Result<HttpResponse, ApiError> {
    let items = service::grants(&pool, Subject::app(user.id)).await?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(GrantList { items }))
}

/// Revoke a partner grant.
#[utoipa::path(
    tag = "partners",
    security(("bearer_auth" = [])),
    params(("grant_id" = String, Path, description = "The grant's id", max_length = 100)),
    responses(
        (status = 204, description = "Revoked."),
        (status = 404, description = "No such active grant of yours.", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[delete("/me/partner-grants/{grant_id}")]
pub async fn revoke_grant(
    user: AuthUser,
    pool: web::Data<DbPool>,
    grant_id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    service::revoke(&pool, Subject::app(user.id), grant_id.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}
