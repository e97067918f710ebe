//! Accounts through the pages, as a person would use them: sign up, confirm the address,
//! sign in and out, reset a forgotten password, and API tokens; with CSRF and throttling.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};

use crate::support::{Browser, Granary};

const PASSWORD: &str = "correct horse battery staple";

/// Signs up and follows the confirmation link from the email, which signs the browser in.
async fn signed_up<'a>(g: &'a Granary, email: &str) -> Browser<'a> {
    let mut b = Browser::new(g);
    assert_eq!(b.get("/sign-up").await.status, StatusCode::OK);
    let r = b
        .post_form(
            "/sign-up",
            &[("display_name", "Dana Doe"), ("email", email), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert!(r.text().contains("Check your email"));
    assert!(
        !b.cookies.contains_key("granary_session"),
        "not signed in before confirming"
    );
    let link = g
        .link_in_email(&email.to_lowercase(), "http://granary.test/verify-email?token=")
        .await;
    let confirmed = b.get(&link).await;
    assert_eq!(confirmed.status, StatusCode::SEE_OTHER, "{}", confirmed.text());
    assert_eq!(Browser::location(&confirmed), "/account?notice=confirmed");
    assert!(b.cookies.contains_key("granary_session"));
    b
}

#[tokio::test]
async fn sign_up_confirm_sign_out_and_in() {
    let g = Granary::demo().await;
    let mut b = signed_up(&g, "Dana@Example.org").await;
    let account = b.get("/account?notice=confirmed").await;
    assert_eq!(account.status, StatusCode::OK);
    let html = account.text();
    assert!(html.contains("dana@example.org"), "addresses are kept in lower case");
    assert!(html.contains("Your email address is confirmed"), "{html}");
    assert!(!html.contains("not verified yet"));
    assert!(html.contains("Dana Doe"), "the menu names the signed-in user");
    // A used link does not work twice.
    let link = g
        .link_in_email("dana@example.org", "http://granary.test/verify-email?token=")
        .await;
    assert_eq!(b.get(&link).await.status, StatusCode::BAD_REQUEST);

    // Sign out: the session ends and the account page sends the visitor to sign in.
    let old_session = b.cookies["granary_session"].clone();
    let out = b.post_form("/sign-out", &[]).await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    assert!(!b.cookies.contains_key("granary_session"));
    let again = b.get("/account").await;
    assert_eq!(again.status, StatusCode::SEE_OTHER);
    assert_eq!(Browser::location(&again), "/sign-in?next=%2Faccount");
    // The old session id is worthless even if someone kept it.
    b.cookies.insert("granary_session".into(), old_session);
    assert_eq!(b.get("/account").await.status, StatusCode::SEE_OTHER);
    b.cookies.remove("granary_session");

    // Sign in, and go where the visitor was going.
    b.get("/sign-in?next=/account").await;
    let r = b
        .post_form(
            "/sign-in",
            &[
                ("email", "DANA@example.org"),
                ("password", PASSWORD),
                ("next", "/account"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(Browser::location(&r), "/account");
    assert_eq!(b.get("/account").await.status, StatusCode::OK);
}

#[tokio::test]
async fn sign_up_mistakes_are_named_and_typing_is_kept() {
    let g = Granary::empty().await;
    let mut b = Browser::new(&g);
    b.get("/sign-up").await;
    let r = b
        .post_form(
            "/sign-up",
            &[
                ("display_name", "Sam <b>S</b>"),
                ("email", "not-an-email"),
                ("password", "short"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text();
    assert!(
        html.contains(r#"id="email-error""#) && html.contains(r#"id="password-error""#),
        "{html}"
    );
    assert!(html.contains(r#"value="not-an-email""#), "what was typed is kept");
    assert!(html.contains("Sam &lt;b&gt;S&lt;/b&gt;"), "and escaped");
    assert!(!html.contains(r#"value="short""#), "but never the password");

    signed_up(&g, "taken@example.org").await;
    let emails_before = g.emails().len();
    let mut other = Browser::new(&g);
    other.get("/sign-up").await;
    let dup = other
        .post_form(
            "/sign-up",
            &[
                ("display_name", "T"),
                ("email", "TAKEN@example.org"),
                ("password", PASSWORD),
            ],
        )
        .await;
    let mut fresh = Browser::new(&g);
    fresh.get("/sign-up").await;
    let new = fresh
        .post_form(
            "/sign-up",
            &[
                ("display_name", "T"),
                ("email", "brand-new@example.org"),
                ("password", PASSWORD),
            ],
        )
        .await;
    // Whether or not the address has an account, the page is the same.
    assert_eq!(dup.status, new.status);
    assert_eq!(
        dup.text().replace("taken@example.org", "X"),
        new.text().replace("brand-new@example.org", "X")
    );
    assert!(!other.cookies.contains_key("granary_session"));
    // The owner of the address is told instead.
    g.link_in_email("already has one", "http://granary.test/sign-in").await;
    g.link_in_email("brand-new@example.org", "http://granary.test/verify-email?token=")
        .await;
    assert_eq!(g.emails().len(), emails_before + 2);
}

#[tokio::test]
async fn sign_in_does_not_reveal_accounts_and_is_throttled() {
    let g = Granary::empty().await;
    signed_up(&g, "known@example.org").await;
    let mut b = Browser::new(&g);
    b.get("/sign-in").await;
    let wrong = b
        .post_form(
            "/sign-in",
            &[("email", "known@example.org"), ("password", "not the password")],
        )
        .await;
    let unknown = b
        .post_form(
            "/sign-in",
            &[("email", "nobody@example.org"), ("password", "not the password")],
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert_eq!(unknown.status, StatusCode::UNAUTHORIZED);
    let message = |html: &str| {
        html.split("role=\"alert\"")
            .nth(1)
            .unwrap_or("")
            .split("</div>")
            .next()
            .unwrap_or("")
            .to_string()
    };
    assert_eq!(
        message(&wrong.text()),
        message(&unknown.text()),
        "the same words either way"
    );
    assert!(wrong.text().contains(r#"value="known@example.org""#));

    for _ in 0..4 {
        b.post_form(
            "/sign-in",
            &[("email", "known@example.org"), ("password", "still wrong")],
        )
        .await;
    }
    let locked = b
        .post_form("/sign-in", &[("email", "known@example.org"), ("password", PASSWORD)])
        .await;
    assert_eq!(
        locked.status,
        StatusCode::TOO_MANY_REQUESTS,
        "even the right password waits"
    );
    assert!(locked.headers.contains_key(header::RETRY_AFTER));
    assert!(locked.text().contains("Too many attempts"));
    // Fifteen minutes later it works again.
    g.clock.advance(chrono::Duration::minutes(16));
    let ok = b
        .post_form("/sign-in", &[("email", "known@example.org"), ("password", PASSWORD)])
        .await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn forms_need_their_csrf_token() {
    let g = Granary::empty().await;
    let mut b = Browser::new(&g);
    b.get("/sign-in").await;
    // No token in the form.
    let r = b.post_raw("/sign-in", "email=a%40example.org&password=x").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // A token that is not this browser's.
    let r = b
        .post_raw("/sign-in", "csrf_token=0000&email=a%40example.org&password=x")
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // A form posted from another site.
    let r = g
        .send(
            Request::post("/sign-in")
                .header(header::COOKIE, format!("granary_csrf={}", b.csrf()))
                .header(header::ORIGIN, "https://evil.example")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from(format!(
                    "csrf_token={}&email=a%40example.org&password=x",
                    b.csrf()
                )))
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // No cookie at all.
    let r = g
        .send(
            Request::post("/sign-out")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from(""))
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let cookie = b.get("/").await.headers.get_all(header::SET_COOKIE).iter().count();
    assert_eq!(cookie, 0, "the CSRF cookie is set once, not on every page");
}

#[tokio::test]
async fn forgotten_password_is_reset_by_email() {
    let g = Granary::empty().await;
    let mut first = signed_up(&g, "forgetful@example.org").await;
    let mut b = Browser::new(&g);
    b.get("/forgot-password").await;
    let unknown = b
        .post_form("/forgot-password", &[("email", "stranger@example.org")])
        .await;
    let known = b
        .post_form("/forgot-password", &[("email", "forgetful@example.org")])
        .await;
    assert_eq!(unknown.status, StatusCode::OK);
    assert_eq!(
        unknown.text(),
        known.text(),
        "the same page whether or not the account exists"
    );
    assert!(known.text().contains("If an account exists for that address"));

    let link = g
        .link_in_email("reset the password", "http://granary.test/reset-password?token=")
        .await;
    let page = b.get(&link).await;
    assert_eq!(page.status, StatusCode::OK);
    let token = link.split("token=").nth(1).unwrap().to_string();
    let weak = b
        .post_form("/reset-password", &[("token", &token), ("password", "short")])
        .await;
    assert_eq!(weak.status, StatusCode::UNPROCESSABLE_ENTITY);
    let done = b
        .post_form(
            "/reset-password",
            &[("token", &token), ("password", "a brand new passphrase")],
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER);
    assert_eq!(Browser::location(&done), "/sign-in?notice=password-changed");
    // The link works once; the browser that was signed in before is signed out.
    let reuse = b
        .post_form(
            "/reset-password",
            &[("token", &token), ("password", "another new passphrase")],
        )
        .await;
    assert_eq!(reuse.status, StatusCode::BAD_REQUEST);
    assert_eq!(first.get("/account").await.status, StatusCode::SEE_OTHER);
    b.get("/sign-in").await;
    let old = b
        .post_form(
            "/sign-in",
            &[("email", "forgetful@example.org"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(old.status, StatusCode::UNAUTHORIZED);
    let new = b
        .post_form(
            "/sign-in",
            &[
                ("email", "forgetful@example.org"),
                ("password", "a brand new passphrase"),
            ],
        )
        .await;
    assert_eq!(new.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn api_tokens_are_shown_once_and_can_be_revoked() {
    let g = Granary::demo().await;
    let mut b = signed_up(&g, "coder@example.org").await;
    b.get("/account").await;
    let created = b
        .post_form(
            "/account/tokens",
            &[("name", "nightly report"), ("scope", "read"), ("expires_in_days", "30")],
        )
        .await;
    assert_eq!(created.status, StatusCode::OK);
    assert_eq!(created.headers[header::CACHE_CONTROL], "no-store");
    let html = created.text();
    let start = html.find("gra_").expect("the token is shown");
    let token: String = html[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
        .collect();
    assert!(token.len() > 30);
    let account = b.get("/account").await.text();
    assert!(account.contains("nightly report"));
    assert!(
        !account.contains(&token),
        "the account page never shows the whole token again"
    );

    let bearer = |t: &str| {
        Request::get("/api/v1/solicitations")
            .header(header::AUTHORIZATION, format!("Bearer {t}"))
            .body(Body::empty())
            .unwrap()
    };
    assert_eq!(g.send(bearer(&token)).await.status, StatusCode::OK);
    let bad = g.send(bearer("gra_not-a-real-token")).await;
    assert_eq!(bad.status, StatusCode::UNAUTHORIZED);
    assert_eq!(bad.json()["status"], 401);
    assert!(bad.headers.contains_key(header::WWW_AUTHENTICATE));

    let id_start = account.find("/account/tokens/").unwrap() + "/account/tokens/".len();
    let id: String = account[id_start..].chars().take_while(|c| *c != '/').collect();
    let revoked = b.post_form(&format!("/account/tokens/{id}/revoke"), &[]).await;
    assert_eq!(revoked.status, StatusCode::SEE_OTHER);
    assert_eq!(g.send(bearer(&token)).await.status, StatusCode::UNAUTHORIZED);
}
