//! Stored sessions and their change-feed positions. Every query names the owner.
//!
//! **Feed order without a global lock.** Each write gets a position `seq`; a user's feed reads
//! in `seq` order. Every session write transaction first takes its user's lock ([`lock`]) and
//! only then its position, so a user's positions follow commit order and a reader that has
//! seen a position has seen every lower one of that user.
//! - PostgreSQL: the lock is a transaction-scoped advisory lock on the user, so users never
//!   wait for each other, and a position is the writing transaction's id shifted left by 20
//!   bits plus the write's index within it (`xid << 20 | k`; a batch has at most 500). The id
//!   is assigned after the lock is taken, so the next writer of the same user, which waits for
//!   the commit, gets a larger one. No counter is shared. Positions fit 63 bits until 2^43
//!   transactions (about 28 years at 10,000 write transactions a second). A feed across users
//!   would also need `pg_snapshot_xmin` to hold back positions of transactions still in flight.
//! - SQLite has one writer at a time: the `change_counters` row, taken first in every write
//!   transaction (SQLite must take its write lock up front anyway), hands out positions in
//!   commit order.
//!
//! Positions written before this scheme were counter values; every transaction id since is
//! larger than the number of writes before it, so new positions sort after them.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::events::EventRow;
use crate::db::schema::{change_counters, feed_horizons, sessions};
use crate::db::{AnyConnection, prepared};

#[derive(Debug, Clone, PartialEq, Queryable, Insertable, AsChangeset)]
#[diesel(table_name = sessions, treat_none_as_null = true)]
pub struct SessionRow {
    pub id: String,
    pub user_id: String,
    pub programme_id: Option<String>,
    pub started_at: NaiveDateTime,
    pub utc_offset_minutes: i32,
    pub duration_seconds: i32,
    pub source: String,
    pub external_id: Option<String>,
    pub external_version: Option<i64>,
    pub content: String,
    pub content_hash: String,
    pub version: i64,
    pub seq: i64,
    pub deleted: bool,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(QueryableByName)]
struct PgPosition {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    seq: i64,
}

/// Bits of a PostgreSQL position below the transaction id (the SQL texts say `<< 20`).
const WRITES_PER_TRANSACTION_BITS: u32 = 20;

/// The `n` change-feed positions of this write transaction (after [`lock`]), ascending. Call
/// it once per transaction: on PostgreSQL a second call would hand out the same positions (and
/// fail on the unique index, writing nothing).
pub fn next_positions(conn: &mut AnyConnection, n: usize) -> QueryResult<Vec<i64>> {
    let n = i64::try_from(n.clamp(1, 1 << WRITES_PER_TRANSACTION_BITS)).unwrap_or(1);
    match conn {
        AnyConnection::Postgresql(c) => Ok(prepared(
            "SELECT (pg_current_xact_id()::text::bigint << 20) + k AS seq \
             FROM generate_series(0, $1 - 1) AS k ORDER BY 1",
        )
        .bind::<diesel::sql_types::BigInt, _>(n)
        .load::<PgPosition>(c)?
        .into_iter()
        .map(|p| p.seq)
        .collect()),
        AnyConnection::Sqlite(_) => {
            // The counter row is locked until commit, so positions follow commit order.
            diesel::update(change_counters::table.find("sessions"))
                .set(change_counters::value.eq(change_counters::value + n))
                .execute(conn)?;
            let last = current_seq(conn)?;
            Ok((last - n + 1..=last).collect())
        }
    }
}

/// The change-feed position of this write transaction's one write (after [`lock`]).
pub fn next_position(conn: &mut AnyConnection) -> QueryResult<i64> {
    next_positions(conn, 1)?
        .pop()
        .ok_or(diesel::result::Error::NotFound)
}

/// The change counter's current value (call after `lock`).
pub fn current_seq(conn: &mut AnyConnection) -> QueryResult<i64> {
    change_counters::table
        .find("sessions")
        .select(change_counters::value)
        .first(conn)
}

/// Sessions with any of these ids, whoever owns them.
pub fn find_many(conn: &mut AnyConnection, ids: &[String]) -> QueryResult<Vec<SessionRow>> {
    let mut out = Vec::new();
    for chunk in ids.chunks(500) {
        out.extend(
            sessions::table
                .filter(sessions::id.eq_any(chunk))
                .load::<SessionRow>(conn)?,
        );
    }
    Ok(out)
}

/// The owner's sessions from `source` with any of these external ids.
pub fn find_external_many(
    conn: &mut AnyConnection,
    user_id: &str,
    source: &str,
    external_ids: &[&str],
) -> QueryResult<Vec<SessionRow>> {
    let mut out = Vec::new();
    for chunk in external_ids.chunks(500) {
        out.extend(
            sessions::table
                .filter(sessions::user_id.eq(user_id))
                .filter(sessions::source.eq(source))
                .filter(sessions::external_id.eq_any(chunk))
                .load::<SessionRow>(conn)?,
        );
    }
    Ok(out)
}

/// Binds the next 15 placeholders to `rows`' columns, one array each, in the table's order
/// without `seq` (the PostgreSQL statements that insert many sessions from arrays).
fn bind_columns<'a>(query: crate::db::Prepared<'a>, rows: &[&'a SessionRow]) -> crate::db::Prepared<'a> {
    use diesel::sql_types::{Array, BigInt, Bool, Integer, Nullable, Text, Timestamp};
    let text = |f: fn(&'a SessionRow) -> &'a str| rows.iter().map(|r| f(r)).collect::<Vec<_>>();
    query
        .bind::<Array<Text>, _>(text(|r| &r.id))
        .bind::<Array<Text>, _>(text(|r| &r.user_id))
        .bind::<Array<Nullable<Text>>, _>(rows.iter().map(|r| r.programme_id.as_deref()).collect::<Vec<_>>())
        .bind::<Array<Timestamp>, _>(rows.iter().map(|r| r.started_at).collect::<Vec<_>>())
        .bind::<Array<Integer>, _>(rows.iter().map(|r| r.utc_offset_minutes).collect::<Vec<_>>())
        .bind::<Array<Integer>, _>(rows.iter().map(|r| r.duration_seconds).collect::<Vec<_>>())
        .bind::<Array<Text>, _>(text(|r| &r.source))
        .bind::<Array<Nullable<Text>>, _>(rows.iter().map(|r| r.external_id.as_deref()).collect::<Vec<_>>())
        .bind::<Array<Nullable<BigInt>>, _>(rows.iter().map(|r| r.external_version).collect::<Vec<_>>())
        .bind::<Array<Text>, _>(text(|r| &r.content))
        .bind::<Array<Text>, _>(text(|r| &r.content_hash))
        .bind::<Array<BigInt>, _>(rows.iter().map(|r| r.version).collect::<Vec<_>>())
        .bind::<Array<Bool>, _>(rows.iter().map(|r| r.deleted).collect::<Vec<_>>())
        .bind::<Array<Timestamp>, _>(rows.iter().map(|r| r.created_at).collect::<Vec<_>>())
        .bind::<Array<Timestamp>, _>(rows.iter().map(|r| r.updated_at).collect::<Vec<_>>())
}

/// Inserts rows. PostgreSQL: one prepared statement over one array per column, whatever the
/// count (a multi-row `VALUES` is a new statement for every length, which PostgreSQL parsed
/// and planned each time: about 20 ms of its CPU for 500 rows, more than inserting them).
/// SQLite: multi-row INSERTs of 500 rows (8,000 parameters).
pub fn insert_many(conn: &mut AnyConnection, rows: &[SessionRow]) -> QueryResult<()> {
    use diesel::sql_types::{Array, BigInt};
    if rows.is_empty() {
        return Ok(());
    }
    match conn {
        AnyConnection::Postgresql(c) => {
            let rows: Vec<&SessionRow> = rows.iter().collect();
            let query = prepared(
                "INSERT INTO sessions (id, user_id, programme_id, started_at, utc_offset_minutes, \
                   duration_seconds, source, external_id, external_version, content, content_hash, \
                   version, deleted, created_at, updated_at, seq) \
                 SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamp[], $5::int4[], \
                   $6::int4[], $7::text[], $8::text[], $9::int8[], $10::text[], $11::text[], $12::int8[], \
                   $13::bool[], $14::timestamp[], $15::timestamp[], $16::int8[])",
            );
            bind_columns(query, &rows)
                .bind::<Array<BigInt>, _>(rows.iter().map(|r| r.seq).collect::<Vec<_>>())
                .execute(c)?;
        }
        AnyConnection::Sqlite(c) => {
            for chunk in rows.chunks(500) {
                diesel::insert_into(sessions::table).values(chunk).execute(c)?;
            }
        }
    }
    Ok(())
}

/// Any session with this id, whoever owns it (ids are global).
pub fn find_any(conn: &mut AnyConnection, id: &str) -> QueryResult<Option<SessionRow>> {
    sessions::table.find(id).first(conn).optional()
}

pub fn find(conn: &mut AnyConnection, user_id: &str, id: &str) -> QueryResult<Option<SessionRow>> {
    sessions::table
        .find(id)
        .filter(sessions::user_id.eq(user_id))
        .first(conn)
        .optional()
}

pub fn find_external(
    conn: &mut AnyConnection,
    user_id: &str,
    source: &str,
    external_id: &str,
) -> QueryResult<Option<SessionRow>> {
    sessions::table
        .filter(sessions::user_id.eq(user_id))
        .filter(sessions::source.eq(source))
        .filter(sessions::external_id.eq(external_id))
        .first(conn)
        .optional()
}

pub fn insert(conn: &mut AnyConnection, row: &SessionRow) -> QueryResult<()> {
    diesel::insert_into(sessions::table)
        .values(row)
        .execute(conn)
        .map(drop)
}

/// Inserts a session that names nothing the store could already hold (a server-assigned id
/// and no external id) with its event, taking the user's lock and the next position as
/// [`lock`] and [`next_position`] would; sets `row.seq` and `event.seq`. On PostgreSQL it is
/// one statement in its own transaction: the lock and the transaction id come from the first
/// part of the statement, evaluated before the row is inserted, so the ordering argument of
/// this module holds with one round trip instead of six. On SQLite: lock, position and both
/// inserts in one write transaction.
pub fn insert_new(conn: &mut AnyConnection, row: &mut SessionRow, event: &mut EventRow) -> QueryResult<()> {
    use diesel::sql_types::{BigInt, Bool, Integer, Nullable, Text, Timestamp};
    match conn {
        AnyConnection::Postgresql(c) => {
            let seq = prepared(
                "WITH position AS ( \
                   SELECT (pg_current_xact_id()::text::bigint << 20) AS seq \
                   FROM (SELECT pg_advisory_xact_lock(hashtextextended($1, 0))) AS locked), \
                 stored AS ( \
                   INSERT INTO sessions (id, user_id, programme_id, started_at, utc_offset_minutes, \
                     duration_seconds, source, external_id, external_version, content, content_hash, \
                     version, seq, deleted, created_at, updated_at) \
                   SELECT $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, position.seq, $14, $15, $16 \
                   FROM position RETURNING seq) \
                 INSERT INTO events (seq, id, user_id, partner_id, type, data, created_at) \
                 SELECT stored.seq, $17, $3, NULL, $18, $19, $20 FROM stored RETURNING seq",
            )
            .bind::<Text, _>(format!("sessions:{}", row.user_id))
            .bind::<Text, _>(&row.id)
            .bind::<Text, _>(&row.user_id)
            .bind::<Nullable<Text>, _>(&row.programme_id)
            .bind::<Timestamp, _>(row.started_at)
            .bind::<Integer, _>(row.utc_offset_minutes)
            .bind::<Integer, _>(row.duration_seconds)
            .bind::<Text, _>(&row.source)
            .bind::<Nullable<Text>, _>(&row.external_id)
            .bind::<Nullable<BigInt>, _>(row.external_version)
            .bind::<Text, _>(&row.content)
            .bind::<Text, _>(&row.content_hash)
            .bind::<BigInt, _>(row.version)
            .bind::<Bool, _>(row.deleted)
            .bind::<Timestamp, _>(row.created_at)
            .bind::<Timestamp, _>(row.updated_at)
            .bind::<Text, _>(&event.id)
            .bind::<Text, _>(&event.kind)
            .bind::<Text, _>(&event.data)
            .bind::<Timestamp, _>(event.created_at)
            .get_result::<PgPosition>(c)?
            .seq;
            (row.seq, event.seq) = (seq, seq);
            Ok(())
        }
        AnyConnection::Sqlite(_) => conn.transaction(|conn| {
            lock(conn, &row.user_id)?;
            row.seq = next_position(conn)?;
            event.seq = row.seq;
            insert(conn, row)?;
            super::events::insert_many(conn, std::slice::from_ref(event))
        }),
    }
}

/// The text of [`insert_new_many`]'s statement on PostgreSQL, with `$lock` taking one user's
/// lock (a constant per [`Locks`], so each is prepared once per connection).
macro_rules! group_insert {
    ($lock:literal) => {
        concat!(
            "WITH input AS ( \
                   SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamp[], $5::int4[], \
                     $6::int4[], $7::text[], $8::text[], $9::int8[], $10::text[], $11::text[], $12::int8[], \
                     $13::bool[], $14::timestamp[], $15::timestamp[], $16::text[], $17::text[], $18::text[], \
                     $19::timestamp[]) WITH ORDINALITY \
                   AS t(id, user_id, programme_id, started_at, utc_offset_minutes, duration_seconds, source, \
                     external_id, external_version, content, content_hash, version, deleted, created_at, \
                     updated_at, event_id, event_type, event_data, event_created_at, k)), \
                 got AS MATERIALIZED ( \
                   SELECT user_id FROM (SELECT DISTINCT user_id FROM input) AS owners \
                   WHERE EXISTS (SELECT 1 FROM users WHERE users.id = owners.user_id) \
                     AND ", $lock, "), \
                 position AS ( \
                   SELECT (pg_current_xact_id()::text::bigint << 20) AS base \
                   FROM (SELECT count(*) FROM got) AS locked), \
                 mine AS (SELECT input.* FROM input JOIN got USING (user_id)), \
                 stored AS ( \
                   INSERT INTO sessions (id, user_id, programme_id, started_at, utc_offset_minutes, \
                     duration_seconds, source, external_id, external_version, content, content_hash, \
                     version, seq, deleted, created_at, updated_at) \
                   SELECT id, user_id, programme_id, started_at, utc_offset_minutes, duration_seconds, source, \
                     external_id, external_version, content, content_hash, version, position.base + k - 1, \
                     deleted, created_at, updated_at \
                   FROM mine, position RETURNING seq) \
                 INSERT INTO events (seq, id, user_id, partner_id, type, data, created_at) \
                 SELECT position.base + k - 1, event_id, user_id, NULL, event_type, event_data, event_created_at \
                 FROM mine, position RETURNING seq"
        )
    };
}

/// How [`insert_new_many`] takes each user's lock (PostgreSQL; SQLite's one writer waits).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Locks {
    /// Only try: a user whose lock is held elsewhere is left out. For groups of many users,
    /// which must never wait for one of them.
    Try,
    /// Wait for it. Only for one user's sessions (nobody else waits with them, and one lock
    /// cannot deadlock).
    Wait,
}

/// [`insert_new`] for several sessions at once (of one user or many): one statement on
/// PostgreSQL, one write transaction on SQLite, so concurrent creates share a commit. Returns,
/// for each write, whether it was stored; the ones left out are for the caller to write on
/// their own with [`insert_new`], which waits as usual:
/// - with [`Locks::Try`], a user whose lock another transaction holds (a long batch, another
///   replica's group) is left out rather than waited for, so a group never makes other users
///   wait for that one (PostgreSQL: the group only tries the locks, so it can never wait, nor
///   deadlock, whatever their order);
/// - a user who no longer exists (an account deleted while its token still runs) is left out,
///   so its refusal comes from the single write and does not fail the others.
///
/// Every stored user's lock is taken before the transaction's id is read, exactly as for one
/// session. Stored write k gets the position `xid << 20 | (k - 1)`, its event the same one. All
/// or nothing: on an error nothing is stored.
pub fn insert_new_many(
    conn: &mut AnyConnection,
    writes: &mut [(SessionRow, EventRow)],
    locks: Locks,
) -> QueryResult<Vec<bool>> {
    use diesel::sql_types::{Array, Text, Timestamp};
    // A group of one goes this way too: `insert_new` would wait for a busy user's lock while
    // holding one of the writer's slots.
    match conn {
        AnyConnection::Postgresql(c) => {
            let rows: Vec<&SessionRow> = writes.iter().map(|(r, _)| r).collect();
            let events: Vec<&EventRow> = writes.iter().map(|(_, e)| e).collect();
            let event_text = |f: fn(&EventRow) -> &str| events.iter().map(|e| f(e)).collect::<Vec<_>>();
            // `got` is materialised before `position` reads the transaction id (its FROM needs
            // the count), and both inserts need `position`: the locks come first.
            let sql = match locks {
                Locks::Try => {
                    group_insert!("pg_try_advisory_xact_lock(hashtextextended('sessions:' || user_id, 0))")
                }
                Locks::Wait => group_insert!(
                    "(SELECT true FROM (SELECT pg_advisory_xact_lock(hashtextextended('sessions:' || user_id, 0))) AS l)"
                ),
            };
            let stored = bind_columns(prepared(sql), &rows)
                .bind::<Array<Text>, _>(event_text(|e| &e.id))
                .bind::<Array<Text>, _>(event_text(|e| &e.kind))
                .bind::<Array<Text>, _>(event_text(|e| &e.data))
                .bind::<Array<Timestamp>, _>(events.iter().map(|e| e.created_at).collect::<Vec<_>>())
                .load::<PgPosition>(c)?;
            // Positions are `base | (k - 1)` with k below 2^20: each names its write.
            let mask = (1_i64 << WRITES_PER_TRANSACTION_BITS) - 1;
            let mut done = vec![false; writes.len()];
            for seq in stored.into_iter().map(|p| p.seq) {
                let k = usize::try_from(seq & mask).map_err(|_| diesel::result::Error::NotFound)?;
                let ((row, event), stored) = writes
                    .get_mut(k)
                    .zip(done.get_mut(k))
                    .ok_or(diesel::result::Error::NotFound)?;
                (row.seq, event.seq) = (seq, seq);
                *stored = true;
            }
            Ok(done)
        }
        // One writer at a time: the first user's lock is the write lock, which covers them all.
        AnyConnection::Sqlite(_) => conn.transaction(|conn| {
            use crate::db::schema::users;
            lock(conn, writes.first().map_or("", |(row, _)| row.user_id.as_str()))?;
            let owners: Vec<&str> = writes.iter().map(|(row, _)| row.user_id.as_str()).collect();
            let living: std::collections::HashSet<String> = users::table
                .filter(users::id.eq_any(owners))
                .select(users::id)
                .load::<String>(conn)?
                .into_iter()
                .collect();
            let done: Vec<bool> = writes
                .iter()
                .map(|(row, _)| living.contains(&row.user_id))
                .collect();
            let stored = done.iter().filter(|d| **d).count();
            if stored == 0 {
                return Ok(done);
            }
            let mut positions = next_positions(conn, stored)?.into_iter();
            let (mut rows, mut events) = (Vec::with_capacity(stored), Vec::with_capacity(stored));
            for ((row, event), _) in writes.iter_mut().zip(&done).filter(|(_, d)| **d) {
                let seq = positions.next().ok_or(diesel::result::Error::NotFound)?;
                (row.seq, event.seq) = (seq, seq);
                rows.push(row.clone());
                events.push(event.clone());
            }
            insert_many(conn, &rows)?;
            super::events::insert_many(conn, &events)?;
            Ok(done)
        }),
    }
}

/// Replaces the stored row (same id and owner). `NotFound` when no row was replaced (a
/// tombstone purged in between), so a write never reports a change it did not store.
pub fn replace(conn: &mut AnyConnection, row: &SessionRow) -> QueryResult<()> {
    let replaced = diesel::update(
        sessions::table
            .find(&row.id)
            .filter(sessions::user_id.eq(&row.user_id)),
    )
    .set(row)
    .execute(conn)?;
    if replaced == 1 {
        Ok(())
    } else {
        Err(diesel::result::Error::NotFound)
    }
}

/// Filters for a listing.
#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    pub from: Option<NaiveDateTime>,
    pub to: Option<NaiveDateTime>,
    pub programme_id: Option<String>,
}

/// Live sessions, newest first, strictly after `after` = (started_at, id) in that order.
pub fn list(
    conn: &mut AnyConnection,
    user_id: &str,
    filter: &ListFilter,
    after: Option<(NaiveDateTime, String)>,
    limit: i64,
) -> QueryResult<Vec<SessionRow>> {
    let mut query = sessions::table
        .filter(sessions::user_id.eq(user_id))
        .filter(sessions::deleted.eq(false))
        .into_boxed();
    if let Some(from) = filter.from {
        query = query.filter(sessions::started_at.ge(from));
    }
    if let Some(to) = filter.to {
        query = query.filter(sessions::started_at.lt(to));
    }
    if let Some(programme) = &filter.programme_id {
        query = query.filter(sessions::programme_id.eq(programme.clone()));
    }
    if let Some((started, id)) = after {
        query = query.filter(
            sessions::started_at
                .lt(started)
                .or(sessions::started_at.eq(started).and(sessions::id.lt(id))),
        );
    }
    query
        .order((sessions::started_at.desc(), sessions::id.desc()))
        .limit(limit)
        .load(conn)
}

/// Every change (live or tombstone) after `after_seq`, in position (commit) order.
pub fn changes(
    conn: &mut AnyConnection,
    user_id: &str,
    after_seq: i64,
    limit: i64,
) -> QueryResult<Vec<SessionRow>> {
    sessions::table
        .filter(sessions::user_id.eq(user_id))
        .filter(sessions::seq.gt(after_seq))
        .order(sessions::seq.asc())
        .limit(limit)
        .load(conn)
}

/// Live sessions starting in `[from, to)`, oldest first, at most `limit`.
pub fn in_range(
    conn: &mut AnyConnection,
    user_id: &str,
    from: NaiveDateTime,
    to: NaiveDateTime,
    limit: i64,
) -> QueryResult<Vec<SessionRow>> {
    sessions::table
        .filter(sessions::user_id.eq(user_id))
        .filter(sessions::deleted.eq(false))
        .filter(sessions::started_at.ge(from))
        .filter(sessions::started_at.lt(to))
        .order((sessions::started_at.asc(), sessions::id.asc()))
        .limit(limit)
        .load(conn)
}

/// Serialises this user's session writes for the rest of the transaction. Called first in
/// every session write transaction, before anything that could give the transaction an id
/// (the position order depends on it), so everything read afterwards includes every earlier
/// commit for the user (no lost updates under PostgreSQL's read committed). PostgreSQL: a
/// transaction-scoped advisory lock on the user, so different users never wait for each other.
/// SQLite: its single write lock, taken up front (a transaction that reads before writing
/// cannot wait for it).
pub fn lock(conn: &mut AnyConnection, user_id: &str) -> QueryResult<()> {
    crate::db::lock_key(conn, &format!("sessions:{user_id}"))
}

/// The lock purges serialise on (several replicas purge at once).
const PURGE_LOCK: &str = "purge";

/// The highest change position of `user_id`'s tombstones purged so far (0 when none was).
pub fn purge_horizon(conn: &mut AnyConnection, user_id: &str) -> QueryResult<i64> {
    Ok(feed_horizons::table
        .find(user_id)
        .select(feed_horizons::seq)
        .first(conn)
        .optional()?
        .unwrap_or(0))
}

/// Deletes tombstones last changed before `before` and raises each affected user's purge
/// horizon to the highest position deleted, so that user's feed cursors older than that get
/// 410 (other users' cursors are untouched). Purges serialise on one lock, so a horizon only
/// ever rises. Returns how many were deleted.
pub fn purge_tombstones(conn: &mut AnyConnection, before: NaiveDateTime) -> QueryResult<usize> {
    {
        lock(conn, PURGE_LOCK)?;
        let old = sessions::table
            // Bare `deleted` (not `= true`) so SQLite can use the partial index `WHERE deleted`.
            .filter(sessions::deleted)
            .filter(sessions::updated_at.lt(before));
        let highest: Vec<(String, Option<i64>)> = old
            .group_by(sessions::user_id)
            .select((sessions::user_id, diesel::dsl::max(sessions::seq)))
            .load(conn)?;
        if highest.is_empty() {
            return Ok(0);
        }
        let deleted = diesel::delete(old).execute(conn)?;
        for (user_id, max) in highest {
            let Some(max) = max else { continue };
            let current: Option<i64> = feed_horizons::table
                .find(&user_id)
                .select(feed_horizons::seq)
                .first(conn)
                .optional()?;
            match current {
                None => {
                    diesel::insert_into(feed_horizons::table)
                        .values((feed_horizons::user_id.eq(&user_id), feed_horizons::seq.eq(max)))
                        .execute(conn)?;
                }
                Some(seen) if seen < max => {
                    diesel::update(feed_horizons::table.find(&user_id))
                        .set(feed_horizons::seq.eq(max))
                        .execute(conn)?;
                }
                Some(_) => {}
            }
        }
        Ok(deleted)
    }
}

/// A programme's live sessions, oldest first (what adaptation replays).
pub fn for_programme(
    conn: &mut AnyConnection,
    user_id: &str,
    programme_id: &str,
) -> QueryResult<Vec<SessionRow>> {
    sessions::table
        .filter(sessions::user_id.eq(user_id))
        .filter(sessions::programme_id.eq(programme_id))
        .filter(sessions::deleted.eq(false))
        .order((sessions::started_at.asc(), sessions::id.asc()))
        .load(conn)
}

mod store;
pub use store::{Bulk, Direct, Store};
