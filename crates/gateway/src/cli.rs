//! The `granary` command line: `serve` (with `--demo` for demo data), `migrate`, `seed`,
//! and `audit verify`.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use clap::{Parser, Subcommand};
use granary_core::db::{PoolSize, backend_name, connect, redact_url};
use granary_core::time::{SharedClock, SystemClock};
use granary_documents::{DocumentStore, LocalStore, S3Settings, S3Store};
use granary_migrations::{Migrator, MigratorTrait};
use sea_orm::DatabaseConnection;

use crate::config::{Config, Overrides, StorageConfig};
use crate::state::AppState;
use crate::views::Views;

#[derive(Parser, Debug)]
#[command(
    name = "granary",
    version,
    about = "Grant solicitations and microgrants for community safety"
)]
pub struct Cli {
    /// A TOML configuration file (also GRANARY_CONFIG).
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// The address to listen on, such as 127.0.0.1:8080 (also GRANARY_BIND).
    #[arg(long, global = true, value_name = "ADDR")]
    pub bind: Option<String>,
    /// The folder for the SQLite database and local documents (also GRANARY_DATA_DIR).
    #[arg(long, global = true, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the web server (applies pending migrations first).
    Serve {
        /// Load the demo data before serving.
        #[arg(long)]
        demo: bool,
    },
    /// Apply pending database migrations.
    Migrate,
    /// Load the demo data (idempotent: running it twice changes nothing).
    Seed,
    /// Audit log tools.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// User accounts.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
}

#[derive(Subcommand, Debug)]
pub enum UserCommand {
    /// Create an account (its email counts as verified). Without --password-file a strong
    /// password is generated and printed once.
    Create {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        /// Make the user a site administrator.
        #[arg(long)]
        admin: bool,
        /// Read the password from the first line of this file.
        #[arg(long, value_name = "FILE")]
        password_file: Option<PathBuf>,
    },
}

#[derive(Subcommand, Debug)]
pub enum AuditCommand {
    /// Check that the audit log's hash chain is intact.
    Verify,
}

/// Opened resources shared by the commands.
pub struct Runtime {
    pub config: Config,
    pub db: DatabaseConnection,
    pub store: Arc<dyn DocumentStore>,
}

/// Opens the database (creating the data folder for SQLite) and applies migrations.
pub async fn open_database(config: &Config) -> anyhow::Result<DatabaseConnection> {
    if let Some(path) = config.sqlite_path()
        && let Some(parent) = path.parent()
        && !parent.as_os_str().is_empty()
    {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create the data folder {}", parent.display()))?;
    }
    let url = config.effective_database_url();
    let db = connect(&url, PoolSize(config.database_pool_size))
        .await
        .with_context(|| format!("cannot open the database at {}", redact_url(&url)))?;
    // Schema changes run on one connection of their own: spread over the pool, a SQLite
    // connection holding an older read snapshot could see what another just dropped.
    let schema = connect(&url, PoolSize(1))
        .await
        .with_context(|| format!("cannot open the database at {}", redact_url(&url)))?;
    Migrator::up(&schema, None)
        .await
        .context("applying database migrations")?;
    let _ = schema.close().await;
    Ok(db)
}

/// Opens the configured document store.
pub async fn open_store(config: &Config) -> anyhow::Result<Arc<dyn DocumentStore>> {
    Ok(match &config.storage {
        StorageConfig::Local { root } => Arc::new(
            LocalStore::new(root.clone(), config.max_upload_bytes)
                .with_context(|| format!("cannot use the document folder {}", root.display()))?,
        ),
        StorageConfig::S3(s3) => {
            let store = S3Store::new(S3Settings {
                endpoint: s3.endpoint.clone(),
                region: s3.region.clone(),
                bucket: s3.bucket.clone(),
                access_key_id: s3.access_key_id.clone(),
                secret_access_key: s3.secret_access_key.expose().to_string(),
                force_path_style: s3.path_style,
                max_size: config.max_upload_bytes,
                part_size: 0,
            })
            .context("configuring the S3 document store")?;
            if let Err(e) = store.check().await {
                tracing::warn!(error = %e, "the S3 document store is not reachable yet; /healthz will say so");
            }
            Arc::new(store)
        }
    })
}

async fn open(config: Config) -> anyhow::Result<Runtime> {
    let db = open_database(&config).await?;
    let store = open_store(&config).await?;
    Ok(Runtime { config, db, store })
}

fn init_tracing(filter: &str) {
    let filter =
        tracing_subscriber::EnvFilter::try_new(filter).unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .try_init();
}

/// Runs the command line; returns the process exit code.
pub async fn run(cli: Cli) -> std::process::ExitCode {
    let overrides = Overrides {
        config_file: cli.config.clone(),
        bind: cli.bind.clone(),
        data_dir: cli.data_dir.clone(),
    };
    let config = match Config::load(&overrides) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("granary: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    init_tracing(&config.log);
    for w in &config.warnings {
        tracing::warn!("{w}");
    }
    match execute(cli.command, config).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("granary: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

#[allow(clippy::print_stdout)]
async fn execute(command: Command, config: Config) -> anyhow::Result<()> {
    match command {
        Command::Migrate => {
            let db = open_database(&config).await?;
            println!("Database is up to date ({}).", describe_db(&config, &db));
        }
        Command::Seed => {
            let rt = open(config).await?;
            let r = crate::seed::seed_demo(&rt.db, &rt.store, chrono::Utc::now()).await?;
            granary_core::audit::chain_pending(&rt.db).await?;
            println!(
                "Demo data: {} offices; {} solicitations added, {} already present.",
                r.offices, r.created, r.skipped
            );
        }
        Command::Audit {
            command: AuditCommand::Verify,
        } => {
            let db = open_database(&config).await?;
            match granary_core::audit::verify(&db).await {
                Ok(n) => println!("The audit log is intact: {n} entries, hash chain verified."),
                Err(e) => anyhow::bail!("{e}"),
            }
        }
        Command::User {
            command:
                UserCommand::Create {
                    email,
                    name,
                    admin,
                    password_file,
                },
        } => {
            let db = open_database(&config).await?;
            let (password, generated) = match password_file {
                Some(f) => {
                    let text = std::fs::read_to_string(&f).with_context(|| format!("reading {}", f.display()))?;
                    (text.lines().next().unwrap_or("").to_string(), false)
                }
                None => (crate::seed::generate_password(), true),
            };
            let user =
                crate::seed::create_verified_user(&db, &email, &name, &password, admin, chrono::Utc::now()).await?;
            granary_core::audit::chain_pending(&db).await?;
            println!(
                "Created {}{} <{}>.",
                user.display_name,
                if admin { ", administrator," } else { "" },
                user.email.as_str()
            );
            if generated {
                println!("Password (shown once): {password}");
            }
        }
        Command::Serve { demo } => serve(open(config).await?, demo).await?,
    }
    Ok(())
}

fn describe_db(config: &Config, db: &DatabaseConnection) -> String {
    let backend = backend_name(db.get_database_backend());
    match config.sqlite_path() {
        Some(p) if config.database_url.is_none() => format!("{backend} at {}", p.display()),
        _ => format!("{backend} at {}", redact_url(&config.effective_database_url())),
    }
}

/// Builds the shared state for the router.
pub fn app_state(
    db: DatabaseConnection,
    store: Arc<dyn DocumentStore>,
    clock: SharedClock,
    config: &Config,
) -> anyhow::Result<AppState> {
    let mailer: Arc<dyn granary_identity::MailSender> = match &config.mail.smtp {
        Some(s) => Arc::new(
            granary_identity::SmtpSender::new(
                &s.host,
                s.port,
                s.username.clone(),
                s.password.as_ref().map(|p| granary_identity::Secret::new(p.expose())),
                &config.mail.from,
                s.starttls,
            )
            .context("configuring SMTP")?,
        ),
        None => Arc::new(granary_identity::FileSender::new(config.mail.outbox_dir.clone())),
    };
    Ok(AppState {
        db,
        store,
        views: Arc::new(Views::new().context("loading page templates")?),
        clock,
        public_url: config.public_url.clone(),
        max_body_bytes: config.max_body_bytes,
        expose_policy_verdict: false,
        mailer,
        postman: Some(Arc::new(tokio::sync::Notify::new())),
    })
}

/// How often `serve` seals new audit entries into the hash chain.
const AUDIT_CHAIN_EVERY: std::time::Duration = std::time::Duration::from_millis(250);

#[allow(clippy::print_stdout)]
async fn serve(rt: Runtime, demo: bool) -> anyhow::Result<()> {
    let Runtime { config, db, store } = rt;
    let demo_users = if demo {
        let r = crate::seed::seed_demo(&db, &store, chrono::Utc::now()).await?;
        tracing::info!(added = r.created, present = r.skipped, "demo data loaded");
        let users = crate::seed::seed_demo_users(&db, chrono::Utc::now()).await?;
        crate::seed::seed_demo_applications(&db, &store, chrono::Utc::now()).await?;
        crate::seed::seed_demo_review(&db, &store, chrono::Utc::now()).await?;
        users
    } else {
        Vec::new()
    };
    let clock: SharedClock = Arc::new(SystemClock);
    let closed = granary_solicitations::close_overdue(&db, clock.now()).await?;
    if closed > 0 {
        tracing::info!(closed, "closed solicitations whose deadline had passed");
    }
    let sweeper = {
        let (db, clock) = (db.clone(), clock.clone());
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(std::time::Duration::from_secs(60));
            loop {
                tick.tick().await;
                if let Err(e) = granary_solicitations::close_overdue(&db, clock.now()).await {
                    tracing::warn!(error = %e, "closing overdue solicitations failed; will retry");
                }
            }
        })
    };
    let chainer = {
        let db = db.clone();
        tokio::spawn(async move {
            // Seals the audit entries appended since the last pass into the hash chain. Off the
            // request path: requests only append, so they never wait for one another here.
            let mut tick = tokio::time::interval(AUDIT_CHAIN_EVERY);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                if let Err(e) = granary_core::audit::chain_pending(&db).await {
                    tracing::warn!(error = %e, "chaining the audit log failed; will retry");
                }
            }
        })
    };
    let listener = tokio::net::TcpListener::bind(config.bind).await.with_context(|| {
        format!(
            "cannot listen on {} (is another program using it? choose another with --bind)",
            config.bind
        )
    })?;
    let addr = listener.local_addr()?;
    println!("Granary is running at http://{addr}/");
    println!("  database:  {}", describe_db(&config, &db));
    println!("  documents: {}", store.describe());
    if demo {
        println!("  demo data: loaded (see /solicitations)");
        println!(
            "  demo accounts (demo mode only), password {}:",
            crate::seed::DEMO_PASSWORD
        );
        for u in &demo_users {
            println!("    {:<36} {}", u.email, u.role);
        }
    }
    match &config.mail.smtp {
        Some(s) => println!("  email:     SMTP via {}:{}", s.host, s.port),
        None => println!(
            "  email:     written to {} (no SMTP configured)",
            config.mail.outbox_dir.display()
        ),
    }
    println!("Press Ctrl-C to stop.");
    let state = app_state(db.clone(), store, clock.clone(), &config)?;
    let postman = {
        let (db, mailer, wake) = (db.clone(), state.mailer.clone(), state.postman.clone());
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(std::time::Duration::from_secs(30));
            loop {
                // Every 30 seconds for retries, and as soon as something is queued. A burst of
                // queued emails wakes the loop once.
                match &wake {
                    Some(w) => tokio::select! {
                        _ = tick.tick() => {}
                        _ = w.notified() => {}
                    },
                    None => {
                        tick.tick().await;
                    }
                }
                // Deliver in batches until the outbox is drained.
                loop {
                    match granary_identity::deliver_pending(&db, mailer.as_ref(), clock.now()).await {
                        Ok(n) if n > 0 => continue,
                        Ok(_) => break,
                        Err(e) => {
                            tracing::warn!(error = %e, "delivering queued email failed; will retry");
                            break;
                        }
                    }
                }
            }
        })
    };
    let app = crate::router(state).into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown_signal())
        .await?;
    sweeper.abort();
    postman.abort();
    chainer.abort();
    // Seal what the last requests appended before leaving.
    if let Err(e) = granary_core::audit::chain_pending(&db).await {
        tracing::warn!(error = %e, "chaining the audit log at shutdown failed; the next start or `granary audit verify` will");
    }
    let _ = db.close().await;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down");
}
