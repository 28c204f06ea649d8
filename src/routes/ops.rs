//! Liveness and readiness probes.

use actix_web::{HttpResponse, get, web};
use serde::Serialize;
use utoipa::ToSchema;

use crate::db::{self, Backend, DbPool};
use crate::error::{ApiError, Problem};

#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    #[schema(example = "ok")]
    pub status: &'static str,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Readiness {
    #[schema(example = "ready")]
    pub status: &'static str,
    /// The storage engine that answered.
    pub database: Backend,
}

/// Liveness: the process is up.
///
/// Does not touch the database, so a slow database never gets a healthy process restarted.
#[utoipa::path(
    tag = "operations",
    responses((status = 200, description = "The process is alive.", body = Health)),
)]
#[get("/healthz")]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(Health { status: "ok" })
}

/// Readiness: the database is reachable and migrated.
///
/// Load balancers should stop sending traffic while this answers 503.
#[utoipa::path(
    tag = "operations",
    responses(
        (status = 200, description = "Ready to serve.", body = Readiness),
        (status = 503, description = "The database is unreachable.", body = Problem, content_type = "application/problem+json",
         headers(("Retry-After" = u32, description = "Seconds to wait before retrying"))),
    ),
)]
#[get("/readyz")]
pub async fn readyz(pool: web::Data<DbPool>) -> Result<HttpResponse, ApiError> {
    let backend = db::ready(&pool).await.map_err(|e| {
        tracing::warn!(error = %e, "readiness check failed");
        ApiError::ServiceUnavailable("The database is not reachable.".into())
    })?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(Readiness {
            status: "ready",
            database: backend,
        }))
}
