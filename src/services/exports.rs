//! Exports for clinics: a programme and logged sessions as FHIR R4 Bundles
//! (`domain::fhir`), for the subject alone.

use chrono::NaiveDateTime;

use super::Subject;
use crate::db::{self, DbPool};
use crate::domain::catalogue::Catalogue;
use crate::domain::fhir::{self, FhirPerson, FhirProgramme, FhirSession};
use crate::domain::programme::adapt::ProgrammeStatus;
use crate::domain::sessions::Content;
use crate::error::{ApiError, read_json};
use crate::repository::{sessions as session_repo, users};

/// At most this many sessions in one export (a year of daily sessions, twice over).
pub const MAX_SESSIONS: i64 = 1_000;

async fn person(pool: &DbPool, user_id: String) -> Result<users::UserRow, ApiError> {
    db::query(pool, move |conn| users::find(conn, &user_id))
        .await?
        .ok_or_else(|| ApiError::NotFound("No such user.".into()))
}

/// One of the subject's programmes, at its latest version, as a FHIR Bundle.
pub async fn programme(pool: &DbPool, subject: Subject, id: String) -> Result<serde_json::Value, ApiError> {
    let user_id = subject.user_id.clone();
    let row = super::programmes::find(pool, subject, id).await?;
    let user = person(pool, user_id).await?;
    let doc: serde_json::Value = read_json(&row.document)?;
    Ok(fhir::programme_bundle(
        &FhirPerson {
            user_id: &user.id,
            birth_year: user.birth_year,
            sex: user.sex.as_deref(),
        },
        &FhirProgramme {
            id: &row.id,
            version: row.current_version,
            created_at: row.created_at,
            suspended: row.status == ProgrammeStatus::Suspended.as_str(),
        },
        &doc,
        db::now(),
    ))
}

/// The subject's sessions started in `[from, to)` as a FHIR Bundle; 422 on an empty or too long
/// period, or more than [`MAX_SESSIONS`] sessions in it.
pub async fn sessions(
    pool: &DbPool,
    catalogue: &Catalogue,
    subject: Subject,
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> Result<serde_json::Value, ApiError> {
    if from >= to || to - from > chrono::Duration::days(super::sessions::stats::MAX_DAYS) {
        return Err(ApiError::invalid_field(
            "from",
            "range",
            "must be before `to` and at most 366 days earlier",
        ));
    }
    let user_id = subject.user_id.clone();
    let rows = db::query(pool, move |conn| {
        session_repo::in_range(conn, &user_id, from, to, MAX_SESSIONS + 1)
    })
    .await?;
    if i64::try_from(rows.len()).unwrap_or(i64::MAX) > MAX_SESSIONS {
        return Err(ApiError::invalid_field(
            "to",
            "range",
            "more than 1000 sessions in the period: export a shorter one",
        ));
    }
    let user = person(pool, subject.user_id).await?;
    let contents: Vec<Content> = rows
        .iter()
        .map(|r| read_json(&r.content))
        .collect::<Result<_, _>>()?;
    let logged: Vec<FhirSession<'_>> = rows
        .iter()
        .zip(&contents)
        .map(|(r, content)| FhirSession {
            id: &r.id,
            started_at: r.started_at,
            duration_seconds: r.duration_seconds,
            content,
        })
        .collect();
    let name_of = |id: &str| catalogue.get(id).map(|x| x.name.clone());
    Ok(fhir::sessions_bundle(
        &FhirPerson {
            user_id: &user.id,
            birth_year: user.birth_year,
            sex: user.sex.as_deref(),
        },
        &logged,
        &name_of,
        db::now(),
    ))
}
