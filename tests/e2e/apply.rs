//! Applicants apply through the pages: the eligibility pre-check, the editor saved over
//! several sittings (and by two people at once), documents, submission and the receipt; the
//! program officer sees the applications, exports them and grants an extension.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use granary_core::Actor;
use granary_core::policy::Role;
use granary_gateway::seed::{DEMO_PASSWORD, create_verified_user, seed_demo_users};

use crate::support::{Browser, Granary, Reply, t0};

/// The open BJA solicitation used throughout: one program area, three questions, five
/// required documents, awards from $1,000,000 to $1,500,000, intermediaries only.
const REENTRY: &str = "O-BJA-2027-90002";
/// The open small-grants solicitation with a budget limit and a list of places.
const MICROGRANTS: &str = "NNPC-2027-MG-90006";

async fn signed_in<'a>(g: &'a Granary, email: &str) -> Browser<'a> {
    let mut b = Browser::new(g);
    b.get("/").await;
    let r = b
        .post_form("/sign-in", &[("email", email), ("password", DEMO_PASSWORD)])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{email} signs in");
    b
}

/// The value of the first `<input ... name="{name}" value="...">` on a page.
fn input_value(html: &str, name: &str) -> String {
    let needle = format!("name=\"{name}\" value=\"");
    let start = html
        .find(&needle)
        .unwrap_or_else(|| panic!("no input {name} on the page"))
        + needle.len();
    html[start..].chars().take_while(|c| *c != '"').collect()
}

fn version_of(html: &str) -> String {
    input_value(html, "version")
}

async fn eastside(g: &Granary) -> String {
    let user = granary_identity::find_user_by_email(
        &g.db.db,
        &granary_identity::EmailAddress::parse("applicant@demo.granary.test").unwrap(),
    )
    .await
    .unwrap()
    .unwrap();
    granary_identity::memberships_of(&g.db.db, user.id)
        .await
        .unwrap()
        .into_iter()
        .find(|m| m.organization_name == "Eastside Peacekeepers (demo)")
        .unwrap()
        .organization_id
        .to_string()
}

/// A multipart upload into one of an application's document slots, as the page's form sends it.
async fn upload(b: &mut Browser<'_>, app: &str, slot: &str, filename: &str, bytes: &[u8]) -> Reply {
    let mut body = Vec::new();
    body.extend_from_slice(
        format!("--B0UNDARY\r\nContent-Disposition: form-data; name=\"slot\"\r\n\r\n{slot}\r\n").as_bytes(),
    );
    body.extend_from_slice(b"--B0UNDARY\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nA document\r\n");
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
        Request::post(format!("/applications/{app}/documents?csrf_token={}", b.csrf()))
            .header(header::COOKIE, cookies)
            .header(header::CONTENT_TYPE, "multipart/form-data; boundary=B0UNDARY")
            .body(Body::from(body))
            .unwrap(),
    )
    .await
}

/// Posts the editor's form as the autosave script does: urlencoded, asking for JSON.
async fn autosave(b: &mut Browser<'_>, uri: &str, fields: &[(&str, String)]) -> Reply {
    let token = b.csrf();
    let mut all: Vec<(&str, &str)> = vec![("csrf_token", token.as_str())];
    all.extend(fields.iter().map(|(k, v)| (*k, v.as_str())));
    let cookies = b
        .cookies
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("; ");
    b.g.send(
        Request::post(uri)
            .header(header::COOKIE, cookies)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::ACCEPT, "application/json")
            .body(Body::from(serde_urlencoded::to_string(&all).unwrap()))
            .unwrap(),
    )
    .await
}

async fn post(b: &mut Browser<'_>, uri: &str, fields: &[(&str, String)]) -> Reply {
    let f: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    b.post_form(uri, &f).await
}

/// Sets a field of a form (as a list of name/value pairs) to a new value.
fn set(fields: &mut [(&'static str, String)], name: &str, value: &str) {
    let f = fields
        .iter_mut()
        .find(|(k, _)| *k == name)
        .unwrap_or_else(|| panic!("no field {name}"));
    f.1 = value.to_string();
}

fn pdf(text: &str) -> Vec<u8> {
    format!("%PDF-1.4\n% {text}\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n").into_bytes()
}

/// The eligibility answers that make Eastside eligible for the reentry solicitation.
fn eligible_answers() -> Vec<(&'static str, String)> {
    vec![
        ("eligibility.applicant_type", "non_profit_with_501c3".into()),
        ("eligibility.is_intermediary", "yes".into()),
        ("eligibility.requirements[0]", "yes".into()),
        ("eligibility.requirements[1]", "yes".into()),
        ("eligibility.requirements[2]", "yes".into()),
    ]
}

#[tokio::test]
async fn anyone_checks_eligibility_and_sees_every_reason() {
    let g = Granary::demo().await;
    let id = g.id_of(MICROGRANTS).await;
    let mut b = Browser::new(&g);

    // The solicitation's page leads to the check.
    let page = b.get(&format!("/solicitations/{id}")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.text()
            .contains(&format!("href=\"/solicitations/{id}/eligibility\""))
    );

    let r = b.get(&format!("/solicitations/{id}/eligibility")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let html = r.text();
    assert!(html.contains("What is your organization"), "{html}");
    assert!(html.contains("name=\"eligibility.annual_budget\""));
    assert!(html.contains("name=\"eligibility.requirements[0]\""));
    assert!(
        html.contains("<label for=\"eligibility.county_fips\">"),
        "every input has a label"
    );

    // Too big, in the wrong place, and a requirement not met: every reason, with the figures.
    let r = b
        .post_form(
            &format!("/solicitations/{id}/eligibility"),
            &[
                ("eligibility.applicant_type", "non_profit_with_501c3"),
                ("eligibility.annual_budget", "$900,000"),
                ("eligibility.state", "va"),
                ("eligibility.county_fips", "51059"),
                ("eligibility.requirements[0]", "yes"),
                ("eligibility.requirements[1]", "yes"),
                ("eligibility.requirements[2]", "yes"),
                ("eligibility.requirements[3]", "no"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let html = r.text();
    assert!(html.contains("You do not appear eligible"), "{html}");
    assert!(html.contains("Your annual budget of $900,000.00 is above"), "{html}");
    assert!(html.contains("$500,000.00"));
    assert!(html.contains("You said 51059"), "the county reason: {html}");
    assert!(html.contains("Groups that already get federal grants directly cannot apply"));
    assert!(!html.contains("Start your application"));
    // What was typed stays in the form.
    assert!(html.contains("value=\"$900,000\""), "{html}");

    // Unanswered questions are named.
    let r = b
        .post_form(
            &format!("/solicitations/{id}/eligibility"),
            &[("eligibility.applicant_type", "fiscally_sponsored_group")],
        )
        .await;
    let html = r.text();
    assert!(html.contains("Some questions are not answered yet"), "{html}");
    assert!(html.contains("annual operating budget"));

    // A bad amount is a field error, next to the field.
    let r = b
        .post_form(
            &format!("/solicitations/{id}/eligibility"),
            &[("eligibility.annual_budget", "lots")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().contains("id=\"eligibility.annual_budget-error\""));

    // Eligible and anonymous: asked to sign in, and brought back.
    let r = b
        .post_form(
            &format!("/solicitations/{id}/eligibility"),
            &[
                ("eligibility.applicant_type", "fiscally_sponsored_group"),
                ("eligibility.annual_budget", "85000"),
                ("eligibility.state", "DC"),
                ("eligibility.county_fips", "11001"),
                ("eligibility.requirements[0]", "yes"),
                ("eligibility.requirements[1]", "yes"),
                ("eligibility.requirements[2]", "yes"),
                ("eligibility.requirements[3]", "yes"),
            ],
        )
        .await;
    let html = r.text();
    assert!(html.contains("You appear eligible"), "{html}");
    assert!(
        html.contains(&format!("/sign-in?next=%2Fsolicitations%2F{id}%2Feligibility")),
        "{html}"
    );

    // Starting an application needs someone signed in.
    let r = b.post_form(&format!("/solicitations/{id}/apply"), &[]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(Browser::location(&r).starts_with("/sign-in"));
}

#[tokio::test]
async fn an_applicant_applies_over_several_sittings_and_an_officer_receives_it() {
    let g = Granary::demo().await;
    seed_demo_users(&g.db.db, t0()).await.unwrap();
    let sol = g.id_of(REENTRY).await;
    let org = eastside(&g).await;

    // -- The pre-check, prefilled from the organization's profile, then started. --
    let mut a = signed_in(&g, "applicant@demo.granary.test").await;
    let r = a.get(&format!("/solicitations/{sol}/eligibility")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert!(
        r.text().contains("Eastside Peacekeepers (demo)"),
        "prefilled from the profile"
    );
    let r = post(
        &mut a,
        &format!("/solicitations/{sol}/eligibility"),
        &eligible_answers(),
    )
    .await;
    let html = r.text();
    assert!(html.contains("You appear eligible"), "{html}");
    assert!(html.contains(&format!("action=\"/solicitations/{sol}/apply\"")));
    assert!(html.contains("Start your application"));
    assert_eq!(input_value(&html, "organization_id"), org);

    let mut start = eligible_answers();
    start.push(("organization_id", org.clone()));
    let r = post(&mut a, &format!("/solicitations/{sol}/apply"), &start).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let location = Browser::location(&r);
    assert!(location.starts_with("/applications/"), "{location}");
    let app = location
        .trim_start_matches("/applications/")
        .split('?')
        .next()
        .unwrap()
        .to_string();
    let editor = format!("/applications/{app}");

    // -- The editor: what's missing, each linked to its input; the answers carried over. --
    let r = a.get(&location).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let html = r.text();
    assert!(html.contains("Your application is started"));
    assert!(html.contains("What's missing"));
    for field in [
        "project_title",
        "abstract",
        "answers.incubation_model",
        "populations_served",
        "service_area",
        "documents.required:project_narrative",
        "budget.lines",
    ] {
        assert!(html.contains(&format!("href=\"#f-{field}\"")), "a link to {field}");
        assert!(html.contains(&format!("id=\"f-{field}\"")), "an anchor for {field}");
    }
    assert!(
        !html.contains("href=\"#f-eligibility."),
        "the eligibility answers were carried over: {html}"
    );
    assert!(html.contains("value=\"non_profit_with_501c3\" selected"));
    assert!(html.contains("0 / 4000 characters"), "a counter for each question");
    assert!(!html.contains("maxlength=\"4000\""), "over-long text is never cut off");
    assert!(html.contains("src=\"/static/application.js\""));
    assert!(html.contains("Submit the application") && html.contains("disabled"));
    let v1 = version_of(&html);

    // -- First sitting: the project, one answer too long, and a budget. --
    let too_long = "x".repeat(2600);
    let first = vec![
        ("version", v1.clone()),
        ("project_title", "Reentry Incubator East".to_string()),
        ("abstract", "We coach six small reentry groups.".to_string()),
        (
            "answers.incubation_model",
            "Monthly coaching, then quarterly.".to_string(),
        ),
        ("answers.cohort_selection", too_long.clone()),
        ("answers.reentry_services", String::new()),
        ("program_areas", "rehabilitation".to_string()),
        ("budget.lines[0].category", "personnel".to_string()),
        ("budget.lines[0].description", "Incubator coaches".to_string()),
        ("budget.lines[0].quantity", "2".to_string()),
        ("budget.lines[0].unit_cost", "$300,000".to_string()),
        ("budget.lines[0].recipient", String::new()),
        // A blank row is left out.
        ("budget.lines[1].category", "personnel".to_string()),
        ("budget.lines[1].description", String::new()),
        ("budget.lines[1].quantity", String::new()),
        ("budget.lines[1].unit_cost", String::new()),
        ("budget.lines[2].category", "subawards".to_string()),
        (
            "budget.lines[2].description",
            "Subawards to incubated groups".to_string(),
        ),
        ("budget.lines[2].quantity", "4".to_string()),
        ("budget.lines[2].unit_cost", "150000".to_string()),
        ("budget.lines[2].recipient", "Cohort groups".to_string()),
        ("budget.indirect", "none".to_string()),
        ("budget.rate_percent", String::new()),
        ("budget.indirect_requested", String::new()),
        ("budget.justification", "Coaching is the heart of it.".to_string()),
    ];
    let r = post(&mut a, &editor, &first).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    assert_eq!(Browser::location(&r), format!("{editor}?notice=saved#saved"));

    // -- Second sitting, another browser: everything is there. --
    let mut a2 = signed_in(&g, "applicant@demo.granary.test").await;
    let r = a2.get(&editor).await;
    let html = r.text();
    assert_eq!(r.status, StatusCode::OK);
    assert!(html.contains("value=\"Reentry Incubator East\""));
    assert!(html.contains("Monthly coaching, then quarterly."));
    assert!(html.contains(&too_long), "the over-long answer is kept whole");
    assert!(html.contains("2600 / 2500 characters: 100 over the limit"));
    assert!(
        html.contains("href=\"#f-answers.cohort_selection\""),
        "and listed as missing"
    );
    assert!(html.contains("value=\"Incubator coaches\""));
    assert!(
        html.contains("value=\"Subawards to incubated groups\""),
        "the blank row was dropped and the rest kept in order"
    );
    assert!(html.contains("$1,200,000.00"), "the total request");
    assert!(html.contains("Subaward to Cohort groups beyond the first $50,000"));
    assert!(html.contains("Your request is within the award range."));
    let v2 = version_of(&html);
    assert_ne!(v1, v2);

    // A number nobody can read: the rest is saved, the typing is kept, the field is marked.
    let mut fields = first.clone();
    set(&mut fields, "version", &v2);
    set(&mut fields, "project_title", "Reentry Incubator East and North");
    set(
        &mut fields,
        "answers.cohort_selection",
        "We look for groups no funder has reached.",
    );
    set(&mut fields, "budget.lines[0].unit_cost", "abc");
    let r = post(&mut a2, &editor, &fields).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    let html = r.text();
    assert!(html.contains("value=\"abc\""), "what was typed is shown again");
    assert!(html.contains("id=\"budget.lines[0].unit_cost-error\""));
    assert!(html.contains("enter an amount in dollars"));
    let v3 = version_of(&html);
    let r = a2.get(&editor).await;
    assert!(
        r.text().contains("value=\"Reentry Incubator East and North\""),
        "the rest was saved"
    );
    assert!(
        r.text().contains("value=\"300000\""),
        "the unreadable cost kept its saved value"
    );
    assert_eq!(version_of(&r.text()), v3);

    // -- Two people at once: Bea opens the draft, Amara saves, then Bea saves. --
    let bea = create_verified_user(&g.db.db, "bea@eastside.test", "Bea Staff", DEMO_PASSWORD, false, t0())
        .await
        .unwrap();
    granary_identity::add_member(
        &g.db.db,
        &Actor::cli("test"),
        org.parse().unwrap(),
        bea.id,
        Role::Staff,
        t0(),
    )
    .await
    .unwrap();
    let mut b = signed_in(&g, "bea@eastside.test").await;
    let r = b.get(&editor).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let stale = version_of(&r.text());

    let mut amara = fields.clone();
    set(&mut amara, "version", &v3);
    set(&mut amara, "budget.lines[0].unit_cost", "300000");
    set(
        &mut amara,
        "answers.reentry_services",
        "Housing, jobs and mentoring for people coming home.",
    );
    let r = post(&mut a2, &editor, &amara).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());

    let mut mine = amara.clone();
    set(&mut mine, "version", &stale);
    set(
        &mut mine,
        "answers.reentry_services",
        "Bea writes: peer navigators meet people at the gate.",
    );
    let r = post(&mut b, &editor, &mine).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text());
    let html = r.text();
    assert!(html.contains("Someone else saved this application while you were editing"));
    assert!(html.contains("Amara Applicant"), "it names who saved");
    assert!(html.contains("Their saved version") && html.contains("Your version"));
    assert!(
        html.contains("Housing, jobs and mentoring for people coming home."),
        "theirs"
    );
    assert!(
        html.matches("Bea writes: peer navigators meet people at the gate.")
            .count()
            >= 2,
        "yours, in the comparison and in the form"
    );
    assert!(
        html.contains(&format!("href=\"{editor}\"")),
        "a way to discard and reload"
    );
    let current = version_of(&html);
    assert_ne!(current, stale, "the form now carries the current version");
    // Saving again deliberately keeps Bea's text.
    set(&mut mine, "version", &current);
    let r = post(&mut b, &editor, &mine).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let r = a2.get(&editor).await;
    assert!(
        r.text()
            .contains("Bea writes: peer navigators meet people at the gate.")
    );

    // The autosave script gets JSON: the new version and what is still missing; a stale
    // version gets 409 with the current draft.
    let mut auto = mine.clone();
    let before = version_of(&r.text());
    set(&mut auto, "version", &before);
    set(
        &mut auto,
        "answers.cohort_selection",
        "We look for groups no funder has reached yet.",
    );
    auto.push(("populations_served", "Returning citizens\nTheir families".into()));
    auto.push(("service_area.states", "dc, md".into()));
    auto.push(("service_area.county_fips", "11001".into()));
    auto.push(("service_area.description", "Wards 7 and 8".into()));
    let r = autosave(&mut a2, &editor, &auto).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let saved = r.json();
    assert!(saved["version"].as_i64().unwrap() > before.parse::<i64>().unwrap());
    assert!(saved["saved_at"].is_string());
    let problems: Vec<String> = saved["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["field"].as_str().unwrap().to_string())
        .collect();
    assert!(
        problems.contains(&"documents.required:project_narrative".to_string()),
        "{problems:?}"
    );
    assert!(!problems.iter().any(|p| p.starts_with("answers.")), "{problems:?}");
    // The same text from an old version is simply already saved...
    let r = autosave(&mut a2, &editor, &auto).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["version"], saved["version"]);
    // ...but different text from an old version conflicts.
    set(&mut auto, "abstract", "Changed in a tab left open.");
    let r = autosave(&mut a2, &editor, &auto).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(r.json()["current"]["version"].is_i64());

    // Submitting too early shows what is missing.
    let r = a2.post_form(&format!("{editor}/submit"), &[]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().contains("Not submitted yet"));
    assert!(r.text().contains("href=\"#f-documents.required:letters_of_support\""));

    // -- Documents: a PDF goes in; a program disguised as a PDF does not. --
    let r = upload(
        &mut a2,
        &app,
        "required:project_narrative",
        "narrative.pdf",
        &pdf("narrative"),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    assert_eq!(
        Browser::location(&r),
        format!("{editor}?notice=uploaded#f-documents.required:project_narrative")
    );
    let mut exe = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00".to_vec();
    exe.extend_from_slice(&[0u8; 64]);
    let r = upload(&mut a2, &app, "required:budget_detail_worksheet", "budget.pdf", &exe).await;
    assert_eq!(r.status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{}", r.text());
    assert!(r.text().contains("The file was not uploaded"));
    assert!(r.text().contains(&format!("href=\"{editor}#f-documents\"")));
    for slot in [
        "budget_detail_worksheet",
        "cohort_selection_plan",
        "proof_of_nonprofit_status",
        "letters_of_support",
    ] {
        let r = upload(
            &mut a2,
            &app,
            &format!("required:{slot}"),
            &format!("{slot}.pdf"),
            &pdf(slot),
        )
        .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{slot}: {}", r.text());
    }
    let r = a2.get(&editor).await;
    let html = r.text();
    assert!(html.contains("narrative.pdf"));
    assert!(html.contains("SHA-256"));
    assert!(!html.contains("budget.pdf"), "the refused file is nowhere");
    assert!(html.contains("Ready to submit"), "{html}");

    // -- Submit: the receipt, with a tracking number and the digest. --
    let r = a2.post_form(&format!("{editor}/submit"), &[]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let receipt_url = Browser::location(&r);
    assert!(receipt_url.starts_with("/receipts/GRN-"), "{receipt_url}");
    let tracking = receipt_url.trim_start_matches("/receipts/").to_string();
    let r = a2.get(&receipt_url).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let html = r.text();
    assert!(html.contains(&tracking));
    assert!(html.contains("Digest verified"));
    assert!(html.contains("Eastside Peacekeepers (demo)"));
    assert!(html.contains("narrative.pdf") && html.contains("letters_of_support.pdf"));
    assert!(html.contains("@media print") || html.contains("no-print"), "printable");
    let digest_start = html.find("class=\"digest\">").unwrap() + "class=\"digest\">".len();
    let digest: String = html[digest_start..].chars().take(64).collect();
    assert!(digest.chars().all(|c| c.is_ascii_hexdigit()), "{digest}");
    // The receipt is emailed (delivered by a task of its own: wait for it).
    let link = g.link_in_email(&tracking, "http://granary.test/receipts/").await;
    assert_eq!(link, receipt_url);

    // The applicant's own view is read-only now, with the submission and a way to withdraw.
    let r = a2.get(&editor).await;
    let html = r.text();
    assert!(!html.contains("id=\"editor\""), "read-only after submission");
    assert!(html.contains(&format!("href=\"/receipts/{tracking}\"")));
    assert!(html.contains("Withdraw the application"));
    let r = a2.get("/applications").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.text().contains("Reentry Incubator East and North"));
    assert!(r.text().contains("left"), "time left to the deadline");

    // -- The program officer: the list, the CSV, the application, an extension. --
    let mut o = signed_in(&g, "officer@demo.granary.test").await;
    let list = format!("/manage/solicitations/{sol}/applications");
    let r = o.get(&list).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let html = r.text();
    assert!(html.contains("Eastside Peacekeepers (demo)"));
    assert!(html.contains(&tracking));
    assert!(html.contains("$1,200,000.00"));
    assert!(html.contains(&format!("href=\"/applications/{app}\"")));
    assert!(html.contains(&format!("/api/v1/solicitations/{sol}/applications.csv")));
    let csv = o.get(&format!("/api/v1/solicitations/{sol}/applications.csv")).await;
    assert_eq!(csv.status, StatusCode::OK);
    assert!(csv.text().contains(&tracking));
    let r = o.get(&editor).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert!(
        r.text()
            .contains("Bea writes: peer navigators meet people at the gate.")
    );
    assert!(!r.text().contains("Withdraw the application"));
    let desk = o.get("/manage").await;
    assert!(
        desk.text()
            .contains(&format!("href=\"/manage/solicitations/{sol}/applications\""))
    );

    // A bad extension form keeps what was typed and says what is wrong.
    let r = o
        .post_form(
            &format!("/manage/solicitations/{sol}/extensions"),
            &[
                ("organization_id", &org),
                ("until_date", "soon"),
                ("until_time", "17:00"),
                ("reason", ""),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert!(r.text().contains("id=\"until_date-error\""));
    assert!(r.text().contains("id=\"reason-error\""));
    let until = (t0() + chrono::Duration::days(75)).format("%Y-%m-%d").to_string();
    let r = o
        .post_form(
            &format!("/manage/solicitations/{sol}/extensions"),
            &[
                ("organization_id", &org),
                ("until_date", &until),
                ("until_time", "17:00"),
                ("reason", "The portal was down on the last afternoon."),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let r = o.get(&Browser::location(&r)).await;
    let html = r.text();
    assert!(html.contains("The extension was granted"));
    assert!(html.contains("The portal was down on the last afternoon."));
    assert!(
        html.contains("5:00 pm"),
        "the new deadline in the solicitation's zone: {html}"
    );
    let r = a2.get(&editor).await;
    assert!(r.text().contains("Your organization has an extension until"));

    // -- Withdrawn before the deadline: editable again, and the receipt says so. --
    let r = a2.post_form(&format!("{editor}/withdraw"), &[]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    assert_eq!(Browser::location(&r), format!("{editor}?notice=withdrawn"));
    let r = a2.get(&Browser::location(&r)).await;
    let html = r.text();
    assert!(html.contains("Your application was withdrawn"));
    assert!(html.contains("id=\"editor\""), "the form is back");
    assert!(html.contains("status-withdrawn"));
    let r = a2.get(&receipt_url).await;
    assert!(r.text().contains("This submission was withdrawn"));
    // Withdrawing twice is refused, with the reason on the page.
    let r = a2.post_form(&format!("{editor}/withdraw"), &[]).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(r.text().contains("Not withdrawn"));
}

#[tokio::test]
async fn a_late_submission_is_refused_with_the_deadline_in_local_time() {
    let g = Granary::demo().await;
    seed_demo_users(&g.db.db, t0()).await.unwrap();
    let sol = g.id_of(REENTRY).await;
    let org = eastside(&g).await;
    let mut a = signed_in(&g, "applicant@demo.granary.test").await;
    a.get(&format!("/solicitations/{sol}/eligibility")).await;
    let r = a
        .post_form(&format!("/solicitations/{sol}/apply"), &[("organization_id", &org)])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let editor = Browser::location(&r).split('?').next().unwrap().to_string();
    // Starting again finds the same application.
    let r = a
        .post_form(&format!("/solicitations/{sol}/apply"), &[("organization_id", &org)])
        .await;
    assert_eq!(Browser::location(&r), format!("{editor}?notice=existing"));

    g.clock.advance(chrono::Duration::days(120));
    // Sessions do not last that long: sign in again.
    let mut a = signed_in(&g, "applicant@demo.granary.test").await;
    let r = a.post_form(&format!("{editor}/submit"), &[]).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text());
    let html = r.text();
    assert!(html.contains("Not submitted: the deadline was"), "{html}");
    assert!(
        html.contains("EST") || html.contains("EDT"),
        "in the solicitation's zone: {html}"
    );
}

#[tokio::test]
async fn an_upload_over_the_limit_is_refused_with_a_way_back() {
    let g = Granary::demo().await;
    seed_demo_users(&g.db.db, t0()).await.unwrap();
    let sol = g.id_of(REENTRY).await;
    let org = eastside(&g).await;
    let mut a = signed_in(&g, "applicant@demo.granary.test").await;
    let r = a
        .post_form(&format!("/solicitations/{sol}/apply"), &[("organization_id", &org)])
        .await;
    let editor = Browser::location(&r).split('?').next().unwrap().to_string();
    let app = editor.trim_start_matches("/applications/").to_string();
    let mut big = pdf("big");
    big.resize(10 * 1024 * 1024 + 1, b' ');
    let r = upload(&mut a, &app, "required:project_narrative", "big.pdf", &big).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", r.text());
    assert!(r.text().contains("The file is too large"));
    assert!(r.text().contains(&format!("href=\"{editor}#f-documents\"")));
    let r = a.get(&editor).await;
    assert!(!r.text().contains("big.pdf"), "nothing half-stored is attached");
    // An upload that is not multipart at all is refused the same way, not with a crash.
    let r = a.post_form(&format!("{editor}/documents"), &[]).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.text().contains("The file was not uploaded"));
}
