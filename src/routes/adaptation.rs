//! Programme adaptation: `POST /v1/me/programmes/{id}/adapt`, the versions and their diff, and
//! `POST /v1/programmes/simulate` (no storage). The rules are in `programme::adapt`; this module
//! loads what they read (the programme's sessions, the user's heel-raise retests) and stores
//! the version they produce.

use actix_web::{HttpResponse, get, post, web};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use crate::assessments::AssessmentInput;
use crate::auth::AuthUser;
use crate::auth::tokens::Scope;
use crate::catalogue::Catalogue;
use crate::db::{self, AnyConnection, DbPool};
use crate::error::{ApiError, Problem, read_json, write_json};
use crate::http::{Json, Query};
use crate::programme::adapt::{
    self, Adaptation, HeelRaiseRetest, LoggedSession, ProgrammeStatus, Record, Through,
};
use crate::programme::diff::{self, Diff};
use crate::programme::input::ProgrammeRequest;
use crate::programme::model::Programme;
use crate::repository::programmes::{self, ProgrammeRow, VersionRow};
use crate::repository::{assessments, sessions};
use crate::routes::programmes::not_found;
use crate::sessions::Content;

/// What made a version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum VersionCause {
    /// Version 1, as generated.
    Generated,
    /// `POST /v1/me/programmes/{id}/adapt`.
    Adapt,
    /// A linked session was logged (programmes created with `auto_adapt=true`).
    Session,
}

impl VersionCause {
    fn as_str(self) -> &'static str {
        match self {
            Self::Generated => "generated",
            Self::Adapt => "adapt",
            Self::Session => "session",
        }
    }
}

/// One version of a stored programme.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProgrammeVersion {
    pub programme_id: String,
    pub version: i32,
    #[schema(value_type = VersionCause)]
    pub cause: String,
    #[schema(value_type = ProgrammeStatus)]
    pub status: String,
    pub created_at: DateTime<Utc>,
    /// The decisions that made this version: per week read, per exercise, the rule and why.
    /// Absent for version 1.
    #[schema(value_type = Option<Record>)]
    pub adaptation: Option<serde_json::Value>,
    #[schema(value_type = Programme)]
    pub programme: serde_json::Value,
}

/// A version without its documents.
#[derive(Debug, Serialize, ToSchema)]
pub struct VersionSummary {
    pub version: i32,
    #[schema(value_type = VersionCause)]
    pub cause: String,
    #[schema(value_type = ProgrammeStatus)]
    pub status: String,
    pub created_at: DateTime<Utc>,
    /// The last programme week whose logs this version read (0 for version 1).
    pub evaluated_through_week: u64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct VersionList {
    /// Oldest first.
    pub items: Vec<VersionSummary>,
}

fn version_body(row: VersionRow) -> Result<ProgrammeVersion, ApiError> {
    let adaptation: serde_json::Value = read_json(&row.adaptation)?;
    Ok(ProgrammeVersion {
        programme: read_json(&row.document)?,
        adaptation: (row.version > 1).then_some(adaptation),
        programme_id: row.programme_id,
        version: row.version,
        cause: row.cause,
        status: row.status,
        created_at: row.created_at.and_utc(),
    })
}

fn no_version() -> ApiError {
    ApiError::NotFound("This programme has no such version.".into())
}

/// The programme's first day: its start date, or the day it was created.
fn start_of(request: &ProgrammeRequest, row: &ProgrammeRow) -> NaiveDate {
    request.start_date.unwrap_or_else(|| row.created_at.date())
}

/// The programme week a date falls in (0 before the start).
fn week_of(start: NaiveDate, date: NaiveDate) -> i64 {
    let days = (date - start).num_days();
    if days < 0 { 0 } else { days / 7 + 1 }
}

/// Replays the user's programme `row` against its sessions and retests, and stores the result
/// as a new version when anything changed. Runs inside one transaction on the caller's
/// connection. Answers whether a version was added, and the latest version.
pub fn adapt_stored(
    conn: &mut AnyConnection,
    catalogue: &Catalogue,
    row: &ProgrammeRow,
    cause: VersionCause,
    today: NaiveDate,
) -> Result<(bool, VersionRow), ApiError> {
    let (user_id, programme_id) = (row.user_id.as_str(), row.id.as_str());
    let request: ProgrammeRequest = read_json(&row.request)?;
    let start = start_of(&request, row);
    let total = i64::from(request.weeks.unwrap_or(crate::programme::DEFAULT_WEEKS));
    let to_week = |w: i64| {
        u8::try_from(w)
            .ok()
            .filter(|w| (1..=total).contains(&i64::from(*w)))
    };
    let mut logged = Vec::new();
    for s in sessions::for_programme(conn, user_id, programme_id)? {
        let content: Content = read_json(&s.content)?;
        let local = s.started_at + chrono::Duration::minutes(i64::from(s.utc_offset_minutes));
        let week = content
            .programme_week
            .map_or_else(|| week_of(start, local.date()), i64::from);
        if let Some(week) = to_week(week) {
            logged.push(LoggedSession {
                week,
                rpe: content.rpe,
                pain_during: content.pain_during,
                pain_next_morning: content.pain_next_morning,
                symptoms: content.symptoms,
                sets: content.sets,
            });
        }
    }
    let mut retests = Vec::new();
    for a in assessments::all(conn, user_id)? {
        let input: AssessmentInput = read_json(&a.content)?;
        if let (Some(test), Some(week)) = (
            input.heel_raise(),
            to_week(week_of(start, input.performed_at.date_naive()))
                .filter(|_| input.performed_at.date_naive() >= start),
        ) {
            retests.push(HeelRaiseRetest {
                week,
                left: test.left,
                right: test.right,
            });
        }
    }
    let today_week = week_of(start, today);
    let through = if today_week > total {
        Through {
            week: to_week(total).unwrap_or(1),
            complete: true,
        }
    } else {
        let latest = logged.iter().map(|l| i64::from(l.week)).max().unwrap_or(0);
        Through {
            week: u8::try_from(today_week.max(latest)).unwrap_or(0),
            complete: false,
        }
    };
    let adaptation = adapt::adapt(&request, catalogue, &logged, &retests, through);
    let document = write_json(&adaptation.programme)?;
    let record = write_json(&adaptation.record)?;
    let latest = programmes::version(conn, programme_id, row.current_version)?.ok_or_else(no_version)?;
    let status = adaptation.status.as_str();
    let same_record =
        latest.adaptation == record || (latest.version == 1 && adaptation.record.reviews.is_empty());
    if latest.document == document && latest.status == status && same_record {
        return Ok((false, latest));
    }
    let version = VersionRow {
        programme_id: programme_id.to_owned(),
        version: row.current_version + 1,
        cause: cause.as_str().to_owned(),
        status: status.to_owned(),
        adaptation: record,
        document,
        created_at: db::now(),
    };
    if !programmes::add_version(conn, user_id, &version)? {
        return Err(ApiError::Conflict(
            "The programme was adapted by another request at the same moment; retry.".into(),
        ));
    }
    Ok((true, version))
}

/// Adapts `programme_id` after one of its sessions was written, if it opted in. Failures are
/// logged, never returned: the session itself is stored either way.
pub async fn after_session_write(
    pool: &DbPool,
    catalogue: web::Data<Catalogue>,
    user_id: &str,
    programme_id: Option<&str>,
) {
    let Some(programme_id) = programme_id else {
        return;
    };
    let (user_id, programme_id) = (user_id.to_owned(), programme_id.to_owned());
    let result = db::run(pool, move |conn| {
        let Some(row) = programmes::find(conn, &user_id, &programme_id)? else {
            return Ok(());
        };
        if !row.auto_adapt || row.status != ProgrammeStatus::Active.as_str() {
            return Ok(());
        }
        adapt_stored(
            conn,
            &catalogue,
            &row,
            VersionCause::Session,
            Utc::now().date_naive(),
        )
        .map(drop)
    })
    .await;
    if let Err(e) = result {
        tracing::warn!(error = %e, "automatic adaptation failed");
    }
}

/// Adapt a programme.
///
/// Reads the sessions linked to the programme (by `programme_id`; the week from
/// `programme_week` or the date) and your heel-raise retests, replays the programme from week 1,
/// and stores the result as a new version: per exercise and week one decision (progress, hold,
/// regress, deload) with the rule that decided it (2-FOR-2, REG-01 to REG-04, DELOAD, RETEST).
/// A stop signal (STP-01 to STP-03) suspends the programme with a referral. When nothing has
/// changed since the latest version, answers 200 with it.
#[utoipa::path(
    tag = "programmes",
    security(("bearer_auth" = [])),
    params(("id" = String, Path, description = "Programme id", max_length = 100)),
    responses(
        (status = 201, description = "A new version.", body = ProgrammeVersion, headers(("Location" = String))),
        (status = 200, description = "Nothing new: the latest version.", body = ProgrammeVersion),
        (status = 401, description = "No valid access token.", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks `programmes:write`.", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Not yours, or no such programme.", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Adapted by another request at the same moment; retry.", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/me/programmes/{id}/adapt")]
pub async fn adapt_programme(
    user: AuthUser,
    pool: web::Data<DbPool>,
    catalogue: web::Data<Catalogue>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    user.require(Scope::ProgrammesWrite)?;
    let id = id.into_inner();
    let catalogue = catalogue.into_inner();
    let (created, row) = db::run(&pool, move |conn| {
        db::write_transaction(conn, |conn| -> Result<(bool, VersionRow), ApiError> {
            let row = programmes::find(conn, &user.id, &id)?.ok_or_else(not_found)?;
            adapt_stored(
                conn,
                &catalogue,
                &row,
                VersionCause::Adapt,
                Utc::now().date_naive(),
            )
        })
    })
    .await?;
    if created {
        let location = format!("/v1/me/programmes/{}/versions/{}", row.programme_id, row.version);
        Ok(HttpResponse::Created()
            .insert_header(("Location", location))
            .json(version_body(row)?))
    } else {
        Ok(HttpResponse::Ok().json(version_body(row)?))
    }
}

/// A programme's versions.
#[utoipa::path(
    tag = "programmes",
    security(("bearer_auth" = [])),
    params(("id" = String, Path, description = "Programme id", max_length = 100)),
    responses(
        (status = 200, description = "Oldest first.", body = VersionList),
        (status = 401, description = "No valid access token.", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Not yours, or no such programme.", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/me/programmes/{id}/versions")]
pub async fn list_versions(
    user: AuthUser,
    pool: web::Data<DbPool>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    user.require(Scope::ProgrammesRead)?;
    let id = id.into_inner();
    let rows = db::run(&pool, move |conn| -> Result<Vec<VersionRow>, ApiError> {
        programmes::find(conn, &user.id, &id)?.ok_or_else(not_found)?;
        Ok(programmes::versions(conn, &id)?)
    })
    .await?;
    let items = rows
        .into_iter()
        .map(|r| {
            let through = read_json::<serde_json::Value>(&r.adaptation)?
                .get("evaluated_through_week")
                .and_then(serde_json::Value::as_u64)
                .unwrap_or(0);
            Ok(VersionSummary {
                version: r.version,
                cause: r.cause,
                status: r.status,
                created_at: r.created_at.and_utc(),
                evaluated_through_week: through,
            })
        })
        .collect::<Result<_, ApiError>>()?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(VersionList { items }))
}

/// One version of a programme.
#[utoipa::path(
    tag = "programmes",
    security(("bearer_auth" = [])),
    params(
        ("id" = String, Path, description = "Programme id", max_length = 100),
        ("version" = i32, Path, description = "Version number", minimum = 1),
    ),
    responses(
        (status = 200, description = "The version: the programme and the decisions that made it.", body = ProgrammeVersion),
        (status = 401, description = "No valid access token.", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Not yours, or no such programme or version.", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/me/programmes/{id}/versions/{version}")]
pub async fn get_version(
    user: AuthUser,
    pool: web::Data<DbPool>,
    path: web::Path<(String, i32)>,
) -> Result<HttpResponse, ApiError> {
    user.require(Scope::ProgrammesRead)?;
    let (id, number) = path.into_inner();
    let row = db::run(&pool, move |conn| -> Result<VersionRow, ApiError> {
        programmes::find(conn, &user.id, &id)?.ok_or_else(not_found)?;
        programmes::version(conn, &id, number)?.ok_or_else(no_version)
    })
    .await?;
    // Versions never change once written.
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "private, max-age=86400, immutable"))
        .json(version_body(row)?))
}

#[derive(Debug, Deserialize, Validate, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DiffQuery {
    /// The older version (default: the one before `to`).
    #[validate(range(min = 1))]
    #[param(minimum = 1)]
    pub from: Option<i32>,
    /// The newer version (default: the latest).
    #[validate(range(min = 1))]
    #[param(minimum = 1)]
    pub to: Option<i32>,
}

/// What changed between two versions, and why.
///
/// Each changed dose parameter (sets, reps, hold, support, load) per week and exercise, with
/// the rule and reason the newer version gives for it.
#[utoipa::path(
    tag = "programmes",
    security(("bearer_auth" = [])),
    params(("id" = String, Path, description = "Programme id", max_length = 100), DiffQuery),
    responses(
        (status = 200, description = "The changes.", body = Diff),
        (status = 401, description = "No valid access token.", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Not yours, or no such programme or version.", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/me/programmes/{id}/diff")]
pub async fn diff_versions(
    user: AuthUser,
    pool: web::Data<DbPool>,
    id: web::Path<String>,
    query: Query<DiffQuery>,
) -> Result<HttpResponse, ApiError> {
    user.require(Scope::ProgrammesRead)?;
    let id = id.into_inner();
    let q = query.into_inner();
    let (from, to) = db::run(&pool, move |conn| -> Result<(VersionRow, VersionRow), ApiError> {
        let p = programmes::find(conn, &user.id, &id)?.ok_or_else(not_found)?;
        let to = q.to.unwrap_or(p.current_version);
        let from = q.from.unwrap_or(to - 1).max(1);
        let load =
            |conn: &mut AnyConnection, v: i32| programmes::version(conn, &id, v)?.ok_or_else(no_version);
        Ok((load(conn, from)?, load(conn, to)?))
    })
    .await?;
    let body = diff::diff(
        (from.version, &from.status, &read_json(&from.document)?),
        (to.version, &to.status, &read_json(&to.document)?),
        &read_json(&to.adaptation)?,
    );
    Ok(HttpResponse::Ok().json(body))
}

/// A programme and hypothetical logs, for `POST /v1/programmes/simulate`.
#[derive(Debug, Clone, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SimulateRequest {
    #[validate(nested)]
    pub programme: ProgrammeRequest,
    /// Hypothetical sessions, in the order they happened.
    #[validate(length(max = 400), nested)]
    #[schema(max_items = 400)]
    #[serde(default)]
    pub sessions: Vec<LoggedSession>,
    /// Hypothetical straight-knee heel-raise retests.
    #[validate(length(max = 16), nested)]
    #[schema(max_items = 16)]
    #[serde(default)]
    pub retests: Vec<HeelRaiseRetest>,
    /// The last week lived (default: the last week with a session). Weeks up to it without a
    /// session count as missed.
    #[validate(range(max = 16))]
    #[schema(maximum = 16)]
    pub through_week: Option<u8>,
}

/// Simulate adaptation.
///
/// Generates the programme for `programme` like the preview does, then replays it against the
/// hypothetical `sessions` and `retests`: the response is what the engine would decide week by
/// week and the programme it would lead to. Nothing is stored and no account is needed, so app
/// developers can see how the engine reacts before their users do.
#[utoipa::path(
    tag = "programmes",
    request_body(content = SimulateRequest, example = json!({
        "programme": {"age": 28, "activity_level": "trained", "goals": ["runner_endurance"],
            "screening": {"chest_pain": false, "dizziness_or_fainting": false, "calf_swelling_warmth_redness": false, "acute_calf_strain": false},
            "baseline_heel_raise": {"left": 31, "right": 32}},
        "sessions": [
            {"week": 1, "pain_during": 1, "sets": [{"exercise_id": "single-leg-bent-knee-heel-raise", "set_number": 1, "side": "left", "reps": 14, "completed": true}]},
            {"week": 1, "pain_during": 7, "symptoms": []}
        ],
        "through_week": 1
    })),
    responses(
        (status = 200, description = "The decisions and the programme they lead to.", body = Adaptation),
        (status = 422, description = "A field is invalid, unknown or out of range.", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/programmes/simulate")]
pub async fn simulate(body: Json<SimulateRequest>, catalogue: web::Data<Catalogue>) -> HttpResponse {
    let body = body.into_inner();
    let last = body.sessions.iter().map(|s| s.week).max().unwrap_or(0);
    let through = Through {
        week: body.through_week.unwrap_or(last),
        complete: true,
    };
    let adaptation: Adaptation = adapt::adapt(
        &body.programme,
        &catalogue,
        &body.sessions,
        &body.retests,
        through,
    );
    HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(adaptation)
}
