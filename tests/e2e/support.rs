//! Shared set-up: a seeded Granary behind its real router, and helpers to call it.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use chrono::{DateTime, TimeZone, Utc};
use granary_applications::{self as apps, Application};
use granary_core::testing::TestDb;
use granary_core::time::{Clock, FixedClock, SharedClock};
use granary_documents::{DocumentStore, LocalStore, S3Settings, S3Store};
use granary_gateway::AppState;
use granary_gateway::views::Views;
use http_body_util::BodyExt;
use tower::ServiceExt;

/// The instant the tests run at.
pub fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 15, 0, 0).unwrap()
}

pub struct Granary {
    pub db: TestDb,
    pub store: Arc<dyn DocumentStore>,
    pub clock: FixedClock,
    pub router: Router,
    /// Where the test's outgoing email is written, one file per message.
    pub mail_dir: std::path::PathBuf,
    _dirs: Vec<tempfile::TempDir>,
    _server: Option<tokio::task::JoinHandle<()>>,
}

pub struct Reply {
    pub status: StatusCode,
    pub content_type: String,
    pub headers: axum::http::HeaderMap,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }
}

fn state(db: &TestDb, store: Arc<dyn DocumentStore>, clock: &FixedClock, mail_dir: &std::path::Path) -> AppState {
    AppState {
        db: db.db.clone(),
        store,
        views: Arc::new(Views::new().expect("templates load")),
        clock: Arc::new(clock.clone()) as SharedClock,
        public_url: "http://granary.test".into(),
        max_body_bytes: 64 * 1024,
        // The route x role test reads the verdict; production never sends it.
        expose_policy_verdict: true,
        mailer: Arc::new(granary_identity::FileSender::new(mail_dir.to_path_buf())),
        postman: None,
    }
}

impl Granary {
    /// A Granary with the demo data, on local files.
    pub async fn demo() -> Granary {
        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn DocumentStore> =
            Arc::new(LocalStore::new(dir.path().join("docs"), 10 * 1024 * 1024).unwrap());
        Self::with_store(store, vec![dir], None, true).await
    }

    /// A Granary with no data, on local files.
    pub async fn empty() -> Granary {
        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn DocumentStore> =
            Arc::new(LocalStore::new(dir.path().join("docs"), 10 * 1024 * 1024).unwrap());
        Self::with_store(store, vec![dir], None, false).await
    }

    /// A Granary with the demo data, on a real S3 server started for the test.
    pub async fn demo_on_s3() -> Granary {
        let dir = tempfile::tempdir().unwrap();
        let (addr, server) = granary_documents::testing::start_s3_server(&dir.path().join("s3")).await;
        let s3 = S3Store::new(S3Settings {
            endpoint: Some(format!("http://{addr}")),
            region: "us-east-1".into(),
            bucket: "granary-e2e".into(),
            access_key_id: granary_documents::testing::ACCESS_KEY.into(),
            secret_access_key: granary_documents::testing::SECRET_KEY.into(),
            force_path_style: true,
            max_size: 10 * 1024 * 1024,
            part_size: 0,
        })
        .unwrap();
        s3.ensure_bucket().await.unwrap();
        Self::with_store(Arc::new(s3), vec![dir], Some(server), true).await
    }

    async fn with_store(
        store: Arc<dyn DocumentStore>,
        dirs: Vec<tempfile::TempDir>,
        server: Option<tokio::task::JoinHandle<()>>,
        seed: bool,
    ) -> Granary {
        let db = TestDb::new().await;
        let clock = FixedClock::at(t0());
        if seed {
            let report = granary_gateway::seed::seed_demo(&db.db, &store, t0())
                .await
                .expect("demo data loads");
            assert_eq!(report.created, 7);
        }
        let mail_dir = dirs[0].path().join("outbox");
        let router = granary_gateway::router(state(&db, store.clone(), &clock, &mail_dir));
        Granary {
            db,
            store,
            clock,
            router,
            mail_dir,
            _dirs: dirs,
            _server: server,
        }
    }

    /// The shared state behind this Granary's router, for building variants of it.
    pub fn state(&self) -> AppState {
        state(&self.db, self.store.clone(), &self.clock, &self.mail_dir)
    }

    pub async fn send(&self, req: Request<Body>) -> Reply {
        let resp = self.router.clone().oneshot(req).await.unwrap();
        let status = resp.status();
        let headers = resp.headers().clone();
        let content_type = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let body = resp.into_body().collect().await.unwrap().to_bytes().to_vec();
        Reply {
            status,
            content_type,
            headers,
            body,
        }
    }

    pub async fn get(&self, uri: &str) -> Reply {
        self.send(Request::get(uri).body(Body::empty()).unwrap()).await
    }

    pub async fn post_json(&self, uri: &str, body: &str) -> Reply {
        self.send(
            Request::post(uri)
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(body.to_string()))
                .unwrap(),
        )
        .await
    }

    /// The id of a seeded solicitation by number.
    pub async fn id_of(&self, number: &str) -> String {
        granary_solicitations::get_by_number(&self.db.db, number)
            .await
            .unwrap()
            .id
            .to_string()
    }
}

/// A browser: keeps cookies between requests and posts forms with their CSRF token.
pub struct Browser<'a> {
    pub g: &'a Granary,
    pub cookies: std::collections::BTreeMap<String, String>,
}

impl<'a> Browser<'a> {
    pub fn new(g: &'a Granary) -> Self {
        Browser {
            g,
            cookies: Default::default(),
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    fn remember(&mut self, r: &Reply) {
        for v in r.headers.get_all(header::SET_COOKIE) {
            let v = v.to_str().unwrap();
            let pair = v.split(';').next().unwrap();
            let (k, val) = pair.split_once('=').unwrap();
            if val.is_empty() || v.contains("Max-Age=0") {
                self.cookies.remove(k);
            } else {
                self.cookies.insert(k.to_string(), val.to_string());
            }
        }
    }

    pub async fn get(&mut self, uri: &str) -> Reply {
        let r = self
            .g
            .send(
                Request::get(uri)
                    .header(header::COOKIE, self.cookie_header())
                    .body(Body::empty())
                    .unwrap(),
            )
            .await;
        self.remember(&r);
        r
    }

    /// The CSRF token this browser holds (it gets one with its first page).
    pub fn csrf(&self) -> String {
        self.cookies
            .get("granary_csrf")
            .cloned()
            .expect("a page was visited first, which sets the CSRF cookie")
    }

    /// Posts a form as the page would: with the CSRF token in a hidden field.
    pub async fn post_form(&mut self, uri: &str, fields: &[(&str, &str)]) -> Reply {
        let token = self.csrf();
        let mut all: Vec<(&str, &str)> = vec![("csrf_token", token.as_str())];
        all.extend_from_slice(fields);
        self.post_raw(uri, &serde_urlencoded::to_string(&all).unwrap()).await
    }

    /// Posts a urlencoded body exactly as given.
    pub async fn post_raw(&mut self, uri: &str, body: &str) -> Reply {
        let r = self
            .g
            .send(
                Request::post(uri)
                    .header(header::COOKIE, self.cookie_header())
                    .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                    .body(Body::from(body.to_string()))
                    .unwrap(),
            )
            .await;
        self.remember(&r);
        r
    }

    pub fn location(r: &Reply) -> String {
        r.headers
            .get(header::LOCATION)
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default()
    }
}

impl Granary {
    /// The emails sent so far, as (file name, text), oldest first.
    pub fn emails(&self) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = std::fs::read_dir(&self.mail_dir)
            .map(|d| {
                d.filter_map(|e| e.ok())
                    .map(|e| {
                        (
                            e.file_name().to_string_lossy().into_owned(),
                            std::fs::read_to_string(e.path()).unwrap_or_default(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        out.sort();
        out
    }

    /// Waits (briefly) for an email whose text contains `needle`, and returns the first link
    /// in it that starts with `prefix`, as a local path.
    pub async fn link_in_email(&self, needle: &str, prefix: &str) -> String {
        for _ in 0..100 {
            if let Some((_, text)) = self.emails().into_iter().rev().find(|(_, t)| t.contains(needle)) {
                let start = text.find(prefix).expect("the email holds the link");
                let link: String = text[start..].chars().take_while(|c| !c.is_whitespace()).collect();
                return link.replace("http://granary.test", "");
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        panic!("no email containing {needle:?}: {:?}", self.emails())
    }
}

impl Browser<'_> {
    /// Signs up and follows the confirmation link from the email, which signs this browser in.
    pub async fn sign_up_and_confirm(&mut self, name: &str, email: &str, password: &str) {
        self.get("/sign-up").await;
        let r = self
            .post_form(
                "/sign-up",
                &[("display_name", name), ("email", email), ("password", password)],
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        let to = email.to_lowercase();
        let prefix = "http://granary.test/verify-email?token=";
        let mut link = None;
        for _ in 0..100 {
            link = self
                .g
                .emails()
                .into_iter()
                .rev()
                .find(|(_, t)| t.contains(&to) && t.contains(prefix))
                .map(|(_, t)| {
                    let start = t.find(prefix).unwrap_or(0);
                    t[start..]
                        .chars()
                        .take_while(|c| !c.is_whitespace())
                        .collect::<String>()
                        .replace("http://granary.test", "")
                });
            if link.is_some() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        let link = link.unwrap_or_else(|| panic!("no confirmation email for {to}"));
        let confirmed = self.get(&link).await;
        assert_eq!(confirmed.status, StatusCode::SEE_OTHER, "{}", confirmed.text());
        assert!(self.cookies.contains_key("granary_session"), "confirming signs in");
    }
}

/// The demo applicant's organization (created with the demo users).
pub async fn eastside(g: &Granary) -> granary_core::id::OrganizationId {
    let page = granary_identity::list_organizations(
        &g.db.db,
        granary_identity::OrganizationQuery {
            kind: Some(granary_core::policy::OrgKind::CommunityOrganization),
            page: 1,
            page_size: 100,
        },
    )
    .await
    .unwrap();
    page.items
        .into_iter()
        .find(|o| o.name == "Eastside Peacekeepers (demo)")
        .expect("the demo users are seeded")
        .id
}

/// A small PDF, as far as format recognition goes.
pub fn pdf_bytes(text: &str) -> Vec<u8> {
    format!("%PDF-1.4\n% {text}\n%%EOF\n").into_bytes()
}

/// An application of `org` to the demo solicitation `number`: complete, with a small PDF in
/// each required document's slot, saved but not submitted.
pub async fn ready_application(g: &Granary, number: &str, org: granary_core::id::OrganizationId) -> Application {
    let who = granary_core::Actor::cli("test-applicant");
    let s = granary_solicitations::get_by_number(&g.db.db, number).await.unwrap();
    let (app, _) = apps::start(&g.db.db, &who, s.id, org, g.clock.now()).await.unwrap();
    let content = apps::sample::complete_content(&s, "Summer Nights");
    let app = apps::save(&g.db.db, &who, app.id, app.version, content, g.clock.now())
        .await
        .unwrap();
    granary_gateway::seed::attach_sample_documents(&g.db.db, &g.store, &who, &s, app.id, "test", g.clock.now())
        .await
        .unwrap();
    let problems = apps::problems(&g.db.db, &app).await.unwrap();
    assert!(problems.is_empty(), "the sample application is complete: {problems:?}");
    app
}

/// As `ready_application`, and submitted.
pub async fn submitted_application(
    g: &Granary,
    number: &str,
    org: granary_core::id::OrganizationId,
) -> (Application, apps::Submission) {
    let app = ready_application(g, number, org).await;
    let sub = apps::submit(&g.db.db, &granary_core::Actor::cli("test-applicant"), app.id, &g.clock)
        .await
        .unwrap();
    (apps::get(&g.db.db, app.id).await.unwrap(), sub)
}

/// A browser signed in as a demo account (the demo users must be seeded).
pub async fn signed_in<'a>(g: &'a Granary, email: &str) -> Browser<'a> {
    let mut b = Browser::new(g);
    b.get("/").await;
    let r = b
        .post_form(
            "/sign-in",
            &[("email", email), ("password", granary_gateway::seed::DEMO_PASSWORD)],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{email} signs in");
    b
}
