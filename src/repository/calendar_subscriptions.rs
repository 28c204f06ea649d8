//! Programmes' secret calendar URLs, stored as token hashes (one per programme).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::AnyConnection;
use crate::db::schema::{calendar_subscriptions, programmes};

/// Sets the programme's token hash, replacing any earlier one. Two at once serialise on the
/// programme's lock: the later wins, neither fails.
pub fn replace(
    conn: &mut AnyConnection,
    programme_id: &str,
    token_hash: &str,
    now: NaiveDateTime,
) -> QueryResult<()> {
    crate::db::lock_key(conn, &format!("calendar:{programme_id}"))?;
    remove(conn, programme_id)?;
    diesel::insert_into(calendar_subscriptions::table)
        .values((
            calendar_subscriptions::programme_id.eq(programme_id),
            calendar_subscriptions::token_hash.eq(token_hash),
            calendar_subscriptions::created_at.eq(now),
        ))
        .execute(conn)
        .map(drop)
}

/// Removes the programme's subscription; `false` when it had none.
pub fn remove(conn: &mut AnyConnection, programme_id: &str) -> QueryResult<bool> {
    diesel::delete(calendar_subscriptions::table.find(programme_id))
        .execute(conn)
        .map(|n| n > 0)
}

/// The programme (its owner and id) a token hash opens.
pub fn programme_of(conn: &mut AnyConnection, token_hash: &str) -> QueryResult<Option<(String, String)>> {
    calendar_subscriptions::table
        .inner_join(programmes::table)
        .filter(calendar_subscriptions::token_hash.eq(token_hash))
        .select((programmes::user_id, programmes::id))
        .first(conn)
        .optional()
}
