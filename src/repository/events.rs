//! The event log: what partners hear about, in feed order. Written in the transaction of the
//! change that causes it; read by the partner change feed and the webhook worker.
//!
//! **Reading across users without skipping.** A user's session feed is ordered by that user's
//! lock (see `repository::sessions`). A feed across users has no such lock, so on PostgreSQL
//! a reader only reads positions below `pg_snapshot_xmin(pg_current_snapshot()) << 20`: every
//! transaction with a smaller id has finished, so nothing can later commit below that bound.
//! The price is lag while a transaction is open (the oldest one anywhere in the cluster holds
//! the bound back). SQLite has one writer, so whatever is committed is final.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::AnyConnection;
use crate::db::schema::{change_counters, events};

#[derive(Debug, Clone, PartialEq, Queryable, Insertable)]
#[diesel(table_name = events)]
pub struct EventRow {
    pub seq: i64,
    pub id: String,
    pub user_id: String,
    pub partner_id: Option<String>,
    pub kind: String,
    pub data: String,
    pub created_at: NaiveDateTime,
}

/// Stores events. Their positions are set (by the caller: a session's event takes the
/// session's position; others take [`positions`]).
///
/// PostgreSQL: one prepared statement over arrays, as `sessions::insert_many`.
pub fn insert_many(conn: &mut AnyConnection, rows: &[EventRow]) -> QueryResult<()> {
    use diesel::sql_types::{Array, BigInt, Nullable, Text, Timestamp};
    if rows.is_empty() {
        return Ok(());
    }
    match conn {
        AnyConnection::Postgresql(c) => {
            let text = |f: fn(&EventRow) -> &str| rows.iter().map(f).collect::<Vec<_>>();
            crate::db::prepared(
                "INSERT INTO events (seq, id, user_id, partner_id, type, data, created_at) \
                 SELECT * FROM unnest($1::int8[], $2::text[], $3::text[], $4::text[], $5::text[], \
                   $6::text[], $7::timestamp[])",
            )
            .bind::<Array<BigInt>, _>(rows.iter().map(|e| e.seq).collect::<Vec<_>>())
            .bind::<Array<Text>, _>(text(|e| &e.id))
            .bind::<Array<Text>, _>(text(|e| &e.user_id))
            .bind::<Array<Nullable<Text>>, _>(
                rows.iter().map(|e| e.partner_id.as_deref()).collect::<Vec<_>>(),
            )
            .bind::<Array<Text>, _>(text(|e| &e.kind))
            .bind::<Array<Text>, _>(text(|e| &e.data))
            .bind::<Array<Timestamp>, _>(rows.iter().map(|e| e.created_at).collect::<Vec<_>>())
            .execute(c)?;
        }
        AnyConnection::Sqlite(c) => {
            for chunk in rows.chunks(500) {
                diesel::insert_into(events::table).values(chunk).execute(c)?;
            }
        }
    }
    Ok(())
}

/// `n` positions for events of a write transaction that stores no session (the same
/// mechanism, and the same once-per-transaction rule, as the session feed).
pub fn positions(conn: &mut AnyConnection, n: usize) -> QueryResult<Vec<i64>> {
    super::sessions::next_positions(conn, n)
}

#[derive(QueryableByName)]
struct Bound {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    seq: i64,
}

/// The position below which the log is final: nothing can still commit under it.
fn final_below(conn: &mut AnyConnection) -> QueryResult<i64> {
    match conn {
        AnyConnection::Postgresql(c) => Ok(crate::db::prepared(
            "SELECT (pg_snapshot_xmin(pg_current_snapshot())::text::bigint << 20) AS seq",
        )
        .get_result::<Bound>(c)?
        .seq),
        AnyConnection::Sqlite(_) => Ok(i64::MAX),
    }
}

/// Up to `limit` events after `after`, in position order, that are for every partner or for
/// `partner_id`, and final (see the module). The bound is read first: everything under it had
/// finished by then, so the second statement sees all of it.
pub fn after(
    conn: &mut AnyConnection,
    partner_id: &str,
    after: i64,
    limit: i64,
) -> QueryResult<Vec<EventRow>> {
    let below = final_below(conn)?;
    events::table
        .filter(events::seq.gt(after))
        .filter(events::seq.lt(below))
        .filter(events::partner_id.is_null().or(events::partner_id.eq(partner_id)))
        .order(events::seq.asc())
        .limit(limit)
        .load(conn)
}

/// One event by position.
pub fn find(conn: &mut AnyConnection, seq: i64) -> QueryResult<Option<EventRow>> {
    events::table.find(seq).first(conn).optional()
}

/// The highest position purged so far (0 when none was): cursors below it may miss events.
pub fn horizon(conn: &mut AnyConnection) -> QueryResult<i64> {
    change_counters::table
        .find("events_purged")
        .select(change_counters::value)
        .first(conn)
        .optional()
        .map(Option::unwrap_or_default)
}

/// The highest position of the log (0 when it is empty): where a new endpoint starts.
pub fn last(conn: &mut AnyConnection) -> QueryResult<i64> {
    events::table
        .select(diesel::dsl::max(events::seq))
        .first::<Option<i64>>(conn)
        .map(Option::unwrap_or_default)
}

/// Deletes events older than `before` that come before the oldest younger one, and raises the
/// horizon to the highest position deleted. Positions follow commit time, so this walks the
/// primary key from the start and stops at the first younger event (no index on the age, which
/// every write would pay for); an old event past a younger one waits for a later purge.
/// Purges take turns on one lock, so the horizon only rises.
pub fn purge(conn: &mut AnyConnection, before: NaiveDateTime) -> QueryResult<usize> {
    crate::db::lock_key(conn, "purge:events")?;
    let first_young: Option<i64> = events::table
        .filter(events::created_at.ge(before))
        .order(events::seq.asc())
        .select(events::seq)
        .first(conn)
        .optional()?;
    let old = events::table
        .filter(events::seq.lt(first_young.unwrap_or(i64::MAX)))
        .filter(events::created_at.lt(before));
    let highest: Option<i64> = old.select(diesel::dsl::max(events::seq)).first(conn)?;
    let Some(highest) = highest else {
        return Ok(0);
    };
    let deleted = diesel::delete(old).execute(conn)?;
    diesel::update(
        change_counters::table
            .find("events_purged")
            .filter(change_counters::value.lt(highest)),
    )
    .set(change_counters::value.eq(highest))
    .execute(conn)?;
    Ok(deleted)
}

/// Deletes a user's events that carry their data (account deletion); grant events stay until
/// purged, so partners still hear that the grant ended.
pub fn delete_user_data(conn: &mut AnyConnection, user_id: &str) -> QueryResult<usize> {
    diesel::delete(
        events::table
            .filter(events::user_id.eq(user_id))
            .filter(events::partner_id.is_null()),
    )
    .execute(conn)
}
