//! Stored programmes. Every query names the owner: a programme is only ever found through its
//! user's id.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::AnyConnection;
use crate::db::schema::programmes;

#[derive(Debug, Clone, PartialEq, Queryable, Insertable)]
#[diesel(table_name = programmes)]
pub struct ProgrammeRow {
    pub id: String,
    pub user_id: String,
    pub source: String,
    pub generator_version: String,
    pub request: String,
    pub document: String,
    pub created_at: NaiveDateTime,
}

pub fn insert(conn: &mut AnyConnection, row: &ProgrammeRow) -> QueryResult<()> {
    diesel::insert_into(programmes::table)
        .values(row)
        .execute(conn)
        .map(drop)
}

pub fn find(conn: &mut AnyConnection, user_id: &str, id: &str) -> QueryResult<Option<ProgrammeRow>> {
    programmes::table
        .find(id)
        .filter(programmes::user_id.eq(user_id))
        .first(conn)
        .optional()
}

/// The user's programmes, newest first, at most `limit`.
pub fn list(conn: &mut AnyConnection, user_id: &str, limit: i64) -> QueryResult<Vec<ProgrammeRow>> {
    programmes::table
        .filter(programmes::user_id.eq(user_id))
        .order((programmes::created_at.desc(), programmes::id.desc()))
        .limit(limit)
        .load(conn)
}

pub fn delete(conn: &mut AnyConnection, user_id: &str, id: &str) -> QueryResult<bool> {
    diesel::delete(programmes::table.find(id).filter(programmes::user_id.eq(user_id)))
        .execute(conn)
        .map(|n| n == 1)
}
