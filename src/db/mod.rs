//! The database layer: one connection type over PostgreSQL and SQLite, the pool, migrations and
//! the bridge that keeps blocking database work off the async workers. Reads only: a write
//! transaction is to be had from `changes::write` alone, which records its events.

pub mod schema;
pub mod sql;

use std::ops::{Deref, DerefMut};
use std::time::{Duration, Instant};

use chrono::{DateTime, NaiveDateTime, SubsecRound, Utc};
use diesel::connection::SimpleConnection;
use diesel::r2d2::{self, ManageConnection};
use diesel::{Connection, PgConnection, SqliteConnection};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use crate::config::DatabaseUrl;
use crate::error::ApiError;

/// One connection type for both backends: every query is written once against it.
#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    Postgresql(PgConnection),
    Sqlite(SqliteConnection),
}

pub type Pool = r2d2::Pool<ConnectionManager>;

const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");
const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");

/// Picks the backend by the URL's scheme, so a connection failure reports its real cause.
#[derive(Debug, Clone)]
pub struct ConnectionManager {
    url: DatabaseUrl,
}

impl ConnectionManager {
    pub fn new(url: DatabaseUrl) -> Self {
        Self { url }
    }
}

/// Per-connection SQLite settings: wait for locks instead of failing, write-ahead logging for
/// concurrent readers, and enforced foreign keys. `busy_timeout` comes first so that switching
/// to WAL waits for other connections being opened at the same time. A new database gets
/// 16 KiB pages (before WAL fixes the size): an article of up to about 16 KB then fits on one
/// page, where with 4 KiB pages every read of the columns stored after its body would follow
/// the body's overflow chain. An existing database keeps its page size.
///
/// Last, `optimize` gathers table statistics where they are missing or stale (bounded by
/// `analysis_limit`, so it costs milliseconds): without them SQLite picks poor plans for the
/// related-suggestion and search queries on a large archive, as SQLite's documentation advises
/// for long-lived connections.
const SQLITE_PRAGMAS: &str = "PRAGMA busy_timeout = 5000; PRAGMA page_size = 16384; \
     PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; \
     PRAGMA analysis_limit = 1000; PRAGMA optimize = 0x10002;";

/// Per-connection PostgreSQL settings. Every statement is prepared once per connection
/// (diesel caches them), and with this also planned once: left to choose, PostgreSQL kept
/// planning the topic feed's statement at every execution (a custom plan, 0.2 ms of planning
/// for 0.1 ms of execution: 45-57 % more topic-feed requests a second with the generic plan,
/// which is the same index scan). Search, whose plan depends on its words, asks for custom
/// plans in its own transaction (`articles::search`).
const POSTGRES_SETTINGS: &str = "SET plan_cache_mode = force_generic_plan";

/// How long a connection that has just served without a database error is taken as sound:
/// checked out again within it, it runs no `SELECT 1` first. A round trip less per request
/// on PostgreSQL (5-14 % more reads a second); a connection idle for longer, or back from an
/// error, is checked as before, so after a database restart a request fails only if it was
/// under way, or came within the second after the connection's last use.
const TRUSTED_FOR: Duration = Duration::from_secs(1);

/// A pooled connection, and until when it goes unchecked.
pub struct Pooled {
    conn: DbConnection,
    trusted_until: Option<Instant>,
}

impl Deref for Pooled {
    type Target = DbConnection;

    fn deref(&self) -> &DbConnection {
        &self.conn
    }
}

impl DerefMut for Pooled {
    fn deref_mut(&mut self) -> &mut DbConnection {
        &mut self.conn
    }
}

/// Runs `work` with a pooled connection, on this thread.
pub fn pooled<T>(
    pool: &Pool,
    work: impl FnOnce(&mut DbConnection) -> Result<T, ApiError>,
) -> Result<T, ApiError> {
    let mut conn = pool.get().map_err(ApiError::from)?;
    let result = work(&mut conn);
    let sound = !matches!(
        result,
        Err(ApiError::Internal(_) | ApiError::Unavailable(_))
    );
    conn.trusted_until = sound.then(|| Instant::now() + TRUSTED_FOR);
    result
}

impl ManageConnection for ConnectionManager {
    type Connection = Pooled;
    type Error = r2d2::Error;

    fn connect(&self) -> Result<Pooled, r2d2::Error> {
        Ok(Pooled {
            conn: connect(&self.url)?,
            trusted_until: None,
        })
    }

    fn is_valid(&self, conn: &mut Pooled) -> Result<(), r2d2::Error> {
        if conn
            .trusted_until
            .is_some_and(|until| Instant::now() < until)
        {
            return Ok(());
        }
        conn.batch_execute("SELECT 1")
            .map_err(r2d2::Error::QueryError)
    }

    fn has_broken(&self, _conn: &mut Pooled) -> bool {
        false
    }
}

/// A connection of its own, with the backend's settings.
pub fn connect(url: &DatabaseUrl) -> Result<DbConnection, r2d2::Error> {
    match url {
        DatabaseUrl::Postgres(url) => {
            let mut conn = PgConnection::establish(url).map_err(r2d2::Error::ConnectionError)?;
            conn.batch_execute(POSTGRES_SETTINGS)
                .map_err(r2d2::Error::QueryError)?;
            Ok(DbConnection::Postgresql(conn))
        }
        DatabaseUrl::Sqlite(path) => {
            let mut conn = SqliteConnection::establish(&path.to_string_lossy())
                .map_err(r2d2::Error::ConnectionError)?;
            conn.batch_execute(SQLITE_PRAGMAS)
                .map_err(r2d2::Error::QueryError)?;
            Ok(DbConnection::Sqlite(conn))
        }
    }
}

/// Builds the pool without connecting: start-up connects (and migrates) on its own, and a
/// database that goes away later is reported by the readiness probe rather than a crash.
pub fn pool(url: &DatabaseUrl, size: u32) -> Pool {
    r2d2::Pool::builder()
        .max_size(size)
        .min_idle(Some(1))
        .connection_timeout(Duration::from_secs(5))
        .build_unchecked(ConnectionManager::new(url.clone()))
}

pub type MigrationError = Box<dyn std::error::Error + Send + Sync>;

/// Applies the pending migrations of the connection's backend; returns their versions.
pub fn run_migrations(conn: &mut DbConnection) -> Result<Vec<String>, MigrationError> {
    let applied = match conn {
        DbConnection::Postgresql(c) => c.run_pending_migrations(POSTGRES_MIGRATIONS)?,
        DbConnection::Sqlite(c) => c.run_pending_migrations(SQLITE_MIGRATIONS)?,
    };
    Ok(applied.into_iter().map(|v| v.to_string()).collect())
}

/// Runs blocking database work on actix's thread pool with a pooled connection.
pub async fn run<T, F>(pool: &Pool, work: F) -> Result<T, ApiError>
where
    F: FnOnce(&mut DbConnection) -> Result<T, ApiError> + Send + 'static,
    T: Send + 'static,
{
    let pool = pool.clone();
    actix_web::web::block(move || pooled(&pool, work))
        .await
        .map_err(|e| ApiError::internal(format!("blocking task failed: {e}")))?
}

/// Runs `work` in a transaction (a savepoint when one is open already): for savepoints inside
/// a write (`changes`), and for settings local to a read. On SQLite a new transaction is
/// `BEGIN IMMEDIATE`: it takes the write lock up front, so concurrent writers
/// wait for each other (busy_timeout) instead of one failing on a stale read snapshot.
pub fn in_transaction<T, F>(conn: &mut DbConnection, work: F) -> Result<T, ApiError>
where
    F: FnOnce(&mut DbConnection) -> Result<T, ApiError>,
{
    use diesel::connection::{AnsiTransactionManager, TransactionManager};
    let DbConnection::Sqlite(inner) = conn else {
        return conn.transaction(work);
    };
    let open = AnsiTransactionManager::transaction_manager_status_mut(inner)
        .transaction_depth()?
        .is_some();
    if open {
        return conn.transaction(work);
    }
    AnsiTransactionManager::begin_transaction_sql(inner, "BEGIN IMMEDIATE")?;
    match work(conn) {
        Ok(value) => {
            <DbConnection as TransactionManager<DbConnection>>::commit_transaction(conn)?;
            Ok(value)
        }
        Err(err) => {
            if let Err(rollback) =
                <DbConnection as TransactionManager<DbConnection>>::rollback_transaction(conn)
            {
                log::error!("rollback failed: {rollback}");
            }
            Err(err)
        }
    }
}

/// Runs `work` in a savepoint, again (up to ten times) when it ends in a conflict: a slug
/// derived as free can be taken by a concurrent writer before the insert (PostgreSQL reads
/// committed data; SQLite serialises writers and never gets here twice). Each round lets at
/// least one of the racing writers through.
pub fn retry_on_conflict<T, F>(conn: &mut DbConnection, mut work: F) -> Result<T, ApiError>
where
    F: FnMut(&mut DbConnection) -> Result<T, ApiError>,
{
    let mut attempt = 1;
    loop {
        match in_transaction(conn, &mut work) {
            Err(ApiError::Conflict(_)) if attempt < 10 => attempt += 1,
            result => return result,
        }
    }
}

/// The current time as stored: UTC, microsecond precision (what PostgreSQL keeps).
pub fn now() -> NaiveDateTime {
    Utc::now().naive_utc().trunc_subsecs(6)
}

/// A stored time as the API shows it.
pub fn utc(at: NaiveDateTime) -> DateTime<Utc> {
    at.and_utc()
}
