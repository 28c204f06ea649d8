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
