//! Programmes: `POST /v1/programmes/preview` generates without storing; `/v1/me/programmes`
//! stores them for their owner; `/v1/users/{user_id}/programmes` is the partner view, under the
//! user's grant. Both views share one implementation. Versions and adaptation: `adaptation`.

use actix_web::{HttpRequest, HttpResponse, delete, get, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use crate::auth::tokens::Scope;
use crate::auth::{AuthUser, PartnerCaller};
use crate::catalogue::Catalogue;
use crate::db::{self, DbPool};
use crate::error::{ApiError, Problem};
use crate::http::conditional::{cached_json, etag};
use crate::http::{Json, Query};
use crate::programme::adapt::ProgrammeStatus;
use crate::programme::input::ProgrammeRequest;
use crate::programme::{self, model::Programme};
use crate::repository::programmes::{self, ProgrammeRow};

/// Preview a personalised programme.
///
/// Generates a multi-week soleus programme from age, activity level and goals, screened
/// against the red-flag rules (SCR-*) and explained per exercise. Nothing is stored and no
/// account is needed. The same request always gives the same programme for a given
/// `generator_version`. A referral (`safety.status = "refer"`) is a 200 with no weeks: the
/// request was fine, the answer is "see a clinician first".
#[utoipa::path(
    tag = "programmes",
    request_body(
        content = ProgrammeRequest,
        examples(
            ("runner" = (summary = "28-year-old trained runner", value = json!({
                "age": 28, "activity_level": "trained", "goals": ["runner_endurance"], "sex": "female",
                "body_mass_kg": 60, "equipment": ["step", "free_weight"], "days_per_week": 3, "weeks": 12,
                "start_date": "2026-12-07",
                "screening": {"chest_pain": false, "dizziness_or_fainting": false, "calf_swelling_warmth_redness": false, "acute_calf_strain": false},
                "baseline_heel_raise": {"left": 31, "right": 32}, "weekly_running_km": 40, "achilles_pain": 0
            }))),
            ("fall_prevention" = (summary = "72-year-old with a fall last year", value = json!({
                "age": 72, "activity_level": "lightly_active", "goals": ["fall_prevention"],
                "screening": {"chest_pain": false, "dizziness_or_fainting": false, "calf_swelling_warmth_redness": false, "acute_calf_strain": false},
                "fall_risk": {"fallen_past_year": true, "feels_unsteady": false, "worries_about_falling": true, "uses_walking_aid": false}
            }))),
            ("circulation" = (summary = "45-year-old desk worker", value = json!({
                "age": 45, "activity_level": "sedentary", "goals": ["circulation"], "days_per_week": 2,
                "screening": {"chest_pain": false, "dizziness_or_fainting": false, "calf_swelling_warmth_redness": false, "acute_calf_strain": false}
            }))),
        ),
    ),
    responses(
        (status = 200, description = "The programme (or a referral with no exercise).", body = Programme),
        (status = 422, description = "A field is invalid, unknown or out of range; under-18s are out of scope (SCR-14).",
         body = Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/programmes/preview")]
pub async fn preview_programme(
    body: Json<ProgrammeRequest>,
    catalogue: web::Data<Catalogue>,
) -> HttpResponse {
    let programme = programme::generate(&body, &catalogue);
    HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(programme)
}

/// A stored programme, at its latest version.
#[derive(Debug, Serialize, ToSchema)]
pub struct StoredProgramme {
    pub id: String,
    /// `app` when the user created it, otherwise the partner's client id.
    pub source: String,
    pub created_at: DateTime<Utc>,
    /// The latest version (1 until the programme adapts; see `/versions`).
    pub version: i32,
    /// `suspended` after a stop signal (see the programme's `safety`).
    #[schema(value_type = ProgrammeStatus)]
    pub status: String,
    /// Whether logging a session linked to this programme adapts it.
    pub auto_adapt: bool,
    #[schema(value_type = Programme)]
    pub programme: serde_json::Value,
}

/// One line of a programme list.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProgrammeSummary {
    pub id: String,
    pub source: String,
    pub created_at: DateTime<Utc>,
    pub version: i32,
    #[schema(value_type = ProgrammeStatus)]
    pub status: String,
    pub auto_adapt: bool,
    pub generator_version: String,
    #[schema(value_type = Vec<crate::catalogue::Goal>)]
    pub goals: serde_json::Value,
    #[schema(value_type = crate::programme::model::SafetyStatus)]
    pub safety_status: serde_json::Value,
    pub start_date: Option<String>,
    pub weeks: usize,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProgrammeList {
    /// Newest first (at most 100).
    pub items: Vec<ProgrammeSummary>,
}

fn stored(row: ProgrammeRow) -> Result<StoredProgramme, ApiError> {
    Ok(StoredProgramme {
        programme: crate::error::read_json(&row.document)?,
        id: row.id,
        source: row.source,
        created_at: row.created_at.and_utc(),
        version: row.current_version,
        status: row.status,
        auto_adapt: row.auto_adapt,
    })
}

fn summary(row: ProgrammeRow) -> Result<ProgrammeSummary, ApiError> {
    let doc: serde_json::Value = crate::error::read_json(&row.document)?;
    Ok(ProgrammeSummary {
        id: row.id,
        source: row.source,
        created_at: row.created_at.and_utc(),
        version: row.current_version,
        status: row.status,
        auto_adapt: row.auto_adapt,
        generator_version: row.generator_version,
        goals: doc.pointer("/input/goals").cloned().unwrap_or_default(),
        safety_status: doc.pointer("/safety/status").cloned().unwrap_or_default(),
        start_date: doc
            .pointer("/input/start_date")
            .and_then(|d| d.as_str())
            .map(str::to_owned),
        weeks: doc
            .pointer("/weeks")
            .and_then(|w| w.as_array())
            .map_or(0, Vec::len),
    })
}

/// Generates and stores a programme for `owner`; shared by the user and partner routes.
async fn create_for(
    pool: &DbPool,
    catalogue: &Catalogue,
    owner: String,
    source: String,
    request: ProgrammeRequest,
    auto_adapt: bool,
    location_prefix: &str,
) -> Result<HttpResponse, ApiError> {
    let programme = programme::generate(&request, catalogue);
    let row = ProgrammeRow {
        id: uuid::Uuid::new_v4().to_string(),
        user_id: owner,
        source,
        generator_version: programme.generator_version.to_owned(),
        request: crate::error::write_json(&request)?,
        document: crate::error::write_json(&programme)?,
        created_at: crate::db::now(),
        current_version: 1,
        status: ProgrammeStatus::Active.as_str().to_owned(),
        auto_adapt,
    };
    let stored_row = row.clone();
    db::run(pool, move |conn| programmes::insert(conn, &stored_row)).await?;
    let location = format!("{location_prefix}/{}", row.id);
    Ok(HttpResponse::Created()
        .insert_header(("Location", location))
        .json(stored(row)?))
}

async fn list_for(pool: &DbPool, owner: String) -> Result<HttpResponse, ApiError> {
    let rows = db::run(pool, move |conn| programmes::list(conn, &owner, 100)).await?;
    let items = rows.into_iter().map(summary).collect::<Result<_, _>>()?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(ProgrammeList { items }))
}

async fn get_for(
    req: &HttpRequest,
    pool: &DbPool,
    owner: String,
    id: String,
) -> Result<HttpResponse, ApiError> {
    let row = db::run(pool, move |conn| programmes::find(conn, &owner, &id))
        .await?
        .ok_or_else(not_found)?;
    // A programme changes only by gaining versions (and the auto-adapt flag).
    let tag = etag(&[
        &row.id,
        &row.current_version.to_string(),
        &row.auto_adapt.to_string(),
    ]);
    Ok(cached_json(req, &tag, "private, no-cache", &[], &stored(row)?))
}

/// The one answer for a programme that does not exist and one that is someone else's.
pub(super) fn not_found() -> ApiError {
    ApiError::NotFound("No programme of yours has this id.".into())
}

/// Options for creating a programme.
#[derive(Debug, Default, Deserialize, Validate, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CreateQuery {
    /// Adapt the programme each time a session linked to it is logged (default false). Either
    /// way, `POST /v1/me/programmes/{id}/adapt` adapts it on demand.
    pub auto_adapt: Option<bool>,
}

/// Create a programme.
///
/// Generates a programme like the preview does and stores it as yours, as version 1.
#[utoipa::path(
    tag = "programmes",
    security(("bearer_auth" = [])),
    params(CreateQuery),
    request_body = ProgrammeRequest,
    responses(
        (status = 201, description = "Stored.", body = StoredProgramme, headers(("Location" = String))),
        (status = 401, description = "No valid access token.", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks `programmes:write`.", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/me/programmes")]
pub async fn create_programme(
    user: AuthUser,
    pool: web::Data<DbPool>,
    catalogue: web::Data<Catalogue>,
    query: Query<CreateQuery>,
    body: Json<ProgrammeRequest>,
) -> Result<HttpResponse, ApiError> {
    user.require(Scope::ProgrammesWrite)?;
    create_for(
        &pool,
        &catalogue,
        user.id,
        "app".into(),
        body.into_inner(),
        query.auto_adapt.unwrap_or(false),
        "/v1/me/programmes",
    )
    .await
}

/// Your programmes.
#[utoipa::path(
    tag = "programmes",
    security(("bearer_auth" = [])),
    responses(
        (status = 200, description = "Newest first.", body = ProgrammeList),
        (status = 401, description = "No valid access token.", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/me/programmes")]
pub async fn list_programmes(user: AuthUser, pool: web::Data<DbPool>) -> Result<HttpResponse, ApiError> {
    user.require(Scope::ProgrammesRead)?;
    list_for(&pool, user.id).await
}

/// One of your programmes.
#[utoipa::path(
    tag = "programmes",
    security(("bearer_auth" = [])),
    params(("id" = String, Path, description = "Programme id", max_length = 100)),
    responses(
        (status = 200, description = "The programme.", body = StoredProgramme, headers(("ETag" = String))),
        (status = 304, description = "Not modified."),
        (status = 401, description = "No valid access token.", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Not yours, or no such programme.", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/me/programmes/{id}")]
pub async fn get_programme(
    req: HttpRequest,
    user: AuthUser,
    pool: web::Data<DbPool>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    user.require(Scope::ProgrammesRead)?;
    get_for(&req, &pool, user.id, id.into_inner()).await
}

/// Delete one of your programmes.
#[utoipa::path(
    tag = "programmes",
    security(("bearer_auth" = [])),
    params(("id" = String, Path, description = "Programme id", max_length = 100)),
    responses(
        (status = 204, description = "Deleted."),
        (status = 401, description = "No valid access token.", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Not yours, or no such programme.", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[delete("/me/programmes/{id}")]
pub async fn delete_programme(
    user: AuthUser,
    pool: web::Data<DbPool>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    user.require(Scope::ProgrammesWrite)?;
    let id = id.into_inner();
    let deleted = db::run(&pool, move |conn| programmes::delete(conn, &user.id, &id)).await?;
    if deleted {
        Ok(HttpResponse::NoContent().finish())
    } else {
        Err(not_found())
    }
}

/// Programme calendar.
///
/// The sessions as iCalendar (RFC 5545), one all-day event per session, to import into any
/// calendar app. Dated from the programme's start date, or from the day it was created.
#[utoipa::path(
    tag = "programmes",
    security(("bearer_auth" = [])),
    params(("id" = String, Path, description = "Programme id", max_length = 100)),
    responses(
        (status = 200, description = "The calendar.", body = String, content_type = "text/calendar"),
        (status = 401, description = "No valid access token.", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Not yours, or no such programme.", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/me/programmes/{id}/calendar.ics")]
pub async fn programme_calendar(
    user: AuthUser,
    pool: web::Data<DbPool>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    user.require(Scope::ProgrammesRead)?;
    let id = id.into_inner();
    let row = db::run(&pool, move |conn| programmes::find(conn, &user.id, &id))
        .await?
        .ok_or_else(not_found)?;
    let doc: serde_json::Value = crate::error::read_json(&row.document)?;
    let body = programme::calendar::ics(&row.id, &doc, row.created_at.date(), row.created_at);
    Ok(HttpResponse::Ok()
        .content_type("text/calendar; charset=utf-8")
        .insert_header((
            "Content-Disposition",
            "attachment; filename=\"soleus-programme.ics\"",
        ))
        .body(body))
}

/// A user's programmes (partner).
///
/// Needs `programmes:read` in the partner token and in the user's active grant.
#[utoipa::path(
    tag = "partners",
    security(("partner_oauth" = ["programmes:read"])),
    params(("user_id" = String, Path, description = "The user's id", max_length = 100)),
    responses(
        (status = 200, description = "Newest first.", body = ProgrammeList),
        (status = 401, description = "No valid access token.", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "No active grant, or a missing scope.", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/users/{user_id}/programmes")]
pub async fn partner_list_programmes(
    partner: PartnerCaller,
    pool: web::Data<DbPool>,
    user_id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let user_id = user_id.into_inner();
    partner.authorize(&pool, &user_id, Scope::ProgrammesRead).await?;
    list_for(&pool, user_id).await
}

/// Create a programme for a user (partner).
///
/// Needs `programmes:write` in the partner token and in the user's active grant.
#[utoipa::path(
    tag = "partners",
    security(("partner_oauth" = ["programmes:write"])),
    params(("user_id" = String, Path, description = "The user's id", max_length = 100)),
    request_body = ProgrammeRequest,
    responses(
        (status = 201, description = "Stored for the user.", body = StoredProgramme, headers(("Location" = String))),
        (status = 401, description = "No valid access token.", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "No active grant, or a missing scope.", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/users/{user_id}/programmes")]
pub async fn partner_create_programme(
    partner: PartnerCaller,
    pool: web::Data<DbPool>,
    catalogue: web::Data<Catalogue>,
    user_id: web::Path<String>,
    body: Json<ProgrammeRequest>,
) -> Result<HttpResponse, ApiError> {
    let user_id = user_id.into_inner();
    partner.authorize(&pool, &user_id, Scope::ProgrammesWrite).await?;
    let prefix = format!("/v1/users/{user_id}/programmes");
    create_for(
        &pool,
        &catalogue,
        user_id,
        partner.client_id,
        body.into_inner(),
        false,
        &prefix,
    )
    .await
}

/// One of a user's programmes (partner).
#[utoipa::path(
    tag = "partners",
    security(("partner_oauth" = ["programmes:read"])),
    params(
        ("user_id" = String, Path, description = "The user's id", max_length = 100),
        ("id" = String, Path, description = "Programme id", max_length = 100),
    ),
    responses(
        (status = 200, description = "The programme.", body = StoredProgramme),
        (status = 304, description = "Not modified."),
        (status = 401, description = "No valid access token.", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "No active grant, or a missing scope.", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such programme of this user.", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/users/{user_id}/programmes/{id}")]
pub async fn partner_get_programme(
    req: HttpRequest,
    partner: PartnerCaller,
    pool: web::Data<DbPool>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (user_id, id) = path.into_inner();
    partner.authorize(&pool, &user_id, Scope::ProgrammesRead).await?;
    get_for(&req, &pool, user_id, id).await
}
