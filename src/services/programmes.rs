//! Stored programmes: generate one for a subject and store it as version 1, list, read,
//! delete. Versions and adaptation are in `adaptation`.

use super::events::{self, EventType};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::paging::{self, Listing};
use super::{Quotas, Subject};
use crate::db::{self, DbPool};
use crate::domain::catalogue::{Catalogue, Goal};
use crate::domain::programme::adapt::ProgrammeStatus;
use crate::domain::programme::input::ProgrammeRequest;
use crate::domain::programme::model::{Programme, SafetyStatus};
use crate::domain::programme::{self};
use crate::error::{ApiError, read_json, write_json};
use crate::repository::calendar_subscriptions as calendars;
use crate::repository::programmes::{self as repo, ProgrammeRow};

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

impl StoredProgramme {
    fn from_row(row: ProgrammeRow) -> Result<Self, ApiError> {
        Ok(Self {
            programme: read_json(&row.document)?,
            id: row.id,
            source: row.source,
            created_at: row.created_at.and_utc(),
            version: row.current_version,
            status: row.status,
            auto_adapt: row.auto_adapt,
        })
    }
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
    pub goals: Vec<Goal>,
    pub safety_status: SafetyStatus,
    pub start_date: Option<String>,
    pub weeks: usize,
}

/// What lists and statistics read of a stored programme document, typed. Every field has a
/// default, so documents of older generator versions read too.
#[derive(Debug, Deserialize)]
pub struct Head {
    #[serde(default)]
    pub sessions_per_week: u8,
    #[serde(default)]
    input: HeadInput,
    safety: HeadSafety,
    #[serde(default)]
    weeks: Vec<serde::de::IgnoredAny>,
}

#[derive(Debug, Default, Deserialize)]
struct HeadInput {
    #[serde(default)]
    goals: Vec<Goal>,
    #[serde(default)]
    start_date: Option<NaiveDate>,
}

#[derive(Debug, Deserialize)]
struct HeadSafety {
    status: SafetyStatus,
}

impl ProgrammeSummary {
    fn from_row(row: ProgrammeRow) -> Result<Self, ApiError> {
        let head: Head = read_json(&row.document)?;
        Ok(Self {
            id: row.id,
            source: row.source,
            created_at: row.created_at.and_utc(),
            version: row.current_version,
            status: row.status,
            auto_adapt: row.auto_adapt,
            generator_version: row.generator_version,
            goals: head.input.goals,
            safety_status: head.safety.status,
            start_date: head.input.start_date.map(|d| d.to_string()),
            weeks: head.weeks.len(),
        })
    }
}

/// The one answer for a programme that does not exist and one that is someone else's.
pub fn not_found() -> ApiError {
    ApiError::NotFound("No programme of yours has this id.".into())
}

/// Generates a programme for `subject` and stores it as version 1.
pub async fn create(
    pool: &DbPool,
    catalogue: &Catalogue,
    subject: Subject,
    quotas: Quotas,
    request: ProgrammeRequest,
    auto_adapt: bool,
) -> Result<StoredProgramme, ApiError> {
    let programme = programme::generate(&request, catalogue);
    let row = ProgrammeRow {
        id: uuid::Uuid::new_v4().to_string(),
        source: subject.source_name().to_owned(),
        user_id: subject.user_id,
        generator_version: programme.generator_version.to_owned(),
        request: write_json(&request)?,
        document: write_json(&programme)?,
        created_at: db::now(),
        current_version: 1,
        status: ProgrammeStatus::Active.as_str().to_owned(),
        auto_adapt,
    };
    let stored = row.clone();
    let cap = quotas.programmes;
    db::write(pool, move |conn| -> Result<(), ApiError> {
        // Creates of one user take turns, so two at once cannot both take the last place.
        db::lock_key(conn, &format!("programmes:{}", stored.user_id))?;
        if repo::count(conn, &stored.user_id)? >= i64::from(cap) {
            return Err(ApiError::QuotaExceeded(format!(
                "This account already stores {cap} programmes, the most allowed; delete one first."
            )));
        }
        repo::insert(conn, &stored)?;
        let reference = serde_json::json!({
            "id": stored.id, "version": 1, "status": stored.status, "source": stored.source,
            "generator_version": stored.generator_version, "created_at": stored.created_at.and_utc(),
        });
        events::emit(
            conn,
            vec![events::about_user(
                EventType::ProgrammeCreated,
                &stored.user_id,
                &reference,
            )?],
        )
    })
    .await?;
    StoredProgramme::from_row(row)
}

/// The subject's programmes, newest first, after `cursor`, at most `limit`.
pub async fn list(
    pool: &DbPool,
    subject: Subject,
    cursor: Option<&str>,
    limit: u32,
) -> Result<Listing<ProgrammeSummary>, ApiError> {
    let after = paging::after(cursor)?;
    let limit = limit.min(paging::MAX_LIMIT) as usize;
    let rows = db::query(pool, move |conn| {
        repo::list(conn, &subject.user_id, after, limit as i64 + 1)
    })
    .await?;
    paging::page(rows, limit, |r| (r.created_at, &r.id), ProgrammeSummary::from_row)
}

/// One of the subject's programmes, as stored.
pub async fn find(pool: &DbPool, subject: Subject, id: String) -> Result<ProgrammeRow, ApiError> {
    db::query(pool, move |conn| repo::find(conn, &subject.user_id, &id))
        .await?
        .ok_or_else(not_found)
}

/// One of the subject's programmes at its latest version.
pub async fn get(pool: &DbPool, subject: Subject, id: String) -> Result<StoredProgramme, ApiError> {
    StoredProgramme::from_row(find(pool, subject, id).await?)
}

pub async fn delete(pool: &DbPool, subject: Subject, id: String) -> Result<(), ApiError> {
    let deleted = db::write(pool, move |conn| -> Result<bool, ApiError> {
        if !repo::delete(conn, &subject.user_id, &id)? {
            return Ok(false);
        }
        let reference = serde_json::json!({ "id": id });
        events::emit(
            conn,
            vec![events::about_user(
                EventType::ProgrammeDeleted,
                &subject.user_id,
                &reference,
            )?],
        )?;
        Ok(true)
    })
    .await?;
    if deleted { Ok(()) } else { Err(not_found()) }
}

/// The programme's sessions as an iCalendar document.
pub async fn calendar(pool: &DbPool, subject: Subject, id: String) -> Result<String, ApiError> {
    render_calendar(&find(pool, subject, id).await?)
}

/// The printable page of one of the subject's programmes, at its latest version, with each
/// exercise's illustration from `catalogue`.
pub async fn print(
    pool: &DbPool,
    catalogue: &Catalogue,
    subject: Subject,
    id: String,
) -> Result<String, ApiError> {
    let row = find(pool, subject, id).await?;
    let doc: serde_json::Value = read_json(&row.document)?;
    let picture = |id: &str| {
        let svg = catalogue.illustration(id, crate::domain::catalogue::illustration::Frame::Start)?;
        let alt = catalogue.get(id)?.pose.as_ref()?.alt.clone();
        Some((svg, alt))
    };
    programme::print::html(
        &programme::print::Print {
            version: i64::from(row.current_version),
            suspended: row.status == ProgrammeStatus::Suspended.as_str(),
            fallback_start: row.created_at.date(),
            illustration: &picture,
        },
        &doc,
    )
    .map_err(|e| ApiError::Internal(anyhow::anyhow!("print page: {e}")))
}

/// Events keep their UIDs across versions; `SEQUENCE` is the version (less one), so calendar
/// apps replace what an adaptation changed; a suspended programme's events are cancelled.
fn render_calendar(row: &ProgrammeRow) -> Result<String, ApiError> {
    let doc: serde_json::Value = read_json(&row.document)?;
    Ok(programme::calendar::ics(
        &programme::calendar::Calendar {
            programme_id: &row.id,
            fallback_start: row.created_at.date(),
            stamp: row.created_at,
            sequence: u32::try_from(row.current_version.saturating_sub(1)).unwrap_or(0),
            cancelled: row.status == ProgrammeStatus::Suspended.as_str(),
        },
        &doc,
    ))
}

/// A new secret calendar token for one of the subject's programmes. Any earlier token stops
/// working; only the token's hash is stored.
pub async fn subscribe_calendar(pool: &DbPool, subject: Subject, id: String) -> Result<String, ApiError> {
    let (token, hash) = crate::auth::tokens::new_refresh_token();
    on_own_programme(pool, subject, id, move |conn, id| {
        calendars::replace(conn, id, &hash, db::now())
    })
    .await?;
    Ok(token)
}

/// Revokes the programme's calendar token (nothing to revoke is fine: the programme's URL is
/// dead either way).
pub async fn unsubscribe_calendar(pool: &DbPool, subject: Subject, id: String) -> Result<(), ApiError> {
    on_own_programme(pool, subject, id, |conn, id| {
        calendars::remove(conn, id).map(drop)
    })
    .await
}

/// Runs `change` in a write transaction when `id` is one of the subject's programmes; 404
/// otherwise.
async fn on_own_programme(
    pool: &DbPool,
    subject: Subject,
    id: String,
    change: impl FnOnce(&mut db::AnyConnection, &str) -> diesel::QueryResult<()> + Send + 'static,
) -> Result<(), ApiError> {
    let found = db::write(pool, move |conn| -> Result<bool, ApiError> {
        if repo::owned(conn, &subject.user_id, std::slice::from_ref(&id))?.is_empty() {
            return Ok(false);
        }
        change(conn, &id)?;
        Ok(true)
    })
    .await?;
    if found { Ok(()) } else { Err(not_found()) }
}

/// The calendar a secret token opens, at the programme's latest version.
pub async fn calendar_by_token(pool: &DbPool, token: String) -> Result<String, ApiError> {
    let hash = crate::auth::tokens::hash_refresh_token(&token);
    let row = db::query(pool, move |conn| match calendars::programme_of(conn, &hash)? {
        Some((user_id, id)) => repo::find(conn, &user_id, &id),
        None => Ok(None),
    })
    .await?
    .ok_or_else(|| ApiError::NotFound("No calendar has this address (it may have been revoked).".into()))?;
    render_calendar(&row)
}
