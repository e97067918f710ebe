//! Applications over the JSON API: start, autosave with versions (409 on a stale save),
//! documents recognised by content, the missing-items list, submission with receipt and
//! email, the deadline to the second under a controlled clock, an extension, and the
//! program officer's list and export.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use chrono::Duration;
use granary_gateway::seed::{DEMO_PASSWORD, seed_demo_users};

use crate::support::{Browser, Granary, Reply, eastside, pdf_bytes, t0};

async fn signed_in<'a>(g: &'a Granary, email: &str) -> Browser<'a> {
    let mut b = Browser::new(g);
    b.get("/").await;
    let r = b
        .post_form("/sign-in", &[("email", email), ("password", DEMO_PASSWORD)])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{email} signs in");
    b
}

async fn send(b: &mut Browser<'_>, method: Method, uri: &str, content_type: &str, body: Vec<u8>) -> Reply {
    let cookies = b
        .cookies
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("; ");
    b.g.send(
        Request::builder()
            .method(method)
            .uri(uri)
            .header(header::COOKIE, cookies)
            .header("x-csrf-token", b.csrf())
            .header(header::CONTENT_TYPE, content_type)
            .body(Body::from(body))
            .unwrap(),
    )
    .await
}

async fn json(b: &mut Browser<'_>, method: Method, uri: &str, body: serde_json::Value) -> Reply {
    send(b, method, uri, "application/json", body.to_string().into_bytes()).await
}

async fn upload(b: &mut Browser<'_>, app: &str, slot: &str, filename: &str, bytes: &[u8]) -> Reply {
    let mut body = format!(
        "--XYZ\r\nContent-Disposition: form-data; name=\"slot\"\r\n\r\n{slot}\r\n--XYZ\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\n\r\n--XYZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{filename}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(bytes);
    body.extend_from_slice(b"\r\n--XYZ--\r\n");
    send(
        b,
        Method::POST,
        &format!("/api/v1/applications/{app}/documents"),
        "multipart/form-data; boundary=XYZ",
        body,
    )
    .await
}

fn fields(r: &Reply, key: &str) -> Vec<String> {
    r.json()[key]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|e| e["field"].as_str().unwrap_or("").to_string())
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn apply_save_conflict_upload_submit_and_receipt_over_the_api() {
    let g = Granary::demo().await;
    seed_demo_users(&g.db.db, t0()).await.unwrap();
    let org = eastside(&g).await;
    let sid = g.id_of("NNPC-2027-MG-90006").await;

    // Anyone can run the pre-check; the reasons are exact.
    let r = g
        .post_json(
            &format!("/api/v1/solicitations/{sid}/eligibility"),
            r#"{"applicant_type": "for_profit_small_business", "annual_budget": "2400000.00"}"#,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let v = r.json();
    assert_eq!(v["verdict"], "not_eligible");
    let reasons = v["reasons"].to_string();
    assert!(
        reasons.contains("$2,400,000.00") && reasons.contains("Small business"),
        "{reasons}"
    );

    let mut ana = signed_in(&g, "applicant@demo.granary.test").await;
    let start_uri = format!("/api/v1/solicitations/{sid}/applications");
    let r = json(
        &mut ana,
        Method::POST,
        &start_uri,
        serde_json::json!({ "organization_id": org }),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let app = r.json()["id"].as_str().unwrap().to_string();
    assert_eq!(r.json()["version"], 1);
    let r = json(
        &mut ana,
        Method::POST,
        &start_uri,
        serde_json::json!({ "organization_id": org }),
    )
    .await;
    assert_eq!(
        (r.status, r.json()["id"].as_str().unwrap()),
        (StatusCode::OK, app.as_str())
    );

    // Another organization's member cannot start one for Eastside.
    let mut ivan = signed_in(&g, "intermediary@demo.granary.test").await;
    let r = json(
        &mut ivan,
        Method::POST,
        &start_uri,
        serde_json::json!({ "organization_id": org }),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);

    // Save the sample content from version 1.
    let s = granary_solicitations::get_by_number(&g.db.db, "NNPC-2027-MG-90006")
        .await
        .unwrap();
    let content = granary_applications::sample::complete_content(&s, "Peace walks");
    let app_uri = format!("/api/v1/applications/{app}");
    let r = json(
        &mut ana,
        Method::PUT,
        &app_uri,
        serde_json::json!({ "version": 1, "content": content }),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["version"], 2);
    assert_eq!(r.json()["budget"]["total_request"], "5000.00");
    // Only the required documents are missing now.
    assert_eq!(
        fields(&r, "problems"),
        vec!["documents.required:simple_budget", "documents.required:w9_form"]
    );

    // A second member's save from version 1 is refused with what is there now.
    let mut stale = content.clone();
    stale.project_abstract = "Typed in another tab".into();
    let r = json(
        &mut ana,
        Method::PUT,
        &app_uri,
        serde_json::json!({ "version": 1, "content": stale }),
    )
    .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(r.json()["current"]["version"], 2);
    assert_eq!(r.json()["current"]["content"]["abstract"], content.project_abstract);
    // Both changed the abstract from version 1: a conflict; everything else merges.
    assert_eq!(r.json()["conflicts"], serde_json::json!(["abstract"]));
    assert_eq!(r.json()["merged"]["abstract"], "Typed in another tab");

    // Two people changing different parts from the same version: the merge keeps both.
    let mut budget_change = content.clone();
    budget_change.budget.lines[0].unit_cost = "6000.00".parse().unwrap();
    let r = json(
        &mut ana,
        Method::PUT,
        &app_uri,
        serde_json::json!({ "version": 2, "content": budget_change }),
    )
    .await;
    assert_eq!(r.json()["version"], 3);
    let mut title_change = content.clone();
    title_change.project_title = "Peace walks, every night".into();
    let r = json(
        &mut ana,
        Method::PUT,
        &app_uri,
        serde_json::json!({ "version": 2, "content": title_change }),
    )
    .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(r.json()["conflicts"], serde_json::json!([]));
    let merged = r.json()["merged"].clone();
    assert_eq!(merged["project_title"], "Peace walks, every night");
    assert_eq!(
        merged["budget"]["lines"][0]["unit_cost"], "6000.00",
        "the other change survives"
    );
    let r = json(
        &mut ana,
        Method::PUT,
        &app_uri,
        serde_json::json!({ "version": 3, "content": merged }),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    // Back to the sample content for the rest of the test.
    let r = json(
        &mut ana,
        Method::PUT,
        &app_uri,
        serde_json::json!({ "version": 4, "content": content }),
    )
    .await;
    assert_eq!(r.json()["version"], 5);

    // Submitting now lists every missing item.
    let submit_uri = format!("/api/v1/applications/{app}/submit");
    let r = json(&mut ana, Method::POST, &submit_uri, serde_json::json!({})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert_eq!(fields(&r, "errors").len(), 2, "{}", r.text());

    // Documents are recognised by content: a program named .pdf is refused.
    let r = upload(
        &mut ana,
        &app,
        "required:simple_budget",
        "budget.pdf",
        b"MZ\x90\x00\x03\x00\x00\x00",
    )
    .await;
    assert_eq!(r.status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{}", r.text());
    // A file for a slot this solicitation does not have is stored, then refused when it is
    // attached: the catalogue entry goes with the refusal, in the same transaction.
    let catalogued = async || {
        let row = sea_orm::ConnectionTrait::query_one_raw(
            &g.db.db,
            sea_orm::Statement::from_string(
                g.db.db.get_database_backend(),
                "SELECT CAST(COUNT(*) AS BIGINT) AS n FROM documents",
            ),
        )
        .await
        .unwrap()
        .unwrap();
        row.try_get::<i64>("", "n").unwrap()
    };
    let before = catalogued().await;
    let r = upload(&mut ana, &app, "required:not_asked_for", "x.pdf", &pdf_bytes("x")).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert_eq!(
        catalogued().await,
        before,
        "no document is catalogued without its attachment"
    );
    let r = upload(
        &mut ana,
        &app,
        "required:simple_budget",
        "budget.pdf",
        &pdf_bytes("budget"),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let first_sha = r.json()["sha256"].as_str().unwrap().to_string();
    let r = upload(&mut ana, &app, "required:w9_form", "w9.pdf", &pdf_bytes("w9")).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let download = r.json()["download_url"]
        .as_str()
        .unwrap()
        .replace("http://granary.test", "");
    let d = ana.get(&download).await;
    assert_eq!((d.status, d.body.clone()), (StatusCode::OK, pdf_bytes("w9")));
    // Replacing the budget keeps one document in its slot.
    let r = upload(
        &mut ana,
        &app,
        "required:simple_budget",
        "budget-v2.pdf",
        &pdf_bytes("budget v2"),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED);
    assert_ne!(r.json()["sha256"], first_sha.as_str());
    let r = ana.get(&app_uri).await;
    assert_eq!(r.json()["documents"].as_array().unwrap().len(), 2);
    assert_eq!(r.json()["ready_to_submit"], true, "{}", r.text());

    // Submit: a receipt with a tracking number and the snapshot's digest, and an email.
    g.clock.set(t0() + Duration::days(3));
    let r = json(&mut ana, Method::POST, &submit_uri, serde_json::json!({})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let receipt = r.json();
    let tracking = receipt["tracking_number"].as_str().unwrap().to_string();
    assert_eq!(receipt["digest_verified"], true);
    assert_eq!(receipt["documents"].as_array().unwrap().len(), 2);
    let email = g.link_in_email(&tracking, "http://granary.test/receipts/").await;
    assert_eq!(email, format!("/receipts/{tracking}"));
    let (_, text) = g
        .emails()
        .into_iter()
        .rev()
        .find(|(_, t)| t.contains(&tracking))
        .unwrap();
    assert!(text.contains(receipt["digest"].as_str().unwrap()), "{text}");
    // The stored snapshot matches the receipt.
    let sub = granary_applications::submission_by_tracking(&g.db.db, &tracking)
        .await
        .unwrap();
    assert_eq!(sub.digest, receipt["digest"].as_str().unwrap());
    assert!(sub.digest_matches());

    // Submitted applications cannot be changed, and the receipt is readable by the
    // applicant and the issuing office (here an intermediary), by no one else.
    let r = json(
        &mut ana,
        Method::PUT,
        &app_uri,
        serde_json::json!({ "version": 2, "content": content }),
    )
    .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    let receipt_uri = format!("/api/v1/receipts/{tracking}");
    assert_eq!(ana.get(&receipt_uri).await.status, StatusCode::OK);
    assert_eq!(ivan.get(&receipt_uri).await.status, StatusCode::OK);
    let mut victor = signed_in(&g, "ovc.officer@demo.granary.test").await;
    assert_eq!(victor.get(&receipt_uri).await.status, StatusCode::NOT_FOUND);
    assert_eq!(victor.get(&app_uri).await.status, StatusCode::NOT_FOUND);

    // The issuing office's list and export.
    let r = ivan.get(&format!("/api/v1/solicitations/{sid}/applications")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["counts"]["submitted"], 1);
    assert_eq!(r.json()["items"][0]["tracking_number"], tracking.as_str());
    let csv = ivan.get(&format!("/api/v1/solicitations/{sid}/applications.csv")).await;
    assert_eq!(csv.status, StatusCode::OK);
    assert!(csv.content_type.starts_with("text/csv"));
    assert!(
        csv.text().contains(&tracking) && csv.text().contains("Peace walks"),
        "{}",
        csv.text()
    );
    assert_eq!(
        victor
            .get(&format!("/api/v1/solicitations/{sid}/applications"))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn one_second_late_is_refused_until_the_office_grants_an_extension() {
    let g = Granary::demo().await;
    seed_demo_users(&g.db.db, t0()).await.unwrap();
    let org = eastside(&g).await;
    let app = crate::support::ready_application(&g, "NNPC-2027-MG-90006", org).await;
    let s = granary_solicitations::get_by_number(&g.db.db, "NNPC-2027-MG-90006")
        .await
        .unwrap();
    let deadline = s.content.dates.closes_at.unwrap();
    // Sessions last a week of idleness: sign in on deadline day.
    g.clock.set(deadline + Duration::seconds(1));
    let mut ana = signed_in(&g, "applicant@demo.granary.test").await;
    let submit_uri = format!("/api/v1/applications/{}/submit", app.id);
    let r = json(&mut ana, Method::POST, &submit_uri, serde_json::json!({})).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text());
    let shown = granary_core::time::format_instant(
        deadline,
        granary_core::time::parse_time_zone(&s.content.dates.time_zone).unwrap(),
    );
    assert!(
        r.json()["message"].as_str().unwrap().contains(&shown),
        "{} should name {shown}",
        r.text()
    );

    // The applicant cannot grant itself an extension; the issuing office can.
    let ext_uri = format!("/api/v1/solicitations/{}/extensions", s.id);
    let body = serde_json::json!({
        "organization_id": org,
        "until": deadline + Duration::hours(24),
        "reason": "Our office's portal was down from 10 pm (ticket 88).",
    });
    let r = json(&mut ana, Method::POST, &ext_uri, body.clone()).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let mut ivan = signed_in(&g, "intermediary@demo.granary.test").await;
    let r = json(
        &mut ivan,
        Method::POST,
        &ext_uri,
        serde_json::json!({ "organization_id": org, "until": deadline + Duration::hours(24), "reason": "" }),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = json(&mut ivan, Method::POST, &ext_uri, body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());

    let r = json(&mut ana, Method::POST, &submit_uri, serde_json::json!({})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert!(r.json()["on_time_by_extension_until"].is_string(), "{}", r.text());
    let entries = granary_core::audit::find(
        &g.db.db,
        &granary_core::audit::AuditQuery {
            subject_type: Some("solicitation".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert!(
        entries
            .iter()
            .any(|e| e.action == "application.extension_granted" && e.actor_name == "Ivan Intermediary"),
        "the extension is on record"
    );
}

#[tokio::test]
async fn the_menu_offers_what_each_person_does() {
    let g = Granary::demo().await;
    seed_demo_users(&g.db.db, t0()).await.unwrap();
    let mut ana = signed_in(&g, "applicant@demo.granary.test").await;
    let home = ana.get("/").await.text();
    assert!(home.contains("href=\"/applications\"") && !home.contains("href=\"/manage\""));
    let mut olivia = signed_in(&g, "officer@demo.granary.test").await;
    let home = olivia.get("/").await.text();
    assert!(home.contains("href=\"/manage\"") && !home.contains("href=\"/applications\""));
    let mut ivan = signed_in(&g, "intermediary@demo.granary.test").await;
    let home = ivan.get("/").await.text();
    assert!(
        home.contains("href=\"/manage\"") && home.contains("href=\"/applications\""),
        "an intermediary both issues and applies"
    );
}

#[tokio::test]
async fn the_demo_has_submitted_applications_for_the_offices_to_see() {
    let g = Granary::demo().await;
    seed_demo_users(&g.db.db, t0()).await.unwrap();
    let made = granary_gateway::seed::seed_demo_applications(&g.db.db, &g.store, t0())
        .await
        .unwrap();
    assert_eq!(made, 2);
    let again = granary_gateway::seed::seed_demo_applications(&g.db.db, &g.store, t0())
        .await
        .unwrap();
    assert_eq!(again, 0, "seeding twice changes nothing");
    let mut olivia = signed_in(&g, "officer@demo.granary.test").await;
    let sid = g.id_of("O-BJA-2027-90001").await;
    let r = olivia.get(&format!("/api/v1/solicitations/{sid}/applications")).await;
    assert_eq!(r.json()["counts"]["submitted"], 1, "{}", r.text());
    let tracking = r.json()["items"][0]["tracking_number"].as_str().unwrap().to_string();
    let page = olivia.get(&format!("/receipts/{tracking}")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text().contains("Cure the Streets Coalition (demo)"));
}

#[tokio::test]
async fn application_documents_and_packages_work_on_s3() {
    let g = Granary::demo_on_s3().await;
    seed_demo_users(&g.db.db, t0()).await.unwrap();
    let org = eastside(&g).await;
    let sid = g.id_of("NNPC-2027-MG-90006").await;
    let mut ana = signed_in(&g, "applicant@demo.granary.test").await;
    let r = json(
        &mut ana,
        Method::POST,
        &format!("/api/v1/solicitations/{sid}/applications"),
        serde_json::json!({ "organization_id": org }),
    )
    .await;
    let app = r.json()["id"].as_str().unwrap().to_string();
    let s = granary_solicitations::get_by_number(&g.db.db, "NNPC-2027-MG-90006")
        .await
        .unwrap();
    let content = granary_applications::sample::complete_content(&s, "On S3");
    let r = json(
        &mut ana,
        Method::PUT,
        &format!("/api/v1/applications/{app}"),
        serde_json::json!({ "version": 1, "content": content }),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    // A document larger than one multipart part of the S3 client's default, streamed through.
    let mut big = pdf_bytes("big budget");
    big.extend(std::iter::repeat_n(b'x', 6 * 1024 * 1024));
    let r = upload(&mut ana, &app, "required:simple_budget", "budget.pdf", &big).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    use sha2::Digest;
    assert_eq!(r.json()["sha256"], hex::encode(sha2::Sha256::digest(&big)));
    let r = upload(&mut ana, &app, "required:w9_form", "w9.pdf", &pdf_bytes("w9")).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let r = json(
        &mut ana,
        Method::POST,
        &format!("/api/v1/applications/{app}/submit"),
        serde_json::json!({}),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let r = ana.get(&format!("/api/v1/applications/{app}/package")).await;
    assert_eq!(r.status, StatusCode::OK);
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(r.body.clone())).expect("a valid zip");
    let mut out = Vec::new();
    std::io::Read::read_to_end(
        &mut zip.by_name("documents/01-required_simple_budget-budget.pdf").unwrap(),
        &mut out,
    )
    .unwrap();
    assert_eq!(out, big, "the document comes back whole from S3");
}
