//! A fresh, migrated database for each test. By default a SQLite file in a temporary folder;
//! when `GRANARY_TEST_DATABASE_URL` names a PostgreSQL server (for example
//! `postgres://postgres@127.0.0.1:5432/postgres`), a new database is created on it for the
//! test and dropped when the test ends.

use granary_migrations::MigratorTrait;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement};

use crate::db::{PoolSize, connect, sqlite_url};

/// The environment variable that selects PostgreSQL for tests.
pub const TEST_DATABASE_URL: &str = "GRANARY_TEST_DATABASE_URL";

/// A database that lives as long as the test.
pub struct TestDb {
    pub db: DatabaseConnection,
    pub url: String,
    _dir: Option<tempfile::TempDir>,
    drop_on_server: Option<(String, String)>,
}

impl TestDb {
    /// A migrated database on the backend the environment selects.
    pub async fn new() -> TestDb {
        let t = Self::empty().await;
        let schema = t.schema_connection().await;
        granary_migrations::Migrator::up(&schema, None)
            .await
            .expect("migrations apply to a fresh test database");
        let _ = schema.close().await;
        t
    }

    /// A one-connection pool to the same database, for changing the schema. Migrations run
    /// on a single connection: spread over a pool, a SQLite connection still holding an
    /// older read snapshot can see tables and indexes another connection has just dropped.
    pub async fn schema_connection(&self) -> DatabaseConnection {
        connect(&self.url, PoolSize(1))
            .await
            .expect("open a schema connection to the test database")
    }

    /// An empty database (no migrations applied) on the backend the environment selects.
    pub async fn empty() -> TestDb {
        match std::env::var(TEST_DATABASE_URL) {
            Ok(server) if server.starts_with("postgres") => Self::postgres(&server).await,
            Ok(other) if !other.is_empty() => {
                panic!("{TEST_DATABASE_URL} must be a postgres:// URL, got {other:?}")
            }
            _ => Self::sqlite().await,
        }
    }

    async fn sqlite() -> TestDb {
        let dir = tempfile::tempdir().expect("temporary folder for the test database");
        let url = sqlite_url(&dir.path().join("granary-test.db"));
        let db = connect(&url, PoolSize(4)).await.expect("open SQLite test database");
        TestDb {
            db,
            url,
            _dir: Some(dir),
            drop_on_server: None,
        }
    }

    async fn postgres(server: &str) -> TestDb {
        let name = format!("granary_test_{}", uuid::Uuid::now_v7().simple());
        let admin = connect(server, PoolSize(1))
            .await
            .unwrap_or_else(|e| panic!("cannot reach the PostgreSQL server named by {TEST_DATABASE_URL}: {e}"));
        admin
            .execute_raw(Statement::from_string(
                DbBackend::Postgres,
                format!("CREATE DATABASE {name}"),
            ))
            .await
            .expect("create a test database");
        let _ = admin.close().await;
        let url = replace_database(server, &name);
        let db = connect(&url, PoolSize(4))
            .await
            .expect("open the PostgreSQL test database");
        TestDb {
            db,
            url,
            _dir: None,
            drop_on_server: Some((server.to_string(), name)),
        }
    }

    /// "SQLite" or "PostgreSQL".
    pub fn backend(&self) -> &'static str {
        crate::db::backend_name(self.db.get_database_backend())
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Some((server, name)) = self.drop_on_server.take() else {
            return;
        };
        // The test's runtime may be single-threaded and blocked here, so the drop runs on a
        // private runtime on its own thread, with a connection of its own; FORCE ends the
        // test's still-open connections.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build();
            if let Ok(rt) = rt {
                rt.block_on(async move {
                    if let Ok(admin) = connect(&server, PoolSize(1)).await {
                        let _ = admin
                            .execute_raw(Statement::from_string(
                                DbBackend::Postgres,
                                format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
                            ))
                            .await;
                        let _ = admin.close().await;
                    }
                });
            }
        })
        .join();
    }
}

/// The same server URL with another database name in its path.
pub fn replace_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let path_start = base[scheme_end..].find('/').map(|i| i + scheme_end);
    let host = match path_start {
        Some(p) => &base[..p],
        None => base,
    };
    match query {
        Some(q) => format!("{host}/{name}?{q}"),
        None => format!("{host}/{name}"),
    }
}
