//! Key/value facts about the database.

use diesel::prelude::*;

use crate::db::AnyConnection;
use crate::db::schema::app_meta;

pub fn get(conn: &mut AnyConnection, key: &str) -> QueryResult<Option<String>> {
    app_meta::table
        .find(key)
        .select(app_meta::value)
        .first(conn)
        .optional()
}

/// Inserts or replaces `key` (portable: update, then insert when nothing was updated).
pub fn put(conn: &mut AnyConnection, key: &str, value: &str) -> QueryResult<()> {
    let now = crate::db::now();
    let updated = diesel::update(app_meta::table.find(key))
        .set((app_meta::value.eq(value), app_meta::updated_at.eq(now)))
        .execute(conn)?;
    if updated == 0 {
        diesel::insert_into(app_meta::table)
            .values((
                app_meta::key.eq(key),
                app_meta::value.eq(value),
                app_meta::updated_at.eq(now),
            ))
            .execute(conn)?;
    }
    Ok(())
}
