//! Stored responses for `Idempotency-Key`.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::AnyConnection;
use crate::db::schema::idempotency_keys as keys;

#[derive(Debug, Clone, PartialEq, Queryable, Insertable)]
#[diesel(table_name = keys)]
pub struct KeyRow {
    pub owner: String,
    pub key: String,
    pub request_hash: String,
    pub status: i32,
    pub headers: String,
    pub body: String,
    pub created_at: NaiveDateTime,
}

pub fn find(conn: &mut AnyConnection, owner: &str, key: &str) -> QueryResult<Option<KeyRow>> {
    keys::table.find((owner, key)).first(conn).optional()
}

/// Claims the key for a new request; `false` when someone holds it already.
pub fn claim(conn: &mut AnyConnection, row: &KeyRow) -> QueryResult<bool> {
    // In its own savepoint: on PostgreSQL a refused insert would otherwise abort the caller's
    // transaction, and the caller reads the winner's row next.
    match conn.transaction(|conn| diesel::insert_into(keys::table).values(row).execute(conn)) {
        Ok(_) => Ok(true),
        Err(diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _)) => {
            Ok(false)
        }
        Err(e) => Err(e),
    }
}

pub fn complete(
    conn: &mut AnyConnection,
    owner: &str,
    key: &str,
    status: i32,
    headers: &str,
    body: &str,
) -> QueryResult<()> {
    diesel::update(keys::table.find((owner, key)))
        .set((
            keys::status.eq(status),
            keys::headers.eq(headers),
            keys::body.eq(body),
        ))
        .execute(conn)
        .map(drop)
}

pub fn release(conn: &mut AnyConnection, owner: &str, key: &str) -> QueryResult<()> {
    diesel::delete(keys::table.find((owner, key)))
        .execute(conn)
        .map(drop)
}

/// Forgets keys older than `before`.
pub fn expire(conn: &mut AnyConnection, before: NaiveDateTime) -> QueryResult<usize> {
    diesel::delete(keys::table.filter(keys::created_at.lt(before))).execute(conn)
}
