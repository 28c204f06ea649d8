//! Workout sessions: log one (`create`), sync many (`batch`), replace (`write`), delete
//! (`remove`, leaving a tombstone), read (`get`), page (`feed::list`) and follow the change
//! feed (`feed::changes`); progress statistics (`stats`). The same functions serve a user's app
//! and a partner acting under the user's grant: only the [`Subject`] differs.

pub mod feed;
mod group;
pub mod stats;
pub mod sync;

use std::sync::Arc;

use chrono::{DateTime, FixedOffset, Offset as _, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use validator::Validate as _;

use super::events::{self, EventType};
use super::{Subject, adaptation};
use crate::db::{self, DbPool};
use crate::domain::catalogue::Catalogue;
use crate::domain::sessions::{Content, SessionInput, SessionSet, Symptom};
use crate::error::{ApiError, read_json, write_json};
use crate::limits::{Class, Limiter};
use crate::repository::programmes;
use crate::repository::sessions::{self as repo, Bulk, Direct, SessionRow};
pub use group::Writer;
pub use sync::{SyncError, SyncResult};

/// A stored session.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Session {
    pub id: String,
    pub programme_id: Option<String>,
    pub programme_week: Option<u16>,
    pub programme_session: Option<u16>,
    /// With the offset the client used.
    pub started_at: DateTime<FixedOffset>,
    pub duration_seconds: i32,
    /// `app` or the partner's client id.
    pub source: String,
    pub external_id: Option<String>,
    pub external_version: Option<i64>,
    pub rpe: Option<u8>,
    pub pain_during: Option<u8>,
    pub pain_next_morning: Option<u8>,
    pub notes: Option<String>,
    pub symptoms: Vec<Symptom>,
    pub sets: Vec<SessionSet>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Changes on every write.
    pub version: i64,
    /// A tombstone: the session was deleted.
    pub deleted: bool,
}

impl Session {
    pub fn from_row(row: SessionRow) -> Result<Self, ApiError> {
        let content: Content = read_json(&row.content)?;
        let offset = FixedOffset::east_opt(row.utc_offset_minutes * 60).unwrap_or_else(|| Utc.fix());
        Ok(Self {
            started_at: row.started_at.and_utc().with_timezone(&offset),
            id: row.id,
            programme_id: row.programme_id,
            programme_week: content.programme_week,
            programme_session: content.programme_session,
            duration_seconds: row.duration_seconds,
            source: row.source,
            external_id: row.external_id,
            external_version: row.external_version,
            rpe: content.rpe,
            pain_during: content.pain_during,
            pain_next_morning: content.pain_next_morning,
            notes: content.notes,
            symptoms: content.symptoms,
            sets: content.sets,
            created_at: row.created_at.and_utc(),
            updated_at: row.updated_at.and_utc(),
            version: row.version,
            deleted: row.deleted,
        })
    }

    /// The input that would recreate this session (what a merge patch applies to).
    pub fn to_input(&self) -> serde_json::Value {
        serde_json::json!({
            "id": self.id, "programme_id": self.programme_id, "programme_week": self.programme_week,
            "programme_session": self.programme_session, "started_at": self.started_at,
            "duration_seconds": self.duration_seconds, "external_id": self.external_id,
            "external_version": self.external_version, "rpe": self.rpe, "pain_during": self.pain_during,
            "pain_next_morning": self.pain_next_morning, "notes": self.notes, "symptoms": self.symptoms, "sets": self.sets,
        })
    }
}

/// What a create did, and the session as stored.
#[derive(Debug)]
pub struct Written {
    pub result: SyncResult,
    pub session: Session,
}

/// How long tombstones stay in the change feed (`SOLEUS_TOMBSTONE_RETENTION_DAYS`).
#[derive(Debug, Clone, Copy)]
pub struct Retention(pub chrono::Duration);

/// Runs `f` in a write transaction that first takes `user_id`'s session lock (see
/// `repository::sessions`: positions follow commit order because of it).
async fn locked<T: Send + 'static>(
    pool: &DbPool,
    user_id: String,
    f: impl FnOnce(&mut db::AnyConnection) -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    db::write(pool, move |conn| {
        repo::lock(conn, &user_id)?;
        f(conn)
    })
    .await
}

/// A session links only to one of its user's own programmes, checked when the link is
/// written (a programme deleted later leaves its sessions' links as they are).
fn unknown_programme() -> ApiError {
    ApiError::invalid_field(
        "programme_id",
        "not_found",
        "is not one of this user's programmes",
    )
}

/// The key of the account's sessions-per-day quota (whoever writes: app or partner).
fn quota_key(user_id: &str) -> String {
    format!("user:{user_id}")
}

/// Refuses new sessions once the account created its quota for the UTC day. A batch started
/// with room left is stored whole, so a day can end up to one batch past the quota.
fn check_daily_quota(limits: &Limiter, user_id: &str) -> Result<(), ApiError> {
    match limits.peek(Class::Sessions, &quota_key(user_id), Utc::now().timestamp()) {
        Some(verdict) if !verdict.allowed => Err(ApiError::SessionsPerDay {
            limit: verdict.quota,
            retry_after_secs: u64::from(verdict.reset_secs.max(1)),
        }),
        _ => Ok(()),
    }
}

/// Counts sessions just created against the account's daily quota.
fn spend_daily_quota(limits: &Limiter, user_id: &str, created: usize) {
    let created = u32::try_from(created).unwrap_or(u32::MAX);
    limits.add(
        Class::Sessions,
        &quota_key(user_id),
        created,
        Utc::now().timestamp(),
    );
}

/// Which of `ids` name the user's programmes.
async fn own_programmes(pool: &DbPool, user_id: &str, ids: Vec<String>) -> Result<Vec<String>, ApiError> {
    if ids.is_empty() {
        return Ok(ids);
    }
    let user_id = user_id.to_owned();
    Ok(db::query(pool, move |conn| programmes::owned(conn, &user_id, &ids)).await?)
}

/// The event a sync result emits: none when nothing was written.
fn event_of(result: SyncResult) -> Option<EventType> {
    match result {
        SyncResult::Created => Some(EventType::SessionCreated),
        SyncResult::Replaced => Some(EventType::SessionUpdated),
        SyncResult::Unchanged | SyncResult::Ignored => None,
    }
}

/// The one answer for a session that does not exist, is deleted, or is someone else's.
pub fn not_found() -> ApiError {
    ApiError::NotFound("No session of this user has this id.".into())
}

/// Logs one session under the sync rules, then adapts its programme if it opted in.
pub async fn create(
    pool: &DbPool,
    writer: &Writer,
    catalogue: &Arc<Catalogue>,
    limits: &Limiter,
    subject: Subject,
    input: SessionInput,
) -> Result<Written, ApiError> {
    sync::check_input(catalogue, &subject, &input)?;
    let user_id = subject.user_id.clone();
    check_daily_quota(limits, &user_id)?;
    if let Some(programme) = &input.programme_id
        && own_programmes(pool, &user_id, vec![programme.clone()])
            .await?
            .is_empty()
    {
        return Err(unknown_programme());
    }
    let (result, row) = match sync::fresh(&subject, &input) {
        // Nothing to look up first: written with whatever other new sessions are waiting.
        Some(row) => {
            let event = events::session(EventType::SessionCreated, &row)?;
            (SyncResult::Created, writer.insert(row, event).await?)
        }
        None => {
            locked(
                pool,
                subject.user_id.clone(),
                move |conn| -> Result<_, ApiError> {
                    let (result, row) = sync::upsert(&mut Direct(conn), &subject, &input)?;
                    if let Some(kind) = event_of(result) {
                        events::store(conn, &[events::session(kind, &row)?])?;
                    }
                    Ok((result, row))
                },
            )
            .await?
        }
    };
    if result == SyncResult::Created {
        spend_daily_quota(limits, &user_id, 1);
    }
    if result.wrote() {
        adaptation::after_session_write(pool, catalogue, &user_id, row.programme_id.as_deref()).await;
    }
    Ok(Written {
        result,
        session: Session::from_row(row)?,
    })
}

/// Where one item of a batch landed.
#[derive(Debug)]
pub struct Stored {
    pub result: SyncResult,
    pub id: String,
    pub version: i64,
}

/// Applies a batch: every item is checked and stored on its own terms (one bad item does not
/// reject the others), all in one transaction so the batch is fast. Items that failed to parse
/// arrive as their error and come back as it.
pub async fn batch(
    pool: &DbPool,
    catalogue: &Arc<Catalogue>,
    limits: &Limiter,
    subject: Subject,
    items: Vec<Result<SessionInput, ApiError>>,
) -> Result<Vec<Result<Stored, ApiError>>, ApiError> {
    check_daily_quota(limits, &subject.user_id)?;
    let parsed: Vec<Result<SessionInput, ApiError>> = items
        .into_iter()
        .map(|item| {
            let input = item?;
            sync::check_input(catalogue, &subject, &input)?;
            Ok(input)
        })
        .collect();
    let user_id = subject.user_id.clone();
    let mut programme_ids: Vec<String> = parsed
        .iter()
        .filter_map(|i| i.as_ref().ok().and_then(|i| i.programme_id.clone()))
        .collect();
    programme_ids.sort_unstable();
    programme_ids.dedup();
    let owned = own_programmes(pool, &user_id, programme_ids).await?;
    let parsed: Vec<Result<SessionInput, ApiError>> = parsed
        .into_iter()
        .map(|item| match item {
            Ok(input) if input.programme_id.as_ref().is_some_and(|p| !owned.contains(p)) => {
                Err(unknown_programme())
            }
            other => other,
        })
        .collect();
    let programme_ids = owned;
    let results = locked(
        pool,
        subject.user_id.clone(),
        move |conn| -> Result<_, ApiError> {
            let inputs: Vec<&SessionInput> = parsed.iter().filter_map(|i| i.as_ref().ok()).collect();
            let ids: Vec<String> = inputs
                .iter()
                .filter_map(|i| i.id.map(|id| id.to_string()))
                .collect();
            let externals: Vec<&str> = inputs.iter().filter_map(|i| i.external_id.as_deref()).collect();
            let mut store = Bulk::load(
                conn,
                &subject.user_id,
                subject.source_name(),
                (&ids, &externals),
                inputs.len(),
            )?;
            let mut results = Vec::with_capacity(parsed.len());
            let mut emitted = Vec::new();
            for item in parsed {
                results.push(match item {
                    Err(e) => Err(e),
                    Ok(input) => match sync::upsert(&mut store, &subject, &input) {
                        Ok((result, row)) => {
                            if let Some(kind) = event_of(result) {
                                emitted.push(events::session(kind, &row)?);
                            }
                            Ok(Stored {
                                result,
                                id: row.id,
                                version: row.version,
                            })
                        }
                        Err(e @ SyncError::Conflict(_)) => Err(e.into()),
                        Err(SyncError::Storage(e)) => return Err(e.into()),
                    },
                });
            }
            store.finish()?;
            events::store(conn, &emitted)?;
            Ok(results)
        },
    )
    .await?;
    let created = results
        .iter()
        .filter(|r| r.as_ref().is_ok_and(|s| s.result == SyncResult::Created))
        .count();
    spend_daily_quota(limits, &user_id, created);
    for programme_id in &programme_ids {
        adaptation::after_session_write(pool, catalogue, &user_id, Some(programme_id)).await;
    }
    Ok(results)
}

/// One of the subject's live sessions.
pub async fn get(pool: &DbPool, subject: Subject, id: String) -> Result<Session, ApiError> {
    let row = db::query(pool, move |conn| repo::find(conn, &subject.user_id, &id))
        .await?
        .filter(|r| !r.deleted)
        .ok_or_else(not_found)?;
    Session::from_row(row)
}

/// Replaces the session with what `make` builds from the current one (PUT, and PATCH after
/// merging), once `precondition` (If-Match) accepts the current one. An unchanged session is
/// returned as it is, without a new version.
pub async fn write(
    pool: &DbPool,
    catalogue: &Arc<Catalogue>,
    subject: Subject,
    id: String,
    precondition: impl FnOnce(&Session) -> Result<(), ApiError> + Send + 'static,
    make: impl FnOnce(&Session) -> Result<SessionInput, ApiError> + Send + 'static,
) -> Result<Session, ApiError> {
    let user_id = subject.user_id.clone();
    let shared = Arc::clone(catalogue);
    let row = locked(
        pool,
        subject.user_id.clone(),
        move |conn| -> Result<SessionRow, ApiError> {
            let old = repo::find(conn, &subject.user_id, &id)?
                .filter(|r| !r.deleted)
                .ok_or_else(not_found)?;
            let current = Session::from_row(old.clone())?;
            let mut input = make(&current)?;
            // A session's external id and version belong to the platform that logged it: a
            // write from another source (the user's app, another partner) keeps them.
            let foreign = old.source != subject.source_name();
            if foreign {
                let changed = input.external_id.is_some()
                    && (input.external_id != old.external_id
                        || input.external_version != old.external_version);
                if changed {
                    return Err(ApiError::invalid_field(
                        "external_id",
                        "source_owned",
                        "belongs to the platform that logged this session; leave it out or unchanged",
                    ));
                }
                (input.external_id, input.external_version) = (None, None);
            }
            input.validate()?;
            sync::check_input(&shared, &subject, &input)?;
            if let Some(programme) = &input.programme_id
                && old.programme_id.as_ref() != Some(programme)
                && programmes::owned(conn, &subject.user_id, std::slice::from_ref(programme))?.is_empty()
            {
                return Err(unknown_programme());
            }
            if foreign {
                (input.external_id, input.external_version) = (old.external_id.clone(), old.external_version);
            }
            // Preconditions after the body is known to be valid: a bad request is a 4xx about the
            // request, whatever the stored version.
            precondition(&current)?;
            if input.id.is_some_and(|given| given.to_string() != old.id) {
                return Err(ApiError::invalid_field(
                    "id",
                    "mismatch",
                    "must match the session in the URL",
                ));
            }
            let normalised = input.normalise();
            if normalised.content_hash == old.content_hash {
                return Ok(old);
            }
            let new = sync::rewritten(&old, normalised, repo::next_position(conn)?);
            repo::replace(conn, &new)?;
            events::store(conn, &[events::session(EventType::SessionUpdated, &new)?])?;
            Ok(new)
        },
    )
    .await?;
    adaptation::after_session_write(pool, catalogue, &user_id, row.programme_id.as_deref()).await;
    Session::from_row(row)
}

/// Deletes the session, leaving a tombstone for the change feed. Deleting a tombstone again
/// succeeds without a check.
pub async fn remove(
    pool: &DbPool,
    subject: Subject,
    id: String,
    precondition: impl FnOnce(&Session) -> Result<(), ApiError> + Send + 'static,
) -> Result<(), ApiError> {
    locked(
        pool,
        subject.user_id.clone(),
        move |conn| -> Result<(), ApiError> {
            let old = repo::find(conn, &subject.user_id, &id)?.ok_or_else(not_found)?;
            if old.deleted {
                return Ok(());
            }
            precondition(&Session::from_row(old.clone())?)?;
            let tombstone = SessionRow {
                seq: repo::next_position(conn)?,
                content: write_json(&Content::default())?,
                content_hash: String::new(),
                version: old.version + 1,
                deleted: true,
                updated_at: db::now(),
                ..old
            };
            repo::replace(conn, &tombstone)?;
            events::store(conn, &[events::session(EventType::SessionDeleted, &tombstone)?])?;
            Ok(())
        },
    )
    .await
}

/// Deletes tombstones older than the retention window; run periodically by the server.
pub async fn purge_tombstones(pool: &DbPool, retention: Retention) -> Result<usize, ApiError> {
    let before = db::now() - retention.0;
    Ok(db::write_query(pool, move |conn| repo::purge_tombstones(conn, before)).await?)
}
