//! Programme adaptation over HTTP: `POST /v1/me/programmes/{id}/adapt`, the versions and
//! their diff, and `POST /v1/programmes/simulate` (pure: no storage). The use cases are in
//! `services::adaptation`, the rules in `domain::programme::adapt`.

use actix_web::{HttpResponse, get, post, web};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use crate::auth::{Acting, need};
use crate::db::DbPool;
use crate::domain::catalogue::Catalogue;
use crate::domain::programme::adapt::{self, Adaptation, HeelRaiseRetest, LoggedSession, Through};
use crate::domain::programme::diff::Diff;
use crate::domain::programme::input::ProgrammeRequest;
use crate::error::{ApiError, PROBLEM_JSON as PROBLEMS, Problem};
use crate::http::{Id, Json, Query, VersionNumber};
use crate::services::adaptation::{self as service, ProgrammeVersion, VersionList};

user_and_partner! {
    /// Adapt a programme.
    ///
    /// Reads the sessions linked to the programme (by `programme_id`; the week from
    /// `programme_week` or the date) and your heel-raise retests, replays the programme from week 1,
    /// and stores the result as a new version: per exercise and week one decision (progress, hold,
    /// regress, deload) with the rule that decided it (2-FOR-2, REG-01 to REG-04, DELOAD, RETEST).
    /// A stop signal (STP-01 to STP-03) suspends the programme with a referral. When nothing has
    /// changed since the latest version, answers 200 with it.
    #[user(post, "/me/programmes/{id}/adapt", tag = "programmes")]
    /// Adapt a user's programme (partner). As `POST /v1/me/programmes/{id}/adapt`; needs `programmes:write`.
    #[partner(partner_adapt_programme, "/users/{user_id}/programmes/{id}/adapt", "programmes:write")]
    #[openapi(
        params(("id" = String, Path, description = "Programme id", max_length = 100)),
        responses(
        (status = 201, description = "A new version.", body = ProgrammeVersion, headers(("Location" = String))),
        (status = 200, description = "Nothing new: the latest version.", body = ProgrammeVersion),
        (status = 403, description = "The token lacks `programmes:write`.", body = Problem, content_type = PROBLEMS),
        (status = 404, description = "Not yours, or no such programme.", body = Problem, content_type = PROBLEMS),
        (status = 409, description = "Adapted by another request at the same moment; retry.", body = Problem, content_type = PROBLEMS),
    ),
    )]
    pub async fn adapt_programme(
        acting: Acting<need::ProgrammesWrite>,
        pool: web::Data<DbPool>,
        catalogue: web::Data<Catalogue>,
        id: Id,
    ) -> Result<HttpResponse, ApiError> {
        let (subject, id) = (acting.authorize(&pool).await?, id.into_inner());
        let programmes = subject.collection("programmes");
        let (created, version) = service::adapt_now(&pool, &catalogue.into_inner(), subject, id).await?;
        if created {
            let location = format!("{programmes}/{}/versions/{}", version.programme_id, version.version);
            Ok(HttpResponse::Created()
                .insert_header(("Location", location))
                .json(version))
        } else {
            Ok(HttpResponse::Ok().json(version))
        }
    }
}

user_and_partner! {
    /// A programme's versions.
    ///
    /// Every version, oldest first: version 1 as generated, then one per adaptation, each with
    /// its cause (`adapt`, `session`, `retest`) and the decisions with the rule ids that made it.
    #[user(get, "/me/programmes/{id}/versions", tag = "programmes")]
    /// A user's programme versions (partner). Needs `programmes:read`.
    #[partner(partner_list_versions, "/users/{user_id}/programmes/{id}/versions", "programmes:read")]
    #[openapi(
        params(("id" = String, Path, description = "Programme id", max_length = 100)),
        responses(
        (status = 200, description = "Oldest first.", body = VersionList),
        (status = 404, description = "Not yours, or no such programme.", body = Problem, content_type = PROBLEMS),
    ),
    )]
    pub async fn list_versions(
        acting: Acting<need::ProgrammesRead>,
        pool: web::Data<DbPool>,
        id: Id,
    ) -> Result<HttpResponse, ApiError> {
        let items = service::versions(&pool, acting.authorize(&pool).await?, id.into_inner()).await?;
        Ok(HttpResponse::Ok()
            .insert_header(("Cache-Control", "no-store"))
            .json(VersionList { items }))
    }
}

user_and_partner! {
    /// One version of a programme.
    ///
    /// The whole programme as that version stood. A version never changes once written, so it
    /// is cacheable (ETag).
    #[user(get, "/me/programmes/{id}/versions/{version}", tag = "programmes")]
    /// One version of a user's programme (partner). Needs `programmes:read`.
    #[partner(partner_get_version, "/users/{user_id}/programmes/{id}/versions/{version}", "programmes:read")]
    #[openapi(
        params(
        ("id" = String, Path, description = "Programme id", max_length = 100),
        ("version" = i32, Path, description = "Version number", minimum = 1),
    ),
        responses(
        (status = 200, description = "The version: the programme and the decisions that made it.", body = ProgrammeVersion),
        (status = 404, description = "Not yours, or no such programme or version.", body = Problem, content_type = PROBLEMS),
    ),
    )]
    pub async fn get_version(
        acting: Acting<need::ProgrammesRead>,
        pool: web::Data<DbPool>,
        id: Id,
        number: VersionNumber,
    ) -> Result<HttpResponse, ApiError> {
        let (id, number) = (id.into_inner(), number.0);
        let version = service::version(&pool, acting.authorize(&pool).await?, id, number).await?;
        // Versions never change once written.
        Ok(HttpResponse::Ok()
            .insert_header(("Cache-Control", "private, max-age=86400, immutable"))
            .json(version))
    }
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

user_and_partner! {
    /// What changed between two versions, and why.
    ///
    /// Each changed dose parameter (sets, reps, hold, support, load) per week and exercise, with
    /// the rule and reason the newer version gives for it.
    #[user(get, "/me/programmes/{id}/diff", tag = "programmes")]
    /// What changed between two versions of a user's programme (partner). Needs `programmes:read`.
    #[partner(partner_diff_versions, "/users/{user_id}/programmes/{id}/diff", "programmes:read")]
    #[openapi(
        params(("id" = String, Path, description = "Programme id", max_length = 100), DiffQuery),
        responses(
        (status = 200, description = "The changes.", body = Diff),
        (status = 404, description = "Not yours, or no such programme or version.", body = Problem, content_type = PROBLEMS),
    ),
    )]
    pub async fn diff_versions(
        acting: Acting<need::ProgrammesRead>,
        pool: web::Data<DbPool>,
        id: Id,
        query: Query<DiffQuery>,
    ) -> Result<HttpResponse, ApiError> {
        let q = query.into_inner();
        let body = service::compare(
            &pool,
            acting.authorize(&pool).await?,
            id.into_inner(),
            q.from,
            q.to,
        )
        .await?;
        Ok(HttpResponse::Ok().json(body))
    }
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
        (status = 422, description = "A field is invalid, unknown or out of range.", body = Problem, content_type = PROBLEMS),
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
