//! Group commit for new sessions. Sessions that name nothing already stored (a server-assigned
//! id, no external id) need no lookup first, so concurrent ones can share one statement and
//! one commit. Each worker has a [`Writer`]: a create hands its row to it and waits for the
//! answer. While [`GROUPS_IN_FLIGHT`] groups are being written, new creates queue, and the next
//! group takes everything queued (up to [`MAX_GROUP`]). An idle server writes a lone create at
//! once, as before; a busy one writes tens per commit instead of one, so the database and the
//! blocking threads do a fraction of the work.
//!
//! Order and isolation do not change: the group takes every user's lock before its position
//! (see `repository::sessions`), and a group that fails (an account deleted in between) is
//! written again one session at a time, so each create gets its own answer.

use std::sync::Arc;

use tokio::sync::{Semaphore, mpsc, oneshot};

use crate::db::{self, DbPool};
use crate::error::ApiError;
use crate::repository::events::EventRow;
use crate::repository::sessions::{self as repo, SessionRow};

/// Groups one worker writes at once. More would let each hold fewer sessions (less
/// sharing); fewer would leave the pool idle while one commits.
const GROUPS_IN_FLIGHT: usize = 2;
/// The most sessions in one group (one statement: 20 arrays of this length).
const MAX_GROUP: usize = 64;

struct Job {
    row: SessionRow,
    event: EventRow,
    reply: oneshot::Sender<Result<SessionRow, ApiError>>,
}

/// A worker's queue of new sessions (see the module's notes).
#[derive(Clone)]
pub struct Writer {
    jobs: mpsc::UnboundedSender<Job>,
}

impl Writer {
    /// Starts the writer on the current worker's runtime (call it from the app factory).
    pub fn start(pool: DbPool) -> Self {
        let (jobs, queue) = mpsc::unbounded_channel();
        tokio::task::spawn_local(run(pool, queue));
        Self { jobs }
    }

    /// Stores a new session and its event, sets their positions, and returns the row.
    pub(super) async fn insert(&self, row: SessionRow, event: EventRow) -> Result<SessionRow, ApiError> {
        let (reply, answer) = oneshot::channel();
        self.jobs
            .send(Job { row, event, reply })
            .map_err(|_| stopping())?;
        answer.await.map_err(|_| stopping())?
    }
}

fn stopping() -> ApiError {
    ApiError::ServiceUnavailable("The server is shutting down; retry.".into())
}

async fn run(pool: DbPool, mut queue: mpsc::UnboundedReceiver<Job>) {
    let slots = Arc::new(Semaphore::new(GROUPS_IN_FLIGHT));
    while let Some(first) = queue.recv().await {
        // Wait for a free slot before gathering: whatever arrives meanwhile joins this group.
        let Ok(slot) = Arc::clone(&slots).acquire_owned().await else {
            return;
        };
        let mut group = vec![first];
        while group.len() < MAX_GROUP
            && let Ok(job) = queue.try_recv()
        {
            group.push(job);
        }
        let pool = pool.clone();
        tokio::task::spawn_local(async move {
            write(&pool, group).await;
            drop(slot);
        });
    }
}

async fn write(pool: &DbPool, group: Vec<Job>) {
    let (writes, replies): (Vec<_>, Vec<_>) = group
        .into_iter()
        .map(|job| ((job.row, job.event), job.reply))
        .unzip();
    match db::autocommit(pool, move |conn| Ok(store(conn, writes))).await {
        Ok(results) => {
            for (reply, result) in replies.into_iter().zip(results) {
                // A create whose client went away has nobody to answer: its row stays stored.
                let _ = reply.send(result.map_err(|e| db::DbError::Query(e).into()));
            }
        }
        // No connection (or the blocking pool is gone): nothing was written.
        Err(e) => {
            let mut replies = replies.into_iter();
            if let Some(first) = replies.next() {
                let _ = first.send(Err(e.into()));
            }
            for reply in replies {
                let _ = reply.send(Err(ApiError::ServiceUnavailable(
                    "The database is unavailable; retry later.".into(),
                )));
            }
        }
    }
}

/// The group in one statement; if that fails, each session on its own, so that one failure
/// (its account deleted in between) does not fail the others.
fn store(
    conn: &mut db::AnyConnection,
    mut writes: Vec<(SessionRow, EventRow)>,
) -> Vec<diesel::QueryResult<SessionRow>> {
    match repo::insert_new_many(conn, &mut writes) {
        Ok(()) => writes.into_iter().map(|(row, _)| Ok(row)).collect(),
        Err(e) if writes.len() == 1 => vec![Err(e)],
        Err(e) => {
            tracing::debug!(error = %e, size = writes.len(), "group of new sessions failed; writing them one by one");
            writes
                .into_iter()
                .map(|(mut row, mut event)| repo::insert_new(conn, &mut row, &mut event).map(|()| row))
                .collect()
        }
    }
}
