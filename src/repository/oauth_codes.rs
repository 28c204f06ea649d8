//! OAuth authorization codes, stored as hashes: single use, short-lived.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::AnyConnection;
use crate::db::schema::oauth_codes;

#[derive(Debug, Clone, PartialEq, Queryable, Insertable)]
#[diesel(table_name = oauth_codes)]
pub struct CodeRow {
    pub code_hash: String,
    pub client_id: String,
    pub user_id: String,
    pub redirect_uri: String,
    pub scopes: String,
    pub code_challenge: String,
    pub family_id: String,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub used_at: Option<NaiveDateTime>,
}

pub fn insert(conn: &mut AnyConnection, row: &CodeRow) -> QueryResult<()> {
    diesel::insert_into(oauth_codes::table)
        .values(row)
        .execute(conn)
        .map(drop)
}

pub fn find(conn: &mut AnyConnection, hash: &str) -> QueryResult<Option<CodeRow>> {
    oauth_codes::table.find(hash).first(conn).optional()
}

/// Marks the code used if nobody did first; `false` means it was already used.
pub fn mark_used(conn: &mut AnyConnection, hash: &str, now: NaiveDateTime) -> QueryResult<bool> {
    diesel::update(
        oauth_codes::table
            .find(hash)
            .filter(oauth_codes::used_at.is_null()),
    )
    .set(oauth_codes::used_at.eq(now))
    .execute(conn)
    .map(|n| n == 1)
}

/// Deletes codes that expired before `before` (a used one is kept until then, so a replay
/// within its lifetime is still recognised).
pub fn purge(conn: &mut AnyConnection, before: NaiveDateTime) -> QueryResult<usize> {
    diesel::delete(oauth_codes::table.filter(oauth_codes::expires_at.lt(before))).execute(conn)
}
