//! Workout sessions. The user's routes (`/v1/me/…`) and the partner's (`/v1/users/{user_id}/…`)
//! share one implementation; only who the owner is, and the write's `source`, differ.
//!
//! Sync rules: a client-chosen `id` makes `POST` idempotent (same content → 200 with the
//! stored session, different content → 409). Partners may instead send `external_id` with
//! `external_version`: a higher version replaces, a lower or equal one is ignored (200,
//! `Sync-Result: ignored`). `PUT`, `PATCH` and `DELETE` honour `If-Match` (412 on a stale tag).
//! Deletion leaves a tombstone that the change feed reports. The change feed is ordered by a
//! server sequence assigned in commit order, so a reader that follows it never misses a change.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, put, web};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, FixedOffset, NaiveDateTime, Offset as _, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use crate::auth::tokens::Scope;
use crate::auth::{AuthUser, PartnerCaller};
use crate::catalogue::Catalogue;
use crate::db::{self, DbPool};
use crate::error::{ApiError, FieldError, Problem};
use crate::http::conditional::{cached_json, etag};
use crate::http::idempotency::idempotent;
use crate::http::{Json, Query};
use crate::repository::sessions::{self as repo, ListFilter, SessionRow};
use crate::routes::adaptation;
use crate::sessions::{Content, Normalised, SessionInput, SessionSet, Symptom};

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
    fn from_row(row: SessionRow) -> Result<Self, ApiError> {
        let content: Content = crate::error::read_json(&row.content)?;
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

    /// The input that would recreate this session (for PATCH).
    fn to_input(&self) -> serde_json::Value {
        serde_json::json!({
            "id": self.id, "programme_id": self.programme_id, "programme_week": self.programme_week,
            "programme_session": self.programme_session, "started_at": self.started_at,
            "duration_seconds": self.duration_seconds, "external_id": self.external_id,
            "external_version": self.external_version, "rpe": self.rpe, "pain_during": self.pain_during,
            "pain_next_morning": self.pain_next_morning, "notes": self.notes, "symptoms": self.symptoms, "sets": self.sets,
        })
    }
}

fn session_etag(row: &SessionRow) -> String {
    etag(&[&row.id, &row.version.to_string()])
}

/// The owner of the data and the `source` of writes.
struct Owner {
    user_id: String,
    source: String,
}

impl Owner {
    /// Whose Idempotency-Keys these are: the user, or this partner acting for this user.
    fn key_scope(&self) -> String {
        if self.source == "app" {
            format!("user:{}", self.user_id)
        } else {
            format!("partner:{}:user:{}", self.source, self.user_id)
        }
    }
}

/// What a create did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SyncResult {
    Created,
    Unchanged,
    Replaced,
    Ignored,
}

impl SyncResult {
    fn as_str(self) -> &'static str {
        match self {
            Self::Created => "created",
            Self::Unchanged => "unchanged",
            Self::Replaced => "replaced",
            Self::Ignored => "ignored",
        }
    }
}

fn check_exercises(catalogue: &Catalogue, input: &SessionInput) -> Result<(), ApiError> {
    let errors: Vec<FieldError> = input
        .sets
        .iter()
        .enumerate()
        .filter(|(_, s)| catalogue.get(&s.exercise_id).is_none())
        .map(|(i, s)| {
            FieldError::new(
                format!("sets[{i}].exercise_id"),
                "not_found",
                format!("`{}` is not a catalogue exercise", s.exercise_id),
            )
        })
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::Validation(errors))
    }
}

fn new_row(owner: &Owner, id: String, n: Normalised, seq: i64) -> SessionRow {
    let now = crate::db::now();
    SessionRow {
        id,
        user_id: owner.user_id.clone(),
        programme_id: n.programme_id,
        started_at: n.started_at,
        utc_offset_minutes: n.utc_offset_minutes,
        duration_seconds: n.duration_seconds,
        source: owner.source.clone(),
        external_id: n.external_id,
        external_version: n.external_version,
        content: n.content,
        content_hash: n.content_hash,
        version: 1,
        seq,
        deleted: false,
        created_at: now,
        updated_at: now,
    }
}

/// The stored row with `input` written over it: a new version and change position.
fn rewritten(old: &SessionRow, n: Normalised, seq: i64) -> SessionRow {
    SessionRow {
        programme_id: n.programme_id,
        started_at: n.started_at,
        utc_offset_minutes: n.utc_offset_minutes,
        duration_seconds: n.duration_seconds,
        external_id: n.external_id,
        external_version: n.external_version,
        content: n.content,
        content_hash: n.content_hash,
        version: old.version + 1,
        seq,
        deleted: false,
        updated_at: crate::db::now(),
        ..old.clone()
    }
}

/// Rules a write must pass beyond its own fields: catalogue exercises, and external ids for
/// partners only.
fn check_input(catalogue: &Catalogue, owner: &Owner, input: &SessionInput) -> Result<(), ApiError> {
    check_exercises(catalogue, input)?;
    if owner.source == "app" && input.external_id.is_some() {
        return Err(ApiError::invalid_field(
            "external_id",
            "partners_only",
            "is for partner platforms; apps use a client-chosen id",
        ));
    }
    if input.external_version.is_some() && input.external_id.is_none() {
        return Err(ApiError::invalid_field(
            "external_version",
            "requires_external_id",
            "needs external_id",
        ));
    }
    Ok(())
}

/// Where `upsert` reads and writes: the database directly (single writes), or a batch's view
/// that looks everything up at once and inserts in bulk (`Bulk`). Both run inside the writing
/// transaction, after `repo::lock`.
trait Store {
    fn by_external(&mut self, owner: &Owner, external_id: &str) -> Result<Option<SessionRow>, ApiError>;
    /// Any session with this id, whoever owns it (ids are global).
    fn by_id(&mut self, id: &str) -> Result<Option<SessionRow>, ApiError>;
    fn next_seq(&mut self) -> Result<i64, ApiError>;
    fn insert(&mut self, row: SessionRow) -> Result<(), ApiError>;
    fn replace(&mut self, row: SessionRow) -> Result<(), ApiError>;
}

/// One statement per step: for single writes.
struct Direct<'c>(&'c mut db::AnyConnection);

impl Store for Direct<'_> {
    fn by_external(&mut self, owner: &Owner, external_id: &str) -> Result<Option<SessionRow>, ApiError> {
        Ok(repo::find_external(
            self.0,
            &owner.user_id,
            &owner.source,
            external_id,
        )?)
    }
    fn by_id(&mut self, id: &str) -> Result<Option<SessionRow>, ApiError> {
        Ok(repo::find_any(self.0, id)?)
    }
    fn next_seq(&mut self) -> Result<i64, ApiError> {
        Ok(repo::next_seq(self.0)?)
    }
    fn insert(&mut self, row: SessionRow) -> Result<(), ApiError> {
        Ok(repo::insert(self.0, &row)?)
    }
    fn replace(&mut self, row: SessionRow) -> Result<(), ApiError> {
        Ok(repo::replace(self.0, &row)?)
    }
}

/// A batch's view of the store: every id and external id the batch names is looked up in two
/// queries, change positions are handed out from memory (the counter row is locked for the
/// whole transaction) and new rows are inserted together at the end. Cuts the round trips per
/// session from about four to a few per batch.
struct Bulk<'c> {
    conn: &'c mut db::AnyConnection,
    by_id: std::collections::HashMap<String, SessionRow>,
    /// External id → session id, for this owner and source.
    by_external: std::collections::HashMap<String, String>,
    seq: i64,
    seq_at_start: i64,
    /// Ids of rows inserted by this batch, in order (their latest form is in `by_id`).
    pending: Vec<String>,
}

impl<'c> Bulk<'c> {
    fn load(
        conn: &'c mut db::AnyConnection,
        owner: &Owner,
        inputs: &[&SessionInput],
    ) -> Result<Self, ApiError> {
        let ids: Vec<String> = inputs
            .iter()
            .filter_map(|i| i.id.map(|id| id.to_string()))
            .collect();
        let externals: Vec<&str> = inputs.iter().filter_map(|i| i.external_id.as_deref()).collect();
        let mut by_id = std::collections::HashMap::new();
        let mut by_external = std::collections::HashMap::new();
        for row in repo::find_many(conn, &ids)? {
            by_id.insert(row.id.clone(), row);
        }
        for row in repo::find_external_many(conn, &owner.user_id, &owner.source, &externals)? {
            if let Some(external) = row.external_id.clone() {
                by_external.insert(external, row.id.clone());
            }
            by_id.insert(row.id.clone(), row);
        }
        let seq = repo::current_seq(conn)?;
        Ok(Self {
            conn,
            by_id,
            by_external,
            seq,
            seq_at_start: seq,
            pending: Vec::new(),
        })
    }

    /// Inserts the new rows and moves the change counter past the positions handed out.
    fn finish(self) -> Result<(), ApiError> {
        let mut by_id = self.by_id;
        let rows: Vec<SessionRow> = self.pending.iter().filter_map(|id| by_id.remove(id)).collect();
        repo::insert_many(self.conn, &rows)?;
        if self.seq != self.seq_at_start {
            repo::set_seq(self.conn, self.seq)?;
        }
        Ok(())
    }
}

impl Store for Bulk<'_> {
    fn by_external(&mut self, _owner: &Owner, external_id: &str) -> Result<Option<SessionRow>, ApiError> {
        Ok(self
            .by_external
            .get(external_id)
            .and_then(|id| self.by_id.get(id))
            .cloned())
    }
    fn by_id(&mut self, id: &str) -> Result<Option<SessionRow>, ApiError> {
        Ok(self.by_id.get(id).cloned())
    }
    fn next_seq(&mut self) -> Result<i64, ApiError> {
        self.seq += 1;
        Ok(self.seq)
    }
    fn insert(&mut self, row: SessionRow) -> Result<(), ApiError> {
        if let Some(external) = row.external_id.clone() {
            self.by_external.insert(external, row.id.clone());
        }
        self.pending.push(row.id.clone());
        self.by_id.insert(row.id.clone(), row);
        Ok(())
    }
    fn replace(&mut self, row: SessionRow) -> Result<(), ApiError> {
        if !self.pending.contains(&row.id) {
            repo::replace(self.conn, &row)?;
        }
        self.by_id.insert(row.id.clone(), row);
        Ok(())
    }
}

/// Stores one session under the sync rules; run inside a transaction. A conflict is an `Err`
/// that has written nothing.
fn upsert(
    store: &mut impl Store,
    owner: &Owner,
    input: &SessionInput,
) -> Result<(SyncResult, SessionRow), ApiError> {
    let normalised = input.normalise();
    let hash = normalised.content_hash.clone();
    if let Some(external) = input.external_id.as_deref()
        && let Some(row) = store.by_external(owner, external)?
    {
        if row.content_hash == hash {
            return Ok((SyncResult::Unchanged, row));
        }
        if input.external_version.unwrap_or(-1) <= row.external_version.unwrap_or(-1) {
            return Ok((SyncResult::Ignored, row));
        }
        let updated = rewritten(&row, normalised, store.next_seq()?);
        store.replace(updated.clone())?;
        return Ok((SyncResult::Replaced, updated));
    }
    let id = match input.id {
        Some(id) => {
            let id = id.to_string();
            if let Some(row) = store.by_id(&id)? {
                if row.user_id == owner.user_id && !row.deleted && row.content_hash == hash {
                    return Ok((SyncResult::Unchanged, row));
                }
                return Err(ApiError::Conflict(
                    if row.deleted && row.user_id == owner.user_id {
                        "A session with this id was deleted; use a new id.".into()
                    } else {
                        "A different session already has this id. Replaying a create must send the same content.".into()
                    },
                ));
            }
            id
        }
        // Time-ordered (UUIDv7): new rows land at the end of the primary-key index.
        None => uuid::Uuid::now_v7().to_string(),
    };
    let row = new_row(owner, id, normalised, store.next_seq()?);
    store.insert(row.clone())?;
    Ok((SyncResult::Created, row))
}

async fn create(
    pool: &DbPool,
    catalogue: &web::Data<Catalogue>,
    owner: Owner,
    input: SessionInput,
    location_prefix: String,
) -> Result<HttpResponse, ApiError> {
    check_input(catalogue, &owner, &input)?;
    let user_id = owner.user_id.clone();
    let (result, row) = db::run(pool, move |conn| {
        db::write_transaction(conn, |conn| {
            repo::lock(conn)?;
            upsert(&mut Direct(conn), &owner, &input)
        })
    })
    .await?;
    let mut builder = if result == SyncResult::Created {
        HttpResponse::Created()
    } else {
        HttpResponse::Ok()
    };
    builder
        .insert_header((header::ETAG, session_etag(&row)))
        .insert_header(("Sync-Result", result.as_str()));
    if result == SyncResult::Created {
        builder.insert_header((header::LOCATION, format!("{location_prefix}/{}", row.id)));
    }
    if matches!(result, SyncResult::Created | SyncResult::Replaced) {
        adaptation::after_session_write(pool, catalogue.clone(), &user_id, row.programme_id.as_deref()).await;
    }
    Ok(builder.json(Session::from_row(row)?))
}

/// Up to 500 sessions in one request.
#[derive(Debug, Clone, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchRequest {
    #[validate(length(min = 1, max = 500))]
    #[schema(value_type = Vec<SessionInput>, min_items = 1, max_items = 500)]
    pub sessions: Vec<serde_json::Value>,
}

/// The outcome of one item of a batch, in the order sent.
#[derive(Debug, Serialize, ToSchema)]
pub struct BatchResult {
    /// The status a single `POST` would have had: 201, 200, 409 or 422.
    pub status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result: Option<SyncResult>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<Problem>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BatchResponse {
    pub results: Vec<BatchResult>,
}

fn item_problem(e: &ApiError) -> BatchResult {
    use actix_web::ResponseError as _;
    BatchResult {
        status: e.status_code().as_u16(),
        result: None,
        id: None,
        version: None,
        problem: Some(e.problem()),
    }
}

/// Applies a batch: every item is checked and stored on its own terms (one bad item does not
/// reject the others), all in one transaction so the batch is fast.
async fn batch(
    pool: &DbPool,
    catalogue: &web::Data<Catalogue>,
    owner: Owner,
    body: BatchRequest,
) -> Result<HttpResponse, ApiError> {
    let parsed: Vec<Result<SessionInput, ApiError>> = body
        .sessions
        .into_iter()
        .map(|value| {
            let input: SessionInput = crate::http::extract::from_value(value)?;
            check_input(catalogue, &owner, &input)?;
            Ok(input)
        })
        .collect();
    let user_id = owner.user_id.clone();
    let mut programme_ids: Vec<String> = parsed
        .iter()
        .filter_map(|i| i.as_ref().ok().and_then(|i| i.programme_id.clone()))
        .collect();
    programme_ids.sort_unstable();
    programme_ids.dedup();
    let results = db::run(pool, move |conn| {
        db::write_transaction(conn, |conn| -> Result<Vec<BatchResult>, ApiError> {
            repo::lock(conn)?;
            let inputs: Vec<&SessionInput> = parsed.iter().filter_map(|i| i.as_ref().ok()).collect();
            let mut store = Bulk::load(conn, &owner, &inputs)?;
            let results = parsed
                .into_iter()
                .map(|item| match item {
                    Err(e) => Ok(item_problem(&e)),
                    Ok(input) => match upsert(&mut store, &owner, &input) {
                        Ok((result, row)) => Ok(BatchResult {
                            status: if result == SyncResult::Created { 201 } else { 200 },
                            result: Some(result),
                            id: Some(row.id),
                            version: Some(row.version),
                            problem: None,
                        }),
                        Err(e @ ApiError::Conflict(_)) => Ok(item_problem(&e)),
                        Err(e) => Err(e),
                    },
                })
                .collect::<Result<Vec<_>, ApiError>>()?;
            store.finish()?;
            Ok(results)
        })
    })
    .await?;
    for programme_id in &programme_ids {
        adaptation::after_session_write(pool, catalogue.clone(), &user_id, Some(programme_id)).await;
    }
    Ok(HttpResponse::Ok().json(BatchResponse { results }))
}

fn if_match(req: &HttpRequest) -> Option<String> {
    req.headers()
        .get(header::IF_MATCH)
        .map(|v| v.to_str().unwrap_or("").to_owned())
}

/// `If-Match` (strong comparison): `Ok` when absent, `*`, or listing the current tag.
fn check_if_match(if_match: Option<&str>, current: &str) -> Result<(), ApiError> {
    let Some(value) = if_match else {
        return Ok(());
    };
    if value.trim() == "*" || value.split(',').any(|t| t.trim() == current) {
        Ok(())
    } else {
        Err(ApiError::PreconditionFailed(
            "The session changed since you read it (If-Match does not match its ETag). Read it again.".into(),
        ))
    }
}

fn not_found() -> ApiError {
    ApiError::NotFound("No session of this user has this id.".into())
}

async fn get_one(
    req: &HttpRequest,
    pool: &DbPool,
    owner: Owner,
    id: String,
) -> Result<HttpResponse, ApiError> {
    let row = db::run(pool, move |conn| repo::find(conn, &owner.user_id, &id))
        .await?
        .filter(|r| !r.deleted)
        .ok_or_else(not_found)?;
    let tag = session_etag(&row);
    Ok(cached_json(
        req,
        &tag,
        "private, no-cache",
        &[],
        &Session::from_row(row)?,
    ))
}

/// Replaces the session with `input` (PUT, and PATCH after merging), honouring `If-Match`.
async fn write(
    req: &HttpRequest,
    pool: &DbPool,
    catalogue: &web::Data<Catalogue>,
    owner: Owner,
    id: String,
    make: impl FnOnce(&Session) -> Result<SessionInput, ApiError> + Send + 'static,
) -> Result<HttpResponse, ApiError> {
    let if_match = if_match(req);
    let user_id = owner.user_id.clone();
    let shared = catalogue.clone();
    let row = db::run(pool, move |conn| {
        db::write_transaction(conn, |conn| -> Result<SessionRow, ApiError> {
            repo::lock(conn)?;
            let old = repo::find(conn, &owner.user_id, &id)?
                .filter(|r| !r.deleted)
                .ok_or_else(not_found)?;
            let input = make(&Session::from_row(old.clone())?)?;
            input.validate()?;
            check_input(&shared, &owner, &input)?;
            // Preconditions after the body is known to be valid: a bad request is a 4xx about the
            // request, whatever the stored version.
            check_if_match(if_match.as_deref(), &session_etag(&old))?;
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
            let new = rewritten(&old, normalised, repo::next_seq(conn)?);
            repo::replace(conn, &new)?;
            Ok(new)
        })
    })
    .await?;
    adaptation::after_session_write(pool, catalogue.clone(), &user_id, row.programme_id.as_deref()).await;
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, session_etag(&row)))
        .json(Session::from_row(row)?))
}

/// How long tombstones stay in the change feed (`SOLEUS_TOMBSTONE_RETENTION_DAYS`).
#[derive(Debug, Clone, Copy)]
pub struct Retention(pub chrono::Duration);

async fn remove(
    req: &HttpRequest,
    pool: &DbPool,
    retention: Retention,
    owner: Owner,
    id: String,
) -> Result<HttpResponse, ApiError> {
    let if_match = if_match(req);
    db::run(pool, move |conn| {
        db::write_transaction(conn, |conn| -> Result<(), ApiError> {
            repo::lock(conn)?;
            let old = repo::find(conn, &owner.user_id, &id)?.ok_or_else(not_found)?;
            if old.deleted {
                return Ok(());
            }
            check_if_match(if_match.as_deref(), &session_etag(&old))?;
            let empty = Content {
                programme_week: None,
                programme_session: None,
                rpe: None,
                pain_during: None,
                pain_next_morning: None,
                notes: None,
                symptoms: Vec::new(),
                sets: Vec::new(),
            };
            let tombstone = SessionRow {
                content: crate::error::write_json(&empty)?,
                content_hash: String::new(),
                version: old.version + 1,
                seq: repo::next_seq(conn)?,
                deleted: true,
                updated_at: crate::db::now(),
                ..old
            };
            repo::replace(conn, &tombstone)?;
            Ok(())
        })
    })
    .await?;
    // Best effort: tombstones past the retention window go, and old cursors start getting 410.
    let before = db::now() - retention.0;
    if let Err(e) = db::run(pool, move |conn| repo::purge_tombstones(conn, before)).await {
        tracing::warn!(error = %e, "tombstone purge failed");
    }
    Ok(HttpResponse::NoContent().finish())
}

/// Filters and paging for a session list.
#[derive(Debug, Deserialize, Validate, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SessionListQuery {
    /// Sessions starting at or after this instant (RFC 3339).
    pub from: Option<DateTime<FixedOffset>>,
    /// Sessions starting before this instant (RFC 3339).
    pub to: Option<DateTime<FixedOffset>>,
    #[validate(length(min = 1, max = 100))]
    #[param(min_length = 1, max_length = 100)]
    pub programme_id: Option<String>,
    /// From `next_cursor` of the previous page.
    #[validate(length(max = 200))]
    #[param(max_length = 200, pattern = "^[A-Za-z0-9_-]*$")]
    pub cursor: Option<String>,
    /// 1–100, default 20.
    #[validate(range(min = 1, max = 100))]
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SessionPage {
    /// Newest first (by start time, then id).
    pub items: Vec<Session>,
    pub next_cursor: Option<String>,
}

fn bad_cursor(param: &str) -> ApiError {
    ApiError::BadRequest {
        detail: format!("The `{param}` cursor is not one this API issued. Start again without it."),
        errors: vec![FieldError::new(
            param,
            "invalid",
            "is not a cursor this API issued",
        )],
    }
}

fn encode_position(started_at: NaiveDateTime, id: &str) -> String {
    URL_SAFE_NO_PAD.encode(format!("{}|{id}", started_at.and_utc().timestamp_micros()))
}

fn decode_position(cursor: &str) -> Result<(NaiveDateTime, String), ApiError> {
    let text = URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(|| bad_cursor("cursor"))?;
    let (micros, id) = text.split_once('|').ok_or_else(|| bad_cursor("cursor"))?;
    let micros: i64 = micros.parse().map_err(|_| bad_cursor("cursor"))?;
    let at = DateTime::from_timestamp_micros(micros).ok_or_else(|| bad_cursor("cursor"))?;
    Ok((at.naive_utc(), id.to_owned()))
}

async fn list(
    req: &HttpRequest,
    pool: &DbPool,
    owner: Owner,
    q: SessionListQuery,
) -> Result<HttpResponse, ApiError> {
    let after = q
        .cursor
        .as_deref()
        .filter(|c| !c.is_empty())
        .map(decode_position)
        .transpose()?;
    let limit = i64::from(q.limit.unwrap_or(20).min(100));
    let filter = ListFilter {
        from: q.from.map(|d| d.with_timezone(&Utc).naive_utc()),
        to: q.to.map(|d| d.with_timezone(&Utc).naive_utc()),
        programme_id: q.programme_id,
    };
    let mut rows = db::run(pool, move |conn| {
        repo::list(conn, &owner.user_id, &filter, after, limit + 1)
    })
    .await?;
    let more = rows.len() > usize::try_from(limit).unwrap_or(0);
    rows.truncate(usize::try_from(limit).unwrap_or(0));
    let next_cursor = more
        .then(|| rows.last().map(|r| encode_position(r.started_at, &r.id)))
        .flatten();
    let items = rows
        .into_iter()
        .map(Session::from_row)
        .collect::<Result<Vec<_>, _>>()?;
    let mut builder = HttpResponse::Ok();
    builder.insert_header((header::CACHE_CONTROL, "private, no-cache"));
    if let Some(cursor) = &next_cursor {
        let mut pairs: Vec<(String, String)> = form_urlencoded::parse(req.query_string().as_bytes())
            .filter(|(k, _)| k != "cursor")
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        pairs.push(("cursor".into(), cursor.clone()));
        let query = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish();
        builder.insert_header((header::LINK, format!("<{}?{query}>; rel=\"next\"", req.path())));
    }
    Ok(builder.json(SessionPage { items, next_cursor }))
}

#[derive(Debug, Deserialize, Validate, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ChangesQuery {
    /// The `next` cursor of the previous call; omit to start from the beginning.
    #[validate(length(max = 100))]
    #[param(max_length = 100, pattern = "^[A-Za-z0-9_-]*$")]
    pub since: Option<String>,
    /// 1–500, default 100.
    #[validate(range(min = 1, max = 500))]
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
}

/// A page of the change feed.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChangePage {
    /// Sessions created, changed or deleted after `since`, in commit order; deletions are
    /// tombstones (`deleted: true`). A session changed twice appears once, in its latest state.
    pub changes: Vec<Session>,
    /// Pass as `since` next time (also when `has_more` is false, to get later changes).
    pub next: String,
    pub has_more: bool,
}

/// A feed cursor: the last position read, and the purge horizon when the read started. A
/// cursor is stale (410) only if tombstones it has not seen were purged since it was issued.
fn encode_seq(seq: i64, horizon: i64) -> String {
    URL_SAFE_NO_PAD.encode(format!("s{seq}h{horizon}"))
}

fn decode_seq(cursor: &str) -> Result<(i64, i64), ApiError> {
    URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|t| {
            let (seq, horizon) = t.strip_prefix('s')?.split_once('h')?;
            Some((seq.parse::<i64>().ok()?, horizon.parse::<i64>().ok()?))
        })
        .filter(|(seq, horizon)| *seq >= 0 && *horizon >= 0)
        .ok_or_else(|| bad_cursor("since"))
}

async fn changes(pool: &DbPool, owner: Owner, q: ChangesQuery) -> Result<HttpResponse, ApiError> {
    let given = q
        .since
        .as_deref()
        .filter(|c| !c.is_empty())
        .map(decode_seq)
        .transpose()?;
    let (since, seen_horizon) = given.unwrap_or((0, 0));
    let limit = i64::from(q.limit.unwrap_or(100).min(500));
    let (horizon, mut rows) = db::run(pool, move |conn| -> Result<_, ApiError> {
        Ok((
            repo::purge_horizon(conn)?,
            repo::changes(conn, &owner.user_id, since, limit + 1)?,
        ))
    })
    .await?;
    if given.is_some() && seen_horizon < horizon && since < horizon {
        return Err(ApiError::Gone(
            "This cursor is older than the tombstone retention window: deletions since then may be missing. \
             Resync in full (call without `since`) and continue from the new cursor."
                .into(),
        ));
    }
    let has_more = rows.len() > usize::try_from(limit).unwrap_or(0);
    rows.truncate(usize::try_from(limit).unwrap_or(0));
    // A read from the start begins after the purge, so it has seen everything still kept.
    let seen = if given.is_some() { seen_horizon } else { horizon };
    let next = encode_seq(rows.last().map_or(since, |r| r.seq), seen);
    let changes = rows
        .into_iter()
        .map(Session::from_row)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(ChangePage {
            changes,
            next,
            has_more,
        }))
}

/// A JSON merge patch (RFC 7396) of a session's writable fields.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(value_type = SessionInput, example = json!({"pain_next_morning": 2, "notes": null}))]
pub struct SessionPatch(pub serde_json::Value);

impl Validate for SessionPatch {
    fn validate(&self) -> Result<(), validator::ValidationErrors> {
        Ok(())
    }
}

fn merge(target: &mut serde_json::Value, patch: &serde_json::Value) {
    match (target.as_object_mut(), patch.as_object()) {
        (Some(target), Some(patch)) => {
            for (key, value) in patch {
                if value.is_null() {
                    target.remove(key);
                } else {
                    merge(
                        target.entry(key.clone()).or_insert(serde_json::Value::Null),
                        value,
                    );
                }
            }
        }
        _ => *target = patch.clone(),
    }
}

fn user_owner(user: &AuthUser) -> Owner {
    Owner {
        user_id: user.id.clone(),
        source: "app".into(),
    }
}

async fn partner_owner(
    partner: &PartnerCaller,
    pool: &DbPool,
    user_id: String,
    scope: Scope,
) -> Result<Owner, ApiError> {
    partner.authorize(pool, &user_id, scope).await?;
    Ok(Owner {
        user_id,
        source: partner.client_id.clone(),
    })
}

const PROBLEMS: &str = "application/problem+json";

/// Log a session.
///
/// With a client-chosen `id` the call is idempotent: the same id and content returns the stored
/// session (200, `Sync-Result: unchanged`); the same id with different content is 409. Without
/// an id the server assigns one (201).
#[utoipa::path(
    tag = "sessions", security(("bearer_auth" = [])), request_body = SessionInput,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes the POST safe to retry: the first response is replayed for 24 hours", min_length = 1, max_length = 255, pattern = "^[!-~]{1,255}$")),
    responses(
        (status = 201, description = "Created (`Sync-Result: created`).", body = Session, headers(("ETag" = String), ("Location" = String), ("Sync-Result" = String))),
        (status = 200, description = "Already stored with the same content (`Sync-Result: unchanged`).", body = Session),
        (status = 401, description = "No valid access token.", body = Problem, content_type = PROBLEMS),
        (status = 409, description = "The id belongs to a different session.", body = Problem, content_type = PROBLEMS),
    ),
)]
#[post("/me/sessions")]
pub async fn create_session(
    req: HttpRequest,
    user: AuthUser,
    pool: web::Data<DbPool>,
    catalogue: web::Data<Catalogue>,
    body: Json<SessionInput>,
) -> Result<HttpResponse, ApiError> {
    user.require(Scope::SessionsWrite)?;
    let input = body.into_inner();
    let owner = user_owner(&user);
    idempotent(&req, &pool, owner.key_scope(), &input, || {
        create(&pool, &catalogue, owner, input.clone(), "/v1/me/sessions".into())
    })
    .await
}

/// Your sessions.
///
/// Newest first; filter by start time and programme; page with `cursor` (or `Link: rel="next"`).
#[utoipa::path(
    tag = "sessions", security(("bearer_auth" = [])), params(SessionListQuery),
    responses(
        (status = 200, description = "A page of sessions.", body = SessionPage, headers(("Link" = String))),
        (status = 401, description = "No valid access token.", body = Problem, content_type = PROBLEMS),
    ),
)]
#[get("/me/sessions")]
pub async fn list_sessions(
    req: HttpRequest,
    user: AuthUser,
    pool: web::Data<DbPool>,
    q: Query<SessionListQuery>,
) -> Result<HttpResponse, ApiError> {
    user.require(Scope::SessionsRead)?;
    list(&req, &pool, user_owner(&user), q.into_inner()).await
}

/// One of your sessions.
#[utoipa::path(
    tag = "sessions", security(("bearer_auth" = [])),
    params(("id" = String, Path, description = "Session id", max_length = 100)),
    responses(
        (status = 200, description = "The session.", body = Session, headers(("ETag" = String))),
        (status = 304, description = "Not modified."),
        (status = 401, description = "No valid access token.", body = Problem, content_type = PROBLEMS),
        (status = 404, description = "Not yours, deleted, or no such session.", body = Problem, content_type = PROBLEMS),
    ),
)]
#[get("/me/sessions/{id}")]
pub async fn get_session(
    req: HttpRequest,
    user: AuthUser,
    pool: web::Data<DbPool>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    user.require(Scope::SessionsRead)?;
    get_one(&req, &pool, user_owner(&user), id.into_inner()).await
}

/// Replace one of your sessions.
///
/// Send `If-Match` with the ETag you read to avoid overwriting someone else's change (412).
#[utoipa::path(
    tag = "sessions", security(("bearer_auth" = [])), request_body = SessionInput,
    params(("id" = String, Path, description = "Session id", max_length = 100), ("If-Match" = Option<String>, Header, description = "The ETag you read")),
    responses(
        (status = 200, description = "The new version.", body = Session, headers(("ETag" = String))),
        (status = 401, description = "No valid access token.", body = Problem, content_type = PROBLEMS),
        (status = 404, description = "No such session of yours.", body = Problem, content_type = PROBLEMS),
        (status = 409, description = "The change collides with another stored session.", body = Problem, content_type = PROBLEMS),
        (status = 412, description = "`If-Match` does not match.", body = Problem, content_type = PROBLEMS),
    ),
)]
#[put("/me/sessions/{id}")]
pub async fn put_session(
    req: HttpRequest,
    user: AuthUser,
    pool: web::Data<DbPool>,
    catalogue: web::Data<Catalogue>,
    id: web::Path<String>,
    body: Json<SessionInput>,
) -> Result<HttpResponse, ApiError> {
    user.require(Scope::SessionsWrite)?;
    let input = body.into_inner();
    write(
        &req,
        &pool,
        &catalogue,
        user_owner(&user),
        id.into_inner(),
        move |_| Ok(input),
    )
    .await
}

/// Update part of one of your sessions.
///
/// A JSON merge patch (RFC 7396) of the writable fields, e.g. adding `pain_next_morning` the
/// day after. Honours `If-Match` like PUT.
#[utoipa::path(
    tag = "sessions", security(("bearer_auth" = [])),
    request_body(content = SessionPatch, content_type = "application/merge-patch+json"),
    params(("id" = String, Path, description = "Session id", max_length = 100), ("If-Match" = Option<String>, Header, description = "The ETag you read")),
    responses(
        (status = 200, description = "The new version.", body = Session, headers(("ETag" = String))),
        (status = 401, description = "No valid access token.", body = Problem, content_type = PROBLEMS),
        (status = 404, description = "No such session of yours.", body = Problem, content_type = PROBLEMS),
        (status = 409, description = "The change collides with another stored session.", body = Problem, content_type = PROBLEMS),
        (status = 412, description = "`If-Match` does not match.", body = Problem, content_type = PROBLEMS),
    ),
)]
#[patch("/me/sessions/{id}")]
pub async fn patch_session(
    req: HttpRequest,
    user: AuthUser,
    pool: web::Data<DbPool>,
    catalogue: web::Data<Catalogue>,
    id: web::Path<String>,
    body: Json<SessionPatch>,
) -> Result<HttpResponse, ApiError> {
    user.require(Scope::SessionsWrite)?;
    let patch = body.into_inner().0;
    if !patch.is_object() {
        return Err(ApiError::invalid_field(
            "body",
            "invalid_type",
            "must be a JSON object",
        ));
    }
    write(
        &req,
        &pool,
        &catalogue,
        user_owner(&user),
        id.into_inner(),
        move |current| {
            let mut merged = current.to_input();
            merge(&mut merged, &patch);
            crate::http::extract::from_value(merged)
        },
    )
    .await
}

/// Delete one of your sessions.
///
/// Leaves a tombstone for sync (the change feed reports it). Deleting again is still a 204.
#[utoipa::path(
    tag = "sessions", security(("bearer_auth" = [])),
    params(("id" = String, Path, description = "Session id", max_length = 100), ("If-Match" = Option<String>, Header, description = "The ETag you read")),
    responses(
        (status = 204, description = "Deleted."),
        (status = 401, description = "No valid access token.", body = Problem, content_type = PROBLEMS),
        (status = 404, description = "No such session of yours.", body = Problem, content_type = PROBLEMS),
        (status = 412, description = "`If-Match` does not match.", body = Problem, content_type = PROBLEMS),
    ),
)]
#[delete("/me/sessions/{id}")]
pub async fn delete_session(
    req: HttpRequest,
    user: AuthUser,
    pool: web::Data<DbPool>,
    retention: web::Data<Retention>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    user.require(Scope::SessionsWrite)?;
    remove(&req, &pool, **retention, user_owner(&user), id.into_inner()).await
}

/// Log many sessions.
///
/// The sync path for apps and partners: up to 500 sessions, answered with one result per item
/// in the same order (`created`, `unchanged`, `replaced`, `ignored`, or a problem). Each item
/// follows the rules of `POST /v1/me/sessions`; one bad item does not reject the others.
#[utoipa::path(
    tag = "sessions", security(("bearer_auth" = [])), request_body = BatchRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes the POST safe to retry: the first response is replayed for 24 hours", min_length = 1, max_length = 255, pattern = "^[!-~]{1,255}$")),
    responses(
        (status = 200, description = "One result per item.", body = BatchResponse),
        (status = 401, description = "No valid access token.", body = Problem, content_type = PROBLEMS),
    ),
)]
#[post("/me/sessions/batch")]
pub async fn batch_sessions(
    req: HttpRequest,
    user: AuthUser,
    pool: web::Data<DbPool>,
    catalogue: web::Data<Catalogue>,
    body: Json<BatchRequest>,
) -> Result<HttpResponse, ApiError> {
    user.require(Scope::SessionsWrite)?;
    let body = body.into_inner();
    let owner = user_owner(&user);
    idempotent(&req, &pool, owner.key_scope(), &body, || {
        batch(&pool, &catalogue, owner, body.clone())
    })
    .await
}

/// Log many sessions for a user (partner). As `POST /v1/me/sessions/batch`; needs `sessions:write`.
#[utoipa::path(
    tag = "partners", security(("partner_oauth" = ["sessions:write"])), request_body = BatchRequest,
    params(("user_id" = String, Path, description = "The user's id", max_length = 100), ("Idempotency-Key" = Option<String>, Header, description = "Makes the POST safe to retry: the first response is replayed for 24 hours", min_length = 1, max_length = 255, pattern = "^[!-~]{1,255}$")),
    responses(
        (status = 200, description = "One result per item.", body = BatchResponse),
        (status = 401, description = "No valid access token.", body = Problem, content_type = PROBLEMS),
        (status = 403, description = "No active grant, or a missing scope.", body = Problem, content_type = PROBLEMS),
    ),
)]
#[post("/users/{user_id}/sessions/batch")]
pub async fn partner_batch_sessions(
    req: HttpRequest,
    partner: PartnerCaller,
    pool: web::Data<DbPool>,
    catalogue: web::Data<Catalogue>,
    user_id: web::Path<String>,
    body: Json<BatchRequest>,
) -> Result<HttpResponse, ApiError> {
    let owner = partner_owner(&partner, &pool, user_id.into_inner(), Scope::SessionsWrite).await?;
    let key_owner = owner.key_scope();
    let body = body.into_inner();
    idempotent(&req, &pool, key_owner, &body, || {
        batch(&pool, &catalogue, owner, body.clone())
    })
    .await
}

/// Your change feed.
///
/// Every session created, changed or deleted after `since`, in commit order, with a new cursor.
/// Start without `since`, then always pass the last `next`: no change is ever skipped.
#[utoipa::path(
    tag = "sessions", security(("bearer_auth" = [])), params(ChangesQuery),
    responses(
        (status = 200, description = "Changes.", body = ChangePage),
        (status = 410, description = "The cursor is older than the tombstone retention window: resync in full.", body = Problem, content_type = PROBLEMS),
        (status = 401, description = "No valid access token.", body = Problem, content_type = PROBLEMS),
    ),
)]
#[get("/me/changes")]
pub async fn my_changes(
    user: AuthUser,
    pool: web::Data<DbPool>,
    q: Query<ChangesQuery>,
) -> Result<HttpResponse, ApiError> {
    user.require(Scope::SessionsRead)?;
    changes(&pool, user_owner(&user), q.into_inner()).await
}

/// Log a session for a user (partner).
///
/// As `POST /v1/me/sessions`, and partners may upsert by `external_id`: a higher
/// `external_version` replaces the stored session (`Sync-Result: replaced`), a lower or equal one
/// is ignored (`Sync-Result: ignored`, the stored session is returned). Needs `sessions:write`.
#[utoipa::path(
    tag = "partners", security(("partner_oauth" = ["sessions:write"])), request_body = SessionInput,
    params(("user_id" = String, Path, description = "The user's id", max_length = 100), ("Idempotency-Key" = Option<String>, Header, description = "Makes the POST safe to retry: the first response is replayed for 24 hours", min_length = 1, max_length = 255, pattern = "^[!-~]{1,255}$")),
    responses(
        (status = 201, description = "Created.", body = Session, headers(("Sync-Result" = String))),
        (status = 200, description = "Unchanged, replaced or ignored (see `Sync-Result`).", body = Session),
        (status = 401, description = "No valid access token.", body = Problem, content_type = PROBLEMS),
        (status = 403, description = "No active grant, or a missing scope.", body = Problem, content_type = PROBLEMS),
        (status = 409, description = "The id belongs to a different session.", body = Problem, content_type = PROBLEMS),
    ),
)]
#[post("/users/{user_id}/sessions")]
pub async fn partner_create_session(
    req: HttpRequest,
    partner: PartnerCaller,
    pool: web::Data<DbPool>,
    catalogue: web::Data<Catalogue>,
    user_id: web::Path<String>,
    body: Json<SessionInput>,
) -> Result<HttpResponse, ApiError> {
    let owner = partner_owner(&partner, &pool, user_id.into_inner(), Scope::SessionsWrite).await?;
    let prefix = format!("/v1/users/{}/sessions", owner.user_id);
    let key_owner = owner.key_scope();
    let input = body.into_inner();
    idempotent(&req, &pool, key_owner, &input, || {
        create(&pool, &catalogue, owner, input.clone(), prefix)
    })
    .await
}

/// A user's sessions (partner). Needs `sessions:read`.
#[utoipa::path(
    tag = "partners", security(("partner_oauth" = ["sessions:read"])),
    params(("user_id" = String, Path, description = "The user's id", max_length = 100), SessionListQuery),
    responses(
        (status = 200, description = "A page of sessions.", body = SessionPage),
        (status = 401, description = "No valid access token.", body = Problem, content_type = PROBLEMS),
        (status = 403, description = "No active grant, or a missing scope.", body = Problem, content_type = PROBLEMS),
    ),
)]
#[get("/users/{user_id}/sessions")]
pub async fn partner_list_sessions(
    req: HttpRequest,
    partner: PartnerCaller,
    pool: web::Data<DbPool>,
    user_id: web::Path<String>,
    q: Query<SessionListQuery>,
) -> Result<HttpResponse, ApiError> {
    let owner = partner_owner(&partner, &pool, user_id.into_inner(), Scope::SessionsRead).await?;
    list(&req, &pool, owner, q.into_inner()).await
}

/// A user's change feed (partner). Needs `sessions:read`.
#[utoipa::path(
    tag = "partners", security(("partner_oauth" = ["sessions:read"])),
    params(("user_id" = String, Path, description = "The user's id", max_length = 100), ChangesQuery),
    responses(
        (status = 200, description = "Changes.", body = ChangePage),
        (status = 410, description = "The cursor is older than the tombstone retention window: resync in full.", body = Problem, content_type = PROBLEMS),
        (status = 401, description = "No valid access token.", body = Problem, content_type = PROBLEMS),
        (status = 403, description = "No active grant, or a missing scope.", body = Problem, content_type = PROBLEMS),
    ),
)]
#[get("/users/{user_id}/changes")]
pub async fn partner_changes(
    partner: PartnerCaller,
    pool: web::Data<DbPool>,
    user_id: web::Path<String>,
    q: Query<ChangesQuery>,
) -> Result<HttpResponse, ApiError> {
    let owner = partner_owner(&partner, &pool, user_id.into_inner(), Scope::SessionsRead).await?;
    changes(&pool, owner, q.into_inner()).await
}

#[derive(Debug, Deserialize, Validate, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct StatsQuery {
    /// Start of the period (RFC 3339); default 12 weeks before `to`.
    pub from: Option<DateTime<FixedOffset>>,
    /// End of the period (RFC 3339, exclusive); default now.
    pub to: Option<DateTime<FixedOffset>>,
}

/// Your progress.
///
/// Per ISO week: sessions, minutes, sessions logged against your latest programme versus the
/// sessions it plans (adherence), mean pain during and the next morning. Per exercise: sets,
/// reps, time under load, and left/right asymmetry (flagged above 10%). At most 366 days.
#[utoipa::path(
    tag = "sessions", security(("bearer_auth" = [])), params(StatsQuery),
    responses(
        (status = 200, description = "Statistics.", body = crate::sessions::stats::Stats),
        (status = 401, description = "No valid access token.", body = Problem, content_type = PROBLEMS),
    ),
)]
#[get("/me/stats")]
pub async fn my_stats(
    user: AuthUser,
    pool: web::Data<DbPool>,
    q: Query<StatsQuery>,
) -> Result<HttpResponse, ApiError> {
    use crate::sessions::stats::{self, Logged};
    user.require(Scope::SessionsRead)?;
    let to = q.to.map_or_else(db::now, |t| t.with_timezone(&Utc).naive_utc());
    let from = q.from.map_or(to - chrono::Duration::weeks(12), |t| {
        t.with_timezone(&Utc).naive_utc()
    });
    if from >= to || to - from > chrono::Duration::days(366) {
        return Err(ApiError::invalid_field(
            "from",
            "range",
            "must be before `to` and at most 366 days earlier",
        ));
    }
    let user_id = user.id.clone();
    let (rows, latest) = db::run(&pool, move |conn| -> Result<_, ApiError> {
        let rows = repo::in_range(conn, &user_id, from, to, 20_000)?;
        let latest = crate::repository::programmes::list(conn, &user_id, 1)?
            .into_iter()
            .next();
        Ok((rows, latest))
    })
    .await?;
    let programme = latest.map(|p| {
        let doc: serde_json::Value = serde_json::from_str(&p.document).unwrap_or_default();
        let planned = doc
            .get("sessions_per_week")
            .and_then(serde_json::Value::as_u64)
            .unwrap_or(0);
        (p.id, u32::try_from(planned).unwrap_or(0))
    });
    let logged: Vec<Logged> = rows
        .into_iter()
        .map(|r| -> Result<Logged, ApiError> {
            Ok(Logged {
                started_at: r.started_at,
                duration_seconds: r.duration_seconds,
                programme_id: r.programme_id,
                content: crate::error::read_json(&r.content)?,
            })
        })
        .collect::<Result<_, _>>()?;
    let body = stats::compute(&logged, programme.as_ref().map(|(id, n)| (id.as_str(), *n)));
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "private, no-cache"))
        .json(body))
}
