//! The public pages as a visitor sees them.

use axum::http::StatusCode;
use granary_core::Actor;
use granary_solicitations as sol;
use sha2::{Digest, Sha256};

use crate::support::{Granary, t0};

#[tokio::test]
async fn home_lists_open_and_forecasted_solicitations() {
    let g = Granary::demo().await;
    let r = g.get("/").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.content_type.starts_with("text/html"));
    let html = r.text();
    assert!(
        html.contains(r#"<meta name="viewport" content="width=device-width, initial-scale=1">"#),
        "usable on a phone"
    );
    assert!(html.contains("4 open now"), "{html}");
    assert!(html.contains("1 coming soon"));
    assert!(html.contains("Trauma Recovery Center Demonstration Project"));
    assert!(html.contains("Connect and Protect"), "the forecast is shown");
    assert!(
        !html.contains("Hospital-Based Victim Services"),
        "closed ones are not on the home page"
    );
    assert!(html.contains(r#"href="/solicitations?area=rehabilitation""#));
}

#[tokio::test]
async fn search_page_filters_and_explains_mistakes() {
    let g = Granary::demo().await;
    let r = g.get("/solicitations?q=reentry").await;
    assert_eq!(r.status, StatusCode::OK);
    let html = r.text();
    assert!(html.contains("Second Chance Act Community-Based Reentry Incubator Initiative"));
    assert!(!html.contains("Trauma Recovery Center Demonstration Project"));
    assert!(html.contains(r#"value="reentry""#), "the form keeps what was typed");

    let closed = g.get("/solicitations?status=closed").await.text();
    assert!(closed.contains("2 solicitations"), "{closed}");
    assert!(closed.contains("Hospital-Based Victim Services"));

    let area = g
        .get("/solicitations?area=prevention&status=open&status=forecasted&status=closed&sort=title")
        .await
        .text();
    assert!(area.contains("solicitation"));

    let gov = g.get("/solicitations?applicant_type=government_county").await.text();
    assert!(gov.contains("Connect and Protect"), "{gov}");
    assert!(gov.contains("2 solicitations<"), "{gov}");
    assert!(
        !gov.contains("Neighborhood Peace Microgrants"),
        "grassroots-only microgrants do not take county governments"
    );

    let bad = g.get("/solicitations?closing_before=next+week&area=space").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    let html = bad.text();
    assert!(html.contains("closing_before"), "{html}");
    assert!(html.contains("must be a date written YYYY-MM-DD"));
    assert!(html.contains("area"));
    assert!(html.contains(r#"role="alert""#));

    let unknown = g.get("/solicitations?colour=blue").await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST);
    assert!(unknown.text().contains("colour"));
}

#[tokio::test]
async fn search_page_paginates() {
    let g = Granary::demo().await;
    // Five public, non-closed solicitations; pages of 2.
    let p1 = g.get("/solicitations?page_size=2").await.text();
    assert!(p1.contains("page 1 of 3"), "{p1}");
    assert!(
        p1.contains(r#"href="/solicitations?page_size&#x3D;2&amp;page&#x3D;2""#),
        "{p1}"
    );
    let p3 = g.get("/solicitations?page_size=2&page=3").await.text();
    assert!(p3.contains("page 3 of 3"));
    assert!(p3.contains(r#"rel="prev""#) && !p3.contains(r#"rel="next""#));
}

#[tokio::test]
async fn detail_page_shows_everything_an_applicant_needs() {
    let g = Granary::demo().await;
    let id = g.id_of("NNPC-2027-MG-90006").await;
    let r = g.get(&format!("/solicitations/{id}")).await;
    assert_eq!(r.status, StatusCode::OK);
    let html = r.text();
    for expected in [
        "Neighborhood Peace Microgrants",
        "Times are shown in America/New_York.",
        "5:00 pm EST",           // the deadline in the solicitation's zone
        "days, ",                // time left
        "$750,000",              // total
        "$50,000",               // ceiling
        "no more than $500,000", // budget limit
        "How applications are scored",
        "<td class=\"num\">100</td>",
        "Priority considerations",
        "A separate funding line of $150,000",
        "History and amendments",
        "Version 2",
        "Solicitation at a glance (plain text)",
    ] {
        assert!(html.contains(expected), "missing {expected:?}");
    }
}

#[tokio::test]
async fn unknown_and_draft_solicitations_are_not_found() {
    let g = Granary::demo().await;
    let r = g.get("/solicitations/0190b7c4-6a1e-7c3e-9d6f-2b1a4c5d6e7f").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(r.content_type.starts_with("text/html"));
    assert!(r.text().contains("There is no solicitation"));
    assert_eq!(g.get("/solicitations/not-an-id").await.status, StatusCode::NOT_FOUND);
    assert_eq!(g.get("/no/such/page").await.status, StatusCode::NOT_FOUND);

    let office = sol::ensure_office(
        &g.db.db,
        &Actor::cli("test"),
        "Bureau of Justice Assistance (demo)",
        "program_office",
        t0(),
    )
    .await
    .unwrap();
    let draft = sol::create_draft(
        &g.db.db,
        &Actor::cli("test"),
        office.id,
        sol::SolicitationContent {
            number: "DRAFT-1".into(),
            title: "Not yet public".into(),
            ..Default::default()
        },
        t0(),
    )
    .await
    .unwrap();
    assert_eq!(
        g.get(&format!("/solicitations/{}", draft.id)).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        g.get(&format!("/api/v1/solicitations/{}", draft.id)).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        g.get(&format!("/common-grants/opportunities/{}", draft.id))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn user_text_is_escaped() {
    let g = Granary::empty().await;
    let actor = Actor::cli("test");
    let office = sol::ensure_office(&g.db.db, &actor, "Office <b>of</b> Tests", "program_office", t0())
        .await
        .unwrap();
    let mut c: sol::SolicitationContent = serde_json::from_value(serde_json::json!({
        "number": "XSS-1",
        "title": "<script>alert(1)</script> Youth mentoring",
        "summary": "Summary with \"quotes\" & <img src=x onerror=alert(2)>",
        "description": "Para <iframe>",
        "program_areas": ["prevention"],
        "eligibility": {"applicant_types": ["non_profit_with_501c3"]},
        "funding": {"total_available": "1000", "award_ceiling": "500"},
        "rubric": {"total_points": 10, "criteria": [{"key": "a", "name": "<em>Need</em>", "points": 10}]}
    }))
    .unwrap();
    c.dates.closes_at = Some(t0() + chrono::Duration::days(3));
    let s = sol::create_draft(&g.db.db, &actor, office.id, c, t0()).await.unwrap();
    sol::transition(&g.db.db, &actor, s.id, sol::Transition::Open, t0())
        .await
        .unwrap();
    for page in [
        format!("/solicitations/{}", s.id),
        "/solicitations".to_string(),
        "/".to_string(),
    ] {
        let html = g.get(&page).await.text();
        assert!(!html.contains("<script>alert"), "{page} leaks a script tag");
        assert!(!html.contains("<img src=x"), "{page} leaks an img tag");
        assert!(!html.contains("<b>of</b>"), "{page} leaks office markup");
        assert!(
            html.contains("&lt;script&gt;alert(1)&lt;/script&gt; Youth mentoring"),
            "{page}"
        );
    }
}

#[tokio::test]
async fn attachments_download_intact() {
    let g = Granary::demo().await;
    let id = g.id_of("O-BJA-2027-90002").await;
    let detail = g.get(&format!("/api/v1/solicitations/{id}")).await.json();
    let att = &detail["attachments"][0];
    let url = att["download_url"].as_str().unwrap().replace("http://granary.test", "");
    let r = g.get(&url).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.content_type, "text/plain; charset=utf-8");
    assert!(
        r.headers["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment; filename=\"O-BJA-2027-90002-summary.txt\"")
    );
    assert_eq!(hex::encode(Sha256::digest(&r.body)), att["sha256"].as_str().unwrap());
    assert!(r.text().contains("Second Chance Act"));
    let missing = g
        .get(&format!(
            "/solicitations/{id}/attachments/0190b7c4-6a1e-7c3e-9d6f-2b1a4c5d6e7f"
        ))
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn stylesheet_and_security_headers() {
    let g = Granary::empty().await;
    let css = g.get("/static/granary.css").await;
    assert_eq!(css.status, StatusCode::OK);
    assert!(css.content_type.starts_with("text/css"));
    let home = g.get("/").await;
    assert_eq!(home.headers["x-content-type-options"], "nosniff");
    assert!(
        home.headers["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("default-src 'self'")
    );
    assert!(home.headers.contains_key("x-request-id"));
}

#[test]
fn templates_never_skip_escaping() {
    for (name, src) in granary_gateway::views::TEMPLATES {
        assert!(!src.contains("{{{"), "template {name} uses triple braces");
        assert!(!src.contains("{{&"), "template {name} uses an unescaped expression");
    }
}

#[tokio::test]
async fn a_route_that_skips_the_policy_cannot_answer() {
    use axum::routing::get;
    let g = Granary::empty().await;
    // A handler that forgets to ask the policy, behind the real layers.
    let careless = axum::Router::new().route("/careless", get(|| async { "secret things" }));
    let router = granary_gateway::app::with_layers(careless, g.state());
    let resp = tower::ServiceExt::oneshot(
        router,
        axum::http::Request::get("/careless")
            .body(axum::body::Body::empty())
            .unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(resp.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let body = http_body_util::BodyExt::collect(resp.into_body())
        .await
        .unwrap()
        .to_bytes();
    assert!(!String::from_utf8_lossy(&body).contains("secret things"));
}

#[tokio::test]
async fn production_never_reveals_the_policy_verdict() {
    let g = Granary::demo().await;
    let mut state = g.state();
    state.expose_policy_verdict = false;
    let router = granary_gateway::router(state);
    for uri in [
        "/",
        "/solicitations",
        "/account",
        "/api/v1/solicitations/0190b7c4-6a1e-7c3e-9d6f-2b1a4c5d6e7f",
    ] {
        let resp = tower::ServiceExt::oneshot(
            router.clone(),
            axum::http::Request::get(uri).body(axum::body::Body::empty()).unwrap(),
        )
        .await
        .unwrap();
        assert!(
            !resp.headers().contains_key(granary_gateway::auth::AUTHZ_HEADER),
            "{uri}"
        );
    }
}
