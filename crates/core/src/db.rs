//! Opening the database. SQLite (the embedded default) gets WAL, a busy timeout and foreign
//! keys on every connection; PostgreSQL is used as it comes. Write transactions begin
//! IMMEDIATE on SQLite so that concurrent writers wait their turn instead of failing with
//! "database is locked" when a read transaction tries to upgrade.

use std::time::Duration;

use sea_orm::sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    ConnectOptions, Database, DatabaseConnection, DbBackend, DbErr, SqliteTransactionMode, TransactionOptions,
    TransactionTrait,
};

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

/// Begins a transaction that will write. On SQLite it takes the write lock at once; inside an
/// existing transaction it becomes a savepoint.
pub async fn begin_write<C>(db: &C) -> Result<C::Transaction, DbErr>
where
    C: TransactionTrait,
{
    db.begin_with_options(TransactionOptions {
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        ..Default::default()
    })
    .await
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
