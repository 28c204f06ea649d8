//! The database copy of the exercise catalogue.

use std::collections::HashSet;

use diesel::prelude::*;

use crate::db::AnyConnection;
use crate::db::schema::exercises;
use crate::domain::catalogue::Catalogue;
use crate::repository::app_meta;

/// What a sync changed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct SyncReport {
    pub inserted: usize,
    pub updated: usize,
    pub retired: usize,
}

pub const VERSION_KEY: &str = "catalogue_version";

/// Makes the table match `catalogue` (upsert by id; exercises no longer in the catalogue are
/// marked retired, never deleted). Does nothing when the stored dataset version is current, so
/// many replicas can start at once cheaply.
pub fn sync(conn: &mut AnyConnection, catalogue: &Catalogue) -> QueryResult<SyncReport> {
    conn.transaction(|conn| {
        if app_meta::get(conn, VERSION_KEY)?.as_deref() == Some(catalogue.version()) {
            return Ok(SyncReport::default());
        }
        let now = crate::db::now();
        let mut report = SyncReport::default();
        for e in catalogue.all() {
            let document = serde_json::to_string(e)
                .map_err(|err| diesel::result::Error::SerializationError(Box::new(err)))?;
            let row = (
                exercises::name.eq(&e.name),
                exercises::document.eq(&document),
                exercises::dataset_version.eq(catalogue.version()),
                exercises::retired.eq(false),
                exercises::updated_at.eq(now),
            );
            let updated = diesel::update(exercises::table.find(&e.id))
                .set(row)
                .execute(conn)?;
            if updated == 0 {
                diesel::insert_into(exercises::table)
                    .values((exercises::id.eq(&e.id), row))
                    .execute(conn)?;
                report.inserted += 1;
            } else {
                report.updated += 1;
            }
        }
        let current: HashSet<&str> = catalogue.all().iter().map(|e| e.id.as_str()).collect();
        let stored: Vec<String> = exercises::table
            .filter(exercises::retired.eq(false))
            .select(exercises::id)
            .load(conn)?;
        for id in stored.iter().filter(|id| !current.contains(id.as_str())) {
            report.retired += diesel::update(exercises::table.find(id))
                .set((exercises::retired.eq(true), exercises::updated_at.eq(now)))
                .execute(conn)?;
        }
        app_meta::put(conn, VERSION_KEY, catalogue.version())?;
        Ok(report)
    })
}
