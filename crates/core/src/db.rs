//! Opening the database. SQLite (the embedded default) gets WAL, a busy timeout and foreign
//! keys on every connection; PostgreSQL is used as it comes. Write transactions begin
//! IMMEDIATE on SQLite so that concurrent writers wait their turn instead of failing with
//! "database is locked" when a read transaction tries to upgrade, and writers in one process
//! take their turns from a queue rather than from the busy handler's sleeps.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use sea_orm::prelude::async_trait::async_trait;
use sea_orm::sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    AccessMode, ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, DbErr, ExecResult,
    IsolationLevel, QueryResult, SqliteTransactionMode, Statement, TransactionError, TransactionOptions,
    TransactionSession, TransactionTrait,
};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// How many connections a gateway keeps open.
#[derive(Debug, Clone, Copy)]
pub struct PoolSize(pub u32);

impl Default for PoolSize {
    fn default() -> Self {
        PoolSize(16)
    }
}

/// Opens a pool to a `sqlite://` or `postgres://` URL.
pub async fn connect(url: &str, pool: PoolSize) -> Result<DatabaseConnection, DbErr> {
    let mut opts = ConnectOptions::new(url.to_string());
    opts.max_connections(pool.0)
        .min_connections(1)
        .connect_timeout(Duration::from_secs(10))
        .acquire_timeout(Duration::from_secs(30))
        .sqlx_logging(false);
    if url.starts_with("sqlite:") {
        opts.map_sqlx_sqlite_opts(|o: SqliteConnectOptions| {
            o.create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(30))
                .foreign_keys(true)
        });
    }
    Database::connect(opts).await
}

/// The SQLite URL of a database file.
pub fn sqlite_url(path: &std::path::Path) -> String {
    format!("sqlite://{}?mode=rwc", path.display())
}

/// How long a writer waits for its turn before giving up, as long as SQLite's busy timeout.
const WRITE_TURN_TIMEOUT: Duration = Duration::from_secs(30);

/// The process's turns at writing to SQLite. SQLite lets one connection write at a time, and a
/// writer that finds the database locked sleeps in the busy handler and retries, so under load
/// writers wake in no particular order and the slowest wait several sleeps: the tail. Writers
/// in this process instead queue here, in order, without holding a pooled connection while
/// they wait; the busy timeout still covers other processes (such as `granary seed`).
///
/// One queue per process, not per database file: a gateway opens one database, and in a test
/// process, where many databases live side by side, sharing a queue costs a little
/// concurrency and nothing else.
fn sqlite_write_turns() -> Arc<Semaphore> {
    static TURNS: OnceLock<Arc<Semaphore>> = OnceLock::new();
    TURNS.get_or_init(|| Arc::new(Semaphore::new(1))).clone()
}

/// Whether `C` is the connection pool itself rather than an open transaction. `begin` on the
/// pool starts a transaction (which must wait its turn); `begin` on a transaction is a
/// savepoint inside a turn already held, and must not queue again. `TypeId` would need
/// `C: 'static`, which the service functions' generic connections do not promise, so this
/// compares type names; a type it does not recognise is treated as a transaction and writes
/// under the busy timeout alone, as before.
fn is_pool<C: ?Sized>() -> bool {
    std::any::type_name::<C>() == std::any::type_name::<DatabaseConnection>()
}

/// Begins a transaction that will write. On SQLite it first waits its turn in the process's
/// write queue, then takes the write lock at once (`BEGIN IMMEDIATE`), and holds both until
/// it commits, rolls back or is dropped. Inside an existing transaction it becomes a
/// savepoint of that transaction, which already holds the turn.
pub async fn begin_write<C>(db: &C) -> Result<WriteTransaction<C::Transaction>, DbErr>
where
    C: ConnectionTrait + TransactionTrait,
{
    let turn = if db.get_database_backend() == DbBackend::Sqlite && is_pool::<C>() {
        let waiting = tokio::time::timeout(WRITE_TURN_TIMEOUT, sqlite_write_turns().acquire_owned());
        match waiting.await {
            Ok(Ok(permit)) => Some(permit),
            Ok(Err(_closed)) => None,
            Err(_elapsed) => {
                return Err(DbErr::Custom(format!(
                    "waited {} s for a turn to write to the database",
                    WRITE_TURN_TIMEOUT.as_secs()
                )));
            }
        }
    } else {
        None
    };
    let txn = db
        .begin_with_options(TransactionOptions {
            sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
            ..Default::default()
        })
        .await?;
    Ok(WriteTransaction { txn, _turn: turn })
}

/// Runs one write statement on its own. On SQLite, given the pool, it runs in a write
/// transaction of its own so that it takes its turn in the queue: a lone statement that took
/// the write lock outside the queue would make the writer whose turn it is sleep in the busy
/// handler, with everyone else queued behind it. Elsewhere (PostgreSQL, or inside a
/// transaction) the statement simply runs.
pub async fn execute_alone<C>(db: &C, stmt: Statement) -> Result<ExecResult, DbErr>
where
    C: ConnectionTrait + TransactionTrait,
{
    if db.get_database_backend() == DbBackend::Sqlite && is_pool::<C>() {
        let txn = begin_write(db).await?;
        let done = txn.execute_raw(stmt).await?;
        txn.commit().await?;
        Ok(done)
    } else {
        db.execute_raw(stmt).await
    }
}

/// A transaction begun by `begin_write`: the database transaction and, on SQLite, the
/// process's turn to write, released only after the transaction ends (the fields drop in
/// order: the transaction, then the turn). It is used like the transaction itself, and
/// `TransactionSession::commit` or `rollback` ends it. One dropped without either (an early
/// return on an error) rolls back on its connection's worker just after the turn passes on,
/// so the next writer may wait a moment in the busy handler; nothing else changes.
pub struct WriteTransaction<T> {
    txn: T,
    _turn: Option<OwnedSemaphorePermit>,
}

#[async_trait]
impl<T: ConnectionTrait + Send> ConnectionTrait for WriteTransaction<T> {
    fn get_database_backend(&self) -> DbBackend {
        self.txn.get_database_backend()
    }

    async fn execute_raw(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
        self.txn.execute_raw(stmt).await
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        self.txn.execute_unprepared(sql).await
    }

    async fn query_one_raw(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        self.txn.query_one_raw(stmt).await
    }

    async fn query_all_raw(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        self.txn.query_all_raw(stmt).await
    }

    fn support_returning(&self) -> bool {
        self.txn.support_returning()
    }

    fn is_mock_connection(&self) -> bool {
        self.txn.is_mock_connection()
    }
}

/// Beginning inside a write transaction makes a savepoint of it, which shares its turn.
#[async_trait]
impl<T: TransactionTrait + Send> TransactionTrait for WriteTransaction<T> {
    type Transaction = T::Transaction;

    async fn begin(&self) -> Result<T::Transaction, DbErr> {
        self.txn.begin().await
    }

    async fn begin_with_config(
        &self,
        isolation_level: Option<IsolationLevel>,
        access_mode: Option<AccessMode>,
    ) -> Result<T::Transaction, DbErr> {
        self.txn.begin_with_config(isolation_level, access_mode).await
    }

    async fn begin_with_options(&self, options: TransactionOptions) -> Result<T::Transaction, DbErr> {
        self.txn.begin_with_options(options).await
    }

    async fn transaction<F, R, E>(&self, callback: F) -> Result<R, TransactionError<E>>
    where
        F: for<'c> FnOnce(&'c T::Transaction) -> Pin<Box<dyn Future<Output = Result<R, E>> + Send + 'c>> + Send,
        R: Send,
        E: std::fmt::Display + std::fmt::Debug + Send,
    {
        self.txn.transaction(callback).await
    }

    async fn transaction_with_config<F, R, E>(
        &self,
        callback: F,
        isolation_level: Option<IsolationLevel>,
        access_mode: Option<AccessMode>,
    ) -> Result<R, TransactionError<E>>
    where
        F: for<'c> FnOnce(&'c T::Transaction) -> Pin<Box<dyn Future<Output = Result<R, E>> + Send + 'c>> + Send,
        R: Send,
        E: std::fmt::Display + std::fmt::Debug + Send,
    {
        self.txn
            .transaction_with_config(callback, isolation_level, access_mode)
            .await
    }
}

#[async_trait]
impl<T: TransactionSession + Send> TransactionSession for WriteTransaction<T> {
    async fn commit(self) -> Result<(), DbErr> {
        self.txn.commit().await
    }

    async fn rollback(self) -> Result<(), DbErr> {
        self.txn.rollback().await
    }
}

/// A short name of the backend, for start-up messages and health output.
pub fn backend_name(backend: DbBackend) -> &'static str {
    match backend {
        DbBackend::Sqlite => "SQLite",
        DbBackend::Postgres => "PostgreSQL",
        _ => "unsupported",
    }
}

/// Hides the password of a database URL so it can be printed.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let userinfo = &url[scheme_end + 3..at];
            match userinfo.find(':') {
                Some(colon) => format!("{}{}:***{}", &url[..scheme_end + 3], &userinfo[..colon], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::redact_url;

    #[test]
    fn passwords_are_hidden() {
        assert_eq!(
            redact_url("postgres://granary:s3cret@db.example:5432/granary"),
            "postgres://granary:***@db.example:5432/granary"
        );
        assert_eq!(
            redact_url("postgres://postgres@127.0.0.1/x"),
            "postgres://postgres@127.0.0.1/x"
        );
        assert_eq!(redact_url("sqlite:///tmp/g.db?mode=rwc"), "sqlite:///tmp/g.db?mode=rwc");
    }
}
