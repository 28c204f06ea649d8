//! Workout sessions over HTTP. The user's routes (`/v1/me/…`) and the partner's
//! (`/v1/users/{user_id}/…`) are one handler each (`user_and_partner!`); the sync rules and
//! transactions are in `services::sessions`.
//!
//! Sync rules: a client-chosen `id` makes `POST` idempotent (same content → 200 with the
//! stored session, different content → 409). Partners may instead send `external_id` with
//! `external_version`: a higher version replaces, a lower or equal one is ignored (200,
//! `Sync-Result: ignored`). `PUT`, `PATCH` and `DELETE` honour `If-Match` (412 on a stale tag).
//! Deletion leaves a tombstone that the change feed reports. The change feed is ordered by a
//! server sequence assigned in commit order, so a reader that follows it never misses a change.

use std::sync::Arc;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, put, web};
use chrono::{DateTime, FixedOffset, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use crate::auth::{Acting, need};
use crate::db::{self, DbPool};
use crate::domain::catalogue::Catalogue;
use crate::domain::sessions::SessionInput;
use crate::error::{ApiError, PROBLEM_JSON as PROBLEMS, Problem};
use crate::http::conditional::{cached_json, etag};
use crate::http::idempotency::idempotent;
use crate::http::{Id, Json, Query};
use crate::limits::Limiter;
use crate::services::Subject;
use crate::services::sessions::feed::{self, ListFilter};
use crate::services::sessions::{self, Session, SyncResult, Written};

/// The strong ETag of a session version.
fn tag(session: &Session) -> String {
    etag(&[&session.id, &session.version.to_string()])
}

/// The `If-Match` precondition of this request (strong comparison): passes when absent, `*`,
/// or listing the session's current tag; otherwise 412.
fn if_match(req: &HttpRequest) -> impl FnOnce(&Session) -> Result<(), ApiError> + Send + 'static {
    let given = req
        .headers()
        .get(header::IF_MATCH)
        .map(|v| v.to_str().unwrap_or("").to_owned());
    move |current| match given {
        Some(value) if value.trim() != "*" && !value.split(',').any(|t| t.trim() == tag(current)) => {
            Err(ApiError::PreconditionFailed(
                "The session changed since you read it (If-Match does not match its ETag). Read it again."
                    .into(),
            ))
        }
        _ => Ok(()),
    }
}

async fn create(
    pool: &DbPool,
    writer: &sessions::Writer,
    catalogue: &Arc<Catalogue>,
    limits: &Limiter,
    subject: Subject,
    input: SessionInput,
) -> Result<HttpResponse, ApiError> {
    let location = subject.collection("sessions");
    let Written { result, session } =
        sessions::create(pool, writer, catalogue, limits, subject, input).await?;
    let mut builder = if result == SyncResult::Created {
        HttpResponse::Created()
    } else {
        HttpResponse::Ok()
    };
    builder
        .insert_header((header::ETAG, tag(&session)))
        .insert_header(("Sync-Result", result.as_str()));
    if result == SyncResult::Created {
        builder.insert_header((header::LOCATION, format!("{location}/{}", session.id)));
    }
    Ok(builder.json(session))
}

user_and_partner! {
    /// Log a session.
    ///
    /// With a client-chosen `id` the call is idempotent: the same id and content returns the stored
    /// session (200, `Sync-Result: unchanged`); the same id with different content is 409. Without
    /// an id the server assigns one (201).
    #[user(post, "/me/sessions", tag = "sessions")]
    /// Log a session for a user (partner).
    ///
    /// As `POST /v1/me/sessions`, and partners may upsert by `external_id`: a higher
    /// `external_version` replaces the stored session (`Sync-Result: replaced`), a lower or equal one
    /// is ignored (`Sync-Result: ignored`, the stored session is returned). Needs `sessions:write`.
    #[partner(partner_create_session, "/users/{user_id}/sessions", "sessions:write")]
    #[openapi(
        params(("Idempotency-Key" = Option<String>, Header, description = "Makes the POST safe to retry: the first response is replayed for 24 hours", min_length = 1, max_length = 255, pattern = "^[!-~]{1,255}$")),
        request_body = SessionInput,
        responses(
            (status = 201, description = "Created (`Sync-Result: created`).", body = Session, headers(("ETag" = String), ("Location" = String), ("Sync-Result" = String))),
            (status = 200, description = "Already stored with the same content (`Sync-Result: unchanged`); for partners also `replaced` or `ignored` by `external_version`.", body = Session, headers(("ETag" = String), ("Sync-Result" = String))),
            (status = 409, description = "The id belongs to a different session.", body = Problem, content_type = PROBLEMS),
            (status = 429, description = "A rate limit, or the account created `SOLEUS_MAX_SESSIONS_PER_DAY` sessions today (`quota-exceeded`); see `Retry-After`.",
             body = Problem, content_type = PROBLEMS, headers(("Retry-After" = u64))),
        ),
    )]
    pub async fn create_session(
        req: HttpRequest,
        acting: Acting<need::SessionsWrite>,
        pool: web::Data<DbPool>,
        writer: web::Data<sessions::Writer>,
        catalogue: web::Data<Catalogue>,
        limits: web::Data<Limiter>,
        body: Json<SessionInput>,
    ) -> Result<HttpResponse, ApiError> {
        let (subject, input, catalogue) = (acting.authorize(&pool).await?, body.into_inner(), catalogue.into_inner());
        idempotent(&req, &pool, subject.key_scope(), &input, || {
            create(&pool, &writer, &catalogue, &limits, subject, input.clone())
        })
        .await
    }
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

impl From<Result<sessions::Stored, ApiError>> for BatchResult {
    fn from(item: Result<sessions::Stored, ApiError>) -> Self {
        use actix_web::ResponseError as _;
        match item {
            Ok(stored) => Self {
                status: if stored.result == SyncResult::Created {
                    201
                } else {
                    200
                },
                result: Some(stored.result),
                id: Some(stored.id),
                version: Some(stored.version),
                problem: None,
            },
            Err(e) => Self {
                status: e.status_code().as_u16(),
                result: None,
                id: None,
                version: None,
                problem: Some(e.problem()),
            },
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BatchResponse {
    pub results: Vec<BatchResult>,
}

async fn batch(
    pool: &DbPool,
    catalogue: &Arc<Catalogue>,
    limits: &Limiter,
    subject: Subject,
    body: BatchRequest,
) -> Result<HttpResponse, ApiError> {
    let items = body
        .sessions
        .into_iter()
        .map(crate::http::extract::from_value::<SessionInput>)
        .collect();
    let results = sessions::batch(pool, catalogue, limits, subject, items).await?;
    Ok(HttpResponse::Ok().json(BatchResponse {
        results: results.into_iter().map(BatchResult::from).collect(),
    }))
}

user_and_partner! {
    /// Log many sessions.
    ///
    /// The sync path for apps and partners: up to 500 sessions, answered with one result per item
    /// in the same order (`created`, `unchanged`, `replaced`, `ignored`, or a problem). Each item
    /// follows the rules of `POST /v1/me/sessions`; one bad item does not reject the others.
    #[user(post, "/me/sessions/batch", tag = "sessions")]
    /// Log many sessions for a user (partner). As `POST /v1/me/sessions/batch`; needs `sessions:write`.
    #[partner(partner_batch_sessions, "/users/{user_id}/sessions/batch", "sessions:write")]
    #[openapi(
        params(("Idempotency-Key" = Option<String>, Header, description = "Makes the POST safe to retry: the first response is replayed for 24 hours", min_length = 1, max_length = 255, pattern = "^[!-~]{1,255}$")),
        request_body = BatchRequest,
        responses(
            (status = 200, description = "One result per item.", body = BatchResponse),
            (status = 429, description = "A rate limit, or the account created `SOLEUS_MAX_SESSIONS_PER_DAY` sessions today (`quota-exceeded`); a batch begun with room left is stored whole. See `Retry-After`.",
             body = Problem, content_type = PROBLEMS, headers(("Retry-After" = u64))),
        ),
    )]
    pub async fn batch_sessions(
        req: HttpRequest,
        acting: Acting<need::SessionsWrite>,
        pool: web::Data<DbPool>,
        catalogue: web::Data<Catalogue>,
        limits: web::Data<Limiter>,
        body: Json<BatchRequest>,
    ) -> Result<HttpResponse, ApiError> {
        let (subject, body, catalogue) = (acting.authorize(&pool).await?, body.into_inner(), catalogue.into_inner());
        idempotent(&req, &pool, subject.key_scope(), &body, || {
            batch(&pool, &catalogue, &limits, subject, body.clone())
        })
        .await
    }
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

fn utc(t: DateTime<FixedOffset>) -> chrono::NaiveDateTime {
    t.with_timezone(&Utc).naive_utc()
}

user_and_partner! {
    /// Your sessions.
    ///
    /// Newest first; filter by start time and programme; page with `cursor` (or `Link: rel="next"`).
    #[user(get, "/me/sessions", tag = "sessions")]
    /// A user's sessions (partner). Needs `sessions:read`.
    #[partner(partner_list_sessions, "/users/{user_id}/sessions", "sessions:read")]
    #[openapi(
        params(SessionListQuery),
        responses((status = 200, description = "A page of sessions.", body = SessionPage, headers(("Link" = String)))),
    )]
    pub async fn list_sessions(
        req: HttpRequest,
        acting: Acting<need::SessionsRead>,
        pool: web::Data<DbPool>,
        q: Query<SessionListQuery>,
    ) -> Result<HttpResponse, ApiError> {
        let q = q.into_inner();
        let filter = ListFilter {
            from: q.from.map(utc),
            to: q.to.map(utc),
            programme_id: q.programme_id,
        };
        let page = feed::list(&pool, acting.authorize(&pool).await?, filter, q.cursor.as_deref(), q.limit.unwrap_or(20)).await?;
        let mut builder = HttpResponse::Ok();
        builder.insert_header((header::CACHE_CONTROL, "private, no-cache"));
        if let Some(cursor) = &page.next_cursor {
            builder.insert_header((header::LINK, crate::http::next_link(&req, cursor)));
        }
        Ok(builder.json(SessionPage {
            items: page.items,
            next_cursor: page.next_cursor,
        }))
    }
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

user_and_partner! {
    /// Your change feed.
    ///
    /// Every session created, changed or deleted after `since`, in commit order, with a new cursor.
    /// Start without `since`, then always pass the last `next`: no change is ever skipped.
    #[user(get, "/me/changes", tag = "sessions")]
    /// A user's change feed (partner). Needs `sessions:read`.
    #[partner(partner_changes, "/users/{user_id}/changes", "sessions:read")]
    #[openapi(
        params(ChangesQuery),
        responses(
            (status = 200, description = "Changes.", body = ChangePage),
            (status = 410, description = "The cursor is older than the tombstone retention window: resync in full.", body = Problem, content_type = PROBLEMS),
        ),
    )]
    pub async fn my_changes(
        acting: Acting<need::SessionsRead>,
        pool: web::Data<DbPool>,
        q: Query<ChangesQuery>,
    ) -> Result<HttpResponse, ApiError> {
        let q = q.into_inner();
        let page = feed::changes(&pool, acting.authorize(&pool).await?, q.since.as_deref(), q.limit.unwrap_or(100)).await?;
        Ok(HttpResponse::Ok()
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .json(ChangePage {
                changes: page.changes,
                next: page.next,
                has_more: page.has_more,
            }))
    }
}

user_and_partner! {
    /// One of your sessions.
    ///
    /// With `ETag`: send it as `If-Match` on PUT, PATCH or DELETE so a change made elsewhere is
    /// not overwritten (412). A deleted session is a 404 here and a tombstone in the change feed.
    #[user(get, "/me/sessions/{id}", tag = "sessions")]
    /// One of a user's sessions (partner). Needs `sessions:read`.
    #[partner(partner_get_session, "/users/{user_id}/sessions/{id}", "sessions:read")]
    #[openapi(
        params(("id" = String, Path, description = "Session id", max_length = 100)),
        responses(
        (status = 200, description = "The session.", body = Session, headers(("ETag" = String))),
        (status = 304, description = "Not modified."),
        (status = 404, description = "Not yours, deleted, or no such session.", body = Problem, content_type = PROBLEMS),
    ),
    )]
    pub async fn get_session(
        req: HttpRequest,
        acting: Acting<need::SessionsRead>,
        pool: web::Data<DbPool>,
        id: Id,
    ) -> Result<HttpResponse, ApiError> {
        let session = sessions::get(&pool, acting.authorize(&pool).await?, id.into_inner()).await?;
        Ok(cached_json(
            &req,
            &tag(&session),
            "private, no-cache",
            &[],
            &session,
        ))
    }
}

/// What PUT and PATCH answer.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)]
enum Rewritten {
    #[response(status = 200, description = "The new version.", headers(("ETag" = String)))]
    Ok(Session),
    #[response(
        status = 404,
        description = "No such session of yours.",
        content_type = "application/problem+json"
    )]
    NotFound(Problem),
    #[response(
        status = 409,
        description = "The change collides with another stored session.",
        content_type = "application/problem+json"
    )]
    Conflict(Problem),
    #[response(
        status = 412,
        description = "`If-Match` does not match.",
        content_type = "application/problem+json"
    )]
    PreconditionFailed(Problem),
}

fn written(session: &Session) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::ETAG, tag(session)))
        .json(session)
}

user_and_partner! {
    /// Replace one of your sessions.
    ///
    /// Send `If-Match` with the ETag you read to avoid overwriting someone else's change (412).
    #[user(put, "/me/sessions/{id}", tag = "sessions")]
    /// Replace one of a user's sessions (partner). As `PUT /v1/me/sessions/{id}`; needs `sessions:write`.
    #[partner(partner_put_session, "/users/{user_id}/sessions/{id}", "sessions:write")]
    #[openapi(
        params(("id" = String, Path, description = "Session id", max_length = 100), ("If-Match" = Option<String>, Header, description = "The ETag you read")),
        request_body = SessionInput,
        responses(Rewritten),
    )]
    pub async fn put_session(
        req: HttpRequest,
        acting: Acting<need::SessionsWrite>,
        pool: web::Data<DbPool>,
        catalogue: web::Data<Catalogue>,
        id: Id,
        body: Json<SessionInput>,
    ) -> Result<HttpResponse, ApiError> {
        let input = body.into_inner();
        let (subject, id) = (acting.authorize(&pool).await?, id.into_inner());
        let session = sessions::write(
            &pool,
            &catalogue.into_inner(),
            subject,
            id,
            if_match(&req),
            move |_| Ok(input),
        )
        .await?;
        Ok(written(&session))
    }
}

/// A JSON merge patch (RFC 7396) of a session's writable fields.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(value_type = SessionMergePatch, example = json!({"pain_next_morning": 2, "notes": null}))]
pub struct SessionPatch(pub serde_json::Value);

/// The fields a session merge patch may carry (RFC 7396): each is optional; a field left out
/// is unchanged, `null` removes an optional one. The merged session must still be a valid
/// `SessionInput` (422 naming the field otherwise). Documentation only: the body is merged as
/// JSON, then read as `SessionInput`.
#[derive(ToSchema)]
#[allow(dead_code)]
struct SessionMergePatch {
    #[schema(nullable)]
    programme_id: Option<String>,
    #[schema(nullable, minimum = 1, maximum = 52)]
    programme_week: Option<u16>,
    #[schema(nullable, minimum = 1, maximum = 21)]
    programme_session: Option<u16>,
    started_at: Option<DateTime<FixedOffset>>,
    #[schema(maximum = 86_400)]
    duration_seconds: Option<u32>,
    #[schema(nullable, maximum = 10)]
    rpe: Option<u8>,
    #[schema(nullable, maximum = 10)]
    pain_during: Option<u8>,
    #[schema(nullable, maximum = 10)]
    pain_next_morning: Option<u8>,
    #[schema(nullable, max_length = 2000)]
    notes: Option<String>,
    /// Replaces the list (merge patches replace arrays whole).
    #[schema(max_items = 8)]
    symptoms: Option<Vec<crate::domain::sessions::Symptom>>,
    /// Replaces the list.
    #[schema(max_items = 200)]
    sets: Option<Vec<crate::domain::sessions::SessionSet>>,
}

impl Validate for SessionPatch {
    fn validate(&self) -> Result<(), validator::ValidationErrors> {
        Ok(())
    }
}

/// RFC 7396: objects merge key by key, `null` removes, anything else replaces.
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

user_and_partner! {
    /// Update part of one of your sessions.
    ///
    /// A JSON merge patch (RFC 7396) of the writable fields, e.g. adding `pain_next_morning` the
    /// day after. Honours `If-Match` like PUT.
    #[user(patch, "/me/sessions/{id}", tag = "sessions")]
    /// Update part of one of a user's sessions (partner). As `PATCH /v1/me/sessions/{id}`; needs `sessions:write`.
    #[partner(partner_patch_session, "/users/{user_id}/sessions/{id}", "sessions:write")]
    #[openapi(
        params(("id" = String, Path, description = "Session id", max_length = 100), ("If-Match" = Option<String>, Header, description = "The ETag you read")),
        request_body(content = SessionPatch, content_type = "application/merge-patch+json"),
        responses(Rewritten),
    )]
    pub async fn patch_session(
        req: HttpRequest,
        acting: Acting<need::SessionsWrite>,
        pool: web::Data<DbPool>,
        catalogue: web::Data<Catalogue>,
        id: Id,
        body: Json<SessionPatch>,
    ) -> Result<HttpResponse, ApiError> {
        let patch = body.into_inner().0;
        if !patch.is_object() {
            return Err(ApiError::invalid_field(
                "body",
                "invalid_type",
                "must be a JSON object",
            ));
        }
        let apply = move |current: &Session| {
            let mut merged = current.to_input();
            merge(&mut merged, &patch);
            crate::http::extract::from_value(merged)
        };
        let (subject, id) = (acting.authorize(&pool).await?, id.into_inner());
        let session = sessions::write(&pool, &catalogue.into_inner(), subject, id, if_match(&req), apply).await?;
        Ok(written(&session))
    }
}

user_and_partner! {
    /// Delete one of your sessions.
    ///
    /// Leaves a tombstone for sync (the change feed reports it). Deleting again is still a 204.
    #[user(delete, "/me/sessions/{id}", tag = "sessions")]
    /// Delete one of a user's sessions (partner). Leaves a tombstone, as `DELETE /v1/me/sessions/{id}`; needs `sessions:write`.
    #[partner(partner_delete_session, "/users/{user_id}/sessions/{id}", "sessions:write")]
    #[openapi(
        params(("id" = String, Path, description = "Session id", max_length = 100), ("If-Match" = Option<String>, Header, description = "The ETag you read")),
        responses(
        (status = 204, description = "Deleted."),
        (status = 404, description = "No such session of yours.", body = Problem, content_type = PROBLEMS),
        (status = 412, description = "`If-Match` does not match.", body = Problem, content_type = PROBLEMS),
    ),
    )]
    pub async fn delete_session(
        req: HttpRequest,
        acting: Acting<need::SessionsWrite>,
        pool: web::Data<DbPool>,
        id: Id,
    ) -> Result<HttpResponse, ApiError> {
        sessions::remove(
            &pool,
            acting.authorize(&pool).await?,
            id.into_inner(),
            if_match(&req),
        )
        .await?;
        Ok(HttpResponse::NoContent().finish())
    }
}

user_and_partner! {
    /// Sessions as FHIR.
    ///
    /// The sessions started in `[from, to)` as a FHIR R4 `Bundle` (`application/fhir+json`) of
    /// HL7 Physical Activity IG Observations: per session a `pa-observation-activity-group` with
    /// its sets, effort and pain as components, and its `pa-observation-activity-measure`s
    /// (LOINC 73985-4 exercise activity, 55411-3 exercise duration); per ISO week a
    /// `pa-observation-strength-days-per-week` (LOINC 82291-6). At most 366 days and 1,000
    /// sessions per request.
    #[user(get, "/me/sessions.fhir", tag = "sessions")]
    /// A user's sessions as FHIR (partner). As `GET /v1/me/sessions.fhir`; needs `sessions:read`.
    #[partner(partner_sessions_fhir, "/users/{user_id}/sessions.fhir", "sessions:read")]
    #[openapi(
        params(StatsQuery),
        responses((status = 200, description = "A FHIR R4 Bundle (type collection).", body = Object, content_type = "application/fhir+json")),
    )]
    pub async fn my_sessions_fhir(
        acting: Acting<need::SessionsRead>,
        pool: web::Data<DbPool>,
        catalogue: web::Data<Catalogue>,
        q: Query<StatsQuery>,
    ) -> Result<HttpResponse, ApiError> {
        let to = q.to.map_or_else(db::now, utc);
        let from = q.from.map_or(to - chrono::Duration::weeks(12), utc);
        let subject = acting.authorize(&pool).await?;
        let body = crate::services::exports::sessions(&pool, &catalogue, subject, from, to).await?;
        Ok(crate::http::fhir_response(&body))
    }
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

user_and_partner! {
    /// Your progress.
    ///
    /// Per ISO week: sessions, minutes, sessions logged against your latest programme versus the
    /// sessions it plans (adherence), mean pain during and the next morning. Per exercise: sets,
    /// reps, time under load, and left/right asymmetry (flagged above 10%). At most 366 days.
    #[user(get, "/me/stats", tag = "sessions")]
    /// A user's progress (partner). As `GET /v1/me/stats`; needs `sessions:read`.
    #[partner(partner_stats, "/users/{user_id}/stats", "sessions:read")]
    #[openapi(
        params(StatsQuery),
        responses((status = 200, description = "Statistics.", body = crate::domain::sessions::stats::Stats)),
    )]
    pub async fn my_stats(
        acting: Acting<need::SessionsRead>,
        pool: web::Data<DbPool>,
        q: Query<StatsQuery>,
    ) -> Result<HttpResponse, ApiError> {
        let to = q.to.map_or_else(db::now, utc);
        let from = q.from.map_or(to - chrono::Duration::weeks(12), utc);
        let body = sessions::stats::period(&pool, acting.authorize(&pool).await?, from, to).await?;
        Ok(HttpResponse::Ok()
            .insert_header((header::CACHE_CONTROL, "private, no-cache"))
            .json(body))
    }
}
