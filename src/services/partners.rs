//! Partner platforms: client-credentials tokens (RFC 6749 §4.4) and the grants users give
//! partners. The consent flow (authorization code) is in `oauth`.

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use super::Subject;
use super::events::{self, EventType};
use crate::auth::AuthState;
use crate::auth::partner::hash_secret;
use crate::auth::tokens::{self, Scope, TokenKind};
use crate::db::{self, DbPool};
use crate::error::ApiError;
use crate::repository::partners::{self, GrantRow, PartnerRow};

/// The token endpoint's answer to a partner. `client_credentials` gives the access token
/// alone; `authorization_code` and `refresh_token` also give a refresh token and the user.
#[derive(Debug, Serialize, ToSchema)]
pub struct PartnerTokenResponse {
    /// The partner's access token (subject = its client id).
    pub access_token: String,
    #[schema(example = "Bearer")]
    pub token_type: &'static str,
    #[schema(example = 900)]
    pub expires_in: u64,
    #[schema(example = "sessions:read sessions:write")]
    pub scope: String,
    /// After a user's consent: opaque and single use (`grant_type=refresh_token` returns a new
    /// one). Presenting a used one again revokes every token of that consent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = 2_592_000)]
    pub refresh_token_expires_in: Option<u64>,
    /// After a user's consent: the user, whose data is under `/v1/users/{user_id}/…`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
}

fn oauth(error: &'static str, description: impl Into<String>) -> ApiError {
    ApiError::OAuth {
        error,
        description: description.into(),
    }
}

pub fn invalid_request(description: impl Into<String>) -> ApiError {
    oauth("invalid_request", description)
}

pub fn invalid_client() -> ApiError {
    oauth("invalid_client", "Client authentication failed.")
}

/// A partner access token for the `grant_type` and `scope` form fields and the client
/// credentials the request presented (checked after the form, as RFC 6749 orders the errors).
pub async fn issue_token(
    pool: &DbPool,
    auth: &AuthState,
    credentials: Result<(String, String), ApiError>,
    grant_type: Option<&str>,
    scope: Option<&str>,
) -> Result<PartnerTokenResponse, ApiError> {
    match grant_type {
        Some("client_credentials") => {}
        Some(other) => {
            return Err(oauth(
                "unsupported_grant_type",
                format!(
                    "Grant type `{other}` is not supported; use client_credentials, authorization_code or refresh_token."
                ),
            ));
        }
        None => return Err(invalid_request("The `grant_type` parameter is required.")),
    }
    let requested = scope
        .map(|s| {
            Scope::parse_list(s)
                .map_err(|unknown| oauth("invalid_scope", format!("Unknown scope `{unknown}`.")))
        })
        .transpose()?;
    let partner = authenticate_client(pool, credentials).await?;
    let allowed = Scope::parse_list(&partner.scopes).unwrap_or_default();
    let scopes = match requested {
        Some(requested) if requested.iter().all(|s| allowed.contains(s)) && !requested.is_empty() => {
            requested
        }
        Some(_) => {
            return Err(oauth(
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
    Ok(PartnerTokenResponse {
        access_token: token,
        token_type: "Bearer",
        expires_in: auth.config.access_ttl_secs,
        scope: Scope::join(&scopes),
        refresh_token: None,
        refresh_token_expires_in: None,
        user_id: None,
    })
}

/// The registered, unrevoked partner these client credentials (HTTP Basic or form, already
/// extracted) authenticate; `invalid_client` otherwise.
pub async fn authenticate_client(
    pool: &DbPool,
    credentials: Result<(String, String), ApiError>,
) -> Result<PartnerRow, ApiError> {
    let (client_id, secret) = credentials?;
    let partner = db::query(pool, move |conn| partners::find(conn, &client_id)).await?;
    partner
        .filter(|p| p.revoked_at.is_none() && p.secret_hash == hash_secret(&secret))
        .ok_or_else(invalid_client)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Grant {
    pub id: String,
    pub partner_id: String,
    pub partner_name: String,
    pub scopes: Vec<Scope>,
    pub created_at: DateTime<Utc>,
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

/// Lets `partner_id` act on the subject's data within `scopes`, replacing an earlier grant to
/// the same partner.
pub async fn grant(
    pool: &DbPool,
    subject: Subject,
    partner_id: String,
    scopes: Vec<Scope>,
) -> Result<Grant, ApiError> {
    let mut unique = scopes.clone();
    unique.sort_unstable();
    unique.dedup();
    if unique.len() != scopes.len() {
        return Err(ApiError::invalid_field(
            "scopes",
            "duplicate",
            "must not list a scope twice",
        ));
    }
    let account = subject.user_id.clone();
    let user_id = subject.user_id.clone();
    let grant = db::write(pool, move |conn| -> Result<Grant, ApiError> {
        let partner = partners::find(conn, &partner_id)?
            .filter(|p| p.revoked_at.is_none())
            .ok_or_else(|| {
                ApiError::invalid_field("partner_id", "not_found", "is not a registered partner")
            })?;
        let row = GrantRow {
            id: uuid::Uuid::new_v4().to_string(),
            user_id: user_id.clone(),
            partner_id: partner.id,
            scopes: Scope::join(&unique),
            created_at: db::now(),
            revoked_at: None,
        };
        partners::grant(conn, &row)?;
        let grant = grant_response(row, partner.name);
        let event = events::for_partner(
            EventType::GrantCreated,
            &subject.user_id,
            &grant.partner_id,
            &grant,
        )?;
        events::emit(conn, vec![event])?;
        Ok(grant)
    })
    .await?;
    tracing::info!(target: "audit", event = "grant_created", account_id = %account, grant_id = %grant.id, partner_id = %grant.partner_id, "partner grant created");
    Ok(grant)
}

/// The subject's active grants.
pub async fn grants(pool: &DbPool, subject: Subject) -> Result<Vec<Grant>, ApiError> {
    db::run(pool, move |conn| -> Result<Vec<Grant>, ApiError> {
        partners::grants_of(conn, &subject.user_id)?
            .into_iter()
            .map(|row| {
                let name = partners::find(conn, &row.partner_id)?
                    .map(|p| p.name)
                    .unwrap_or_default();
                Ok(grant_response(row, name))
            })
            .collect()
    })
    .await
}

/// Revokes one of the subject's active grants; it takes effect on the partner's next request.
pub async fn revoke(pool: &DbPool, subject: Subject, grant_id: String) -> Result<(), ApiError> {
    let (account, grant) = (subject.user_id.clone(), grant_id.clone());
    let revoked = db::write(pool, move |conn| -> Result<bool, ApiError> {
        let Some(row) = partners::revoke_grant(conn, &subject.user_id, &grant_id, db::now())? else {
            return Ok(false);
        };
        emit_revoked(conn, vec![row], "revoked_by_user")?;
        Ok(true)
    })
    .await?;
    if !revoked {
        return Err(ApiError::NotFound(
            "You have no active grant with this id.".into(),
        ));
    }
    tracing::info!(target: "audit", event = "grant_revoked", account_id = %account, grant_id = %grant, "partner grant revoked");
    Ok(())
}

/// Tells each partner whose grant ended (`reason`: `revoked_by_user`, `account_deleted`).
pub fn emit_revoked(
    conn: &mut db::AnyConnection,
    grants: Vec<GrantRow>,
    reason: &str,
) -> Result<(), ApiError> {
    let now = Utc::now();
    let events = grants
        .into_iter()
        .map(|g| {
            let data = serde_json::json!({
                "id": g.id, "partner_id": g.partner_id, "scopes": Scope::parse_list(&g.scopes).unwrap_or_default(),
                "created_at": g.created_at.and_utc(), "revoked_at": now, "reason": reason,
            });
            events::for_partner(EventType::GrantRevoked, &g.user_id, &g.partner_id, &data)
        })
        .collect::<Result<Vec<_>, _>>()?;
    events::emit(conn, events)
}

/// A user who grants the partner access.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConnectedUser {
    pub user_id: String,
    pub grant_id: String,
    pub scopes: Vec<Scope>,
    pub granted_at: DateTime<Utc>,
}

/// The users who grant `partner_id` access now, newest grant first.
pub async fn connected_users(
    pool: &DbPool,
    partner_id: String,
    cursor: Option<&str>,
    limit: u32,
) -> Result<super::paging::Listing<ConnectedUser>, ApiError> {
    use super::paging;
    let after = paging::after(cursor)?;
    let limit = limit.clamp(1, paging::MAX_LIMIT) as usize;
    let rows = db::query(pool, move |conn| {
        partners::grants_to(conn, &partner_id, after, limit as i64 + 1)
    })
    .await?;
    paging::page(
        rows,
        limit,
        |g| (g.created_at, &g.id),
        |g| {
            Ok(ConnectedUser {
                scopes: Scope::parse_list(&g.scopes).unwrap_or_default(),
                user_id: g.user_id,
                grant_id: g.id,
                granted_at: g.created_at.and_utc(),
            })
        },
    )
}
