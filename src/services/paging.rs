//! Keyset pages, newest first: a cursor names the (time, id) of the last item of a page and
//! the next page starts after it, so writes between two calls never shift or repeat an item.
//! Sessions page by start time, programmes by creation time.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, NaiveDateTime};

use crate::error::ApiError;
use crate::validation::FieldError;

/// A page of items and the cursor of the next one (`None` on the last page).
#[derive(Debug)]
pub struct Listing<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

/// The most items a page holds, whatever `limit` asks.
pub const MAX_LIMIT: u32 = 100;

/// Where a page starts: after the position in `cursor` (none or empty: from the newest).
pub fn after(cursor: Option<&str>) -> Result<Option<(NaiveDateTime, String)>, ApiError> {
    cursor.filter(|c| !c.is_empty()).map(decode).transpose()
}

/// The page of `rows` (loaded with `limit + 1`, newest first): at most `limit` items, and a
/// cursor after the last when there were more.
pub fn page<R, T>(
    mut rows: Vec<R>,
    limit: usize,
    key: impl Fn(&R) -> (NaiveDateTime, &str),
    item: impl FnMut(R) -> Result<T, ApiError>,
) -> Result<Listing<T>, ApiError> {
    let more = rows.len() > limit;
    rows.truncate(limit);
    let next_cursor = rows.last().filter(|_| more).map(|r| {
        let (at, id) = key(r);
        URL_SAFE_NO_PAD.encode(format!("{}|{id}", at.and_utc().timestamp_micros()))
    });
    Ok(Listing {
        items: rows.into_iter().map(item).collect::<Result<_, _>>()?,
        next_cursor,
    })
}

/// A 400 naming the query parameter `param`, for a cursor this API did not issue.
pub fn bad_cursor(param: &str) -> ApiError {
    ApiError::BadRequest {
        detail: format!("The `{param}` cursor is not one this API issued. Start again without it."),
        errors: vec![FieldError::new(
            param,
            "invalid",
            "is not a cursor this API issued",
        )],
    }
}

/// A page of a change feed (a user's sessions, a partner's events): the changes after the
/// cursor in commit order, the cursor to pass next, and whether more are waiting.
#[derive(Debug)]
pub struct FeedPage<T> {
    pub changes: Vec<T>,
    pub next: String,
    pub has_more: bool,
}

/// A change-feed cursor: the last position read, and the purge horizon when the read started.
/// A cursor is stale (410) only if what it has not seen was purged since it was issued.
pub fn feed_cursor(seq: i64, horizon: i64) -> String {
    URL_SAFE_NO_PAD.encode(format!("s{seq}h{horizon}"))
}

/// The (position, horizon) of a [`feed_cursor`]; a 400 naming `param` otherwise.
pub fn parse_feed_cursor(param: &str, cursor: &str) -> Result<(i64, i64), ApiError> {
    URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|t| {
            let (seq, horizon) = t.strip_prefix('s')?.split_once('h')?;
            Some((seq.parse::<i64>().ok()?, horizon.parse::<i64>().ok()?))
        })
        .filter(|(seq, horizon)| *seq >= 0 && *horizon >= 0)
        .ok_or_else(|| bad_cursor(param))
}

/// The 410 for a feed cursor older than what was purged since it was issued.
pub fn stale_feed_cursor() -> ApiError {
    ApiError::Gone(
        "This cursor is older than the retention window: deletions since then may be missing. \
         Resync in full (call without `since`) and continue from the new cursor."
            .into(),
    )
}

fn decode(cursor: &str) -> Result<(NaiveDateTime, String), ApiError> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_names_the_last_item_and_reads_back() -> Result<(), ApiError> {
        let at = |s: i64| {
            DateTime::from_timestamp(s, 0)
                .map(|t| t.naive_utc())
                .unwrap_or_default()
        };
        let rows = vec![(at(30), "c"), (at(20), "b"), (at(10), "a")];
        let first = page(rows.clone(), 2, |r| (r.0, r.1), |r| Ok(r.1))?;
        assert_eq!(first.items, ["c", "b"]);
        let next = after(first.next_cursor.as_deref())?;
        assert_eq!(next, Some((at(20), "b".to_owned())));
        let last = page(rows, 3, |r| (r.0, r.1), |r| Ok(r.1))?;
        assert_eq!(last.next_cursor, None);
        assert!(after(Some("not-ours!")).is_err());
        assert_eq!(after(Some(""))?, None);
        Ok(())
    }
}
