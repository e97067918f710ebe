//! Every route with every role: the authorization policy allows and refuses exactly what it
//! should. The route list comes from the router's own table, so a new route is walked too; a
//! route that answers without asking the policy fails here (the gateway turns its answer
//! into a 500).

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use granary_core::Actor;
use granary_core::document_record::{self, NewDocument};
use granary_core::id::DocumentId;
use granary_gateway::auth::AUTHZ_HEADER;
use granary_gateway::seed::{DEMO_PASSWORD, seed_demo_users};
use granary_solicitations as sol;

use crate::support::{Browser, Granary, Reply, eastside, submitted_application, t0};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Anonymous,
    Applicant,
    IntermediaryStaff,
    OfficerOfAnotherOffice,
    ProgramOfficer,
    Reviewer,
    Administrator,
}

const ROLES: [(Role, Option<&str>); 7] = [
    (Role::Anonymous, None),
    (Role::Applicant, Some("applicant@demo.granary.test")),
    (Role::IntermediaryStaff, Some("intermediary@demo.granary.test")),
    (Role::OfficerOfAnotherOffice, Some("ovc.officer@demo.granary.test")),
    (Role::ProgramOfficer, Some("officer@demo.granary.test")),
    (Role::Reviewer, Some("reviewer@demo.granary.test")),
    (Role::Administrator, Some("admin@demo.granary.test")),
];

/// Who may use each route. `{id}` of solicitation routes is a draft of the program
/// officer's office, so only that office and administrators may see it.
fn allowed(method: &Method, path: &str, role: Role) -> bool {
    use Role::*;
    match (method.as_str(), path) {
        (_, "/account" | "/account/tokens" | "/account/tokens/{id}/revoke") => role != Anonymous,
        (
            "GET",
            "/solicitations/{id}"
            | "/solicitations/{id}/attachments/{attachment_id}"
            | "/api/v1/solicitations/{id}"
            | "/common-grants/opportunities/{opp_id}",
        ) => matches!(role, ProgramOfficer | Administrator),
        // -- solicitation authoring (API) --
        (
            _,
            "/api/v1/solicitations"
            | "/api/v1/solicitations/{id}"
            | "/api/v1/solicitations/{id}/transitions"
            | "/api/v1/solicitations/{id}/amendments"
            | "/api/v1/solicitations/{id}/attachments"
            | "/api/v1/solicitations/{id}/attachments/{attachment_id}",
        ) if method != Method::GET => matches!(role, ProgramOfficer | Administrator),
        // -- solicitation authoring (pages) --
        // The desk is for anyone who works for an office that issues solicitations (program
        // offices and intermediaries); the rest is about BJA's draft, or creates for BJA.
        ("GET", "/manage") => matches!(
            role,
            ProgramOfficer | OfficerOfAnotherOffice | IntermediaryStaff | Administrator
        ),
        (
            _,
            "/manage/solicitations"
            | "/manage/solicitations/{id}"
            | "/manage/solicitations/{id}/transition"
            | "/manage/solicitations/{id}/attachments"
            | "/manage/solicitations/{id}/attachments/{attachment_id}/remove",
        ) => matches!(role, ProgramOfficer | Administrator),
        // -- organizations, members and audit --
        // Any signed-in person with a confirmed address may register an organization.
        (_, "/organizations/new" | "/organizations") => role != Anonymous,
        // `{org}` is the program officer's office (BJA): its owner is the program officer,
        // and the reviewer is a member too.
        ("GET", "/organizations/{org}") => matches!(role, ProgramOfficer | Reviewer | Administrator),
        ("POST", "/organizations/{org}") | ("GET", "/organizations/{org}/edit") => {
            matches!(role, ProgramOfficer | Administrator)
        }
        (
            "POST",
            "/organizations/{org}/invitations"
            | "/organizations/{org}/invitations/{invitation}/revoke"
            | "/organizations/{org}/members/{user}/role"
            | "/organizations/{org}/members/{user}/remove",
        ) => matches!(role, ProgramOfficer | Administrator),
        ("GET", "/organizations/{org}/audit") => matches!(role, ProgramOfficer | Administrator),
        (_, "/invitations/accept") => role != Anonymous,
        ("GET", "/audit") => role == Administrator,
        // -- applications (API) --
        // `{id}` of a solicitation is BJA's draft: only its office sees it, so only they reach
        // the office-only application routes behind it (and the pre-check and start refuse
        // everyone else with "not found").
        (
            _,
            "/api/v1/solicitations/{id}/eligibility"
            | "/api/v1/solicitations/{id}/applications"
            | "/api/v1/solicitations/{id}/applications.csv"
            | "/api/v1/solicitations/{id}/extensions",
        ) => matches!(role, ProgramOfficer | Administrator),
        ("GET", "/api/v1/applications") => role != Anonymous,
        // Reads are of Eastside's application submitted to BJA: Eastside and BJA's officer.
        (
            "GET",
            "/api/v1/applications/{id}"
            | "/api/v1/applications/{id}/documents/{attachment_id}"
            | "/api/v1/applications/{id}/package"
            | "/api/v1/applications/{id}/outcome"
            | "/api/v1/receipts/{tracking}",
        ) => matches!(role, Applicant | ProgramOfficer | Administrator),
        // Changes are to Eastside's draft: only Eastside's members.
        (
            _,
            "/api/v1/applications/{id}"
            | "/api/v1/applications/{id}/documents"
            | "/api/v1/applications/{id}/documents/{attachment_id}"
            | "/api/v1/applications/{id}/submit"
            | "/api/v1/applications/{id}/withdraw",
        ) => matches!(role, Applicant | Administrator),
        // -- applications (pages) --
        // `{id}` of /solicitations and /manage/solicitations is BJA's draft: only BJA and
        // administrators see it, and nobody applies to a draft (administrators get as far as
        // being told it takes no applications).
        (_, "/solicitations/{id}/eligibility") => matches!(role, ProgramOfficer | Administrator),
        ("POST", "/solicitations/{id}/apply") => role == Administrator,
        ("GET", "/applications") => role != Anonymous,
        // Reading a submitted application of Eastside to BJA, and its receipt.
        ("GET", "/applications/{id}" | "/applications/{id}/outcome" | "/receipts/{tracking}") => {
            matches!(role, Applicant | ProgramOfficer | Administrator)
        }
        // Changing Eastside's draft.
        (
            "POST",
            "/applications/{id}"
            | "/applications/{id}/documents"
            | "/applications/{id}/documents/{attachment_id}/remove"
            | "/applications/{id}/submit"
            | "/applications/{id}/withdraw",
        ) => matches!(role, Applicant | Administrator),
        (_, "/manage/solicitations/{id}/applications" | "/manage/solicitations/{id}/extensions") => {
            matches!(role, ProgramOfficer | Administrator)
        }
        // -- review (program officers) --
        // Of BJA's draft: only its office (whose owner is the program officer) and
        // administrators see it, and the reviewer, a member with the reviewer role, neither
        // runs nor reads the office's review.
        (_, p)
            if p.starts_with("/manage/solicitations/{id}/review")
                || p.starts_with("/manage/solicitations/{id}/ranking")
                || p.starts_with("/manage/solicitations/{id}/decisions")
                || p.starts_with("/api/v1/solicitations/{id}/review")
                || p.starts_with("/api/v1/solicitations/{id}/ranking")
                || p.starts_with("/api/v1/solicitations/{id}/sensitivity")
                || p.starts_with("/api/v1/solicitations/{id}/decisions") =>
        {
            matches!(role, ProgramOfficer | Administrator)
        }
        // -- reviewing --
        ("GET", "/reviews" | "/api/v1/reviews") => role != Anonymous,
        // `{id}` is the reviewer's assignment to Eastside's application submitted to BJA. The
        // policy lets any member of BJA review for it (the scoring service then opens an
        // assignment only for its own reviewer) and administrators.
        (_, p) if p.starts_with("/reviews/{id}") || p.starts_with("/api/v1/reviews/{id}") => {
            matches!(role, Reviewer | ProgramOfficer | Administrator)
        }
        // Everything else is public, or (sign in, sign up, password reset) open to anyone.
        _ => true,
    }
}

async fn draft_with_attachment(g: &Granary) -> (String, String) {
    let actor = Actor::cli("test");
    let office = sol::ensure_office(
        &g.db.db,
        &actor,
        "Bureau of Justice Assistance (demo)",
        "program_office",
        t0(),
    )
    .await
    .unwrap();
    let content = sol::SolicitationContent {
        number: "DRAFT-ACCESS-1".into(),
        title: "Unannounced".into(),
        ..Default::default()
    };
    let draft = sol::create_draft(&g.db.db, &actor, office.id, content, t0())
        .await
        .unwrap();
    let doc = DocumentId::new();
    let key = granary_documents::DocumentKey::parse(&format!("solicitations/{}/{doc}", draft.id)).unwrap();
    let meta = g
        .store
        .put(
            &key,
            Box::pin(std::io::Cursor::new(b"draft notes".to_vec())),
            Some("text/plain"),
        )
        .await
        .unwrap();
    document_record::insert(
        &g.db.db,
        NewDocument {
            id: doc,
            storage_key: key.as_str().into(),
            filename: "notes.txt".into(),
            content_type: "text/plain".into(),
            size_bytes: meta.size,
            sha256: meta.sha256,
            uploaded_by: "cli:test".into(),
        },
        t0(),
    )
    .await
    .unwrap();
    let att = sol::add_attachment(&g.db.db, &actor, draft.id, doc, "Notes", t0())
        .await
        .unwrap();
    (draft.id.to_string(), att.id.to_string())
}

/// The program officer's office (BJA) and its only owner, the program officer: removing
/// that member is refused (the last owner), so walking the routes changes no membership.
async fn office_and_member(g: &Granary) -> (String, String) {
    let office = sol::ensure_office(
        &g.db.db,
        &Actor::cli("test"),
        "Bureau of Justice Assistance (demo)",
        "program_office",
        t0(),
    )
    .await
    .unwrap();
    let officer = granary_identity::find_user_by_email(
        &g.db.db,
        &granary_identity::EmailAddress::parse("officer@demo.granary.test").unwrap(),
    )
    .await
    .unwrap()
    .unwrap();
    (office.id.to_string(), officer.id.to_string())
}

/// Applications the walk uses: Eastside's application submitted to BJA (with one of its
/// documents and its tracking number) for reads, and Eastside's draft for changes.
struct AppFixture {
    submitted: String,
    document: String,
    tracking: String,
    draft: String,
}

async fn application_fixture(g: &Granary) -> AppFixture {
    let org = eastside(g).await;
    let (submitted, sub) = submitted_application(g, "O-BJA-2027-90001", org).await;
    let document = granary_applications::documents(&g.db.db, submitted.id).await.unwrap()[0].id;
    let s = sol::get_by_number(&g.db.db, "O-BJA-2027-90002").await.unwrap();
    let (draft, _) = granary_applications::start(&g.db.db, &Actor::cli("test"), s.id, org, t0())
        .await
        .unwrap();
    AppFixture {
        submitted: submitted.id.to_string(),
        document: document.to_string(),
        tracking: sub.tracking_number,
        draft: draft.id.to_string(),
    }
}

/// The demo reviewer's assignment to Eastside's submitted application: the pool holds only
/// them, and each application gets one reviewer.
async fn review_fixture(g: &Granary) -> String {
    use granary_scoring as scoring;
    let actor = Actor::cli("test");
    let s = sol::get_by_number(&g.db.db, "O-BJA-2027-90001").await.unwrap();
    let rosa = scoring::pool::candidates(&g.db.db, &s)
        .await
        .unwrap()
        .into_iter()
        .find(|c| c.person.email == "reviewer@demo.granary.test")
        .expect("the demo reviewer is a member of BJA")
        .person
        .id;
    let entry = scoring::pool::PoolEntry {
        kind: scoring::ReviewerKind::Community,
        expertise: vec![],
        min_load: None,
        max_load: None,
    };
    scoring::pool::set_pool_member(&g.db.db, &actor, &s, rosa, entry, t0())
        .await
        .unwrap();
    let settings = scoring::ReviewSettings {
        reviews_per_application: 1,
        ..Default::default()
    };
    scoring::pool::save_settings(&g.db.db, &actor, s.id, settings, 0, t0())
        .await
        .unwrap();
    scoring::assign::run(&g.db.db, &actor, &s, t0()).await.unwrap();
    let mine = scoring::reviews::assignments_of(&g.db.db, rosa).await.unwrap();
    assert_eq!(mine.len(), 1, "the reviewer has the one submitted application");
    mine[0].id.to_string()
}

fn fill(path: &str, draft: &str, attachment: &str, org: &str, member: &str) -> String {
    path.replace("{org}", org)
        .replace("{user}", member)
        .replace("{invitation}", &uuid::Uuid::now_v7().to_string())
        .replace("{attachment_id}", attachment)
        .replace("{review}", &uuid::Uuid::now_v7().to_string())
        .replace("{decision}", &uuid::Uuid::now_v7().to_string())
        .replace("{opp_id}", draft)
        .replace(
            "/account/tokens/{id}",
            &format!("/account/tokens/{}", uuid::Uuid::now_v7()),
        )
        .replace("{id}", draft)
}

/// A JSON or multipart request with the browser's cookies and CSRF header.
pub(crate) async fn send_with(
    b: &mut Browser<'_>,
    method: &Method,
    uri: &str,
    content_type: &str,
    body: Vec<u8>,
) -> Reply {
    let csrf = b.csrf();
    let cookies = b
        .cookies
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("; ");
    b.g.send(
        Request::builder()
            .method(method.clone())
            .uri(uri)
            .header(header::COOKIE, cookies)
            .header("x-csrf-token", csrf)
            .header(header::CONTENT_TYPE, content_type)
            .body(Body::from(body))
            .unwrap(),
    )
    .await
}

/// A body each route accepts (or refuses for a reason other than access).
fn json_body(path: &str, office: &str) -> String {
    match path {
        "/api/v1/solicitations" => {
            format!(
                r#"{{"office_id": "{office}", "content": {{"number": "ACCESS-NEW", "title": "Made in the access test"}}}}"#
            )
        }
        "/api/v1/solicitations/{id}" => r#"{"content": {"number": "DRAFT-ACCESS-1", "title": "Unannounced"}}"#.into(),
        "/api/v1/solicitations/{id}/transitions" => r#"{"action": "forecast"}"#.into(),
        "/api/v1/solicitations/{id}/amendments" => {
            r#"{"content": {"number": "DRAFT-ACCESS-1", "title": "Changed"}, "change_summary": "Try to amend a draft"}"#
                .into()
        }
        _ => "{}".into(),
    }
}

async fn call(b: &mut Browser<'_>, method: &Method, path: &str, uri: &str, office: &str) -> Reply {
    match (method.as_str(), path) {
        ("GET", _) => b.get(uri).await,
        ("POST", p) if p.ends_with("/attachments") || p.ends_with("/documents") => {
            let body = "--XYZ\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nNotes\r\n--XYZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"n.txt\"\r\nContent-Type: text/plain\r\n\r\nhello\r\n--XYZ--\r\n";
            send_with(
                b,
                method,
                uri,
                "multipart/form-data; boundary=XYZ",
                body.as_bytes().to_vec(),
            )
            .await
        }
        ("POST" | "PUT" | "DELETE", p) if p.starts_with("/api/") || p.starts_with("/common-grants") => {
            send_with(b, method, uri, "application/json", json_body(path, office).into_bytes()).await
        }
        // A new draft names its office (and no number, so nothing is created).
        ("POST", "/manage/solicitations") => b.post_form(uri, &[("office", office)]).await,
        ("POST", _) => b.post_form(uri, &[]).await,
        (other, _) => panic!("no test call for method {other}"),
    }
}

/// "allowed" or "refused", from what the gateway answered.
fn verdict(r: &Reply) -> &'static str {
    let location = Browser::location(r);
    if r.status == StatusCode::SEE_OTHER && location.starts_with("/sign-in?next=") {
        return "refused";
    }
    match r.headers.get(AUTHZ_HEADER).and_then(|v| v.to_str().ok()) {
        Some("allowed") => "allowed",
        Some("refused" | "sign-in") => "refused",
        other => panic!("no policy verdict ({other:?}), status {}: {}", r.status, r.text()),
    }
}

#[tokio::test]
async fn every_route_with_every_role() {
    let g = Granary::demo().await;
    seed_demo_users(&g.db.db, t0()).await.unwrap();
    let (draft, attachment) = draft_with_attachment(&g).await;
    let (org, member) = office_and_member(&g).await;
    let apps = application_fixture(&g).await;
    let review = review_fixture(&g).await;
    let office = sol::ensure_office(
        &g.db.db,
        &Actor::cli("test"),
        "Bureau of Justice Assistance (demo)",
        "program_office",
        t0(),
    )
    .await
    .unwrap()
    .id
    .to_string();
    let mut routes: Vec<(Method, &str)> = granary_gateway::app::routes()
        .into_iter()
        .map(|r| (r.method, r.path))
        .collect();
    // Signing out last keeps each role signed in for the others.
    routes.sort_by_key(|(_, p)| *p == "/sign-out");
    assert!(routes.len() >= 24, "the route table lists every route");

    let mut mismatches = Vec::new();
    let mut checked = 0;
    for (role, email) in ROLES {
        let mut b = Browser::new(&g);
        b.get("/").await;
        if let Some(email) = email {
            let r = b
                .post_form("/sign-in", &[("email", email), ("password", DEMO_PASSWORD)])
                .await;
            assert_eq!(r.status, StatusCode::SEE_OTHER, "{role:?} signs in");
        }
        for (method, path) in &routes {
            // Deleting and removing use an unknown attachment, so the draft keeps its file for the others.
            let attachment = if *method == Method::DELETE || path.ends_with("/remove") {
                uuid::Uuid::now_v7().to_string()
            } else {
                attachment.clone()
            };
            let uri = if path.starts_with("/reviews/") || path.starts_with("/api/v1/reviews/") {
                path.replace("{id}", &review)
            } else if path.starts_with("/applications/")
                || path.starts_with("/api/v1/applications/")
                || path.starts_with("/receipts/")
                || path.starts_with("/api/v1/receipts/")
            {
                let (id, attachment) = if *method == Method::GET {
                    (&apps.submitted, apps.document.clone())
                } else {
                    (&apps.draft, uuid::Uuid::now_v7().to_string())
                };
                path.replace("{id}", id)
                    .replace("{attachment_id}", &attachment)
                    .replace("{tracking}", &apps.tracking)
            } else {
                fill(path, &draft, &attachment, &org, &member)
            };
            let r = call(&mut b, method, path, &uri, &office).await;
            assert_ne!(
                r.status,
                StatusCode::INTERNAL_SERVER_ERROR,
                "{method} {path} as {role:?}: {}",
                r.text()
            );
            let got = verdict(&r);
            let want = if allowed(method, path, role) {
                "allowed"
            } else {
                "refused"
            };
            if got != want {
                mismatches.push(format!(
                    "{method} {path} as {role:?}: {got}, expected {want} (status {})",
                    r.status
                ));
            }
            checked += 1;
        }
    }
    assert!(mismatches.is_empty(), "policy mismatches:\n{}", mismatches.join("\n"));
    assert_eq!(checked, routes.len() * ROLES.len());
}

#[tokio::test]
async fn api_tokens_carry_their_owners_rights_and_scope() {
    let g = Granary::demo().await;
    seed_demo_users(&g.db.db, t0()).await.unwrap();
    let (draft, _) = draft_with_attachment(&g).await;
    let officer = granary_identity::find_user_by_email(
        &g.db.db,
        &granary_identity::EmailAddress::parse("officer@demo.granary.test").unwrap(),
    )
    .await
    .unwrap()
    .unwrap();
    let actor = Actor::User {
        id: officer.id,
        name: officer.display_name.clone(),
    };
    let (_, token) = granary_identity::create_api_token(
        &g.db.db,
        &actor,
        officer.id,
        "read-only",
        vec![granary_core::policy::Scope::Read],
        None,
        t0(),
    )
    .await
    .unwrap();
    let get = |uri: String| {
        Request::get(uri)
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .body(Body::empty())
            .unwrap()
    };
    let r = g.send(get(format!("/api/v1/solicitations/{draft}"))).await;
    assert_eq!(r.status, StatusCode::OK, "the officer's token reads the office's draft");
    assert_eq!(r.json()["status"], "draft");
    let anonymous = g.get(&format!("/api/v1/solicitations/{draft}")).await;
    assert_eq!(anonymous.status, StatusCode::NOT_FOUND);
}
