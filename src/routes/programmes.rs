//! Programmes: `POST /v1/programmes/preview` generates a programme without storing anything.

use actix_web::{HttpResponse, post, web};

use crate::catalogue::Catalogue;
use crate::error::Problem;
use crate::http::Json;
use crate::programme::input::ProgrammeRequest;
use crate::programme::{self, model::Programme};

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
