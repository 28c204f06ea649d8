//! Fixed-window counters (login throttling, registration limits), shared by every replica.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::AnyConnection;
use crate::db::schema::rate_counters;

/// The window's start and count under `key`.
pub fn get(conn: &mut AnyConnection, key: &str) -> QueryResult<Option<(NaiveDateTime, i32)>> {
    rate_counters::table
        .find(key)
        .select((rate_counters::window_start, rate_counters::count))
        .first(conn)
        .optional()
}

/// Sets `key`'s window (portable upsert: update, then insert when nothing was updated; run
/// under `db::lock_key` so two writers cannot both insert).
pub fn put(conn: &mut AnyConnection, key: &str, start: NaiveDateTime, count: i32) -> QueryResult<()> {
    let updated = diesel::update(rate_counters::table.find(key))
        .set((
            rate_counters::window_start.eq(start),
            rate_counters::count.eq(count),
        ))
        .execute(conn)?;
    if updated == 0 {
        diesel::insert_into(rate_counters::table)
            .values((
                rate_counters::key.eq(key),
                rate_counters::window_start.eq(start),
                rate_counters::count.eq(count),
            ))
            .execute(conn)?;
    }
    Ok(())
}

pub fn remove(conn: &mut AnyConnection, key: &str) -> QueryResult<()> {
    diesel::delete(rate_counters::table.find(key))
        .execute(conn)
        .map(drop)
}

/// Deletes windows that started before `before` (they no longer limit anything).
pub fn purge(conn: &mut AnyConnection, before: NaiveDateTime) -> QueryResult<usize> {
    diesel::delete(rate_counters::table.filter(rate_counters::window_start.lt(before))).execute(conn)
}

/// Adds each row's count to its shared window (creating it) and answers every window's total.
/// PostgreSQL only (the rate limiter shares counts between replicas there); rows come in key
/// order, so two replicas lock them in the same order. Rows adding nothing are only read.
pub fn add_many(conn: &mut AnyConnection, rows: &[(String, i64, u32)]) -> QueryResult<Vec<(String, i64)>> {
    use diesel::upsert::excluded;
    let AnyConnection::Postgresql(pg) = conn else {
        return Ok(Vec::new());
    };
    let start = |secs: i64| {
        chrono::DateTime::from_timestamp(secs, 0)
            .unwrap_or_default()
            .naive_utc()
    };
    let adds: Vec<_> = rows
        .iter()
        .filter(|(_, _, n)| *n > 0)
        .map(|(key, at, n)| {
            (
                rate_counters::key.eq(key),
                rate_counters::window_start.eq(start(*at)),
                rate_counters::count.eq(i32::try_from(*n).unwrap_or(i32::MAX)),
            )
        })
        .collect();
    let mut totals: Vec<(String, i32)> = if adds.is_empty() {
        Vec::new()
    } else {
        diesel::insert_into(rate_counters::table)
            .values(&adds)
            .on_conflict(rate_counters::key)
            .do_update()
            .set(rate_counters::count.eq(rate_counters::count + excluded(rate_counters::count)))
            .returning((rate_counters::key, rate_counters::count))
            .get_results(pg)?
    };
    let reads: Vec<&String> = rows
        .iter()
        .filter(|(_, _, n)| *n == 0)
        .map(|(k, _, _)| k)
        .collect();
    if !reads.is_empty() {
        totals.extend(
            rate_counters::table
                .filter(rate_counters::key.eq_any(reads))
                .select((rate_counters::key, rate_counters::count))
                .load::<(String, i32)>(pg)?,
        );
    }
    Ok(totals.into_iter().map(|(k, n)| (k, i64::from(n))).collect())
}
