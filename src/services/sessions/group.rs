//! Group commit for new sessions. Sessions that name nothing already stored (a server-assigned
//! id, no external id) need no lookup first, so concurrent ones can share one statement and
//! one commit. Each process has one [`Writer`] (its task on the main runtime, shared by the
//! workers): a create hands its row to it and waits for the answer. While
//! [`GROUPS_IN_FLIGHT`] groups are being written, new creates queue, and the next
//! group takes everything queued (up to [`MAX_GROUP`]). An idle server writes a lone create at
//! once, as before; a busy one writes tens per commit instead of one, so the database and the
//! blocking threads do a fraction of the work.
//!
//! Order and isolation do not change: the group takes each user's lock before its position
//! (see `repository::sessions::insert_new_many`), and only tries it. A user the group cannot
//! serve at once (their lock is held elsewhere: a batch, another replica's group) is left out
//! while the rest of the group is answered, so nobody waits for another user; that user's
//! sessions then wait for their lock together, in one statement of their own (a deleted
//! account's are written one by one, which refuses them). A user's creates that arrive while
//! that user's sessions are being written wait for that write and go into the next group
//! together, instead of colliding with it.
//!
//! The queue is bounded: a full one answers 503 at once, and a create that waited in it longer
//! than [`QUEUE_WAIT`] (or whose client has gone) is not written, so an overloaded server sheds
//! load instead of piling requests up in memory.

use std::cell::RefCell;
use std::collections::{HashMap, HashSet, VecDeque};
use std::pin::pin;
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::future::{Either, select};
use tokio::sync::{Notify, Semaphore, mpsc, oneshot};
use tracing::Instrument as _;

use crate::db::{self, DbError, DbPool};
use crate::error::ApiError;
use crate::repository::events::EventRow;
use crate::repository::sessions::{self as repo, Locks, SessionRow};

/// Groups written at once. More would let each hold fewer sessions (less
/// sharing); fewer would leave the pool idle while one commits (benches/README.md).
const GROUPS_IN_FLIGHT: usize = 2;
/// The most sessions in one group (one statement: 19 arrays of this length).
const MAX_GROUP: usize = 64;
/// Creates held waiting in the channel (one more is answered 503), and at most as many more
/// taken from it for the users being written.
const QUEUE: usize = 16 * MAX_GROUP;
/// The longest a create waits in the queue before it is answered 503 unwritten (as long as a
/// single create waits for a database connection).
const QUEUE_WAIT: Duration = Duration::from_secs(5);

type Reply = oneshot::Sender<Result<SessionRow, ApiError>>;

struct Job {
    row: SessionRow,
    event: EventRow,
    reply: Reply,
    queued: Instant,
    span: tracing::Span,
}

/// The process's queue of new sessions (see the module's notes).
#[derive(Clone)]
pub struct Writer {
    jobs: mpsc::Sender<Job>,
}

impl Writer {
    /// Starts the writer on the current runtime (once, before the server's workers start).
    pub fn start(pool: DbPool) -> Self {
        let (jobs, queue) = mpsc::channel(QUEUE);
        tokio::task::spawn_local(run(pool, queue));
        Self { jobs }
    }

    /// Stores a new session and its event, sets their positions, and returns the row.
    pub(super) async fn insert(&self, row: SessionRow, event: EventRow) -> Result<SessionRow, ApiError> {
        let (reply, answer) = oneshot::channel();
        let job = Job {
            row,
            event,
            reply,
            queued: Instant::now(),
            span: tracing::Span::current(),
        };
        self.jobs.try_send(job).map_err(|e| match e {
            mpsc::error::TrySendError::Full(_) => busy(),
            mpsc::error::TrySendError::Closed(_) => stopping(),
        })?;
        answer.await.map_err(|_| stopping())?
    }
}

fn stopping() -> ApiError {
    ApiError::ServiceUnavailable("The server is shutting down; retry.".into())
}

fn busy() -> ApiError {
    ApiError::ServiceUnavailable(
        "The server has more sessions to write than it can take now; retry later.".into(),
    )
}

async fn run(pool: DbPool, mut queue: mpsc::Receiver<Job>) {
    let slots = Arc::new(Semaphore::new(GROUPS_IN_FLIGHT));
    // Users with a write in flight, and a signal when one ends. A second group for the same
    // user would find the lock taken by the first and leave that user out; instead their
    // creates wait here and join the next group.
    let writing = Writing::default();
    let mut held: VecDeque<Job> = VecDeque::new();
    loop {
        if held.is_empty() {
            let Some(job) = queue.recv().await else { return };
            held.push_back(job);
        }
        // Wait for a free slot before gathering: whatever arrives meanwhile joins this group.
        let Ok(slot) = Arc::clone(&slots).acquire_owned().await else {
            return;
        };
        while held.len() < QUEUE
            && let Ok(job) = queue.try_recv()
        {
            held.push_back(job);
        }
        let mut group = Vec::new();
        let mut later = VecDeque::new();
        for job in held.drain(..) {
            if job.reply.is_closed() {
                // The client has gone: nobody to answer, and nothing written is the safer end.
            } else if job.queued.elapsed() > QUEUE_WAIT {
                let _ = job.reply.send(Err(busy()));
            } else if group.len() < MAX_GROUP && !writing.has(&job.row.user_id) {
                group.push(job);
            } else {
                later.push_back(job);
            }
        }
        held = later;
        if group.is_empty() {
            // Every held create is for a user being written now: wait for a write to end, or
            // for a create of someone else.
            drop(slot);
            if !held.is_empty() {
                let ended = writing.ended.notified();
                match select(pin!(ended), pin!(queue.recv())).await {
                    Either::Right((Some(job), _)) => held.push_back(job),
                    Either::Right((None, _)) => return,
                    Either::Left(_) => {}
                }
            }
            continue;
        }
        let users: Vec<String> = group.iter().map(|job| job.row.user_id.clone()).collect();
        writing.start(&users);
        let (pool, writing) = (pool.clone(), writing.clone());
        tokio::task::spawn_local(async move {
            let left_out = write(&pool, group, Locks::Try).await;
            drop(slot);
            // A user left out is busy elsewhere (another replica's group, a batch) or gone:
            // their sessions wait for their lock together, holding up nobody else, and stay
            // in `writing` until then.
            let mut busy: HashMap<String, Vec<Job>> = HashMap::new();
            for job in left_out {
                busy.entry(job.row.user_id.clone()).or_default().push(job);
            }
            writing.end(users.iter().filter(|user| !busy.contains_key(*user)));
            for (user, jobs) in busy {
                let (pool, writing) = (pool.clone(), writing.clone());
                tokio::task::spawn_local(async move {
                    for job in write(&pool, jobs, Locks::Wait).await {
                        // Still left out: the account is gone, which the single write says.
                        tokio::task::spawn_local(
                            alone(pool.clone(), job.row, job.event, job.reply).instrument(job.span),
                        );
                    }
                    writing.end(std::iter::once(&user));
                });
            }
        });
    }
}

/// The users whose sessions are being written, and a signal when a write ends.
#[derive(Clone, Default)]
struct Writing {
    users: Rc<RefCell<HashSet<String>>>,
    ended: Rc<Notify>,
}

impl Writing {
    fn has(&self, user: &str) -> bool {
        self.users.borrow().contains(user)
    }

    fn start(&self, users: &[String]) {
        self.users.borrow_mut().extend(users.iter().cloned());
    }

    fn end<'a>(&self, users: impl Iterator<Item = &'a String>) {
        {
            let mut writing = self.users.borrow_mut();
            for user in users {
                writing.remove(user);
            }
        }
        self.ended.notify_one();
    }
}

/// Writes a group in one statement and answers each create it stored; returns the ones it
/// left out. A failed group stored nothing: all of it is left out, to be written apart.
async fn write(pool: &DbPool, group: Vec<Job>, locks: Locks) -> Vec<Job> {
    let mut writes = Vec::with_capacity(group.len());
    let mut waiting = Vec::with_capacity(group.len());
    for job in group {
        writes.push((job.row, job.event));
        waiting.push((job.reply, job.queued, job.span));
    }
    let result = db::autocommit(pool, move |conn| {
        let done = repo::insert_new_many(conn, &mut writes, locks).unwrap_or_else(|e| {
            tracing::debug!(error = %e, size = writes.len(), "group of new sessions failed; writing them apart");
            vec![false; writes.len()]
        });
        Ok(writes.into_iter().zip(done).collect::<Vec<_>>())
    })
    .await;
    let mut left_out = Vec::new();
    match result {
        Ok(outcomes) => {
            for ((reply, queued, span), ((row, event), done)) in waiting.into_iter().zip(outcomes) {
                if done {
                    // A create whose client went away has nobody to answer: its row stays stored.
                    let _ = reply.send(Ok(row));
                } else {
                    left_out.push(Job {
                        row,
                        event,
                        reply,
                        queued,
                        span,
                    });
                }
            }
        }
        Err(e) => {
            // No connection: nothing was written (503). A panic in the blocking task: the
            // group may or may not be stored, which only a 500 says honestly.
            for (reply, _, _) in waiting {
                let _ = reply.send(Err(match &e {
                    DbError::Pool(_) => ApiError::database_unavailable(),
                    other => ApiError::Internal(anyhow::anyhow!("group of new sessions: {other}")),
                }));
            }
        }
    }
    left_out
}

/// One session on its own, waiting for its user's lock like any single write.
async fn alone(pool: DbPool, mut row: SessionRow, mut event: EventRow, reply: Reply) {
    let result = db::autocommit(&pool, move |conn| {
        repo::insert_new(conn, &mut row, &mut event).map(|()| row)
    })
    .await;
    let _ = reply.send(result.map_err(ApiError::from));
}
