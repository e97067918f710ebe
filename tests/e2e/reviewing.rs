//! Reviewing and the applicant's explanation: a reviewer lists their assignments, reads a
//! blind application without the applicant's name, saves drafts over the API and the form
//! (a stale version is refused with 409, an out-of-range score with 422 naming the field),
//! submits, and declares a conflict, after which the application is gone from them; nobody
//! else opens their review. Once the program office releases its decision, the applicant
//! reads the waterfall with reviewers numbered, never named.

use axum::http::{Method, StatusCode};
use chrono::Duration;
use granary_core::Actor;
use granary_core::id::{ApplicationId, OrganizationId, UserId};
use granary_core::policy::{OrgKind, Role};
use granary_gateway::seed::{DEMO_PASSWORD, create_verified_user, seed_demo_users};
use granary_scoring::pool::PoolEntry;
use granary_scoring::{Review, ReviewSettings, ReviewerKind, assign, decisions, pool, reviews};
use granary_solicitations::Solicitation;

use crate::support::{Browser, Granary, Reply, eastside, signed_in, submitted_application, t0};

const NUMBER: &str = "O-BJA-2027-90001";
const SECOND_ORG: &str = "Harbor Lights Collective (test)";

fn setup_actor() -> Actor {
    Actor::cli("review-setup")
}

async fn json(b: &mut Browser<'_>, method: Method, uri: &str, body: serde_json::Value) -> Reply {
    crate::access::send_with(b, &method, uri, "application/json", body.to_string().into_bytes()).await
}

async fn user_id(g: &Granary, email: &str) -> UserId {
    granary_identity::find_user_by_email(&g.db.db, &granary_identity::EmailAddress::parse(email).unwrap())
        .await
        .unwrap()
        .unwrap()
        .id
}

/// A reviewer who can be put in BJA's pool later (a member of BJA, with the reviewer role).
async fn third_reviewer(g: &Granary, s: &Solicitation) -> UserId {
    let u = create_verified_user(
        &g.db.db,
        "pat.peer@test.example",
        "Pat Peer",
        DEMO_PASSWORD,
        false,
        t0(),
    )
    .await
    .unwrap();
    granary_identity::add_member(&g.db.db, &setup_actor(), s.office.id, u.id, Role::Reviewer, t0())
        .await
        .unwrap();
    u.id
}

async fn into_pool(g: &Granary, s: &Solicitation, who: UserId) {
    pool::set_pool_member(
        &g.db.db,
        &setup_actor(),
        s,
        who,
        PoolEntry {
            kind: ReviewerKind::Community,
            expertise: Vec::new(),
            min_load: None,
            max_load: None,
        },
        t0(),
    )
    .await
    .unwrap();
}

struct World {
    g: Granary,
    s: Solicitation,
    /// Eastside's application, and (when asked for) a second organization's.
    apps: Vec<ApplicationId>,
    reviewer: UserId,
}

/// Submitted applications to BJA's solicitation, a pool of the demo reviewer and the
/// program officer (both BJA members), two reviews per application, and assignment run.
async fn world(applications: usize, settings: ReviewSettings) -> World {
    let g = Granary::demo().await;
    seed_demo_users(&g.db.db, t0()).await.unwrap();
    let s = granary_solicitations::get_by_number(&g.db.db, NUMBER).await.unwrap();
    let mut orgs: Vec<OrganizationId> = vec![eastside(&g).await];
    if applications > 1 {
        let org = granary_identity::create_organization(
            &g.db.db,
            &setup_actor(),
            granary_identity::NewOrganization {
                kind: OrgKind::CommunityOrganization,
                profile: granary_identity::OrganizationProfile {
                    name: SECOND_ORG.into(),
                    ..Default::default()
                },
            },
            None,
            t0(),
        )
        .await
        .unwrap();
        orgs.push(org.id);
    }
    let mut apps = Vec::new();
    for org in orgs {
        let (app, _) = submitted_application(&g, NUMBER, org).await;
        apps.push(app.id);
    }
    let reviewer = user_id(&g, "reviewer@demo.granary.test").await;
    let officer = user_id(&g, "officer@demo.granary.test").await;
    into_pool(&g, &s, reviewer).await;
    into_pool(&g, &s, officer).await;
    let settings = ReviewSettings {
        reviews_per_application: 2,
        max_load: 2,
        ..settings
    };
    pool::save_settings(&g.db.db, &setup_actor(), s.id, settings, 0, t0())
        .await
        .unwrap();
    assign::run(&g.db.db, &setup_actor(), &s, t0()).await.unwrap();
    World { g, s, apps, reviewer }
}

/// The reviewer's assignment to an application.
async fn review_of(w: &World, who: UserId, app: ApplicationId) -> Review {
    reviews::assignments_of(&w.g.db.db, who)
        .await
        .unwrap()
        .into_iter()
        .find(|r| r.application_id == app)
        .expect("assigned")
}

fn error_fields(r: &Reply) -> Vec<String> {
    r.json()["errors"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|e| e["field"].as_str().unwrap_or("").to_string())
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn a_reviewer_scores_a_blind_review_over_the_api_and_the_form() {
    let w = world(
        2,
        ReviewSettings {
            blind: true,
            ..Default::default()
        },
    )
    .await;
    let g = &w.g;
    let mine = review_of(&w, w.reviewer, w.apps[0]).await;
    let page_uri = format!("/reviews/{}", mine.id);
    let api_uri = format!("/api/v1/reviews/{}", mine.id);
    let mut rosa = signed_in(g, "reviewer@demo.granary.test").await;

    // The list: both assignments, by number, never by who applied.
    let list = rosa.get("/reviews").await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.text());
    let html = list.text();
    assert!(html.contains(NUMBER) && html.contains("Application 1") && html.contains("Application 2"));
    assert!(!html.contains("Eastside") && !html.contains(SECOND_ORG), "{html}");
    let api_list = rosa.get("/api/v1/reviews").await;
    let items = api_list.json()["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), 2);
    assert!(
        items
            .iter()
            .all(|i| i["application"]["label"].as_str().unwrap().starts_with("Application "))
    );

    // The application as submitted, without its applicant or its priority claims.
    let page = rosa.get(&page_uri).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text());
    let html = page.text();
    assert!(
        html.contains("The applicant's identity is hidden for this review."),
        "{html}"
    );
    assert!(
        html.contains("Statement of the Problem") && html.contains(r#"max="15""#),
        "the rubric"
    );
    assert!(html.contains("Summer Nights"), "the project as submitted");
    assert!(!html.contains("Eastside"), "{html}");
    let v = rosa.get(&api_uri).await;
    assert_eq!(v.status, StatusCode::OK, "{}", v.text());
    assert!(!v.text().contains("Eastside"), "{}", v.text());
    let j = v.json();
    assert_eq!(j["blind"], true);
    assert_eq!(j["application"]["identity_hidden"], true);
    assert!(j["application"]["organization"].is_null());
    assert!(j["application"].get("priorities").is_none());
    assert_eq!(j["rubric"]["criteria"][0]["key"], "need");
    let version = j["review"]["version"].as_i64().unwrap();

    // A draft over the API.
    let r = json(
        &mut rosa,
        Method::PUT,
        &api_uri,
        serde_json::json!({ "version": version, "content": { "criteria": { "need": { "score": "12", "strengths": "A clear need" } } } }),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["status"], "in_progress");
    assert_eq!(r.json()["version"], version + 1);
    // From the version before: refused, with the current version.
    let r = json(
        &mut rosa,
        Method::PUT,
        &api_uri,
        serde_json::json!({ "version": version, "content": { "overall_comment": "From another tab" } }),
    )
    .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text());
    assert_eq!(r.json()["current_version"], version + 1);
    // A score beyond the criterion's points names the field.
    let r = json(
        &mut rosa,
        Method::PUT,
        &api_uri,
        serde_json::json!({ "version": version + 1, "content": { "criteria": { "need": { "score": "16" } } } }),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert_eq!(error_fields(&r), vec!["criteria.need.score"]);

    // A draft over the form.
    let v2 = (version + 1).to_string();
    let r = rosa
        .post_form(
            &page_uri,
            &[
                ("version", v2.as_str()),
                ("criteria.need.score", "13"),
                ("criteria.need.strengths", "A clear need"),
                ("criteria.design.score", "30"),
                ("action", "save"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    assert_eq!(Browser::location(&r), format!("{page_uri}?notice=saved"));
    let page = rosa.get(&Browser::location(&r)).await;
    assert!(page.text().contains("Your draft is saved"));
    assert!(page.text().contains(r#"value="13""#));
    let v3 = (version + 2).to_string();

    // Out of range over the form: 422, everything typed kept, the summary links to the field.
    let r = rosa
        .post_form(
            &page_uri,
            &[
                ("version", v3.as_str()),
                ("criteria.need.score", "99"),
                ("criteria.need.strengths", "Typed & kept <b>as is</b>"),
                ("action", "save"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text();
    assert!(html.contains(r##"href="#criteria.need.score""##), "{html}");
    assert!(html.contains("must be between 0 and 15 points"));
    assert!(html.contains(r#"value="99""#));
    assert!(
        html.contains("Typed &amp; kept &lt;b&gt;as is&lt;/b&gt;"),
        "escaped, and kept"
    );
    // From an old version over the form: 409, what was typed kept.
    let r = rosa
        .post_form(
            &page_uri,
            &[
                ("version", v2.as_str()),
                ("criteria.need.score", "14"),
                ("overall_comment", "Written in an old tab"),
                ("action", "save"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    let html = r.text();
    assert!(
        html.contains("saved elsewhere") && html.contains("Written in an old tab"),
        "{html}"
    );
    assert!(html.contains(&format!(r#"name="version" value="{v3}""#)));

    // Submitting needs every criterion scored.
    let r = rosa
        .post_form(
            &page_uri,
            &[
                ("version", v3.as_str()),
                ("criteria.need.score", "13"),
                ("action", "submit"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().contains(r##"href="#criteria.design.score""##));
    let s = &w.s;
    let mut fields: Vec<(String, String)> = vec![("version".into(), v3.clone()), ("action".into(), "submit".into())];
    for c in &s.content.rubric.criteria {
        fields.push((format!("criteria.{}.score", c.key), (c.points / 2).to_string()));
    }
    let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let r = rosa.post_form(&page_uri, &fields).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    assert_eq!(Browser::location(&r), format!("{page_uri}?notice=submitted"));
    let page = rosa.get(&Browser::location(&r)).await;
    let html = page.text();
    let total: u32 = s.content.rubric.criteria.iter().map(|c| c.points / 2).sum();
    assert!(
        html.contains(&format!("{total} of {} points", s.content.rubric.total_points)),
        "{html}"
    );
    assert!(!html.contains(r#"name="action""#), "read-only once submitted");
    // A form left open in another tab changes nothing now.
    let r = rosa
        .post_form(
            &page_uri,
            &[
                ("version", v3.as_str()),
                ("criteria.need.score", "1"),
                ("action", "save"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(r.text().contains("this review has been submitted"));
    let r = json(
        &mut rosa,
        Method::POST,
        &format!("{api_uri}/submit"),
        serde_json::json!({ "version": version + 3 }),
    )
    .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text());

    // Nobody else opens it: not the applicant, not another office, not the officer who
    // reviews the same application; someone signed out is sent to sign in.
    for email in [
        "applicant@demo.granary.test",
        "ovc.officer@demo.granary.test",
        "officer@demo.granary.test",
    ] {
        let mut b = signed_in(g, email).await;
        assert_eq!(b.get(&page_uri).await.status, StatusCode::NOT_FOUND, "{email}");
        assert_eq!(b.get(&api_uri).await.status, StatusCode::NOT_FOUND, "{email}");
        let r = json(
            &mut b,
            Method::PUT,
            &api_uri,
            serde_json::json!({ "version": version + 3, "content": {} }),
        )
        .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{email}");
    }
    let r = g.get(&page_uri).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(Browser::location(&r).starts_with("/sign-in?next="));
}

#[tokio::test]
async fn declaring_a_conflict_takes_the_application_away() {
    let w = world(2, ReviewSettings::default()).await;
    let g = &w.g;
    let first = review_of(&w, w.reviewer, w.apps[0]).await;
    let second = review_of(&w, w.reviewer, w.apps[1]).await;
    let mut rosa = signed_in(g, "reviewer@demo.granary.test").await;

    // Not blind: the applicant is named.
    let page = rosa.get(&format!("/reviews/{}", second.id)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text().contains(SECOND_ORG));
    assert!(!page.text().contains("identity is hidden"));

    // The form says what is missing.
    let uri = format!("/reviews/{}/conflict", second.id);
    let r = rosa.post_form(&uri, &[("kind", ""), ("note", "")]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().contains("choose the kind of conflict"));
    let r = rosa.post_form(&uri, &[("kind", "other"), ("note", " ")]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().contains(r##"href="#conflict-note""##), "{}", r.text());

    // No one else is in the pool: the officer will reassign it.
    let r = rosa
        .post_form(&uri, &[("kind", "financial"), ("note", "My sister is its treasurer.")])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    assert_eq!(Browser::location(&r), "/reviews?notice=conflict-unfilled");
    let list = rosa.get(&Browser::location(&r)).await;
    assert!(
        list.text()
            .contains("the program officer will assign it to another reviewer")
    );
    assert!(!list.text().contains(&second.id.to_string()), "gone from the list");
    assert_eq!(
        rosa.get(&format!("/reviews/{}", second.id)).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        rosa.get(&format!("/api/v1/reviews/{}", second.id)).await.status,
        StatusCode::NOT_FOUND
    );

    // With someone free to take it, the API says it was reassigned, and never to whom.
    let pat = third_reviewer(g, &w.s).await;
    into_pool(g, &w.s, pat).await;
    let r = json(
        &mut rosa,
        Method::POST,
        &format!("/api/v1/reviews/{}/conflict", first.id),
        serde_json::json!({ "kind": "personal", "note": "A close friend leads it." }),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert_eq!(r.json()["reassigned"], true);
    assert_eq!(r.json()["conflict"]["kind"], "personal");
    let text = r.text();
    assert!(
        !text.contains("Pat Peer") && !text.contains("pat.peer") && !text.contains(&pat.to_string()),
        "{text}"
    );
    let pats = reviews::assignments_of(&g.db.db, pat).await.unwrap();
    assert!(pats.iter().any(|r| r.application_id == w.apps[0]), "Pat took it");
    assert_eq!(
        rosa.get(&format!("/reviews/{}", first.id)).await.status,
        StatusCode::NOT_FOUND
    );
    let mine = rosa.get("/api/v1/reviews").await;
    assert_eq!(mine.json()["items"], serde_json::json!([]));
    assert!(
        rosa.get("/reviews")
            .await
            .text()
            .contains("You have no applications to review right now.")
    );
}

#[tokio::test]
async fn the_applicant_reads_the_released_outcome_with_reviewers_numbered() {
    let w = world(
        1,
        ReviewSettings {
            share_reviews_after_submitting: true,
            ..Default::default()
        },
    )
    .await;
    let g = &w.g;
    let app = w.apps[0];
    let officer = user_id(g, "officer@demo.granary.test").await;
    let mut amara = signed_in(g, "applicant@demo.granary.test").await;
    let outcome_uri = format!("/applications/{app}/outcome");
    let api_outcome = format!("/api/v1/applications/{app}/outcome");

    // Nothing to read before release.
    let r = amara.get(&outcome_uri).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.text().contains("have not been released yet"));
    let r = amara.get(&api_outcome).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(
        r.json()["message"],
        "Decisions for this solicitation have not been released yet."
    );

    // Both reviewers submit, one over the API and one over the form.
    let criteria = &w.s.content.rubric.criteria;
    let mut rosa = signed_in(g, "reviewer@demo.granary.test").await;
    let hers = review_of(&w, w.reviewer, app).await;
    let scores: serde_json::Map<String, serde_json::Value> = criteria
        .iter()
        .map(|c| (c.key.clone(), serde_json::json!({ "score": c.points.to_string() })))
        .collect();
    let r = json(
        &mut rosa,
        Method::POST,
        &format!("/api/v1/reviews/{}/submit", hers.id),
        serde_json::json!({ "version": hers.version, "content": { "criteria": scores } }),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["status"], "submitted");
    let mut olivia = signed_in(g, "officer@demo.granary.test").await;
    let theirs = review_of(&w, officer, app).await;
    let version = theirs.version.to_string();
    let mut fields: Vec<(String, String)> = vec![("version".into(), version), ("action".into(), "submit".into())];
    for c in criteria {
        fields.push((format!("criteria.{}.score", c.key), (c.points / 2).to_string()));
        fields.push((format!("criteria.{}.weaknesses", c.key), "Thin on detail.".into()));
    }
    let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    olivia.get(&format!("/reviews/{}", theirs.id)).await;
    let r = olivia.post_form(&format!("/reviews/{}", theirs.id), &fields).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());

    // The solicitation shares reviews after submitting: Rosa reads the other one, unnamed.
    let page = rosa.get(&format!("/reviews/{}", hers.id)).await;
    let html = page.text();
    assert!(
        html.contains("Reviewer 1") && html.contains("Thin on detail."),
        "{html}"
    );
    assert!(!html.contains("Olivia"), "{html}");
    let v = rosa.get(&format!("/api/v1/reviews/{}", hers.id)).await;
    assert_eq!(v.json()["others"][0]["reviewer"], "Reviewer 1");
    assert!(!v.text().contains("Olivia") && !v.text().contains(&officer.to_string()));

    // The office decides after the deadline, approves and releases.
    let who = setup_actor();
    let after_close = w.s.content.dates.closes_at.expect("a deadline") + Duration::hours(1);
    let d = decisions::create(&g.db.db, &who, &w.s, Default::default(), after_close)
        .await
        .unwrap();
    decisions::approve(&g.db.db, &who, &w.s, d.id, after_close)
        .await
        .unwrap();
    decisions::release(&g.db.db, &who, &w.s, d.id, after_close)
        .await
        .unwrap();

    let r = amara.get(&outcome_uri).await;
    assert_eq!(r.status, StatusCode::OK);
    let html = r.text();
    assert!(html.contains("How the decision was reached"), "{html}");
    assert!(html.contains("Reviewer 1") && html.contains("Reviewer 2"), "{html}");
    for secret in [
        "Rosa",
        "reviewer@demo.granary.test",
        "Olivia",
        "officer@demo.granary.test",
    ] {
        assert!(!html.contains(secret), "{secret} in {html}");
    }
    let r = amara.get(&api_outcome).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let j = r.json();
    assert_eq!(j["id"], app.to_string());
    let steps: Vec<String> = j["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect();
    assert!(steps[0].starts_with("Reviewer 1:"), "{steps:?}");
    assert!(steps.iter().any(|s| s.contains("Raw merit")), "{steps:?}");
    let text = r.text();
    assert!(!text.contains("Rosa") && !text.contains("Olivia") && !text.contains(&w.reviewer.to_string()));

    // Someone else's outcome is not theirs to read.
    let mut victor = signed_in(g, "ovc.officer@demo.granary.test").await;
    assert_eq!(victor.get(&outcome_uri).await.status, StatusCode::NOT_FOUND);
    assert_eq!(victor.get(&api_outcome).await.status, StatusCode::NOT_FOUND);
}
