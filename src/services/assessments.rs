//! Capacity tests: store a result and interpret every result against the earlier comparable
//! one and the user's profile (age from `birth_year`, `sex`).

use super::events::{self, EventType};
use chrono::{DateTime, Datelike as _, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use super::{Quotas, Subject};
use crate::db::{self, DbPool};
use crate::domain::assessments::{AssessmentInput, Interpretation, Person, TestKind, interpret};
use crate::domain::programme::input::Sex;
use crate::error::{ApiError, read_json, write_json};
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

/// Interprets each row against the earlier comparable one, for the user's profile.
fn interpreted(
    rows: Vec<AssessmentRow>,
    birth_year: Option<i32>,
    sex: Option<Sex>,
) -> Result<Vec<Assessment>, ApiError> {
    let mut out: Vec<Assessment> = Vec::with_capacity(rows.len());
    for row in rows {
        let result: AssessmentInput = read_json(&row.content)?;
        let age = birth_year
            .and_then(|y| u8::try_from(result.performed_at?.year() - y).ok())
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

/// Stores a result (after the per-test field rules) and answers it interpreted.
pub async fn record(
    pool: &DbPool,
    subject: Subject,
    quotas: Quotas,
    mut input: AssessmentInput,
) -> Result<Assessment, ApiError> {
    let performed_at = *input
        .performed_at
        .get_or_insert_with(|| Utc::now().fixed_offset());
    let errors = input.check_fields();
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let row = AssessmentRow {
        id: uuid::Uuid::new_v4().to_string(),
        user_id: subject.user_id.clone(),
        test: input.test.as_str().to_owned(),
        performed_at: performed_at.with_timezone(&Utc).naive_utc(),
        content: write_json(&input)?,
        created_at: db::now(),
    };
    let id = row.id.clone();
    let cap = quotas.assessments;
    let all = db::write(pool, move |conn| {
        db::lock_key(conn, &format!("assessments:{}", row.user_id))?;
        if repo::count(conn, &row.user_id)? >= i64::from(cap) {
            return Err(ApiError::QuotaExceeded(format!(
                "This account already stores {cap} test results, the most allowed."
            )));
        }
        repo::insert(conn, &row)?;
        let stored = load(conn, &subject.user_id)?
            .into_iter()
            .find(|a| a.id == id)
            .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("stored assessment not found")))?;
        events::emit(
            conn,
            vec![events::about_user(
                EventType::AssessmentRecorded,
                &row.user_id,
                &stored,
            )?],
        )?;
        Ok(stored)
    })
    .await?;
    Ok(all)
}

/// The subject's results, oldest first, interpreted; only `test` when given.
pub async fn list(
    pool: &DbPool,
    subject: Subject,
    test: Option<TestKind>,
) -> Result<Vec<Assessment>, ApiError> {
    let mut items = db::run(pool, move |conn| load(conn, &subject.user_id)).await?;
    if let Some(test) = test {
        items.retain(|a| a.result.test == test);
    }
    Ok(items)
}
