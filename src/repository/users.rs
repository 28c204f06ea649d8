//! User accounts.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::AnyConnection;
use crate::db::schema::users;

#[derive(Debug, Clone, PartialEq, Queryable, Insertable)]
#[diesel(table_name = users)]
pub struct UserRow {
    pub id: String,
    pub email: String,
    pub password_hash: String,
    pub birth_year: Option<i32>,
    pub sex: Option<String>,
    pub body_mass_kg: Option<f64>,
    pub activity_level: Option<String>,
    pub units: String,
    pub preferred_days: Option<i32>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// Profile columns, for an update (`None` leaves a column alone; `Some(None)` clears it).
#[derive(Debug, Clone, Default, PartialEq, AsChangeset)]
#[diesel(table_name = users)]
pub struct ProfileChangeset {
    pub birth_year: Option<Option<i32>>,
    pub sex: Option<Option<String>>,
    pub body_mass_kg: Option<Option<f64>>,
    pub activity_level: Option<Option<String>>,
    pub units: Option<String>,
    pub preferred_days: Option<Option<i32>>,
    pub updated_at: Option<NaiveDateTime>,
}

pub fn insert(conn: &mut AnyConnection, row: &UserRow) -> QueryResult<()> {
    diesel::insert_into(users::table)
        .values(row)
        .execute(conn)
        .map(drop)
}

pub fn find(conn: &mut AnyConnection, id: &str) -> QueryResult<Option<UserRow>> {
    users::table.find(id).first(conn).optional()
}

pub fn find_by_email(conn: &mut AnyConnection, email: &str) -> QueryResult<Option<UserRow>> {
    users::table.filter(users::email.eq(email)).first(conn).optional()
}

/// Applies `changes` to the user's own row; `None` when the user no longer exists.
pub fn update_profile(
    conn: &mut AnyConnection,
    id: &str,
    changes: &ProfileChangeset,
) -> QueryResult<Option<UserRow>> {
    conn.transaction(|conn| {
        if changes != &ProfileChangeset::default() {
            diesel::update(users::table.find(id)).set(changes).execute(conn)?;
        }
        find(conn, id)
    })
}

/// Deletes the user; their refresh tokens (and every other row they own) go with them through
/// `ON DELETE CASCADE`. Returns whether a row was deleted.
pub fn delete(conn: &mut AnyConnection, id: &str) -> QueryResult<bool> {
    diesel::delete(users::table.find(id)).execute(conn).map(|n| n > 0)
}
