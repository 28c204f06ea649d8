//! The sync rules for one session write, shared by single writes and batches.
//!
//! A client-chosen `id` makes a create idempotent: the same content is `unchanged`, different
//! content (or a deleted or someone else's session) is a conflict. Partners may instead send
//! `external_id` with `external_version`: a higher version replaces, a lower or equal one is
//! `ignored`. Every write takes the next change-feed position.

use serde::Serialize;
use utoipa::ToSchema;

use super::super::Subject;
use crate::domain::catalogue::Catalogue;
use crate::domain::sessions::{Normalised, SessionInput};
use crate::error::ApiError;
use crate::repository::sessions::{SessionRow, Store};
use crate::validation::FieldError;

/// What a create did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SyncResult {
    Created,
    Unchanged,
    Replaced,
    Ignored,
}

impl SyncResult {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Created => "created",
            Self::Unchanged => "unchanged",
            Self::Replaced => "replaced",
            Self::Ignored => "ignored",
        }
    }

    /// Did the write store anything new (so a linked programme may adapt)?
    pub fn wrote(self) -> bool {
        matches!(self, Self::Created | Self::Replaced)
    }
}

/// Why one write was refused, or failed.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// The id names a different, or a deleted, session: the item is refused, nothing written.
    #[error("{0}")]
    Conflict(&'static str),
    #[error(transparent)]
    Storage(#[from] diesel::result::Error),
}

impl From<SyncError> for ApiError {
    fn from(e: SyncError) -> Self {
        match e {
            SyncError::Conflict(why) => Self::Conflict(why.into()),
            SyncError::Storage(e) => e.into(),
        }
    }
}

/// Rules a write must pass beyond its own fields: catalogue exercises, and external ids for
/// partners only.
pub fn check_input(catalogue: &Catalogue, subject: &Subject, input: &SessionInput) -> Result<(), ApiError> {
    let errors: Vec<FieldError> = input
        .sets
        .iter()
        .enumerate()
        .filter(|(_, s)| catalogue.get(&s.exercise_id).is_none())
        .map(|(i, s)| {
            FieldError::new(
                format!("sets[{i}].exercise_id"),
                "not_found",
                format!("`{}` is not a catalogue exercise", s.exercise_id),
            )
        })
        .collect();
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    if subject.is_app() && input.external_id.is_some() {
        return Err(ApiError::invalid_field(
            "external_id",
            "partners_only",
            "is for partner platforms; apps use a client-chosen id",
        ));
    }
    if input.external_version.is_some() && input.external_id.is_none() {
        return Err(ApiError::invalid_field(
            "external_version",
            "requires_external_id",
            "needs external_id",
        ));
    }
    Ok(())
}

/// A create that names nothing the store could already hold (no client id, no external id):
/// no rule needs a read, so it is always `created`. The row's position is set when stored.
pub fn fresh(subject: &Subject, input: &SessionInput) -> Option<SessionRow> {
    (input.id.is_none() && input.external_id.is_none())
        .then(|| new_row(subject, uuid::Uuid::now_v7().to_string(), input.normalise(), 0))
}

/// Stores one session under the sync rules; run inside a write transaction after
/// `repository::sessions::lock`. A conflict has written nothing.
pub fn upsert(
    store: &mut impl Store,
    subject: &Subject,
    input: &SessionInput,
) -> Result<(SyncResult, SessionRow), SyncError> {
    let normalised = input.normalise();
    let hash = normalised.content_hash.clone();
    if let Some(external) = input.external_id.as_deref()
        && let Some(row) = store.by_external(&subject.user_id, subject.source_name(), external)?
    {
        if row.content_hash == hash {
            return Ok((SyncResult::Unchanged, row));
        }
        if input.external_version.unwrap_or(-1) <= row.external_version.unwrap_or(-1) {
            return Ok((SyncResult::Ignored, row));
        }
        let updated = rewritten(&row, normalised, store.next_position()?);
        store.replace(updated.clone())?;
        return Ok((SyncResult::Replaced, updated));
    }
    let id = match input.id {
        Some(id) => {
            let id = id.to_string();
            if let Some(row) = store.by_id(&id)? {
                let mine = row.user_id == subject.user_id;
                if mine && !row.deleted && row.content_hash == hash {
                    return Ok((SyncResult::Unchanged, row));
                }
                return Err(SyncError::Conflict(if row.deleted && mine {
                    "A session with this id was deleted; use a new id."
                } else {
                    "A different session already has this id. Replaying a create must send the same content."
                }));
            }
            id
        }
        // Time-ordered (UUIDv7): new rows land at the end of the primary-key index.
        None => uuid::Uuid::now_v7().to_string(),
    };
    let row = new_row(subject, id, normalised, store.next_position()?);
    store.insert(row.clone())?;
    Ok((SyncResult::Created, row))
}

fn new_row(subject: &Subject, id: String, n: Normalised, seq: i64) -> SessionRow {
    let now = crate::db::now();
    SessionRow {
        id,
        user_id: subject.user_id.clone(),
        programme_id: n.programme_id,
        started_at: n.started_at,
        utc_offset_minutes: n.utc_offset_minutes,
        duration_seconds: n.duration_seconds,
        source: subject.source_name().to_owned(),
        external_id: n.external_id,
        external_version: n.external_version,
        content: n.content,
        content_hash: n.content_hash,
        version: 1,
        seq,
        deleted: false,
        created_at: now,
        updated_at: now,
    }
}

/// The stored row with `n` written over it: a new version and change position.
pub fn rewritten(old: &SessionRow, n: Normalised, seq: i64) -> SessionRow {
    SessionRow {
        programme_id: n.programme_id,
        started_at: n.started_at,
        utc_offset_minutes: n.utc_offset_minutes,
        duration_seconds: n.duration_seconds,
        external_id: n.external_id,
        external_version: n.external_version,
        content: n.content,
        content_hash: n.content_hash,
        version: old.version + 1,
        seq,
        deleted: false,
        updated_at: crate::db::now(),
        ..old.clone()
    }
}
