//! Programme adaptation: replay a stored programme against the sessions logged for it and the
//! user's heel-raise retests (the rules are in `domain::programme::adapt`), store the result as
//! a new version when anything changed; read the versions and what changed between two.

use super::events::{self, EventType};
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use super::Subject;
use super::programmes::not_found;
use crate::db::{self, AnyConnection, DbPool};
use crate::domain::assessments::AssessmentInput;
use crate::domain::catalogue::Catalogue;
use crate::domain::programme::adapt::{
    self, HeelRaiseRetest, LoggedSession, ProgrammeStatus, Record, Through,
};
use crate::domain::programme::diff::{self, Diff};
use crate::domain::programme::input::ProgrammeRequest;
use crate::domain::programme::model::Programme;
use crate::domain::sessions::Content;
use crate::error::{ApiError, read_json, write_json};
use crate::repository::programmes::{self, ProgrammeRow, VersionRow};
use crate::repository::{assessments, sessions};

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
    pub fn as_str(self) -> &'static str {
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

pub fn version_body(row: VersionRow) -> Result<ProgrammeVersion, ApiError> {
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

pub fn no_version() -> ApiError {
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
    let total = i64::from(request.weeks.unwrap_or(crate::domain::programme::DEFAULT_WEEKS));
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
        let day = input.performed_at.unwrap_or_default().date_naive();
        if let (Some(test), Some(week)) = (
            input.heel_raise(),
            to_week(week_of(start, day)).filter(|_| day >= start),
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
    let suspended = status == ProgrammeStatus::Suspended.as_str() && latest.status != status;
    let kind = if suspended {
        EventType::ProgrammeSuspended
    } else {
        EventType::ProgrammeAdjusted
    };
    let reference = serde_json::json!({
        "id": programme_id, "version": version.version, "status": status, "cause": version.cause,
        "rule_ids": events::rule_ids(&serde_json::to_value(&adaptation.record).unwrap_or_default()),
        "referral": adaptation.record.referral,
    });
    events::emit(conn, vec![events::about_user(kind, user_id, &reference)?])?;
    Ok((true, version))
}

/// Adapts `programme_id` after one of its sessions was written, if it opted in. Failures are
/// logged, never returned: the session itself is stored either way.
pub async fn after_session_write(
    pool: &DbPool,
    catalogue: &Arc<Catalogue>,
    user_id: &str,
    programme_id: Option<&str>,
) {
    let Some(programme_id) = programme_id else {
        return;
    };
    let (user_id, programme_id) = (user_id.to_owned(), programme_id.to_owned());
    let catalogue = Arc::clone(catalogue);
    let result = db::write(pool, move |conn| -> Result<(), ApiError> {
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

/// Adapts one of the subject's programmes now. Answers whether a version was added, and the
/// latest version.
pub async fn adapt_now(
    pool: &DbPool,
    catalogue: &Arc<Catalogue>,
    subject: Subject,
    id: String,
) -> Result<(bool, ProgrammeVersion), ApiError> {
    let catalogue = Arc::clone(catalogue);
    let (created, row) = db::write(pool, move |conn| -> Result<(bool, VersionRow), ApiError> {
        let row = programmes::find(conn, &subject.user_id, &id)?.ok_or_else(not_found)?;
        adapt_stored(
            conn,
            &catalogue,
            &row,
            VersionCause::Adapt,
            Utc::now().date_naive(),
        )
    })
    .await?;
    Ok((created, version_body(row)?))
}

/// The versions of one of the subject's programmes, oldest first.
pub async fn versions(pool: &DbPool, subject: Subject, id: String) -> Result<Vec<VersionSummary>, ApiError> {
    let rows = db::run(pool, move |conn| -> Result<Vec<VersionRow>, ApiError> {
        programmes::find(conn, &subject.user_id, &id)?.ok_or_else(not_found)?;
        Ok(programmes::versions(conn, &id)?)
    })
    .await?;
    rows.into_iter()
        .map(|r| {
            let record: RecordHead = read_json(&r.adaptation)?;
            Ok(VersionSummary {
                version: r.version,
                cause: r.cause,
                status: r.status,
                created_at: r.created_at.and_utc(),
                evaluated_through_week: record.evaluated_through_week,
            })
        })
        .collect()
}

/// What the version list reads of a stored adaptation record (version 1 has none: `{}`).
#[derive(Debug, serde::Deserialize)]
struct RecordHead {
    #[serde(default)]
    evaluated_through_week: u64,
}

/// One version of one of the subject's programmes.
pub async fn version(
    pool: &DbPool,
    subject: Subject,
    id: String,
    number: i32,
) -> Result<ProgrammeVersion, ApiError> {
    let row = db::run(pool, move |conn| -> Result<VersionRow, ApiError> {
        programmes::find(conn, &subject.user_id, &id)?.ok_or_else(not_found)?;
        programmes::version(conn, &id, number)?.ok_or_else(no_version)
    })
    .await?;
    version_body(row)
}

/// What changed from version `from` (default: the one before `to`) to `to` (default: the
/// latest), and why.
pub async fn compare(
    pool: &DbPool,
    subject: Subject,
    id: String,
    from: Option<i32>,
    to: Option<i32>,
) -> Result<Diff, ApiError> {
    let (from, to) = db::run(pool, move |conn| -> Result<(VersionRow, VersionRow), ApiError> {
        let p = programmes::find(conn, &subject.user_id, &id)?.ok_or_else(not_found)?;
        let to = to.unwrap_or(p.current_version);
        let from = from.unwrap_or(to - 1).max(1);
        let load =
            |conn: &mut AnyConnection, v: i32| programmes::version(conn, &id, v)?.ok_or_else(no_version);
        Ok((load(conn, from)?, load(conn, to)?))
    })
    .await?;
    Ok(diff::diff(
        (from.version, &from.status, &read_json(&from.document)?),
        (to.version, &to.status, &read_json(&to.document)?),
        &read_json(&to.adaptation)?,
    ))
}
