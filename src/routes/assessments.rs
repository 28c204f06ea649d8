//! Capacity tests: `POST` and `GET /v1/me/assessments`. Each result is answered with its
//! interpretation (norm, change since the last comparable result, asymmetry, implied level),
//! computed by `crate::assessments` from the user's profile at read time.

use actix_web::{HttpResponse, get, post, web};
use chrono::{DateTime, Datelike as _, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use crate::assessments::{AssessmentInput, Interpretation, Person, TestKind, interpret};
use crate::auth::AuthUser;
use crate::auth::tokens::Scope;
use crate::db::{self, DbPool};
use crate::error::{ApiError, Problem};
use crate::http::{Json, Query};
use crate::programme::input::Sex;
use crate::repository::assessments::{self as repo, AssessmentRow};
use crate::repository::users;

/// A stored test result and what it means.
#[derive(Debug, Serialize, ToSchema)]
pub struct Assessment {
    pub id: String,
    pub result: AssessmentInput,
    pub interpretation: Interpretation,
    pub created_at: DateTime<Utc>,
}

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

/// Interprets each row against the earlier comparable one, for the user's profile.
fn interpreted(
    rows: Vec<AssessmentRow>,
    birth_year: Option<i32>,
    sex: Option<Sex>,
) -> Result<Vec<Assessment>, ApiError> {
    let mut out: Vec<Assessment> = Vec::with_capacity(rows.len());
    for row in rows {
        let result: AssessmentInput = crate::error::read_json(&row.content)?;
        let age = birth_year
            .and_then(|y| u8::try_from(result.performed_at.year() - y).ok())
            .filter(|a| *a >= 18);
        let previous = out
            .iter()
            .rev()
            .map(|a| &a.result)
            .find(|p| p.comparable(&result));
        let interpretation = interpret(&result, Person { age, sex }, previous);
        out.push(Assessment {
            id: row.id,
            result,
            interpretation,
            created_at: row.created_at.and_utc(),
        });
    }
    Ok(out)
}

/// The user's results, oldest first, interpreted.
fn load(conn: &mut db::AnyConnection, user_id: &str) -> Result<Vec<Assessment>, ApiError> {
    let user = users::find(conn, user_id)?
        .ok_or_else(|| ApiError::InvalidToken("The account no longer exists.".into()))?;
    let sex = user
        .sex
        .as_deref()
        .and_then(|s| serde_json::from_value(serde_json::Value::String(s.to_owned())).ok());
    interpreted(repo::all(conn, user_id)?, user.birth_year, sex)
}

/// Record a capacity test.
///
/// The single-leg heel-raise test (reps per side, incline or floor, knee straight or bent), the
/// Calf-Raise Senior, the 30-second chair stand, the 4-stage balance test or the Timed Up and
/// Go. The answer interprets it: the norm for your age and sex where one exists (which table,
/// how sure), the change since your last comparable result against the minimal detectable
/// change (6 reps for the heel raise), left/right asymmetry with the 10% flag, and the level
/// it implies (§8.5). Add `birth_year` and `sex` to your profile for age and sex norms.
/// Straight-knee heel-raise retests also feed programme adaptation (RETEST).
#[utoipa::path(
    tag = "assessments",
    security(("bearer_auth" = [])),
    request_body = AssessmentInput,
    responses(
        (status = 201, description = "Stored, with its interpretation.", body = Assessment),
        (status = 401, description = "No valid access token.", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks `sessions:write`.", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field is missing for the test, does not apply to it, or is out of range.",
         body = Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/me/assessments")]
pub async fn create_assessment(
    user: AuthUser,
    pool: web::Data<DbPool>,
    body: Json<AssessmentInput>,
) -> Result<HttpResponse, ApiError> {
    user.require(Scope::SessionsWrite)?;
    let input = body.into_inner();
    let errors = input.check_fields();
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let row = AssessmentRow {
        id: uuid::Uuid::new_v4().to_string(),
        user_id: user.id.clone(),
        test: input.test.as_str().to_owned(),
        performed_at: input.performed_at.with_timezone(&Utc).naive_utc(),
        content: crate::error::write_json(&input)?,
        created_at: db::now(),
    };
    let id = row.id.clone();
    let all = db::run(&pool, move |conn| {
        repo::insert(conn, &row)?;
        load(conn, &user.id)
    })
    .await?;
    let created = all
        .into_iter()
        .find(|a| a.id == id)
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("stored assessment not found")))?;
    Ok(HttpResponse::Created().json(created))
}

/// Your capacity tests.
#[utoipa::path(
    tag = "assessments",
    security(("bearer_auth" = [])),
    params(AssessmentQuery),
    responses(
        (status = 200, description = "Oldest first, each interpreted.", body = AssessmentList),
        (status = 401, description = "No valid access token.", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks `sessions:read`.", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/me/assessments")]
pub async fn list_assessments(
    user: AuthUser,
    pool: web::Data<DbPool>,
    query: Query<AssessmentQuery>,
) -> Result<HttpResponse, ApiError> {
    user.require(Scope::SessionsRead)?;
    let test = query.into_inner().test;
    let mut items = db::run(&pool, move |conn| load(conn, &user.id)).await?;
    if let Some(test) = test {
        items.retain(|a| a.result.test == test);
    }
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(AssessmentList { items }))
}
