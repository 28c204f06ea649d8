//! Capacity tests over HTTP: `POST` and `GET /v1/me/assessments`. Interpretation is in
//! `domain::assessments`, storage and profile reads in `services::assessments`.

use actix_web::{HttpResponse, get, post, web};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use crate::auth::{Acting, need};
use crate::db::DbPool;
use crate::domain::assessments::{AssessmentInput, TestKind};
use crate::error::{ApiError, PROBLEM_JSON as PROBLEMS, Problem};
use crate::http::{Json, Query};
use crate::services::Quotas;
use crate::services::assessments::{self as service, Assessment};

#[derive(Debug, Serialize, ToSchema)]
pub struct AssessmentList {
    /// Oldest first.
    pub items: Vec<Assessment>,
}

#[derive(Debug, Deserialize, Validate, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AssessmentQuery {
    /// Only this test.
    pub test: Option<TestKind>,
}

user_and_partner! {
    /// Record a capacity test.
    ///
    /// The single-leg heel-raise test (reps per side, incline or floor, knee straight or bent), the
    /// Calf-Raise Senior, the 30-second chair stand, the 4-stage balance test or the Timed Up and
    /// Go. The answer interprets it: the norm for your age and sex where one exists (which table,
    /// how sure), the change since your last comparable result against the minimal detectable
    /// change (6 reps for the heel raise), left/right asymmetry with the 10% flag, and the level
    /// it implies (§8.5). Add `birth_year` and `sex` to your profile for age and sex norms.
    /// Straight-knee heel-raise retests also feed programme adaptation (RETEST). An account
    /// stores at most `SOLEUS_MAX_ASSESSMENTS_PER_USER` results (default 1000).
    #[user(post, "/me/assessments", tag = "assessments")]
    /// Record a capacity test for a user (partner). As `POST /v1/me/assessments`; needs `sessions:write`.
    #[partner(partner_create_assessment, "/users/{user_id}/assessments", "sessions:write")]
    #[openapi(
        request_body = AssessmentInput,
        responses(
        (status = 201, description = "Stored, with its interpretation.", body = Assessment),
        (status = 403, description = "The token lacks `sessions:write`.", body = Problem, content_type = PROBLEMS),
        (status = 409, description = "The account stores the most results allowed (`quota-exceeded`).", body = Problem, content_type = PROBLEMS),
        (status = 422, description = "A field is missing for the test, does not apply to it, or is out of range.",
         body = Problem, content_type = PROBLEMS),
    ),
    )]
    pub async fn create_assessment(
        acting: Acting<need::SessionsWrite>,
        pool: web::Data<DbPool>,
        quotas: web::Data<Quotas>,
        body: Json<AssessmentInput>,
    ) -> Result<HttpResponse, ApiError> {
        let subject = acting.authorize(&pool).await?;
        let created = service::record(&pool, subject, **quotas, body.into_inner()).await?;
        Ok(HttpResponse::Created().json(created))
    }
}

user_and_partner! {
    /// Your capacity tests.
    ///
    /// Every result, oldest first, each interpreted against your profile and your previous
    /// comparable result; `test` keeps one kind.
    #[user(get, "/me/assessments", tag = "assessments")]
    /// A user's capacity tests (partner). Needs `sessions:read`.
    #[partner(partner_list_assessments, "/users/{user_id}/assessments", "sessions:read")]
    #[openapi(
        params(AssessmentQuery),
        responses(
        (status = 200, description = "Oldest first, each interpreted.", body = AssessmentList),
        (status = 403, description = "The token lacks `sessions:read`.", body = Problem, content_type = PROBLEMS),
    ),
    )]
    pub async fn list_assessments(
        acting: Acting<need::SessionsRead>,
        pool: web::Data<DbPool>,
        query: Query<AssessmentQuery>,
    ) -> Result<HttpResponse, ApiError> {
        let items = service::list(&pool, acting.authorize(&pool).await?, query.into_inner().test).await?;
        Ok(HttpResponse::Ok()
            .insert_header(("Cache-Control", "no-store"))
            .json(AssessmentList { items }))
    }
}
