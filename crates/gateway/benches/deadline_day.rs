//! Deadline day: many applicants finish and submit at once against a running gateway.
//!
//! For each backend (SQLite in a temporary folder, then PostgreSQL in a fresh database that
//! is dropped at the end), the benchmark
//!
//! 1. sets up, in-process through the crates' service functions, one open solicitation and N
//!    applicant organizations, each with an owner and an API token, and an application saved
//!    complete except for the last answer and the required document;
//! 2. starts the real `granary serve` as a subprocess on a free port;
//! 3. lets C concurrent workers drain the N applicants over HTTP: the final save (`PUT`), the
//!    upload of a 256 KiB PDF, and the submission, timing every request and every flow;
//! 4. watches the gateway's memory (VmHWM, VmRSS sampled every 100 ms) and CPU time;
//! 5. uploads one 1 GiB document, streamed on both sides, and measures the memory it costs;
//! 6. submits another N ready applications in-process (no HTTP) with the same concurrency, the
//!    raw rate the gateway is compared with;
//! 7. checks every receipt the gateway returned against the stored submission.
//!
//! Run: `cargo bench -p granary-gateway --bench deadline_day [-- sqlite|postgres]`.
//! Settings (environment): `DEADLINE_N` (2000), `DEADLINE_C` (64), `DEADLINE_BACKEND`
//! (`sqlite`, `postgres` or `both`), `DEADLINE_POOL` (16, the database pool of the gateway and
//! of the raw run), `DEADLINE_ORGS_PER_USER` (10), `DEADLINE_PG_URL`
//! (`postgres://postgres@127.0.0.1:5432/postgres`), `DEADLINE_BIG_MIB` (1024; 0 skips the big
//! upload), `DEADLINE_RAW_FLOW` (1 also times save + attach + submit in-process).

// Figures (rates, percentiles, MiB/s, ratios) are reported in floating point.
#![allow(clippy::float_arithmetic, clippy::print_stdout)]

use std::collections::HashMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use anyhow::{Context as _, anyhow, bail};
use bytes::Bytes;
use chrono::Utc;
use futures::StreamExt;
use granary_applications::{self as apps, ApplicationContent, DocumentSlot};
use granary_core::db::{PoolSize, connect, sqlite_url};
use granary_core::document_record::{self, NewDocument};
use granary_core::id::{ApplicationId, DocumentId};
use granary_core::policy::{OrgKind, Scope};
use granary_core::time::SystemClock;
use granary_core::{Actor, Money};
use granary_documents::{DocumentKey, DocumentStore, LocalStore};
use granary_identity as identity;
use granary_migrations::{Migrator, MigratorTrait};
use granary_solicitations::{self as sol, Solicitation};
use http_body_util::BodyExt;
use http_body_util::combinators::UnsyncBoxBody;
use hyper::body::{Frame, SizeHint};
use hyper::{Method, Request, StatusCode};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement};
use sha2::{Digest, Sha256};

const KIB: u64 = 1024;
const MIB: u64 = 1024 * 1024;
/// The document each applicant uploads on deadline day.
const DOC_BYTES: usize = 256 * 1024;
const PDF_HEADER: &[u8] = b"%PDF-1.4\n";
const BOUNDARY: &str = "granary-deadline-day-7f3k9q";
const PASSWORD: &str = "deadline-day bench passphrase";
const REQUIRED_DOC: &str = "budget_narrative";

// ---------------------------------------------------------------------------------------
// Settings

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "SQLite",
            Backend::Postgres => "PostgreSQL",
        }
    }
}

#[derive(Debug, Clone)]
struct Settings {
    n: usize,
    c: usize,
    pool: u32,
    orgs_per_user: usize,
    backends: Vec<Backend>,
    pg_server: String,
    big_mib: u64,
    raw_flow: bool,
}

fn env_num<T: std::str::FromStr>(name: &str, default: T) -> anyhow::Result<T> {
    match std::env::var(name) {
        Ok(v) if !v.trim().is_empty() => v.trim().parse().map_err(|_| anyhow!("{name}={v:?} is not a number")),
        _ => Ok(default),
    }
}

fn parse_backends(word: &str) -> anyhow::Result<Vec<Backend>> {
    Ok(match word.to_ascii_lowercase().as_str() {
        "sqlite" => vec![Backend::Sqlite],
        "postgres" | "postgresql" | "pg" => vec![Backend::Postgres],
        "both" | "all" | "" => vec![Backend::Sqlite, Backend::Postgres],
        other => bail!("unknown backend {other:?}: use sqlite, postgres or both"),
    })
}

impl Settings {
    fn load() -> anyhow::Result<Settings> {
        // `cargo bench` passes `--bench`; other flags are ignored too. A bare word picks the
        // backend.
        let arg = std::env::args().skip(1).find(|a| !a.starts_with('-'));
        let backends = match arg {
            Some(a) => parse_backends(&a)?,
            None => parse_backends(&std::env::var("DEADLINE_BACKEND").unwrap_or_default())?,
        };
        let s = Settings {
            n: env_num("DEADLINE_N", 2000)?,
            c: env_num("DEADLINE_C", 64)?,
            pool: env_num("DEADLINE_POOL", 16)?,
            orgs_per_user: env_num("DEADLINE_ORGS_PER_USER", 10)?,
            backends,
            pg_server: std::env::var("DEADLINE_PG_URL")
                .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into()),
            big_mib: env_num("DEADLINE_BIG_MIB", 1024)?,
            raw_flow: env_num("DEADLINE_RAW_FLOW", 0_u8)? != 0,
        };
        if s.n == 0 || s.c == 0 || s.pool == 0 || s.orgs_per_user == 0 {
            bail!("DEADLINE_N, DEADLINE_C, DEADLINE_POOL and DEADLINE_ORGS_PER_USER must be at least 1");
        }
        Ok(s)
    }
}

// ---------------------------------------------------------------------------------------
// Figures

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / MIB as f64
}

#[derive(Debug, Clone, Copy, Default)]
struct Stats {
    n: usize,
    p50: Duration,
    p90: Duration,
    p99: Duration,
    max: Duration,
}

impl Stats {
    /// Nearest-rank percentiles.
    fn of(mut v: Vec<Duration>) -> Stats {
        if v.is_empty() {
            return Stats::default();
        }
        v.sort_unstable();
        let at = |permille: usize| v[(v.len() * permille).div_ceil(1000).saturating_sub(1)];
        Stats {
            n: v.len(),
            p50: at(500),
            p90: at(900),
            p99: at(990),
            max: v[v.len() - 1],
        }
    }

    fn line(&self) -> String {
        format!(
            "p50 {:7.1} ms  p90 {:7.1} ms  p99 {:7.1} ms  max {:7.1} ms  (n={})",
            ms(self.p50),
            ms(self.p90),
            ms(self.p99),
            ms(self.max),
            self.n
        )
    }
}

// ---------------------------------------------------------------------------------------
// The gateway's process: memory and CPU from /proc

fn proc_status_kib(pid: u32, key: &str) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    text.lines().find_map(|l| {
        let rest = l.strip_prefix(key)?.strip_prefix(':')?;
        rest.split_whitespace().next()?.parse().ok()
    })
}

/// User + system CPU time of a process (all its threads), in clock ticks (USER_HZ, 100/s).
fn proc_cpu_ticks(pid: u32) -> Option<(String, u64)> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let open = text.find('(')?;
    let close = text.rfind(')')?;
    let comm = text[open + 1..close].to_string();
    let fields: Vec<&str> = text[close + 2..].split_whitespace().collect();
    // After the command: state(0) ppid ... utime is field 14 of the line, index 11 here.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some((comm, utime + stime))
}

/// CPU ticks of every process named `postgres` (the server and its backends).
fn postgres_cpu_ticks() -> u64 {
    let Ok(dir) = std::fs::read_dir("/proc") else { return 0 };
    dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter_map(proc_cpu_ticks)
        .filter(|(comm, _)| comm == "postgres")
        .map(|(_, t)| t)
        .sum()
}

/// Busy and total ticks of the whole machine (all users' work, including other builds).
fn machine_ticks() -> (u64, u64) {
    let text = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let Some(line) = text.lines().next() else { return (0, 0) };
    let v: Vec<u64> = line.split_whitespace().skip(1).filter_map(|x| x.parse().ok()).collect();
    let total: u64 = v.iter().take(8).sum();
    let idle = v.get(3).copied().unwrap_or(0) + v.get(4).copied().unwrap_or(0);
    (total - idle, total)
}

/// Where the CPU went during a timed phase.
#[derive(Debug, Clone, Copy, Default)]
struct CpuSnapshot {
    gateway: u64,
    postgres: u64,
    bench: u64,
    busy: u64,
    total: u64,
}

impl CpuSnapshot {
    fn take(gateway: Option<u32>) -> CpuSnapshot {
        let (busy, total) = machine_ticks();
        CpuSnapshot {
            gateway: gateway.and_then(proc_cpu_ticks).map(|x| x.1).unwrap_or(0),
            postgres: postgres_cpu_ticks(),
            bench: proc_cpu_ticks(std::process::id()).map(|x| x.1).unwrap_or(0),
            busy,
            total,
        }
    }

    fn since(&self, before: &CpuSnapshot) -> CpuSnapshot {
        CpuSnapshot {
            gateway: self.gateway.saturating_sub(before.gateway),
            postgres: self.postgres.saturating_sub(before.postgres),
            bench: self.bench.saturating_sub(before.bench),
            busy: self.busy.saturating_sub(before.busy),
            total: self.total.saturating_sub(before.total),
        }
    }

    fn line(&self, wall: Duration, per: usize) -> String {
        let s = |t: u64| t as f64 / 100.0;
        let per_ms = |t: u64| s(t) * 1000.0 / per.max(1) as f64;
        let others = self.busy.saturating_sub(self.gateway + self.postgres + self.bench);
        format!(
            "CPU s: gateway {:.1} ({:.2} ms/flow), postgres {:.1} ({:.2} ms/flow), bench {:.1}, everything else {:.1}; machine busy {:.0}% of {:.1} s x cores",
            s(self.gateway),
            per_ms(self.gateway),
            s(self.postgres),
            per_ms(self.postgres),
            s(self.bench),
            s(others),
            if self.total == 0 {
                0.0
            } else {
                self.busy as f64 * 100.0 / self.total as f64
            },
            wall.as_secs_f64(),
        )
    }
}

/// Samples a process's VmRSS every 100 ms until stopped; returns the largest seen (KiB).
struct RssSampler {
    stop: Arc<AtomicBool>,
    max: Arc<AtomicU64>,
    task: tokio::task::JoinHandle<()>,
}

impl RssSampler {
    fn start(pid: u32) -> RssSampler {
        let stop = Arc::new(AtomicBool::new(false));
        let max = Arc::new(AtomicU64::new(proc_status_kib(pid, "VmRSS").unwrap_or(0)));
        let task = {
            let (stop, max) = (stop.clone(), max.clone());
            tokio::spawn(async move {
                let mut tick = tokio::time::interval(Duration::from_millis(100));
                while !stop.load(Ordering::Relaxed) {
                    tick.tick().await;
                    if let Some(v) = proc_status_kib(pid, "VmRSS") {
                        max.fetch_max(v, Ordering::Relaxed);
                    }
                }
            })
        };
        RssSampler { stop, max, task }
    }

    async fn finish(self) -> u64 {
        self.stop.store(true, Ordering::Relaxed);
        let _ = self.task.await;
        self.max.load(Ordering::Relaxed)
    }
}

// ---------------------------------------------------------------------------------------
// Databases

/// Drops the benchmark's PostgreSQL database when it goes out of scope, also on panic.
struct PgDatabase {
    server: String,
    name: String,
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        let (server, name) = (self.server.clone(), self.name.clone());
        // The caller's runtime may be busy or gone: drop on a private one.
        let _ = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_all().build() else {
                return;
            };
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
        })
        .join();
        println!("  dropped database {}", self.name);
    }
}

/// One backend's database and data folder.
struct Place {
    url: String,
    data_dir: tempfile::TempDir,
    _pg: Option<PgDatabase>,
}

async fn make_place(backend: Backend, settings: &Settings) -> anyhow::Result<Place> {
    let data_dir = tempfile::Builder::new()
        .prefix("granary-deadline-")
        .tempdir()
        .context("temporary folder")?;
    match backend {
        Backend::Sqlite => Ok(Place {
            url: sqlite_url(&data_dir.path().join("granary.db")),
            data_dir,
            _pg: None,
        }),
        Backend::Postgres => {
            let name = format!("granary_bench_{}", std::process::id());
            let admin = connect(&settings.pg_server, PoolSize(1))
                .await
                .with_context(|| format!("cannot reach PostgreSQL at {}", settings.pg_server))?;
            for sql in [
                format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
                format!("CREATE DATABASE {name}"),
            ] {
                admin
                    .execute_raw(Statement::from_string(DbBackend::Postgres, sql))
                    .await?;
            }
            let _ = admin.close().await;
            Ok(Place {
                url: granary_core::testing::replace_database(&settings.pg_server, &name),
                data_dir,
                _pg: Some(PgDatabase {
                    server: settings.pg_server.clone(),
                    name,
                }),
            })
        }
    }
}

async fn migrate(url: &str) -> anyhow::Result<()> {
    // As `granary migrate` does: on one connection of its own.
    let schema = connect(url, PoolSize(1)).await?;
    Migrator::up(&schema, None).await.context("migrations")?;
    let _ = schema.close().await;
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Set-up through the service functions

fn solicitation_content(closes_at: chrono::DateTime<Utc>) -> anyhow::Result<sol::SolicitationContent> {
    let dollars = |d: i64| Money::from_dollars(d).map_err(|e| anyhow!("{e}"));
    Ok(sol::SolicitationContent {
        number: "BENCH-2027-0001".into(),
        title: "Deadline Day Community Safety Microgrants".into(),
        summary: "Small grants for neighborhood violence prevention.".into(),
        description: "The full text of the solicitation.".into(),
        program_areas: vec![sol::ProgramArea::Prevention, sol::ProgramArea::Intervention],
        eligibility: sol::Eligibility {
            applicant_types: vec![
                sol::ApplicantType::NonprofitWith501c3,
                sol::ApplicantType::FiscallySponsoredGroup,
            ],
            max_annual_budget: Some(dollars(1_000_000)?),
            ..Default::default()
        },
        funding: sol::Funding {
            total_available: dollars(50_000_000)?,
            award_floor: Some(dollars(5_000)?),
            award_ceiling: dollars(50_000)?,
            ..Default::default()
        },
        dates: sol::KeyDates {
            closes_at: Some(closes_at),
            ..Default::default()
        },
        rubric: sol::Rubric {
            total_points: 100,
            criteria: vec![sol::Criterion {
                key: "need".into(),
                name: "Need".into(),
                description: String::new(),
                points: 100,
            }],
        },
        required_documents: vec![sol::RequiredDocument {
            key: REQUIRED_DOC.into(),
            name: "budget narrative".into(),
            description: String::new(),
            required: true,
        }],
        questions: vec![sol::Question {
            key: "need".into(),
            prompt: "What need does the project meet?".into(),
            guidance: String::new(),
            max_chars: 2000,
            required: true,
        }],
        ..Default::default()
    })
}

/// An applicant ready for deadline day over HTTP.
struct Applicant {
    app: ApplicationId,
    token: Arc<str>,
    /// The version saved during set-up, which the final save starts from.
    version: i32,
    /// The complete content the final save sends.
    content: ApplicationContent,
}

/// An application ready to submit in-process.
struct ReadyApp {
    app: ApplicationId,
    actor: Actor,
}

/// What the applicant has not done yet on deadline day: the answer to the last question.
fn unfinished(full: &ApplicationContent) -> ApplicationContent {
    let mut c = full.clone();
    c.answers.clear();
    c
}

/// Users (each owning up to `orgs_per_user` organizations, with an API token when
/// `tokens`), their organizations and a saved application for each: saved without the last
/// answer, or with `ready` also the final save and the document (ready to submit).
#[allow(clippy::too_many_arguments)]
async fn make_applicants(
    db: &DatabaseConnection,
    s: &Solicitation,
    label: &str,
    count: usize,
    orgs_per_user: usize,
    concurrency: usize,
    tokens: bool,
    ready: bool,
) -> anyhow::Result<(Vec<Applicant>, Vec<ReadyApp>)> {
    let users = count.div_ceil(orgs_per_user);
    let doc_sha = hex_sha(&pdf_document());
    let done = AtomicUsize::new(0);
    let results: Vec<anyhow::Result<(Vec<Applicant>, Vec<ReadyApp>)>> = futures::stream::iter(0..users)
        .map(|u| {
            let done = &done;
            let doc_sha = &doc_sha;
            async move {
                let now = Utc::now();
                let cli = Actor::cli("deadline bench");
                let new = identity::NewUser::parse(
                    &format!("applicant{u:05}@{label}.bench.test"),
                    &format!("Applicant {label} {u}"),
                    PASSWORD,
                )
                .map_err(|e| anyhow!("{e}"))?;
                let user = identity::create_user(db, &cli, new, now).await?;
                let user = identity::mark_email_verified(db, &cli, user.id, now).await?;
                let who = user.actor();
                let token: Arc<str> = if tokens {
                    let (_, secret) = identity::create_api_token(
                        db,
                        &who,
                        user.id,
                        "deadline bench",
                        vec![Scope::Read, Scope::Write],
                        None,
                        now,
                    )
                    .await?;
                    secret.into()
                } else {
                    "".into()
                };
                let mut out = (Vec::new(), Vec::new());
                let first = u * orgs_per_user;
                for i in first..(first + orgs_per_user).min(count) {
                    let kind = if i % 2 == 0 {
                        OrgKind::CommunityOrganization
                    } else {
                        OrgKind::Intermediary
                    };
                    let org = identity::create_organization(
                        db,
                        &who,
                        identity::NewOrganization {
                            kind,
                            profile: identity::OrganizationProfile {
                                name: format!("{label} applicant {i:05}"),
                                ..Default::default()
                            },
                        },
                        Some(user.id),
                        now,
                    )
                    .await?;
                    let (app, _) = apps::start(db, &who, s.id, org.id, now).await?;
                    let full = apps::sample::complete_content(s, &format!("{label} project {i}"));
                    let saved = apps::save(db, &who, app.id, app.version, unfinished(&full), now).await?;
                    if ready {
                        let saved = apps::save(db, &who, app.id, saved.version, full, now).await?;
                        let doc = DocumentId::new();
                        document_record::insert(
                            db,
                            NewDocument {
                                id: doc,
                                storage_key: format!("applications/{}/{doc}", app.id),
                                filename: "budget-narrative.pdf".into(),
                                content_type: "application/pdf".into(),
                                size_bytes: DOC_BYTES as u64,
                                sha256: doc_sha.clone(),
                                uploaded_by: who.audit_label(),
                            },
                            now,
                        )
                        .await?;
                        apps::attach_document(
                            db,
                            &who,
                            app.id,
                            DocumentSlot::Required(REQUIRED_DOC.into()),
                            doc,
                            "Budget narrative",
                            now,
                        )
                        .await?;
                        let problems = apps::problems(db, &saved).await?;
                        if !problems.is_empty() {
                            bail!("set-up left application {} incomplete: {problems:?}", app.id);
                        }
                        out.1.push(ReadyApp {
                            app: app.id,
                            actor: who.clone(),
                        });
                    } else {
                        out.0.push(Applicant {
                            app: app.id,
                            token: token.clone(),
                            version: saved.version,
                            content: full,
                        });
                    }
                }
                let d = done.fetch_add(1, Ordering::Relaxed) + 1;
                if d.is_multiple_of(50) || d == users {
                    print!("\r  {label}: {d}/{users} users set up");
                    let _ = std::io::stdout().flush();
                }
                Ok(out)
            }
        })
        .buffer_unordered(concurrency)
        .collect()
        .await;
    println!();
    let mut applicants = Vec::with_capacity(count);
    let mut ready_apps = Vec::new();
    for r in results {
        let (a, b) = r?;
        applicants.extend(a);
        ready_apps.extend(b);
    }
    Ok((applicants, ready_apps))
}

// ---------------------------------------------------------------------------------------
// HTTP

type Body = UnsyncBoxBody<Bytes, std::io::Error>;
type HttpClient = Client<HttpConnector, Body>;

fn http_client(connections: usize) -> HttpClient {
    let mut conn = HttpConnector::new();
    conn.set_nodelay(true);
    Client::builder(TokioExecutor::new())
        .pool_max_idle_per_host(connections)
        .build(conn)
}

fn full(b: impl Into<Bytes>) -> Body {
    http_body_util::Full::new(b.into())
        .map_err(|never| match never {})
        .boxed_unsync()
}

/// The 256 KiB document: a PDF header, then generated bytes.
fn pdf_document() -> Vec<u8> {
    let mut doc = Vec::with_capacity(DOC_BYTES);
    doc.extend_from_slice(PDF_HEADER);
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    while doc.len() < DOC_BYTES {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        doc.extend_from_slice(&x.to_le_bytes());
    }
    doc.truncate(DOC_BYTES);
    doc
}

fn hex_sha(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn multipart_head(filename: &str) -> String {
    format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"slot\"\r\n\r\nrequired:{REQUIRED_DOC}\r\n--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nBudget narrative\r\n--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{filename}\"\r\nContent-Type: application/pdf\r\n\r\n"
    )
}

fn multipart_tail() -> String {
    format!("\r\n--{BOUNDARY}--\r\n")
}

/// The whole multipart body of the 256 KiB upload (the same for every applicant).
fn upload_body() -> Bytes {
    let mut b = multipart_head("budget-narrative.pdf").into_bytes();
    b.extend_from_slice(&pdf_document());
    b.extend_from_slice(multipart_tail().as_bytes());
    Bytes::from(b)
}

#[derive(Debug)]
struct Reply {
    status: StatusCode,
    body: Bytes,
}

async fn send(client: &HttpClient, req: Request<Body>, limit: Duration) -> Result<Reply, String> {
    let work = async {
        let resp = client.request(req).await.map_err(|e| format!("transport: {e:?}"))?;
        let status = resp.status();
        let body = resp
            .into_body()
            .collect()
            .await
            .map_err(|e| format!("reading the answer: {e}"))?
            .to_bytes();
        Ok(Reply { status, body })
    };
    match tokio::time::timeout(limit, work).await {
        Ok(r) => r,
        Err(_) => Err(format!("no answer within {limit:?}")),
    }
}

fn request(method: Method, url: &str, token: &str, content_type: Option<&str>, body: Body) -> Request<Body> {
    let mut b = Request::builder()
        .method(method)
        .uri(url)
        .header("authorization", format!("Bearer {token}"))
        .header("accept", "application/json");
    if let Some(ct) = content_type {
        b = b.header("content-type", ct);
    }
    b.body(body).expect("a well-formed request")
}

/// The gateway subprocess; killed when dropped (also on panic).
struct Gateway {
    child: Option<Child>,
    pid: u32,
    base: String,
    log: PathBuf,
}

impl Gateway {
    fn start(place: &Place, settings: &Settings) -> anyhow::Result<Gateway> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let base = format!("http://127.0.0.1:{port}");
        let log = place.data_dir.path().join("gateway.log");
        let out = std::fs::File::create(&log)?;
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_granary"));
        cmd.arg("serve");
        for (k, _) in std::env::vars() {
            if k.starts_with("GRANARY_") || k == "DATABASE_URL" {
                cmd.env_remove(k);
            }
        }
        cmd.env("GRANARY_BIND", format!("127.0.0.1:{port}"))
            .env("GRANARY_DATA_DIR", place.data_dir.path())
            .env("DATABASE_URL", &place.url)
            .env("GRANARY_DATABASE_POOL_SIZE", settings.pool.to_string())
            .env(
                "GRANARY_MAX_UPLOAD_BYTES",
                (settings.big_mib.max(1) * MIB + 64 * MIB).to_string(),
            )
            .env("GRANARY_PUBLIC_URL", &base)
            .stdin(Stdio::null())
            .stdout(Stdio::from(out.try_clone()?))
            .stderr(Stdio::from(out));
        let child = cmd.spawn().context("starting the granary binary")?;
        let pid = child.id();
        Ok(Gateway {
            child: Some(child),
            pid,
            base,
            log,
        })
    }

    async fn wait_healthy(&mut self, client: &HttpClient) -> anyhow::Result<Duration> {
        let started = Instant::now();
        loop {
            if let Some(child) = self.child.as_mut()
                && let Some(status) = child.try_wait()?
            {
                bail!("the gateway exited ({status}):\n{}", self.log_tail());
            }
            let req = Request::get(format!("{}/healthz", self.base)).body(full(Bytes::new()))?;
            if let Ok(r) = send(client, req, Duration::from_secs(2)).await
                && r.status == StatusCode::OK
            {
                return Ok(started.elapsed());
            }
            if started.elapsed() > Duration::from_secs(60) {
                bail!("the gateway did not become healthy in 60 s:\n{}", self.log_tail());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }

    fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        self.stop();
    }
}

// ---------------------------------------------------------------------------------------
// Deadline day over HTTP

#[derive(Debug, Default)]
struct FlowResult {
    put: Option<Duration>,
    upload: Option<Duration>,
    submit: Option<Duration>,
    flow: Option<Duration>,
    uploaded: u64,
    receipt: Option<(String, String, bool)>,
    /// (step, status or transport error, body)
    error: Option<(String, String, String)>,
}

async fn one_flow(client: &HttpClient, base: &str, a: &Applicant, upload: &Bytes) -> FlowResult {
    let mut r = FlowResult::default();
    let limit = Duration::from_secs(120);
    let url = format!("{base}/api/v1/applications/{}", a.app);
    let fail = |step: &str, e: Result<Reply, String>| match e {
        Ok(reply) => (
            step.to_string(),
            reply.status.to_string(),
            String::from_utf8_lossy(&reply.body[..reply.body.len().min(300)]).into_owned(),
        ),
        Err(e) => (step.to_string(), "transport".to_string(), e),
    };
    let flow_start = Instant::now();

    let body = serde_json::to_vec(&serde_json::json!({ "version": a.version, "content": a.content }))
        .expect("content serializes");
    let t = Instant::now();
    let reply = send(
        client,
        request(Method::PUT, &url, &a.token, Some("application/json"), full(body)),
        limit,
    )
    .await;
    match reply {
        Ok(x) if x.status.is_success() => r.put = Some(t.elapsed()),
        other => {
            r.error = Some(fail("save", other));
            return r;
        }
    }

    let t = Instant::now();
    let reply = send(
        client,
        request(
            Method::POST,
            &format!("{url}/documents"),
            &a.token,
            Some(&format!("multipart/form-data; boundary={BOUNDARY}")),
            full(upload.clone()),
        ),
        limit,
    )
    .await;
    match reply {
        Ok(x) if x.status.is_success() => {
            r.upload = Some(t.elapsed());
            r.uploaded = upload.len() as u64;
        }
        other => {
            r.error = Some(fail("upload", other));
            return r;
        }
    }

    let t = Instant::now();
    let reply = send(
        client,
        request(
            Method::POST,
            &format!("{url}/submit"),
            &a.token,
            None,
            full(Bytes::new()),
        ),
        limit,
    )
    .await;
    match reply {
        Ok(x) if x.status.is_success() => {
            r.submit = Some(t.elapsed());
            r.flow = Some(flow_start.elapsed());
            let v: serde_json::Value = serde_json::from_slice(&x.body).unwrap_or_default();
            match (v["tracking_number"].as_str(), v["digest"].as_str()) {
                (Some(tn), Some(d)) => {
                    r.receipt = Some((
                        tn.to_string(),
                        d.to_string(),
                        v["digest_verified"].as_bool().unwrap_or(false),
                    ))
                }
                _ => r.error = Some(fail("submit (no receipt in answer)", Ok(x))),
            }
        }
        other => r.error = Some(fail("submit", other)),
    }
    r
}

struct HttpPhase {
    wall: Duration,
    put: Stats,
    upload: Stats,
    submit: Stats,
    flow: Stats,
    uploaded: u64,
    errors: usize,
    error_samples: Vec<(String, String, String)>,
    error_kinds: HashMap<String, usize>,
    receipts: Vec<(String, String, bool)>,
}

async fn deadline_day(client: &HttpClient, base: &str, applicants: Arc<Vec<Applicant>>, c: usize) -> HttpPhase {
    let upload = upload_body();
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut workers = Vec::with_capacity(c);
    for _ in 0..c {
        let (client, base, applicants, next, upload) = (
            client.clone(),
            base.to_string(),
            applicants.clone(),
            next.clone(),
            upload.clone(),
        );
        workers.push(tokio::spawn(async move {
            let mut out = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(a) = applicants.get(i) else { break };
                out.push(one_flow(&client, &base, a, &upload).await);
            }
            out
        }));
    }
    let mut results = Vec::with_capacity(applicants.len());
    for w in workers {
        results.extend(w.await.expect("a deadline-day worker panicked"));
    }
    let wall = started.elapsed();
    let pick = |f: fn(&FlowResult) -> Option<Duration>| Stats::of(results.iter().filter_map(f).collect());
    let mut error_kinds: HashMap<String, usize> = HashMap::new();
    let mut error_samples = Vec::new();
    for e in results.iter().filter_map(|r| r.error.as_ref()) {
        *error_kinds.entry(format!("{} -> {}", e.0, e.1)).or_default() += 1;
        if error_samples.len() < 5 {
            error_samples.push(e.clone());
        }
    }
    HttpPhase {
        wall,
        put: pick(|r| r.put),
        upload: pick(|r| r.upload),
        submit: pick(|r| r.submit),
        flow: pick(|r| r.flow),
        uploaded: results.iter().map(|r| r.uploaded).sum(),
        errors: results.iter().filter(|r| r.error.is_some()).count(),
        error_samples,
        error_kinds,
        receipts: results.into_iter().filter_map(|r| r.receipt).collect(),
    }
}

// ---------------------------------------------------------------------------------------
// The 1 GiB upload, generated and streamed: never more than one 1 MiB block in memory.

struct BigBody {
    head: Option<Bytes>,
    first: Option<Bytes>,
    block: Bytes,
    /// Blocks still to send after the first.
    blocks_left: u64,
    tail: Option<Bytes>,
    remaining: u64,
}

/// A pseudo-random 1 MiB block, and the first block of the file (PDF header, then the block).
fn big_blocks() -> (Bytes, Bytes) {
    let mut block = Vec::with_capacity(MIB as usize);
    let mut x: u64 = 0x2545_F491_4F6C_DD1D;
    while block.len() < MIB as usize {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        block.extend_from_slice(&x.to_le_bytes());
    }
    let mut first = PDF_HEADER.to_vec();
    first.extend_from_slice(&block[..MIB as usize - PDF_HEADER.len()]);
    (Bytes::from(block), Bytes::from(first))
}

impl BigBody {
    fn new(file_mib: u64) -> (BigBody, u64) {
        let (block, first) = big_blocks();
        let head = Bytes::from(multipart_head("big-budget-narrative.pdf"));
        let tail = Bytes::from(multipart_tail());
        let total = head.len() as u64 + file_mib * MIB + tail.len() as u64;
        (
            BigBody {
                head: Some(head),
                first: Some(first),
                block,
                blocks_left: file_mib.saturating_sub(1),
                tail: Some(tail),
                remaining: total,
            },
            total,
        )
    }

    /// The SHA-256 of the file the body carries, computed the same way it was generated.
    fn file_sha256(file_mib: u64) -> String {
        let (block, first) = big_blocks();
        let mut h = Sha256::new();
        h.update(&first);
        for _ in 1..file_mib {
            h.update(&block);
        }
        hex::encode(h.finalize())
    }
}

impl hyper::body::Body for BigBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
        let next = if let Some(h) = self.head.take() {
            Some(h)
        } else if let Some(f) = self.first.take() {
            Some(f)
        } else if self.blocks_left > 0 {
            self.blocks_left -= 1;
            Some(self.block.clone())
        } else {
            self.tail.take()
        };
        if let Some(b) = &next {
            self.remaining -= b.len() as u64;
        }
        Poll::Ready(next.map(|b| Ok(Frame::data(b))))
    }

    fn is_end_stream(&self) -> bool {
        self.remaining == 0
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.remaining)
    }
}

struct BigUpload {
    file_bytes: u64,
    time: Duration,
    status: String,
    rss_before_kib: u64,
    hwm_after_kib: u64,
    hwm_reset: bool,
    sampled_max_kib: u64,
    /// Peak during the upload minus the resident size before it.
    increase_kib: u64,
    stored_ok: bool,
    stored_note: String,
}

async fn big_upload(
    client: &HttpClient,
    gw: &Gateway,
    a: &Applicant,
    file_mib: u64,
    documents_root: &Path,
    db: &DatabaseConnection,
) -> anyhow::Result<BigUpload> {
    let rss_before_kib = proc_status_kib(gw.pid, "VmRSS").unwrap_or(0);
    // Writing 5 to clear_refs resets the peak resident size (VmHWM) to the current one, so
    // the peak read afterwards belongs to this upload alone.
    let hwm_reset = std::fs::write(format!("/proc/{}/clear_refs", gw.pid), "5").is_ok();
    let sampler = RssSampler::start(gw.pid);
    let (body, total) = BigBody::new(file_mib);
    let url = format!("{}/api/v1/applications/{}/documents", gw.base, a.app);
    let mut req = request(
        Method::POST,
        &url,
        &a.token,
        Some(&format!("multipart/form-data; boundary={BOUNDARY}")),
        body.boxed_unsync(),
    );
    req.headers_mut().insert("content-length", total.into());
    let t = Instant::now();
    let reply = send(client, req, Duration::from_secs(1800)).await;
    let time = t.elapsed();
    let sampled_max_kib = sampler.finish().await;
    let hwm_after_kib = proc_status_kib(gw.pid, "VmHWM").unwrap_or(0);
    let peak = if hwm_reset {
        hwm_after_kib.max(sampled_max_kib)
    } else {
        sampled_max_kib
    };
    let file_bytes = file_mib * MIB;
    let (status, stored_ok, stored_note) = match reply {
        Ok(r) if r.status.is_success() => {
            let v: serde_json::Value = serde_json::from_slice(&r.body).unwrap_or_default();
            let answered = v["size_bytes"].as_u64().unwrap_or(0);
            let doc_id: Option<DocumentId> = v["document_id"].as_str().and_then(|s| s.parse().ok());
            let record = match doc_id {
                Some(id) => document_record::get(db, id).await?,
                None => None,
            };
            let (on_disk, disk_sha) = match &record {
                Some(rec) => {
                    let store = LocalStore::new(documents_root.to_path_buf(), u64::MAX)?;
                    let meta = store.head(&DocumentKey::parse(&rec.storage_key)?).await?;
                    let file_len = std::fs::metadata(documents_root.join("objects").join(&rec.storage_key))
                        .map(|m| m.len())
                        .ok();
                    (file_len.unwrap_or(meta.size), meta.sha256)
                }
                None => (0, String::new()),
            };
            let expected_sha = BigBody::file_sha256(file_mib);
            let rec_size = record.as_ref().map(|r| r.size_bytes).unwrap_or(-1);
            let ok = answered == file_bytes
                && rec_size == i64::try_from(file_bytes).unwrap_or(-1)
                && on_disk == file_bytes
                && disk_sha == expected_sha;
            (
                r.status.to_string(),
                ok,
                format!(
                    "answer size_bytes {answered}, catalogue {rec_size}, file on disk {on_disk}, sha256 {}",
                    if disk_sha == expected_sha { "matches" } else { "DIFFERS" }
                ),
            )
        }
        Ok(r) => (
            r.status.to_string(),
            false,
            String::from_utf8_lossy(&r.body[..r.body.len().min(300)]).into_owned(),
        ),
        Err(e) => ("transport".into(), false, e),
    };
    Ok(BigUpload {
        file_bytes,
        time,
        status,
        rss_before_kib,
        hwm_after_kib,
        hwm_reset,
        sampled_max_kib,
        increase_kib: peak.saturating_sub(rss_before_kib),
        stored_ok,
        stored_note,
    })
}

// ---------------------------------------------------------------------------------------
// The raw rate: submit in-process, no HTTP

struct RawPhase {
    wall: Duration,
    ok: usize,
    errors: usize,
    sample_error: Option<String>,
    latency: Stats,
}

async fn raw_submit(db: &DatabaseConnection, ready: Arc<Vec<ReadyApp>>, c: usize) -> RawPhase {
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut workers = Vec::with_capacity(c);
    for _ in 0..c {
        let (db, ready, next) = (db.clone(), ready.clone(), next.clone());
        workers.push(tokio::spawn(async move {
            let mut out: Vec<Result<Duration, String>> = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(r) = ready.get(i) else { break };
                let t = Instant::now();
                out.push(
                    apps::submit(&db, &r.actor, r.app, &SystemClock)
                        .await
                        .map(|_| t.elapsed())
                        .map_err(|e| e.to_string()),
                );
            }
            out
        }));
    }
    let mut results = Vec::new();
    for w in workers {
        results.extend(w.await.expect("a raw submit worker panicked"));
    }
    let wall = started.elapsed();
    let errors: Vec<&String> = results.iter().filter_map(|r| r.as_ref().err()).collect();
    RawPhase {
        wall,
        ok: results.len() - errors.len(),
        errors: errors.len(),
        sample_error: errors.first().map(|e| e.to_string()),
        latency: Stats::of(results.iter().filter_map(|r| r.as_ref().ok().copied()).collect()),
    }
}

/// For analysis (DEADLINE_RAW_FLOW=1): the whole deadline-day flow in-process — final save,
/// catalogue a document and attach it, submit — without HTTP and without writing the file.
async fn raw_flow(
    db: &DatabaseConnection,
    applicants: Arc<Vec<Applicant>>,
    actors: Arc<Vec<Actor>>,
    c: usize,
) -> RawPhase {
    let next = Arc::new(AtomicUsize::new(0));
    let doc_sha = hex_sha(&pdf_document());
    let started = Instant::now();
    let mut workers = Vec::with_capacity(c);
    for _ in 0..c {
        let (db, applicants, actors, next, doc_sha) = (
            db.clone(),
            applicants.clone(),
            actors.clone(),
            next.clone(),
            doc_sha.clone(),
        );
        workers.push(tokio::spawn(async move {
            let mut out: Vec<Result<Duration, String>> = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let (Some(a), Some(who)) = (applicants.get(i), actors.get(i)) else {
                    break;
                };
                let t = Instant::now();
                let r = async {
                    let now = Utc::now();
                    apps::save(&db, who, a.app, a.version, a.content.clone(), now).await?;
                    let doc = DocumentId::new();
                    document_record::insert(
                        &db,
                        NewDocument {
                            id: doc,
                            storage_key: format!("applications/{}/{doc}", a.app),
                            filename: "budget-narrative.pdf".into(),
                            content_type: "application/pdf".into(),
                            size_bytes: DOC_BYTES as u64,
                            sha256: doc_sha.clone(),
                            uploaded_by: who.audit_label(),
                        },
                        now,
                    )
                    .await?;
                    apps::attach_document(
                        &db,
                        who,
                        a.app,
                        DocumentSlot::Required(REQUIRED_DOC.into()),
                        doc,
                        "Budget narrative",
                        now,
                    )
                    .await?;
                    apps::submit(&db, who, a.app, &SystemClock).await?;
                    Ok::<(), anyhow::Error>(())
                }
                .await;
                out.push(r.map(|_| t.elapsed()).map_err(|e| e.to_string()));
            }
            out
        }));
    }
    let mut results = Vec::new();
    for w in workers {
        results.extend(w.await.expect("a raw flow worker panicked"));
    }
    let wall = started.elapsed();
    let errors: Vec<&String> = results.iter().filter_map(|r| r.as_ref().err()).collect();
    RawPhase {
        wall,
        ok: results.len() - errors.len(),
        errors: errors.len(),
        sample_error: errors.first().map(|e| e.to_string()),
        latency: Stats::of(results.iter().filter_map(|r| r.as_ref().ok().copied()).collect()),
    }
}

// ---------------------------------------------------------------------------------------
// One backend

struct Report {
    backend: Backend,
    n: usize,
    c: usize,
    rate: f64,
    submit: Stats,
    flow: Stats,
    upload_mib_s: f64,
    errors: usize,
    raw_rate: f64,
    peak_rss_kib: u64,
    big: Option<BigUpload>,
    matched: usize,
    receipts: usize,
}

async fn run_backend(backend: Backend, settings: &Settings) -> anyhow::Result<Report> {
    let (n, c) = (settings.n, settings.c);
    println!();
    println!("=== {} — N = {n} applicants, C = {c} concurrent ===", backend.name());
    let place = make_place(backend, settings).await?;
    println!("  data folder {}", place.data_dir.path().display());

    // 1. Set-up in-process.
    let t = Instant::now();
    migrate(&place.url).await?;
    let db = connect(&place.url, PoolSize(settings.pool)).await?;
    let cli = Actor::cli("deadline bench");
    let now = Utc::now();
    let office = sol::ensure_office(&db, &cli, "Office of Deadline Day Programs", "program_office", now).await?;
    let draft = sol::create_draft(
        &db,
        &cli,
        office.id,
        solicitation_content(now + chrono::Duration::hours(1))?,
        now,
    )
    .await?;
    let s = sol::transition(&db, &cli, draft.id, sol::Transition::Open, now).await?;
    // N applicants for deadline day and one more for the big upload (its own user).
    let (mut applicants, _) = make_applicants(&db, &s, "http", n, settings.orgs_per_user, c, true, false).await?;
    let (big_applicant, _) = make_applicants(&db, &s, "big", 1, 1, 1, true, false).await?;
    let (_, ready) = make_applicants(&db, &s, "raw", n, settings.orgs_per_user, c, false, true).await?;
    let flow_set = if settings.raw_flow {
        let (a, _) = make_applicants(&db, &s, "rawflow", n, settings.orgs_per_user, c, true, false).await?;
        Some(a)
    } else {
        None
    };
    println!(
        "  set-up: {} + 1 applicants for HTTP, {} ready in-process, in {:.1} s",
        applicants.len(),
        ready.len(),
        t.elapsed().as_secs_f64()
    );
    if applicants.len() != n || ready.len() != n {
        bail!(
            "set-up made {} and {} applications, not {n}",
            applicants.len(),
            ready.len()
        );
    }
    // Shuffle deterministically so that a user's organizations are not all in flight at once
    // (real applicants arrive in no particular order).
    let mut x: u64 = 0xDEAD_BEEF_CAFE_F00D;
    for i in (1..applicants.len()).rev() {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        applicants.swap(i, (x % (i as u64 + 1)) as usize);
    }
    db.close().await?;

    // 2. The gateway.
    let client = http_client(c + 4);
    let mut gw = Gateway::start(&place, settings)?;
    let ready_in = gw.wait_healthy(&client).await?;
    println!(
        "  gateway pid {} at {} healthy after {:.1} s",
        gw.pid,
        gw.base,
        ready_in.as_secs_f64()
    );

    // 3 and 4. Deadline day, watching memory and CPU.
    let hwm_before = proc_status_kib(gw.pid, "VmHWM").unwrap_or(0);
    let rss_before = proc_status_kib(gw.pid, "VmRSS").unwrap_or(0);
    let sampler = RssSampler::start(gw.pid);
    let cpu_before = CpuSnapshot::take(Some(gw.pid));
    let applicants = Arc::new(applicants);
    let phase = deadline_day(&client, &gw.base, applicants.clone(), c).await;
    let cpu = CpuSnapshot::take(Some(gw.pid)).since(&cpu_before);
    let peak_rss_kib = sampler.finish().await;
    let hwm_after = proc_status_kib(gw.pid, "VmHWM").unwrap_or(0);
    let rss_after = proc_status_kib(gw.pid, "VmRSS").unwrap_or(0);
    let rate = n as f64 / phase.wall.as_secs_f64();
    println!(
        "  deadline day: {n} flows (save, upload 256 KiB, submit) in {:.2} s",
        phase.wall.as_secs_f64()
    );
    println!("    submissions/s     {rate:.1}  ({} receipts)", phase.receipts.len());
    println!("    submit            {}", phase.submit.line());
    println!("    whole flow        {}", phase.flow.line());
    println!("    save (PUT)        {}", phase.put.line());
    println!("    upload (POST)     {}", phase.upload.line());
    println!(
        "    uploaded          {:.1} MiB, {:.1} MiB/s",
        mib(phase.uploaded),
        mib(phase.uploaded) / phase.wall.as_secs_f64()
    );
    println!("    errors            {} of {n} flows", phase.errors);
    for (kind, count) in &phase.error_kinds {
        println!("      {count:5} x {kind}");
    }
    for (step, status, body) in &phase.error_samples {
        println!("      sample: {step} -> {status}: {body}");
    }
    println!(
        "    gateway memory    VmRSS {:.1} -> {:.1} MiB, sampled peak {:.1} MiB, VmHWM {:.1} -> {:.1} MiB",
        mib(rss_before * KIB),
        mib(rss_after * KIB),
        mib(peak_rss_kib * KIB),
        mib(hwm_before * KIB),
        mib(hwm_after * KIB)
    );
    println!("    {}", cpu.line(phase.wall, n));

    // 5. The big upload.
    let big = if settings.big_mib > 0 {
        let db = connect(&place.url, PoolSize(2)).await?;
        let b = big_upload(
            &client,
            &gw,
            &big_applicant[0],
            settings.big_mib,
            &place.data_dir.path().join("documents"),
            &db,
        )
        .await?;
        db.close().await?;
        println!(
            "  big upload: {:.0} MiB in {:.2} s = {:.1} MiB/s, answer {}",
            mib(b.file_bytes),
            b.time.as_secs_f64(),
            mib(b.file_bytes) / b.time.as_secs_f64(),
            b.status
        );
        println!(
            "    gateway memory    VmRSS before {:.1} MiB, VmHWM after {:.1} MiB{}, sampled peak {:.1} MiB: increase {:.1} MiB",
            mib(b.rss_before_kib * KIB),
            mib(b.hwm_after_kib * KIB),
            if b.hwm_reset {
                " (reset before)"
            } else {
                " (could not reset)"
            },
            mib(b.sampled_max_kib * KIB),
            mib(b.increase_kib * KIB)
        );
        println!(
            "    stored            {} ({})",
            if b.stored_ok { "ok" } else { "WRONG" },
            b.stored_note
        );
        Some(b)
    } else {
        None
    };
    gw.stop();

    // 6. The raw rate, in-process, with the gateway stopped.
    let db = connect(&place.url, PoolSize(settings.pool)).await?;
    let cpu_before = CpuSnapshot::take(None);
    let raw = raw_submit(&db, Arc::new(ready), c).await;
    let raw_cpu = CpuSnapshot::take(None).since(&cpu_before);
    let raw_rate = raw.ok as f64 / raw.wall.as_secs_f64();
    println!(
        "  raw submit (in-process, pool {}): {} in {:.2} s = {raw_rate:.1} submissions/s, p50 {:.1} ms, p99 {:.1} ms, errors {}",
        settings.pool,
        raw.ok,
        raw.wall.as_secs_f64(),
        ms(raw.latency.p50),
        ms(raw.latency.p99),
        raw.errors
    );
    if let Some(e) = &raw.sample_error {
        println!("    sample error: {e}");
    }
    println!(
        "    {}",
        raw_cpu.line(raw.wall, raw.ok.max(1)).replace("flow", "submit")
    );
    println!("  gateway rate / raw rate = {:.3}", rate / raw_rate);
    if let Some(set) = flow_set {
        let actors: Vec<Actor> = futures::stream::iter(set.iter())
            .then(|a| {
                let db = &db;
                async move {
                    let app = apps::get(db, a.app).await.ok();
                    let org = app.map(|x| x.organization.id);
                    let members = match org {
                        Some(o) => identity::members(db, o).await.unwrap_or_default(),
                        None => Vec::new(),
                    };
                    members
                        .first()
                        .map(|m| Actor::User {
                            id: m.user_id,
                            name: m.display_name.clone(),
                        })
                        .unwrap_or_else(|| Actor::cli("deadline bench"))
                }
            })
            .collect()
            .await;
        let cpu_before = CpuSnapshot::take(None);
        let f = raw_flow(&db, Arc::new(set), Arc::new(actors), c).await;
        let f_cpu = CpuSnapshot::take(None).since(&cpu_before);
        println!(
            "  raw flow (save + attach + submit in-process): {} in {:.2} s = {:.1} flows/s, {}, errors {}",
            f.ok,
            f.wall.as_secs_f64(),
            f.ok as f64 / f.wall.as_secs_f64(),
            f.latency.line(),
            f.errors
        );
        if let Some(e) = &f.sample_error {
            println!("    sample error: {e}");
        }
        println!("    {}", f_cpu.line(f.wall, f.ok.max(1)));
    }

    // 7. Every receipt against what is stored.
    let mut matched = 0;
    let mut mismatches = Vec::new();
    for (tracking, digest, verified) in &phase.receipts {
        match apps::submission_by_tracking(&db, tracking).await {
            Ok(sub) if &sub.digest == digest && sub.digest_matches() && *verified => matched += 1,
            Ok(sub) => mismatches.push(format!(
                "{tracking}: stored digest {} vs receipt {digest}, digest_matches {}, receipt verified {verified}",
                sub.digest,
                sub.digest_matches()
            )),
            Err(e) => mismatches.push(format!("{tracking}: {e}")),
        }
    }
    println!("  receipts matched: {matched} of {}", phase.receipts.len());
    for m in mismatches.iter().take(5) {
        println!("    {m}");
    }
    db.close().await?;
    drop(gw);
    drop(place);
    Ok(Report {
        backend,
        n,
        c,
        rate,
        submit: phase.submit,
        flow: phase.flow,
        upload_mib_s: mib(phase.uploaded) / phase.wall.as_secs_f64(),
        errors: phase.errors,
        raw_rate,
        peak_rss_kib: peak_rss_kib.max(hwm_after),
        big,
        matched,
        receipts: phase.receipts.len(),
    })
}

fn machine_facts() {
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0);
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .map(|l| l.trim_start_matches([' ', '\t', ':']).to_string())
        .unwrap_or_else(|| "unknown".into());
    let mem = std::fs::read_to_string("/proc/meminfo")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:").map(|v| v.trim().to_string()))
        .unwrap_or_default();
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!("Machine: {cores} cores (available_parallelism), {model}, memory {mem}");
    println!("Load average at start: {}", load.trim());
}

fn verdict(ok: bool) -> &'static str {
    if ok { "met" } else { "MISSED" }
}

fn summary(reports: &[Report]) {
    println!();
    println!("=== Summary ===");
    println!(
        "{:<11} {:>5} {:>3} {:>8} {:>9} {:>9} {:>9} {:>9} {:>7} {:>6} {:>8} {:>6} {:>8} {:>9} {:>9} {:>11}",
        "backend",
        "N",
        "C",
        "subm/s",
        "sub p50",
        "sub p99",
        "flow p50",
        "flow p99",
        "MiB/s",
        "errors",
        "raw/s",
        "ratio",
        "peak MiB",
        "1GiB MiB/s",
        "1GiB +MiB",
        "receipts"
    );
    for r in reports {
        let (big_rate, big_inc) = match &r.big {
            Some(b) => (
                format!("{:.1}", mib(b.file_bytes) / b.time.as_secs_f64()),
                format!("{:.1}", mib(b.increase_kib * KIB)),
            ),
            None => ("-".into(), "-".into()),
        };
        println!(
            "{:<11} {:>5} {:>3} {:>8.1} {:>9.1} {:>9.1} {:>9.1} {:>9.1} {:>7.1} {:>6} {:>8.1} {:>6.3} {:>8.1} {:>9} {:>9} {:>11}",
            r.backend.name(),
            r.n,
            r.c,
            r.rate,
            ms(r.submit.p50),
            ms(r.submit.p99),
            ms(r.flow.p50),
            ms(r.flow.p99),
            r.upload_mib_s,
            r.errors,
            r.raw_rate,
            r.rate / r.raw_rate,
            mib(r.peak_rss_kib * KIB),
            big_rate,
            big_inc,
            format!("{}/{}", r.matched, r.receipts),
        );
    }
    println!(
        "(latencies in ms; raw/s = in-process submit rate; peak = gateway VmHWM / sampled VmRSS during deadline day)"
    );
    println!();
    println!("Targets:");
    for r in reports {
        let big_ok = r.big.as_ref().map(|b| b.stored_ok && b.increase_kib * KIB < 64 * MIB);
        println!(
            "  {:<11} >= 1000 subm/s: {} ({:.1}); submit p99 < 100 ms: {} ({:.1} ms); >= 0.5 of raw: {} ({:.3}); 0 errors: {} ({}); every receipt matched: {} ({}/{} of {}); 1 GiB upload < 64 MiB: {}",
            r.backend.name(),
            verdict(r.rate >= 1000.0),
            r.rate,
            verdict(r.submit.p99 < Duration::from_millis(100)),
            ms(r.submit.p99),
            verdict(r.rate / r.raw_rate >= 0.5),
            r.rate / r.raw_rate,
            verdict(r.errors == 0),
            r.errors,
            verdict(r.matched == r.n),
            r.matched,
            r.receipts,
            r.n,
            match big_ok {
                Some(ok) => verdict(ok),
                None => "not measured",
            }
        );
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let settings = Settings::load()?;
    println!("Granary deadline-day benchmark");
    machine_facts();
    println!(
        "Settings: N={} C={} pool={} orgs/user={} big upload={} MiB backends={:?}",
        settings.n, settings.c, settings.pool, settings.orgs_per_user, settings.big_mib, settings.backends
    );
    let mut reports = Vec::new();
    for &b in &settings.backends {
        reports.push(run_backend(b, &settings).await.with_context(|| b.name())?);
    }
    summary(&reports);
    Ok(())
}
