//! Reading many sessions: a page of the subject's sessions (newest first, keyset cursor), and
//! the change feed (commit order, tombstones included, 410 once a cursor predates purged
//! tombstones).

use super::Session;
use crate::db::{self, DbPool};
use crate::error::ApiError;
use crate::repository::sessions as repo;
pub use crate::repository::sessions::ListFilter;
use crate::services::Subject;
use crate::services::paging::{self, FeedPage, Listing};

/// The subject's sessions matching `filter`, newest first, after `cursor`, at most `limit`.
pub async fn list(
    pool: &DbPool,
    subject: Subject,
    filter: ListFilter,
    cursor: Option<&str>,
    limit: u32,
) -> Result<Listing<Session>, ApiError> {
    let after = paging::after(cursor)?;
    let limit = limit.min(paging::MAX_LIMIT) as usize;
    let rows = db::query(pool, move |conn| {
        repo::list(conn, &subject.user_id, &filter, after, limit as i64 + 1)
    })
    .await?;
    paging::page(rows, limit, |r| (r.started_at, &r.id), Session::from_row)
}

/// Everything the subject's sessions went through after `since`, in commit order.
pub async fn changes(
    pool: &DbPool,
    subject: Subject,
    since: Option<&str>,
    limit: u32,
) -> Result<FeedPage<Session>, ApiError> {
    let given = since
        .filter(|c| !c.is_empty())
        .map(|c| paging::parse_feed_cursor("since", c))
        .transpose()?;
    let (since, seen_horizon) = given.unwrap_or((0, 0));
    let limit = limit.min(500) as usize;
    // Rows first, then the horizon: a purge in between raises the horizon this read sees, so
    // a page that may lack purged deletions is answered 410, never returned.
    let (mut rows, horizon) = db::query(pool, move |conn| {
        let rows = repo::changes(conn, &subject.user_id, since, limit as i64 + 1)?;
        Ok((rows, repo::purge_horizon(conn, &subject.user_id)?))
    })
    .await?;
    if given.is_some() && seen_horizon < horizon && since < horizon {
        return Err(paging::stale_feed_cursor());
    }
    let has_more = rows.len() > limit;
    rows.truncate(limit);
    // A read from the start begins after the purge, so it has seen everything still kept.
    let seen = if given.is_some() { seen_horizon } else { horizon };
    let next = paging::feed_cursor(rows.last().map_or(since, |r| r.seq), seen);
    Ok(FeedPage {
        changes: rows
            .into_iter()
            .map(Session::from_row)
            .collect::<Result<_, _>>()?,
        next,
        has_more,
    })
}
