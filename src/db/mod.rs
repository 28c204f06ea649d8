//! Storage: one diesel code path over SQLite (embedded default) and PostgreSQL (production).
//!
//! Repository modules (one per resource) hold sync functions that take `&mut AnyConnection`.
//! Use cases reach them only through [`run`]/[`query`] (reads) and [`write`]/[`write_query`]
//! (a transaction that may write), which move the blocking work off the async workers.
//!
//! SQLite has one writer at a time, so its pool keeps one writer connection and many reader
//! connections opened `query_only`: every write queues in the pool for that connection (a
//! bounded wait that ends in a 503), and a write sent down the read path fails loudly in tests
//! instead of racing the writer through SQLite's busy handler. PostgreSQL uses one pool for both.

mod prepared;
pub mod schema;

pub use prepared::{Prepared, prepared};

use std::path::Path;
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::r2d2::{self, ManageConnection, R2D2Connection};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

/// One set of migrations serves both engines (`migrations/shared`); `migrations/sqlite` and
/// `migrations/postgres` hold only the few whose SQL must differ, under the same names.
const SHARED_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/shared");
const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// The shared migrations and one engine's own, in version order.
struct Migrations(&'static EmbeddedMigrations);

impl<DB: diesel::backend::Backend> diesel::migration::MigrationSource<DB> for Migrations {
    fn migrations(&self) -> diesel::migration::Result<Vec<Box<dyn diesel::migration::Migration<DB>>>> {
        let mut all = diesel::migration::MigrationSource::<DB>::migrations(&SHARED_MIGRATIONS)?;
        all.extend(diesel::migration::MigrationSource::<DB>::migrations(self.0)?);
        all.sort_by_key(|m| m.name().version().to_string());
        Ok(all)
    }
}

/// Pragmas every SQLite connection gets: concurrent readers with one writer (WAL), waiting
/// instead of failing on a locked database, and enforced foreign keys.
const SQLITE_PRAGMAS: &str = "PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 5000; \
                              PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;";

/// One connection type for both engines. PostgreSQL comes first: `establish` tries variants in
/// order and SQLite accepts almost any string as a path (our pool never relies on that order:
/// [`Manager`] picks the variant from the URL).
#[derive(diesel::MultiConnection)]
pub enum AnyConnection {
    Postgresql(diesel::PgConnection),
    Sqlite(diesel::SqliteConnection),
}

/// The connection pools: one for reads and one for writes (the same pool on PostgreSQL; on
/// SQLite a single writer connection beside read-only readers).
#[derive(Clone)]
pub struct DbPool {
    reads: r2d2::Pool<Manager>,
    writes: r2d2::Pool<Manager>,
    backend: Backend,
}

impl DbPool {
    /// `(pool, in use, idle)` for the read and the write pool (one pool on PostgreSQL serves
    /// both: it is reported once).
    pub fn states(&self) -> Vec<(&'static str, u32, u32)> {
        let state = |p: &r2d2::Pool<Manager>| {
            let s = p.state();
            (
                s.connections.saturating_sub(s.idle_connections),
                s.idle_connections,
            )
        };
        let (used, idle) = state(&self.reads);
        let mut out = vec![("reads", used, idle)];
        if self.backend == Backend::Sqlite {
            let (used, idle) = state(&self.writes);
            out.push(("writes", used, idle));
        }
        out
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// A connection that may write, outside the request path (start-up, the CLI, tests).
    pub fn get(&self) -> Result<r2d2::PooledConnection<Manager>, r2d2::PoolError> {
        self.writes.get()
    }
}

/// Which engine a `DATABASE_URL` selects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn from_url(url: &str) -> Self {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Self::Postgres
        } else {
            Self::Sqlite
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sqlite => "sqlite",
            Self::Postgres => "postgres",
        }
    }
}

/// An r2d2 manager that opens the variant the URL names, so an odd URL can never fall through
/// to SQLite and create a stray file, and connection errors keep their real message.
#[derive(Debug)]
pub struct Manager {
    url: String,
    backend: Backend,
    /// SQLite readers are opened `query_only`, so only the writer connection can write.
    read_only: bool,
}

impl Manager {
    pub fn new(url: &str) -> Self {
        Self {
            url: url.to_owned(),
            backend: Backend::from_url(url),
            read_only: false,
        }
    }

    fn readers(&self) -> Self {
        Self {
            read_only: true,
            ..Self::new(&self.url)
        }
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }
}

impl ManageConnection for Manager {
    type Connection = AnyConnection;
    type Error = r2d2::Error;

    fn connect(&self) -> Result<AnyConnection, r2d2::Error> {
        match self.backend {
            Backend::Postgres => diesel::PgConnection::establish(&self.url)
                .map(AnyConnection::Postgresql)
                .map_err(r2d2::Error::ConnectionError),
            Backend::Sqlite => {
                let mut conn =
                    diesel::SqliteConnection::establish(&self.url).map_err(r2d2::Error::ConnectionError)?;
                conn.batch_execute(SQLITE_PRAGMAS)
                    .map_err(r2d2::Error::QueryError)?;
                if self.read_only {
                    conn.batch_execute("PRAGMA query_only = ON")
                        .map_err(r2d2::Error::QueryError)?;
                }
                Ok(AnyConnection::Sqlite(conn))
            }
        }
    }

    fn is_valid(&self, conn: &mut AnyConnection) -> Result<(), r2d2::Error> {
        conn.ping().map_err(r2d2::Error::QueryError)
    }

    fn has_broken(&self, conn: &mut AnyConnection) -> bool {
        std::thread::panicking() || conn.is_broken()
    }
}

/// Errors from the storage layer, before the HTTP policy in `error.rs` maps them.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("could not get a database connection: {0}")]
    Pool(#[from] diesel::r2d2::PoolError),
    #[error(transparent)]
    Query(#[from] diesel::result::Error),
    #[error("the blocking task was cancelled")]
    Blocking(#[from] actix_web::error::BlockingError),
}

/// Opens the pool and applies pending migrations.
///
/// For SQLite the URL may be a plain path, `sqlite://path` or `file:path`; the parent folder is
/// created. Returns an error naming what failed; start-up reports it and stops.
pub fn connect(url: &str, max_size: u32) -> anyhow::Result<DbPool> {
    use anyhow::Context as _;
    let url = url.trim();
    anyhow::ensure!(!url.is_empty(), "DATABASE_URL must not be empty");
    let manager = Manager::new(&normalise_sqlite_url(url));
    if manager.backend() == Backend::Sqlite
        && let Some(parent) = sqlite_path(url).parent().filter(|p| !p.as_os_str().is_empty())
    {
        create_private_dir(parent)
            .with_context(|| format!("DATABASE_URL: cannot create folder {}", parent.display()))?;
    }
    if manager.backend() == Backend::Sqlite {
        // Created 0600 before SQLite opens it; its -wal and -shm files take the same mode.
        create_private_file(sqlite_path(url))
            .with_context(|| format!("DATABASE_URL: cannot create {}", sqlite_path(url).display()))?;
    }
    // Connect once outside the pool: r2d2 would retry silently for the whole timeout.
    let mut probe = manager.connect().with_context(|| {
        format!(
            "DATABASE_URL: cannot open the {} database",
            manager.backend().as_str()
        )
    })?;
    let applied = run_migrations(&mut probe).context("DATABASE_URL: migrations failed")?;
    check_feed_positions(&mut probe)?;
    tracing::info!(backend = manager.backend().as_str(), applied, "database ready");
    let build = |manager: Manager, size: u32| {
        r2d2::Pool::builder()
            .max_size(size)
            .min_idle(Some(1))
            // r2d2 pings (`SELECT 1`) before every use. Without it the write path ran 20%
            // faster on PostgreSQL (benches/README.md), but diesel 2.3 does not mark a
            // connection broken when preparing a statement on it fails, so a connection that
            // died while idle could go back to the pool and fail request after request.
            .connection_timeout(Duration::from_secs(5))
            .build(manager)
            .context("DATABASE_URL: cannot build the connection pool")
    };
    Ok(match manager.backend() {
        Backend::Postgres => {
            let pool = build(manager, max_size)?;
            DbPool {
                reads: pool.clone(),
                writes: pool,
                backend: Backend::Postgres,
            }
        }
        Backend::Sqlite => DbPool {
            reads: build(manager.readers(), max_size)?,
            writes: build(manager, 1)?,
            backend: Backend::Sqlite,
        },
    })
}

/// PostgreSQL feed positions are transaction ids (see `repository::sessions`): a database
/// restored into a new cluster (pg_dump, logical replication) restarts the counter below the
/// stored positions, and new changes would sort before old ones. Refuse to start rather than
/// skip changes silently. `pg_upgrade` and physical copies keep the counter.
fn check_feed_positions(conn: &mut AnyConnection) -> anyhow::Result<()> {
    #[derive(QueryableByName)]
    struct Counter {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        next: i64,
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        stored: i64,
    }
    let AnyConnection::Postgresql(c) = conn else {
        return Ok(());
    };
    let counter: Counter = diesel::sql_query(
        "SELECT pg_snapshot_xmax(pg_current_snapshot())::text::bigint AS next, \
         COALESCE((SELECT MAX(seq) FROM sessions), 0) >> 20 AS stored",
    )
    .get_result(c)?;
    anyhow::ensure!(
        counter.next > counter.stored,
        "DATABASE_URL: this PostgreSQL cluster's transaction counter ({}) is behind the change-feed \
         positions stored in the database ({}): it was restored into a new cluster (pg_dump or logical \
         replication), and new changes would sort before old ones. Move it with pg_upgrade or a physical \
         copy instead (README, \"Running on PostgreSQL\").",
        counter.next,
        counter.stored
    );
    Ok(())
}

fn run_migrations(conn: &mut AnyConnection) -> anyhow::Result<usize> {
    let result = match conn {
        AnyConnection::Postgresql(c) => c
            .run_pending_migrations(Migrations(&POSTGRES_MIGRATIONS))
            .map(|v| v.len()),
        AnyConnection::Sqlite(c) => c
            .run_pending_migrations(Migrations(&SQLITE_MIGRATIONS))
            .map(|v| v.len()),
    };
    result.map_err(|e| anyhow::anyhow!(e))
}

fn normalise_sqlite_url(url: &str) -> String {
    match Backend::from_url(url) {
        Backend::Postgres => url.to_owned(),
        Backend::Sqlite => sqlite_path(url).to_string_lossy().into_owned(),
    }
}

fn sqlite_path(url: &str) -> &Path {
    let path = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .or_else(|| url.strip_prefix("file:"))
        .unwrap_or(url);
    Path::new(path.split('?').next().unwrap_or(path))
}

/// Runs `f` with a pooled read connection on the blocking thread pool, inside the caller's
/// tracing span (so what storage logs carries the request id). The error type is the caller's:
/// any type a [`DbError`] converts into. On SQLite the connection refuses writes: use [`write`].
pub async fn run<T, E, F>(pool: &DbPool, f: F) -> Result<T, E>
where
    F: FnOnce(&mut AnyConnection) -> Result<T, E> + Send + 'static,
    T: Send + 'static,
    E: From<DbError> + Send + 'static,
{
    blocking(&pool.reads, f).await
}

/// [`run`] for a closure of plain diesel queries.
pub async fn query<T, F>(pool: &DbPool, f: F) -> Result<T, DbError>
where
    F: FnOnce(&mut AnyConnection) -> QueryResult<T> + Send + 'static,
    T: Send + 'static,
{
    run(pool, move |conn| f(conn).map_err(DbError::Query)).await
}

/// Runs `f` in one transaction on a connection that may write: all of it commits, or none
/// of it (an `Err` rolls back). On SQLite it first takes the write lock (see
/// [`lock_for_write`]), and waits for the single writer connection at most the pool's
/// timeout, which answers 503.
pub async fn write<T, E, F>(pool: &DbPool, f: F) -> Result<T, E>
where
    F: FnOnce(&mut AnyConnection) -> Result<T, E> + Send + 'static,
    T: Send + 'static,
    E: From<DbError> + From<diesel::result::Error> + Send + 'static,
{
    blocking(&pool.writes, move |conn| {
        conn.transaction(|conn| {
            lock_for_write(conn)?;
            f(conn)
        })
    })
    .await
}

/// Runs `f` on a connection that may write, outside a transaction: for a single statement,
/// which is atomic by itself and costs one round trip on PostgreSQL. Several statements that
/// must succeed together belong in [`write`].
pub async fn autocommit<T, F>(pool: &DbPool, f: F) -> Result<T, DbError>
where
    F: FnOnce(&mut AnyConnection) -> QueryResult<T> + Send + 'static,
    T: Send + 'static,
{
    blocking(&pool.writes, move |conn| f(conn).map_err(DbError::Query)).await
}

/// [`write`] for a closure of plain diesel queries.
pub async fn write_query<T, F>(pool: &DbPool, f: F) -> Result<T, DbError>
where
    F: FnOnce(&mut AnyConnection) -> QueryResult<T> + Send + 'static,
    T: Send + 'static,
{
    write(pool, move |conn| f(conn).map_err(DbError::Query)).await
}

async fn blocking<T, E, F>(pool: &r2d2::Pool<Manager>, f: F) -> Result<T, E>
where
    F: FnOnce(&mut AnyConnection) -> Result<T, E> + Send + 'static,
    T: Send + 'static,
    E: From<DbError> + Send + 'static,
{
    let pool = pool.clone();
    let span = tracing::Span::current();
    actix_web::web::block(move || {
        let _entered = span.enter();
        if pool.state().idle_connections == 0 {
            crate::metrics::pool_wait();
        }
        let mut conn = pool.get().map_err(DbError::Pool)?;
        f(&mut conn)
    })
    .await
    .map_err(DbError::Blocking)?
}

impl AnyConnection {
    pub fn backend(&self) -> Backend {
        match self {
            Self::Postgresql(_) => Backend::Postgres,
            Self::Sqlite(_) => Backend::Sqlite,
        }
    }
}

/// The current time as stored: UTC, truncated to microseconds (PostgreSQL keeps no more), so
/// what a write returns equals what a later read returns on both engines.
pub fn now() -> chrono::NaiveDateTime {
    use chrono::Timelike as _;
    let now = chrono::Utc::now().naive_utc();
    now.with_nanosecond(now.nanosecond() / 1000 * 1000).unwrap_or(now)
}

/// Starts a write transaction the SQLite way: a transaction that reads first and writes later
/// cannot wait for the write lock (SQLite answers "database is locked" at once rather than risk
/// a deadlock), so write transactions take the lock with a no-op write before anything else.
/// PostgreSQL locks rows and needs nothing.
fn lock_for_write(conn: &mut AnyConnection) -> QueryResult<()> {
    if let AnyConnection::Sqlite(c) = conn {
        c.batch_execute("UPDATE app_meta SET value = value WHERE 0")?;
    }
    Ok(())
}

/// Serialises the [`write`]s that take the same `key` until they end. PostgreSQL: a
/// transaction-scoped advisory lock on the key's hash, so other keys never wait. SQLite has
/// one writer at a time: the key is moot, and this takes the write lock up front (see
/// [`lock_for_write`]).
pub fn lock_key(conn: &mut AnyConnection, key: &str) -> QueryResult<()> {
    match conn {
        AnyConnection::Postgresql(c) => prepared("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
            .bind::<diesel::sql_types::Text, _>(key)
            .execute(c)
            .map(drop),
        AnyConnection::Sqlite(_) => lock_for_write(conn),
    }
}

/// Whether the database answers and takes a write (see [`check_ready`]); which engine it is.
pub async fn ready(pool: &DbPool) -> Result<Backend, DbError> {
    blocking(&pool.writes, |conn| {
        check_ready(conn).map(|_| conn.backend()).map_err(DbError::Query)
    })
    .await
}

/// Is the database reachable and migrated? Used by `/readyz`.
/// Ready means the database answers and takes a write: a full disk or a read-only database
/// makes the instance unready (the write is rolled back, so nothing changes).
pub fn check_ready(conn: &mut AnyConnection) -> QueryResult<i64> {
    let count = schema::app_meta::table.count().get_result(conn)?;
    conn.transaction::<_, diesel::result::Error, _>(|conn| {
        diesel::insert_into(schema::app_meta::table)
            .values((
                schema::app_meta::key.eq("readiness-probe"),
                schema::app_meta::value.eq(""),
                schema::app_meta::updated_at.eq(now()),
            ))
            .execute(conn)?;
        Err(diesel::result::Error::RollbackTransaction)
    })
    .or_else(|e| match e {
        diesel::result::Error::RollbackTransaction => Ok(()),
        other => Err(other),
    })?;
    Ok(count)
}

/// Creates `dir` (and its parents) readable by this user only (0700).
pub fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    if dir.exists() {
        return Ok(());
    }
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

/// Creates `path` empty and readable by this user only (0600), unless it exists.
fn create_private_file(path: &Path) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The engine-specific migrations are exactly these, each with a twin of the same name in
    /// the other engine and none in the shared set; add one only where the SQL must differ.
    #[test]
    fn engine_specific_migrations_are_listed_and_twinned() {
        let names = |dir: &str| -> Vec<String> {
            let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("migrations")
                .join(dir);
            let mut v: Vec<String> = std::fs::read_dir(root)
                .expect("migrations folder")
                .flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect();
            v.sort();
            v
        };
        // app_meta: its first row is stamped with the engine's own UTC clock expression.
        // lean_write_indexes: SQLite cannot drop a table's inline UNIQUE constraints.
        let specific = [
            "2026-11-21-000000_create_app_meta",
            "2026-12-05-000000_lean_write_indexes",
        ];
        assert_eq!(names("sqlite"), specific);
        assert_eq!(names("postgres"), specific);
        let shared = names("shared");
        assert!(specific.iter().all(|s| !shared.contains(&(*s).to_owned())));
        let merged: Vec<String> = diesel::migration::MigrationSource::<diesel::sqlite::Sqlite>::migrations(
            &Migrations(&SQLITE_MIGRATIONS),
        )
        .expect("migrations")
        .iter()
        .map(|m| m.name().to_string())
        .collect();
        assert_eq!(merged.len(), shared.len() + specific.len());
        assert!(
            merged.windows(2).all(|w| w[0] < w[1]),
            "in version order: {merged:?}"
        );
    }

    /// SQLite: a write sent down the read path fails at once (it cannot race the writer
    /// through the busy handler), and writes from many tasks at once all land, in turn.
    #[actix_web::test]
    async fn sqlite_reads_cannot_write_and_writes_take_turns() -> anyhow::Result<()> {
        let dir = tempfile::tempdir()?;
        let url = dir.path().join("db.sqlite").to_string_lossy().into_owned();
        let pool = connect(&url, 4)?;
        let put = |key: String| {
            move |conn: &mut AnyConnection| {
                diesel::insert_into(schema::app_meta::table)
                    .values((
                        schema::app_meta::key.eq(key),
                        schema::app_meta::value.eq(""),
                        schema::app_meta::updated_at.eq(now()),
                    ))
                    .execute(conn)
            }
        };
        let refused = query(&pool, put("through-a-reader".into())).await;
        assert!(
            matches!(&refused, Err(DbError::Query(e)) if e.to_string().contains("readonly")),
            "{refused:?}"
        );
        let writes = (0..64).map(|n| {
            let pool = pool.clone();
            let put = put(format!("key-{n}"));
            async move {
                match n % 3 {
                    0 => write_query(&pool, put).await,
                    1 => autocommit(&pool, put).await,
                    _ => write(&pool, move |c| put(c).map_err(DbError::Query)).await,
                }
            }
        });
        let results = futures_util::future::join_all(writes).await;
        assert!(results.iter().all(Result::is_ok), "{results:?}");
        let stored: i64 = query(&pool, |c| {
            schema::app_meta::table
                .filter(schema::app_meta::key.like("key-%"))
                .count()
                .get_result(c)
        })
        .await?;
        assert_eq!(stored, 64);
        Ok(())
    }

    #[test]
    fn urls_pick_the_engine() {
        assert_eq!(Backend::from_url("postgres://u@h/db"), Backend::Postgres);
        assert_eq!(Backend::from_url("postgresql://u@h/db"), Backend::Postgres);
        assert_eq!(Backend::from_url("data/soleus.db"), Backend::Sqlite);
        assert_eq!(Backend::from_url("sqlite://data/x.db"), Backend::Sqlite);
    }

    #[test]
    fn sqlite_urls_become_paths() {
        assert_eq!(sqlite_path("sqlite://data/x.db"), Path::new("data/x.db"));
        assert_eq!(sqlite_path("file:data/x.db?mode=rwc"), Path::new("data/x.db"));
        assert_eq!(sqlite_path("/tmp/a.db"), Path::new("/tmp/a.db"));
    }

    #[test]
    fn empty_url_is_refused() {
        let err = connect("  ", 1).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err.contains("DATABASE_URL"), "{err}");
    }
}
