//! Stored programmes and their versions. Every query names the owner: a programme (and so its
//! versions) is only ever found through its user's id.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::AnyConnection;
use crate::db::schema::{programme_versions, programmes};

#[derive(Debug, Clone, PartialEq, Queryable, Insertable)]
#[diesel(table_name = programmes)]
pub struct ProgrammeRow {
    pub id: String,
    pub user_id: String,
    pub source: String,
    pub generator_version: String,
    pub request: String,
    /// The latest version's document.
    pub document: String,
    pub created_at: NaiveDateTime,
    pub current_version: i32,
    pub status: String,
    pub auto_adapt: bool,
}

#[derive(Debug, Clone, PartialEq, Queryable, Insertable)]
#[diesel(table_name = programme_versions)]
pub struct VersionRow {
    pub programme_id: String,
    pub version: i32,
    pub cause: String,
    pub status: String,
    pub adaptation: String,
    pub document: String,
    pub created_at: NaiveDateTime,
}

/// Stores a new programme and its version 1.
pub fn insert(conn: &mut AnyConnection, row: &ProgrammeRow) -> QueryResult<()> {
    conn.transaction(|conn| {
        diesel::insert_into(programmes::table).values(row).execute(conn)?;
        diesel::insert_into(programme_versions::table)
            .values(VersionRow {
                programme_id: row.id.clone(),
                version: 1,
                cause: "generated".into(),
                status: row.status.clone(),
                adaptation: "{}".into(),
                document: row.document.clone(),
                created_at: row.created_at,
            })
            .execute(conn)
            .map(drop)
    })
}

pub fn find(conn: &mut AnyConnection, user_id: &str, id: &str) -> QueryResult<Option<ProgrammeRow>> {
    programmes::table
        .find(id)
        .filter(programmes::user_id.eq(user_id))
        .first(conn)
        .optional()
}

/// The user's programmes, newest first, after the (created_at, id) `after`, at most `limit`.
pub fn list(
    conn: &mut AnyConnection,
    user_id: &str,
    after: Option<(NaiveDateTime, String)>,
    limit: i64,
) -> QueryResult<Vec<ProgrammeRow>> {
    let mut query = programmes::table
        .filter(programmes::user_id.eq(user_id))
        .into_boxed();
    if let Some((created, id)) = after {
        query = query.filter(
            programmes::created_at
                .lt(created)
                .or(programmes::created_at.eq(created).and(programmes::id.lt(id))),
        );
    }
    query
        .order((programmes::created_at.desc(), programmes::id.desc()))
        .limit(limit)
        .load(conn)
}

/// How many programmes the user stores.
pub fn count(conn: &mut AnyConnection, user_id: &str) -> QueryResult<i64> {
    programmes::table
        .filter(programmes::user_id.eq(user_id))
        .count()
        .get_result(conn)
}

/// Which of `ids` are the user's programmes.
pub fn owned(conn: &mut AnyConnection, user_id: &str, ids: &[String]) -> QueryResult<Vec<String>> {
    programmes::table
        .filter(programmes::user_id.eq(user_id))
        .filter(programmes::id.eq_any(ids))
        .select(programmes::id)
        .load(conn)
}

pub fn delete(conn: &mut AnyConnection, user_id: &str, id: &str) -> QueryResult<bool> {
    diesel::delete(programmes::table.find(id).filter(programmes::user_id.eq(user_id)))
        .execute(conn)
        .map(|n| n == 1)
}

/// Adds `version` as the programme's latest, if the latest is still `version.version - 1`.
/// Returns false when another writer got there first (nothing is written).
pub fn add_version(conn: &mut AnyConnection, user_id: &str, version: &VersionRow) -> QueryResult<bool> {
    conn.transaction(|conn| {
        let moved = diesel::update(
            programmes::table
                .find(&version.programme_id)
                .filter(programmes::user_id.eq(user_id))
                .filter(programmes::current_version.eq(version.version - 1)),
        )
        .set((
            programmes::current_version.eq(version.version),
            programmes::status.eq(&version.status),
            programmes::document.eq(&version.document),
        ))
        .execute(conn)?;
        if moved != 1 {
            return Ok(false);
        }
        diesel::insert_into(programme_versions::table)
            .values(version)
            .execute(conn)
            .map(|_| true)
    })
}

/// The programme's versions, oldest first (the programme must be the user's: check first).
pub fn versions(conn: &mut AnyConnection, programme_id: &str) -> QueryResult<Vec<VersionRow>> {
    programme_versions::table
        .filter(programme_versions::programme_id.eq(programme_id))
        .order(programme_versions::version.asc())
        .load(conn)
}

pub fn version(
    conn: &mut AnyConnection,
    programme_id: &str,
    version: i32,
) -> QueryResult<Option<VersionRow>> {
    programme_versions::table
        .find((programme_id, version))
        .first(conn)
        .optional()
}

pub fn set_auto_adapt(conn: &mut AnyConnection, user_id: &str, id: &str, on: bool) -> QueryResult<bool> {
    diesel::update(programmes::table.find(id).filter(programmes::user_id.eq(user_id)))
        .set(programmes::auto_adapt.eq(on))
        .execute(conn)
        .map(|n| n == 1)
}
