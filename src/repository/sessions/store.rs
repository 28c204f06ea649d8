//! Where the session sync rules read and write inside a write transaction (after [`super::lock`]):
//! the database directly for single writes ([`Direct`]), or a batch's view that looks
//! everything up at once and inserts in bulk ([`Bulk`]).

use std::collections::HashMap;

use diesel::QueryResult;

use super::SessionRow;
use crate::db::AnyConnection;

/// The storage the sync rules need. Both implementations run inside the writing transaction.
pub trait Store {
    /// The session this user's `source` stored under `external_id`.
    fn by_external(
        &mut self,
        user_id: &str,
        source: &str,
        external_id: &str,
    ) -> QueryResult<Option<SessionRow>>;
    /// Any session with this id, whoever owns it (ids are global).
    fn by_id(&mut self, id: &str) -> QueryResult<Option<SessionRow>>;
    /// The next change-feed position.
    fn next_position(&mut self) -> QueryResult<i64>;
    fn insert(&mut self, row: SessionRow) -> QueryResult<()>;
    fn replace(&mut self, row: SessionRow) -> QueryResult<()>;
}

/// One statement per step: for single writes.
pub struct Direct<'c>(pub &'c mut AnyConnection);

impl Store for Direct<'_> {
    fn by_external(
        &mut self,
        user_id: &str,
        source: &str,
        external_id: &str,
    ) -> QueryResult<Option<SessionRow>> {
        super::find_external(self.0, user_id, source, external_id)
    }
    fn by_id(&mut self, id: &str) -> QueryResult<Option<SessionRow>> {
        super::find_any(self.0, id)
    }
    fn next_position(&mut self) -> QueryResult<i64> {
        super::next_position(self.0)
    }
    fn insert(&mut self, row: SessionRow) -> QueryResult<()> {
        super::insert(self.0, &row)
    }
    fn replace(&mut self, row: SessionRow) -> QueryResult<()> {
        super::replace(self.0, &row)
    }
}

/// A batch's view of the store: every id and external id the batch names is looked up in two
/// queries, change positions are reserved at once (one per item, ascending; unused ones are
/// gaps) and new rows are inserted together at the end. Cuts the round trips per session from
/// about four to a few per batch.
pub struct Bulk<'c> {
    conn: &'c mut AnyConnection,
    by_id: HashMap<String, SessionRow>,
    /// External id → session id, for this user and source.
    by_external: HashMap<String, String>,
    /// Reserved positions, next first.
    positions: std::collections::VecDeque<i64>,
    /// Ids of rows inserted by this batch, in order (their latest form is in `by_id`).
    pending: Vec<String>,
}

impl<'c> Bulk<'c> {
    /// Loads the sessions with these ids, and this user's `source`'s sessions with these
    /// external ids, and reserves `writes` positions.
    pub fn load(
        conn: &'c mut AnyConnection,
        user_id: &str,
        source: &str,
        (ids, externals): (&[String], &[&str]),
        writes: usize,
    ) -> QueryResult<Self> {
        let mut by_id = HashMap::new();
        let mut by_external = HashMap::new();
        for row in super::find_many(conn, ids)? {
            by_id.insert(row.id.clone(), row);
        }
        for row in super::find_external_many(conn, user_id, source, externals)? {
            if let Some(external) = row.external_id.clone() {
                by_external.insert(external, row.id.clone());
            }
            by_id.insert(row.id.clone(), row);
        }
        let positions = super::next_positions(conn, writes)?.into();
        Ok(Self {
            conn,
            by_id,
            by_external,
            positions,
            pending: Vec::new(),
        })
    }

    /// Inserts the new rows.
    pub fn finish(self) -> QueryResult<()> {
        let mut by_id = self.by_id;
        let rows: Vec<SessionRow> = self.pending.iter().filter_map(|id| by_id.remove(id)).collect();
        super::insert_many(self.conn, &rows)
    }
}

impl Store for Bulk<'_> {
    fn by_external(
        &mut self,
        _user_id: &str,
        _source: &str,
        external_id: &str,
    ) -> QueryResult<Option<SessionRow>> {
        Ok(self
            .by_external
            .get(external_id)
            .and_then(|id| self.by_id.get(id))
            .cloned())
    }
    fn by_id(&mut self, id: &str) -> QueryResult<Option<SessionRow>> {
        Ok(self.by_id.get(id).cloned())
    }
    fn next_position(&mut self) -> QueryResult<i64> {
        // One reserved per item: an item takes at most one.
        self.positions.pop_front().ok_or(diesel::result::Error::NotFound)
    }
    fn insert(&mut self, row: SessionRow) -> QueryResult<()> {
        if let Some(external) = row.external_id.clone() {
            self.by_external.insert(external, row.id.clone());
        }
        self.pending.push(row.id.clone());
        self.by_id.insert(row.id.clone(), row);
        Ok(())
    }
    fn replace(&mut self, row: SessionRow) -> QueryResult<()> {
        if !self.pending.contains(&row.id) {
            super::replace(self.conn, &row)?;
        }
        self.by_id.insert(row.id.clone(), row);
        Ok(())
    }
}
