//! Program officers author solicitations through the pages: the desk, the editor, the
//! lifecycle buttons, amendments and attachments; and other people cannot.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use granary_core::Actor;
use granary_gateway::seed::{DEMO_PASSWORD, seed_demo_users};
use granary_solicitations as sol;

use crate::support::{Browser, Granary, Reply, t0};

async fn signed_in<'a>(g: &'a Granary, email: &str) -> Browser<'a> {
    let mut b = Browser::new(g);
    b.get("/").await;
    let r = b
        .post_form("/sign-in", &[("email", email), ("password", DEMO_PASSWORD)])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{email} signs in");
    b
}

async fn bja(g: &Granary) -> String {
    sol::ensure_office(
        &g.db.db,
        &Actor::cli("test"),
        "Bureau of Justice Assistance (demo)",
        "program_office",
        t0(),
    )
    .await
    .unwrap()
    .id
    .to_string()
}

/// The editor's fields for a complete solicitation whose criteria add up to `second + 40`.
fn editor_fields(second: &str) -> Vec<(&'static str, String)> {
    [
        ("number", "O-BJA-2027-88001"),
        ("title", "Neighborhood Youth Mentoring"),
        ("summary", "Grants for neighborhood youth mentoring programs."),
        ("description", "The full text of the notice."),
        ("program_areas", "prevention"),
        ("focus_tags", "youth"),
        ("eligibility.applicant_types", "non_profit_with_501c3"),
        ("eligibility.applicant_types", "fiscally_sponsored_group"),
        ("eligibility.max_annual_budget", "$750,000"),
        ("eligibility.geography.states", "dc, MD"),
        ("eligibility.geography.county_fips", "11001"),
        ("eligibility.geography.description", "The District and nearby Maryland"),
        ("eligibility.other_requirements", "Serve young people\nHave a board"),
        ("funding.total_available", "500000"),
        ("funding.award_floor", "25000"),
        ("funding.award_ceiling", "100000"),
        ("funding.expected_awards", "5"),
        ("funding.period_start", "2027-07-01"),
        ("funding.period_end", "2028-06-30"),
        ("funding.notes", "Paid quarterly."),
        ("dates.time_zone", "America/Chicago"),
        ("dates.opens_at", ""),
        ("dates.closes_at", "2027-02-15T23:59"),
        ("rubric.total_points", "100"),
        ("rubric.criteria[0].key", "need"),
        ("rubric.criteria[0].name", "Need"),
        ("rubric.criteria[0].description", "How great the need is"),
        ("rubric.criteria[0].points", "40"),
        // A blank row in the middle is ignored.
        ("rubric.criteria[1].key", ""),
        ("rubric.criteria[1].name", ""),
        ("rubric.criteria[1].description", ""),
        ("rubric.criteria[1].points", ""),
        ("rubric.criteria[2].key", "design"),
        ("rubric.criteria[2].name", "Design"),
        ("rubric.criteria[2].description", ""),
        ("rubric.criteria[2].points", second),
        ("priority_considerations[0].key", "lived"),
        ("priority_considerations[0].name", "Led by people with lived experience"),
        ("priority_considerations[0].description", ""),
        ("priority_considerations[0].established_by.method", "self_attested"),
        (
            "priority_considerations[0].established_by.value",
            "Most of our leaders have lived experience",
        ),
        ("priority_considerations[0].mechanism.type", "bonus_points"),
        ("priority_considerations[0].mechanism.value", "5"),
        ("required_documents[0].key", "budget"),
        ("required_documents[0].name", "Budget"),
        ("required_documents[0].description", "A one-year budget"),
        ("required_documents[0].required", "yes"),
        ("required_documents[1].required", "yes"),
        ("questions[0].key", "plan"),
        ("questions[0].prompt", "Describe your plan"),
        ("questions[0].guidance", ""),
        ("questions[0].max_chars", "2000"),
        ("questions[0].required", "yes"),
        ("assistance_listing", "16.812"),
        ("contact.name", "Pat Officer"),
        ("contact.email", "pat@bja.example.gov"),
        ("contact.phone", "202-555-0100"),
    ]
    .into_iter()
    .map(|(k, v)| (k, v.to_string()))
    .collect()
}

async fn post(b: &mut Browser<'_>, uri: &str, fields: &[(&'static str, String)]) -> Reply {
    let f: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    b.post_form(uri, &f).await
}

async fn upload(b: &mut Browser<'_>, id: &str, filename: &str, bytes: &[u8]) -> Reply {
    let mut body = Vec::new();
    body.extend_from_slice(b"--B0UNDARY\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nFull notice\r\n");
    body.extend_from_slice(
        format!("--B0UNDARY\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{filename}\"\r\nContent-Type: application/pdf\r\n\r\n")
            .as_bytes(),
    );
    body.extend_from_slice(bytes);
    body.extend_from_slice(b"\r\n--B0UNDARY--\r\n");
    let cookies = b
        .cookies
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("; ");
    b.g.send(
        Request::post(format!(
            "/manage/solicitations/{id}/attachments?csrf_token={}",
            b.csrf()
        ))
        .header(header::COOKIE, cookies)
        .header(header::CONTENT_TYPE, "multipart/form-data; boundary=B0UNDARY")
        .body(Body::from(body))
        .unwrap(),
    )
    .await
}

#[tokio::test]
async fn an_officer_drafts_posts_amends_and_attaches_through_the_pages() {
    let g = Granary::demo().await;
    seed_demo_users(&g.db.db, t0()).await.unwrap();
    let office = bja(&g).await;
    let mut b = signed_in(&g, "officer@demo.granary.test").await;

    // The desk lists the office's solicitations and offers a new one.
    let desk = b.get("/manage").await;
    assert_eq!(desk.status, StatusCode::OK, "{}", desk.text());
    let html = desk.text();
    assert!(html.contains("Bureau of Justice Assistance (demo)"));
    assert!(html.contains("New solicitation"));
    assert!(html.contains(r#"href="/manage""#), "the menu links to the desk");

    // A new draft from the desk; a bad one keeps what was typed.
    let r = b
        .post_form(
            "/manage/solicitations",
            &[("office", &office), ("number", "bad number!"), ("title", "Kept title")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text();
    assert!(html.contains(r#"id="number-error""#), "{html}");
    assert!(html.contains(r#"value="Kept title""#));
    let r = b
        .post_form(
            "/manage/solicitations",
            &[
                ("office", &office),
                ("number", "O-BJA-2027-88001"),
                ("title", "Youth Mentoring"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let location = Browser::location(&r);
    let id = location
        .strip_prefix("/manage/solicitations/")
        .and_then(|rest| rest.split('?').next())
        .unwrap()
        .to_string();
    let editor_uri = format!("/manage/solicitations/{id}");
    let r = b.get(&location).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.text().contains("The draft was created"));
    assert!(b.get("/manage").await.text().contains("O-BJA-2027-88001"));

    // Money that is not money is refused next to its input, with everything typed kept.
    let mut fields = editor_fields("50");
    for f in fields.iter_mut() {
        if f.0 == "funding.award_ceiling" {
            f.1 = "lots".into();
        }
    }
    let r = post(&mut b, &editor_uri, &fields).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text();
    assert!(html.contains(r#"id="funding.award_ceiling-error""#), "{html}");
    assert!(
        html.contains(r##"href="#funding.award_ceiling""##),
        "the summary links to the field"
    );
    assert!(html.contains(r#"value="lots""#));
    assert!(html.contains("Most of our leaders have lived experience"));

    // A rubric that does not add up saves as a draft, but opening is refused.
    let r = post(&mut b, &editor_uri, &editor_fields("50")).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let r = b
        .post_form(&format!("{editor_uri}/transition"), &[("action", "open")])
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text();
    let at = html
        .find(r#"id="rubric.total_points-error""#)
        .expect("the error sits next to the rubric total");
    assert!(html[at..].contains("add up to 90"), "{}", &html[at..at + 200]);
    assert!(html.contains(r#"aria-describedby="rubric.total_points-error""#));
    // The criterion typed in the third row is saved as the second and shown back.
    assert!(
        html.contains(r#"name="rubric.criteria[1].points" type="number" value="50""#),
        "{html}"
    );
    assert!(
        html.contains(r#"value="2027-02-15T23:59""#),
        "the deadline is shown in its zone"
    );
    assert!(html.contains(r#"<option value="America/Chicago" selected>"#));

    // Fixed, saved, forecast, opened.
    let r = post(&mut b, &editor_uri, &editor_fields("60")).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let saved = sol::get(&g.db.db, id.parse().unwrap()).await.unwrap();
    assert_eq!(saved.content.rubric.points_sum(), 100);
    assert_eq!(saved.content.eligibility.geography.states, ["DC", "MD"]);
    assert_eq!(
        saved.content.dates.closes_at.unwrap().to_rfc3339(),
        "2027-02-16T05:59:00+00:00",
        "the deadline is read in the chosen zone"
    );
    assert_eq!(saved.content.required_documents.len(), 1, "blank rows are ignored");
    for step in ["forecast", "open"] {
        let r = b
            .post_form(&format!("{editor_uri}/transition"), &[("action", step)])
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{step}: {}", r.text());
    }
    let page = b.get("/solicitations").await.text();
    assert!(
        page.contains("Neighborhood Youth Mentoring"),
        "the open solicitation is public"
    );

    // An amendment needs a summary, and posts version 2.
    let r = b.get(&editor_uri).await;
    assert!(r.text().contains("Post the amendment"));
    let mut fields = editor_fields("60");
    fields.push(("version", "1".into()));
    fields.push(("change_summary", "".into()));
    for f in fields.iter_mut() {
        if f.0 == "dates.closes_at" {
            f.1 = "2027-03-01T17:00".into();
        }
    }
    let r = post(&mut b, &editor_uri, &fields).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().contains(r#"id="change_summary-error""#));
    assert!(r.text().contains(r#"value="2027-03-01T17:00""#));
    fields.retain(|f| f.0 != "change_summary");
    fields.push(("change_summary", "Extended the deadline to March 1".into()));
    let r = post(&mut b, &editor_uri, &fields).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let public = b.get(&format!("/solicitations/{id}")).await.text();
    assert!(public.contains("Version 2"), "{public}");
    assert!(public.contains("Extended the deadline to March 1"));
    // Sending the old version again is a conflict, with what was typed kept.
    for f in fields.iter_mut() {
        if f.0 == "title" {
            f.1 = "Another title".into();
        }
    }
    let r = post(&mut b, &editor_uri, &fields).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(r.text().contains("Someone else amended this solicitation"));
    assert!(r.text().contains(r#"value="Another title""#));

    // A small PDF is attached, then removed; something that is not a document is refused.
    let r = upload(&mut b, &id, "notice.pdf", b"%PDF-1.4\n% a tiny test file\n").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let attachments = sol::attachments(&g.db.db, id.parse().unwrap()).await.unwrap();
    assert_eq!(attachments.len(), 1);
    assert_eq!(attachments[0].content_type, "application/pdf");
    let html = b.get(&editor_uri).await.text();
    assert!(html.contains("notice.pdf"));
    let r = upload(&mut b, &id, "program.pdf", b"MZ\x90\x00\x03\x00").await;
    assert_eq!(r.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert!(r.text().contains("The file was not attached"));
    let r = b
        .post_form(&format!("{editor_uri}/attachments/{}/remove", attachments[0].id), &[])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    assert!(
        sol::attachments(&g.db.db, id.parse().unwrap())
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        b.get(&Browser::location(&r))
            .await
            .text()
            .contains("No files are attached")
    );

    // Another office's officer may see the posted solicitation but not manage it, and
    // cannot even see a draft.
    let r = b
        .post_form(
            "/manage/solicitations",
            &[
                ("office", &office),
                ("number", "O-BJA-2027-88002"),
                ("title", "Still a draft"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let draft_uri = Browser::location(&r).split('?').next().unwrap().to_string();
    let mut other = signed_in(&g, "ovc.officer@demo.granary.test").await;
    assert_eq!(other.get(&editor_uri).await.status, StatusCode::FORBIDDEN);
    assert_eq!(other.get(&draft_uri).await.status, StatusCode::NOT_FOUND);
    let r = other
        .post_form(&format!("{editor_uri}/transition"), &[("action", "close")])
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let theirs = other.get("/manage").await;
    assert_eq!(theirs.status, StatusCode::OK);
    assert!(
        !theirs.text().contains("O-BJA-2027-88001"),
        "their desk shows only their office"
    );

    // The reviewer has no office to author for.
    let mut reviewer = signed_in(&g, "reviewer@demo.granary.test").await;
    let r = reviewer.get("/manage").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(r.text().contains("program office or intermediary"));
    // Nobody signed in is sent to sign in.
    let mut anonymous = Browser::new(&g);
    let r = anonymous.get("/manage").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(Browser::location(&r).starts_with("/sign-in?next="));
}
