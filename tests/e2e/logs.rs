//! Secrets never reach the logs: a whole account flow runs with every log level captured,
//! and none of the passwords, session ids, API tokens, email links or CSRF tokens appear.

use std::io::Write;
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::http::{Request, header};

use crate::support::{Browser, Granary};

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Capture {
    type Writer = Capture;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

/// Everything logged in this test process from the first call on, at every level. A global
/// subscriber (rather than one for this test's thread) sees every event: tracing decides per
/// call site whether anyone listens, for all threads at once, and rebuilds that decision when
/// a global subscriber is installed.
fn capture() -> &'static Capture {
    static CAPTURE: std::sync::OnceLock<Capture> = std::sync::OnceLock::new();
    CAPTURE.get_or_init(|| {
        let capture = Capture::default();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(capture.clone())
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .finish();
        tracing::subscriber::set_global_default(subscriber).expect("only this test installs a subscriber");
        capture
    })
}

#[tokio::test]
async fn secrets_never_reach_the_logs() {
    let capture = capture();

    let g = Granary::empty().await;
    let password = "first secret passphrase";
    let new_password = "second secret passphrase";
    let mut b = Browser::new(&g);
    b.get("/sign-up").await;
    b.post_form(
        "/sign-up",
        &[
            ("display_name", "Logan"),
            ("email", "logan@example.org"),
            ("password", password),
        ],
    )
    .await;
    let verify = g
        .link_in_email("Confirm your email", "http://granary.test/verify-email?token=")
        .await;
    b.get(&verify).await;
    let session = b.cookies["granary_session"].clone();
    b.get("/account").await;
    let created = b
        .post_form("/account/tokens", &[("name", "script"), ("scope", "write")])
        .await
        .text();
    let start = created.find("gra_").unwrap();
    let api_token: String = created[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
        .collect();
    g.send(
        Request::get("/api/v1/solicitations")
            .header(header::AUTHORIZATION, format!("Bearer {api_token}"))
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    g.send(
        Request::get("/api/v1/solicitations")
            .header(header::AUTHORIZATION, "Bearer gra_wrong-token")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    // A failed sign-in with a mistyped password, then a reset.
    let mut other = Browser::new(&g);
    other.get("/sign-in").await;
    other
        .post_form(
            "/sign-in",
            &[("email", "logan@example.org"), ("password", "mistyped secret words")],
        )
        .await;
    other
        .post_form("/forgot-password", &[("email", "logan@example.org")])
        .await;
    let reset = g
        .link_in_email("reset the password", "http://granary.test/reset-password?token=")
        .await;
    let reset_token = reset.split("token=").nth(1).unwrap().to_string();
    other
        .post_form(
            "/reset-password",
            &[("token", &reset_token), ("password", new_password)],
        )
        .await;
    other
        .post_form(
            "/sign-in",
            &[("email", "logan@example.org"), ("password", new_password)],
        )
        .await;
    let second_session = other.cookies["granary_session"].clone();
    let verify_token = verify.split("token=").nth(1).unwrap().to_string();
    let csrf = b.csrf();

    let logs = String::from_utf8(capture.0.lock().unwrap().clone()).unwrap();
    assert!(
        logs.contains("email queued for logan@example.org"),
        "the capture really holds the gateway's logs"
    );
    assert!(
        logs.matches("email queued for logan@example.org").count() >= 2,
        "both emails (confirmation and reset) were logged, so the capture saw the whole flow"
    );
    for (what, secret) in [
        ("password", password),
        ("new password", new_password),
        ("mistyped password", "mistyped secret words"),
        ("session id", session.as_str()),
        ("second session id", second_session.as_str()),
        ("API token", api_token.as_str()),
        ("wrong API token", "gra_wrong-token"),
        ("verification token", verify_token.as_str()),
        ("reset token", reset_token.as_str()),
        ("CSRF token", csrf.as_str()),
    ] {
        assert!(!logs.contains(secret), "the {what} appears in the logs");
    }
}
