//! The grants users give partner platforms (`/v1/me/partner-grants`). The OAuth endpoints
//! partners use are in `oauth`.

use actix_web::{HttpResponse, delete, get, post, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

use crate::auth::AuthUser;
use crate::auth::tokens::Scope;
use crate::db::DbPool;
use crate::error::{ApiError, Problem};
use crate::http::Json;
use crate::services::Subject;
use crate::services::partners::{self as service, Grant};

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
///
/// The partners that may act on your data now, with the scopes you gave each, whether from the
/// consent page or from `POST /v1/me/partner-grants`.
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
///
/// The partner loses access at its next request, and its refresh tokens for you stop working.
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
