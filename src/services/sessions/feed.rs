//! Reading many sessions: a page of the subject's sessions (newest first, keyset cursor), and
//! the change feed (commit order, tombstones included, 410 once a cursor predates purged
//! tombstones).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::Session;
use crate::db::{self, DbPool};
use crate::error::ApiError;
use crate::repository::sessions as repo;
pub use crate::repository::sessions::ListFilter;
use crate::services::Subject;
use crate::services::paging::{self, Listing};

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

/// A page of the change feed.
#[derive(Debug)]
pub struct Changes {
    pub changes: Vec<Session>,
    pub next: String,
    pub has_more: bool,
}

/// Everything the subject's sessions went through after `since`, in commit order.
pub async fn changes(
    pool: &DbPool,
    subject: Subject,
    since: Option<&str>,
    limit: u32,
) -> Result<Changes, ApiError> {
    let given = since.filter(|c| !c.is_empty()).map(decode_seq).transpose()?;
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
        return Err(ApiError::Gone(
            "This cursor is older than the tombstone retention window: deletions since then may be missing. \
             Resync in full (call without `since`) and continue from the new cursor."
                .into(),
        ));
    }
    let has_more = rows.len() > limit;
    rows.truncate(limit);
    // A read from the start begins after the purge, so it has seen everything still kept.
    let seen = if given.is_some() { seen_horizon } else { horizon };
    let next = encode_seq(rows.last().map_or(since, |r| r.seq), seen);
    Ok(Changes {
        changes: rows
            .into_iter()
            .map(Session::from_row)
            .collect::<Result<_, _>>()?,
        next,
        has_more,
    })
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
        .ok_or_else(|| paging::bad_cursor("since"))
}
