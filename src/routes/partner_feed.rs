//! A partner's view across its users: one change feed (`/v1/partner/changes`) and the users
//! who grant it access (`/v1/partner/users`).

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, web};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use crate::auth::PartnerCaller;
use crate::db::DbPool;
use crate::error::{ApiError, PROBLEM_JSON as PROBLEMS, Problem};
use crate::http::extract::parse_list;
use crate::http::{PageQuery, Query};
use crate::services::events::{self, Event, EventType};
use crate::services::partners::{self, ConnectedUser};

#[derive(Debug, Deserialize, Validate, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PartnerChangesQuery {
    /// The `next` cursor of the previous call; omit to start from the beginning.
    #[validate(length(max = 100))]
    #[param(max_length = 100, pattern = "^[A-Za-z0-9_-]*$")]
    pub since: Option<String>,
    /// 1–500, default 100.
    #[validate(range(min = 1, max = 500))]
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
    /// Only these event types. Repeat the parameter or give a comma-separated list.
    #[param(value_type = Option<Vec<EventType>>, style = Form, explode = true, min_items = 1, example = json!(["session.created", "session.deleted"]))]
    pub types: Option<String>,
}

/// A page of a partner's feed.
#[derive(Debug, Serialize, ToSchema)]
pub struct PartnerChangePage {
    /// Events after `since`, in commit order, of every user who grants you the event's read
    /// scope (deleted sessions as tombstones), and grant events.
    pub changes: Vec<Event>,
    /// Pass as `since` next time (also when `has_more` is false, to get later events).
    pub next: String,
    pub has_more: bool,
}

/// Your change feed across users.
///
/// Every event of every user who grants your platform access (sessions created, changed and
/// deleted, programme versions, assessments) and your grants created and revoked, in commit
/// order, with a new cursor. The same envelopes webhooks deliver. Start without `since`, then
/// always pass the last `next`: no change is skipped, even with writers on many replicas. A
/// user's events appear while the user grants the event's scope (`sessions:read` for
/// sessions and assessments, `programmes:read` for programmes); after a new grant, read the
/// user's existing data from `/v1/users/{user_id}/…` once. Events are kept as long as
/// tombstones (`SOLEUS_TOMBSTONE_RETENTION_DAYS`); an older cursor gets 410.
#[utoipa::path(
    tag = "partners",
    security(("partner_oauth" = [])),
    params(PartnerChangesQuery),
    responses(
        (status = 200, description = "Events.", body = PartnerChangePage),
        (status = 400, description = "A parameter is invalid (named in `errors`).", body = Problem, content_type = PROBLEMS),
        (status = 410, description = "The cursor is older than the retention window: resync in full.", body = Problem, content_type = PROBLEMS),
    ),
)]
#[get("/partner/changes")]
pub async fn partner_feed(
    caller: PartnerCaller,
    pool: web::Data<DbPool>,
    q: Query<PartnerChangesQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = q.into_inner();
    let types = q
        .types
        .as_deref()
        .map(|raw| parse_list::<EventType>("types", raw))
        .transpose()?;
    let partner = caller.registered(&pool).await?;
    let page =
        events::partner_changes(&pool, partner, q.since.as_deref(), q.limit.unwrap_or(100), types).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(PartnerChangePage {
            changes: page.changes,
            next: page.next,
            has_more: page.has_more,
        }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ConnectedUserList {
    /// Newest grant first.
    pub items: Vec<ConnectedUser>,
    /// Pass as `cursor` for the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// The users connected to you.
///
/// Every user who grants your platform access now, with the scopes and when they granted
/// them. Their data is under `/v1/users/{user_id}/…`.
#[utoipa::path(
    tag = "partners",
    security(("partner_oauth" = [])),
    params(PageQuery),
    responses((status = 200, description = "A page of connected users.", body = ConnectedUserList, headers(("Link" = String)))),
)]
#[get("/partner/users")]
pub async fn connected_users(
    req: HttpRequest,
    caller: PartnerCaller,
    pool: web::Data<DbPool>,
    q: Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let partner = caller.registered(&pool).await?;
    let page = partners::connected_users(&pool, partner, q.cursor.as_deref(), q.limit.unwrap_or(20)).await?;
    let mut builder = HttpResponse::Ok();
    builder.insert_header((header::CACHE_CONTROL, "no-store"));
    if let Some(cursor) = &page.next_cursor {
        builder.insert_header(("Link", crate::http::next_link(&req, cursor)));
    }
    Ok(builder.json(ConnectedUserList {
        items: page.items,
        next_cursor: page.next_cursor,
    }))
}
