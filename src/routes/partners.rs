//! Partner platforms: the OAuth 2.0 client-credentials token endpoint, and the grants users
//! give partners (`/v1/me/partner-grants`).

use std::collections::BTreeMap;

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, delete, get, post, web};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

use crate::auth::partner::hash_secret;
use crate::auth::tokens::{self, Scope, TokenKind};
use crate::auth::{AuthState, AuthUser};
use crate::db::{self, DbPool};
use crate::error::{ApiError, Problem};
use crate::http::Json;
use crate::repository::partners::{self, GrantRow};

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

#[derive(Debug, Serialize, ToSchema)]
pub struct PartnerTokenResponse {
    pub access_token: String,
    #[schema(example = "Bearer")]
    pub token_type: &'static str,
    #[schema(example = 900)]
    pub expires_in: u64,
    #[schema(example = "sessions:read sessions:write")]
    pub scope: String,
}

fn oauth(status: StatusCode, error: &'static str, description: impl Into<String>) -> ApiError {
    ApiError::OAuth {
        status,
        error,
        description: description.into(),
    }
}

fn invalid_request(description: impl Into<String>) -> ApiError {
    oauth(StatusCode::BAD_REQUEST, "invalid_request", description)
}

fn invalid_client() -> ApiError {
    oauth(
        StatusCode::UNAUTHORIZED,
        "invalid_client",
        "Client authentication failed.",
    )
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
    for (key, value) in form_urlencoded::parse(&body) {
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
    match form.get("grant_type").map(String::as_str) {
        Some("client_credentials") => {}
        Some(other) => {
            return Err(oauth(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                format!("Grant type `{other}` is not supported; use client_credentials."),
            ));
        }
        None => return Err(invalid_request("The `grant_type` parameter is required.")),
    }
    let requested = match form.get("scope") {
        Some(s) => Some(Scope::parse_list(s).map_err(|unknown| {
            oauth(
                StatusCode::BAD_REQUEST,
                "invalid_scope",
                format!("Unknown scope `{unknown}`."),
            )
        })?),
        None => None,
    };
    let (client_id, secret) = client_credentials(&req, &form)?;
    let partner = db::query(&pool, move |conn| partners::find(conn, &client_id)).await?;
    let partner = partner
        .filter(|p| p.revoked_at.is_none() && p.secret_hash == hash_secret(&secret))
        .ok_or_else(invalid_client)?;
    let allowed = Scope::parse_list(&partner.scopes).unwrap_or_default();
    let scopes = match requested {
        Some(requested) if requested.iter().all(|s| allowed.contains(s)) && !requested.is_empty() => {
            requested
        }
        Some(_) => {
            return Err(oauth(
                StatusCode::BAD_REQUEST,
                "invalid_scope",
                "The requested scope exceeds what this client may request.",
            ));
        }
        None => allowed,
    };
    let now = Utc::now().timestamp().unsigned_abs();
    let token = tokens::issue(
        &auth.keys,
        &auth.config,
        &partner.id,
        TokenKind::Partner,
        &scopes,
        now,
    )
    .map_err(|e| ApiError::Internal(e.into()))?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(PartnerTokenResponse {
            access_token: token,
            token_type: "Bearer",
            expires_in: auth.config.access_ttl_secs,
            scope: Scope::join(&scopes),
        }))
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
pub struct Grant {
    pub id: String,
    pub partner_id: String,
    pub partner_name: String,
    pub scopes: Vec<Scope>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct GrantList {
    pub items: Vec<Grant>,
}

fn grant_response(row: GrantRow, partner_name: String) -> Grant {
    Grant {
        scopes: Scope::parse_list(&row.scopes).unwrap_or_default(),
        id: row.id,
        partner_id: row.partner_id,
        partner_name,
        created_at: row.created_at.and_utc(),
    }
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
    let mut scopes = body.scopes.clone();
    scopes.sort_unstable();
    scopes.dedup();
    if scopes.len() != body.scopes.len() {
        return Err(ApiError::invalid_field(
            "scopes",
            "duplicate",
            "must not list a scope twice",
        ));
    }
    let account = user.id.clone();
    let grant = db::run(&pool, move |conn| -> Result<Grant, ApiError> {
        let partner = partners::find(conn, &body.partner_id)?
            .filter(|p| p.revoked_at.is_none())
            .ok_or_else(|| {
                ApiError::invalid_field("partner_id", "not_found", "is not a registered partner")
            })?;
        let row = GrantRow {
            id: uuid::Uuid::new_v4().to_string(),
            user_id: user.id,
            partner_id: partner.id,
            scopes: Scope::join(&scopes),
            created_at: crate::db::now(),
            revoked_at: None,
        };
        partners::grant(conn, &row)?;
        Ok(grant_response(row, partner.name))
    })
    .await?;
    tracing::info!(target: "audit", event = "grant_created", account_id = %account, grant_id = %grant.id, partner_id = %grant.partner_id, "partner grant created");
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
    let items = db::run(&pool, move |conn| -> Result<Vec<Grant>, ApiError> {
        partners::grants_of(conn, &user.id)?
            .into_iter()
            .map(|row| {
                let name = partners::find(conn, &row.partner_id)?
                    .map(|p| p.name)
                    .unwrap_or_default();
                Ok(grant_response(row, name))
            })
            .collect()
    })
    .await?;
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
    let grant_id = grant_id.into_inner();
    let (account, grant) = (user.id.clone(), grant_id.clone());
    let revoked = db::query(&pool, move |conn| {
        partners::revoke_grant(conn, &user.id, &grant_id, crate::db::now())
    })
    .await?;
    if revoked {
        tracing::info!(target: "audit", event = "grant_revoked", account_id = %account, grant_id = %grant, "partner grant revoked");
        Ok(HttpResponse::NoContent().finish())
    } else {
        Err(ApiError::NotFound(
            "You have no active grant with this id.".into(),
        ))
    }
}
