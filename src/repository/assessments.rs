//! Stored capacity tests. Every query names the owner.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::AnyConnection;
use crate::db::schema::assessments;

#[derive(Debug, Clone, PartialEq, Queryable, Insertable)]
#[diesel(table_name = assessments)]
pub struct AssessmentRow {
    pub id: String,
    pub user_id: String,
    pub test: String,
    /// UTC.
    pub performed_at: NaiveDateTime,
    /// The result as sent (JSON).
    pub content: String,
    pub created_at: NaiveDateTime,
}

pub fn insert(conn: &mut AnyConnection, row: &AssessmentRow) -> QueryResult<()> {
    diesel::insert_into(assessments::table)
        .values(row)
        .execute(conn)
        .map(drop)
}

/// All of the user's results, oldest first (a person records a handful a month).
/// How many results the user stores.
pub fn count(conn: &mut AnyConnection, user_id: &str) -> QueryResult<i64> {
    assessments::table
        .filter(assessments::user_id.eq(user_id))
        .count()
        .get_result(conn)
}

pub fn all(conn: &mut AnyConnection, user_id: &str) -> QueryResult<Vec<AssessmentRow>> {
    assessments::table
        .filter(assessments::user_id.eq(user_id))
        .order((assessments::performed_at.asc(), assessments::id.asc()))
        .load(conn)
}
