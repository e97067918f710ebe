//! Program officers author solicitations through the JSON API: draft, edit, forecast, open,
//! amend, close, archive, attachments; and nobody else can.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use granary_core::policy::Scope;
use granary_gateway::seed::seed_demo_users;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::support::{Granary, Reply, t0};

async fn token_for(g: &Granary, email: &str, scopes: Vec<Scope>) -> String {
    let user = granary_identity::find_user_by_email(&g.db.db, &granary_identity::EmailAddress::parse(email).unwrap())
        .await
        .unwrap()
        .unwrap();
    let actor = granary_core::Actor::User {
        id: user.id,
        name: user.display_name.clone(),
    };
    granary_identity::create_api_token(&g.db.db, &actor, user.id, "test", scopes, None, t0())
        .await
        .unwrap()
        .1
}

async fn call(g: &Granary, token: &str, method: Method, uri: &str, body: Value) -> Reply {
    g.send(
        Request::builder()
            .method(method)
            .uri(uri)
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_string()))
            .unwrap(),
    )
    .await
}

async fn upload(g: &Granary, token: &str, id: &str, filename: &str, bytes: &[u8]) -> Reply {
    let mut body = Vec::new();
    body.extend_from_slice(b"--B0UNDARY\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nBudget template\r\n");
    body.extend_from_slice(
        format!("--B0UNDARY\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{filename}\"\r\nContent-Type: application/octet-stream\r\n\r\n")
            .as_bytes(),
    );
    body.extend_from_slice(bytes);
    body.extend_from_slice(b"\r\n--B0UNDARY--\r\n");
    g.send(
        Request::post(format!("/api/v1/solicitations/{id}/attachments"))
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .header(header::CONTENT_TYPE, "multipart/form-data; boundary=B0UNDARY")
            .body(Body::from(body))
            .unwrap(),
    )
    .await
}

fn content(title: &str) -> Value {
    json!({
        "number": "O-BJA-2027-77001",
        "title": title,
        "summary": "Grants for neighborhood youth mentoring programs.",
        "description": "Full text of the notice.",
        "program_areas": ["prevention"],
        "focus_tags": ["youth"],
        "eligibility": {"applicant_types": ["non_profit_with_501c3", "fiscally_sponsored_group"]},
        "funding": {"total_available": "500000.00", "award_ceiling": "100000.00", "award_floor": "25000.00", "expected_awards": 5},
        "dates": {"time_zone": "America/Chicago", "closes_at": "2027-02-15T23:59:00-06:00"},
        "rubric": {"total_points": 100, "criteria": [
            {"key": "need", "name": "Need", "points": 40},
            {"key": "design", "name": "Design", "points": 60}
        ]},
        "priority_considerations": [{
            "key": "lived", "name": "Led by people with lived experience",
            "established_by": {"method": "self_attested", "statement": "Most of our leaders have lived experience"},
            "mechanism": {"type": "bonus_points", "points": "5"}
        }]
    })
}

#[tokio::test]
async fn a_program_officer_takes_a_solicitation_from_draft_to_archive() {
    let g = Granary::demo().await;
    seed_demo_users(&g.db.db, t0()).await.unwrap();
    let officer = token_for(&g, "officer@demo.granary.test", vec![Scope::Read, Scope::Write]).await;
    let office = granary_solicitations::get_by_number(&g.db.db, "O-BJA-2027-90001")
        .await
        .unwrap()
        .office
        .id;

    let mut draft_content = content("Youth Mentoring Grants");
    draft_content["rubric"]["total_points"] = json!(90);
    let created = call(
        &g,
        &officer,
        Method::POST,
        "/api/v1/solicitations",
        json!({"office_id": office, "content": draft_content}),
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text());
    let id = created.json()["id"].as_str().unwrap().to_string();
    assert_eq!(created.headers[header::LOCATION], format!("/api/v1/solicitations/{id}"));
    assert_eq!(
        g.get(&format!("/api/v1/solicitations/{id}")).await.status,
        StatusCode::NOT_FOUND,
        "drafts are not public"
    );

    // Opening checks the rubric and names the field.
    let refused = call(
        &g,
        &officer,
        Method::POST,
        &format!("/api/v1/solicitations/{id}/transitions"),
        json!({"action": "open"}),
    )
    .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(refused.json()["errors"][0]["field"], "rubric.total_points");

    let fixed = call(
        &g,
        &officer,
        Method::PUT,
        &format!("/api/v1/solicitations/{id}"),
        json!({"content": content("Youth Mentoring Grants")}),
    )
    .await;
    assert_eq!(fixed.status, StatusCode::OK, "{}", fixed.text());
    for step in ["forecast", "open"] {
        let r = call(
            &g,
            &officer,
            Method::POST,
            &format!("/api/v1/solicitations/{id}/transitions"),
            json!({"action": step}),
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{step}: {}", r.text());
    }
    let public = g.get(&format!("/api/v1/solicitations/{id}")).await;
    assert_eq!(public.status, StatusCode::OK);
    assert_eq!(public.json()["status"], "open");
    assert!(
        g.get(&format!("/solicitations/{id}"))
            .await
            .text()
            .contains("Youth Mentoring Grants")
    );

    // Amendments: the summary is required, a stale version conflicts, a good one bumps the version.
    let amended = content("Youth Mentoring Grants (amended)");
    let stale = call(
        &g,
        &officer,
        Method::POST,
        &format!("/api/v1/solicitations/{id}/amendments"),
        json!({"content": amended, "change_summary": "Clarified the title", "expected_version": 0}),
    )
    .await;
    assert_eq!(stale.status, StatusCode::CONFLICT);
    let ok = call(
        &g,
        &officer,
        Method::POST,
        &format!("/api/v1/solicitations/{id}/amendments"),
        json!({"content": amended, "change_summary": "Clarified the title", "expected_version": 1}),
    )
    .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.text());
    assert_eq!(ok.json()["version"], 2);
    assert_eq!(ok.json()["amendments"][1]["change_summary"], "Clarified the title");

    for step in ["close", "archive"] {
        let r = call(
            &g,
            &officer,
            Method::POST,
            &format!("/api/v1/solicitations/{id}/transitions"),
            json!({"action": step}),
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{step}: {}", r.text());
    }
    let illegal = call(
        &g,
        &officer,
        Method::POST,
        &format!("/api/v1/solicitations/{id}/transitions"),
        json!({"action": "open"}),
    )
    .await;
    assert_eq!(illegal.status, StatusCode::CONFLICT);
    assert!(
        illegal.json()["message"]
            .as_str()
            .unwrap()
            .contains("cannot go from archived to open")
    );
}

#[tokio::test]
async fn only_the_issuing_office_with_a_write_token_may_author() {
    let g = Granary::demo().await;
    seed_demo_users(&g.db.db, t0()).await.unwrap();
    let bja = granary_solicitations::get_by_number(&g.db.db, "O-BJA-2027-90002")
        .await
        .unwrap();
    let new = json!({"office_id": bja.office.id, "content": content("Not mine")});
    for (email, scopes, want) in [
        (
            "ovc.officer@demo.granary.test",
            vec![Scope::Read, Scope::Write],
            StatusCode::FORBIDDEN,
        ),
        (
            "reviewer@demo.granary.test",
            vec![Scope::Read, Scope::Write],
            StatusCode::FORBIDDEN,
        ),
        (
            "applicant@demo.granary.test",
            vec![Scope::Read, Scope::Write],
            StatusCode::FORBIDDEN,
        ),
        ("officer@demo.granary.test", vec![Scope::Read], StatusCode::FORBIDDEN),
    ] {
        let t = token_for(&g, email, scopes).await;
        let r = call(&g, &t, Method::POST, "/api/v1/solicitations", new.clone()).await;
        assert_eq!(r.status, want, "{email} creating");
        let r = call(
            &g,
            &t,
            Method::POST,
            &format!("/api/v1/solicitations/{}/transitions", bja.id),
            json!({"action": "close"}),
        )
        .await;
        assert_eq!(r.status, want, "{email} closing an open solicitation");
    }
    // Anonymous callers are asked to authenticate.
    let r = g.post_json("/api/v1/solicitations", &new.to_string()).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        granary_solicitations::get(&g.db.db, bja.id).await.unwrap().status,
        granary_solicitations::Status::Open
    );
}

#[tokio::test]
async fn bad_bodies_are_explained() {
    let g = Granary::demo().await;
    seed_demo_users(&g.db.db, t0()).await.unwrap();
    let officer = token_for(&g, "officer@demo.granary.test", vec![Scope::Read, Scope::Write]).await;
    let office = granary_solicitations::get_by_number(&g.db.db, "O-BJA-2027-90001")
        .await
        .unwrap()
        .office
        .id;
    let r = g
        .send(
            Request::post("/api/v1/solicitations")
                .header(header::AUTHORIZATION, format!("Bearer {officer}"))
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from("{not json"))
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let mut c = content("Typo");
    c["funding"]["total_available"] = json!("lots");
    let r = call(
        &g,
        &officer,
        Method::POST,
        "/api/v1/solicitations",
        json!({"office_id": office, "content": c}),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.json()["errors"][0]["field"], "content.funding.total_available");
    let r = call(
        &g,
        &officer,
        Method::POST,
        "/api/v1/solicitations",
        json!({"office_id": office, "content": {"titel": "x"}}),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.json()["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("unknown field `titel`")
    );
}

#[tokio::test]
async fn attachments_are_checked_streamed_and_removable() {
    let g = Granary::demo().await;
    seed_demo_users(&g.db.db, t0()).await.unwrap();
    let officer = token_for(&g, "officer@demo.granary.test", vec![Scope::Read, Scope::Write]).await;
    let id = granary_solicitations::get_by_number(&g.db.db, "O-BJA-2027-90002")
        .await
        .unwrap()
        .id
        .to_string();
    let pdf = b"%PDF-1.7\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n".to_vec();
    let r = upload(&g, &officer, &id, "budget.pdf", &pdf).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let att = r.json();
    assert_eq!(att["content_type"], "application/pdf");
    assert_eq!(att["sha256"], hex::encode(Sha256::digest(&pdf)));
    let download = g
        .get(&att["download_url"].as_str().unwrap().replace("http://granary.test", ""))
        .await;
    assert_eq!(download.body, pdf);

    // A program in disguise is refused by its content, not its name.
    let r = upload(
        &g,
        &officer,
        &id,
        "form.pdf",
        b"MZ\x90\x00\x03\x00\x00\x00\x04\x00binary",
    )
    .await;
    assert_eq!(r.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    // Over the store's limit (10 MiB in tests): refused, and nothing is kept.
    let big = vec![b'a'; 11 * 1024 * 1024];
    let r = upload(&g, &officer, &id, "huge.txt", &big).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", r.text());
    let listed = g.get(&format!("/api/v1/solicitations/{id}")).await.json()["attachments"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(listed, 2, "the seeded summary and the PDF only");

    let del = call(
        &g,
        &officer,
        Method::DELETE,
        &format!("/api/v1/solicitations/{id}/attachments/{}", att["id"].as_str().unwrap()),
        json!({}),
    )
    .await;
    assert_eq!(del.status, StatusCode::NO_CONTENT);
    let listed = g.get(&format!("/api/v1/solicitations/{id}")).await.json()["attachments"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(listed, 1);
}
