//! Liveness and readiness probes, and the Prometheus metrics.

use actix_web::{HttpRequest, HttpResponse, get, web};
use serde::Serialize;
use utoipa::ToSchema;

use crate::db::{self, Backend, DbPool};
use crate::error::{ApiError, Problem};
use crate::http::middleware::MetricsToken;

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

/// Prometheus metrics.
///
/// The text exposition format: requests and their latency per route template and status, the
/// database pools (in use, idle, waits), rate-limit rejections, login and registration
/// throttling, and webhook attempts. Served only when `SOLEUS_METRICS_TOKEN` is set, to
/// scrapers that send it as a bearer token (`authorization.credentials` in Prometheus);
/// otherwise every request is a 401.
#[utoipa::path(
    tag = "operations",
    security(("metrics_token" = [])),
    responses(
        (status = 200, description = "The metrics.", content_type = "text/plain; version=0.0.4",
         body = String, example = "# TYPE soleus_http_requests_total counter\nsoleus_http_requests_total{method=\"GET\",route=\"/v1/exercises\",status=\"200\"} 12\n"),
        (status = 401, description = "The metrics token is missing or wrong, or metrics are not enabled (`SOLEUS_METRICS_TOKEN` is not set; the detail says so).", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/metrics")]
pub async fn metrics(req: HttpRequest, pool: web::Data<DbPool>) -> Result<HttpResponse, ApiError> {
    let sent = crate::auth::extract::bearer(&req).unwrap_or_default();
    // Off, no token is right: the answer is the same 401, saying why.
    let Some(token) = req.app_data::<web::Data<MetricsToken>>() else {
        return Err(ApiError::Unauthorized(
            "Metrics are not enabled on this server (set SOLEUS_METRICS_TOKEN).".into(),
        ));
    };
    if !crate::http::constant_time_eq(sent.as_bytes(), token.0.as_bytes()) {
        return Err(ApiError::Unauthorized(
            "Send the metrics token as `Authorization: Bearer …`.".into(),
        ));
    }
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(crate::metrics::render(&pool.states())))
}
