//! Organizations, members and the audit log through the pages, as the demo users would use
//! them: editing a profile, inviting and accepting, the last-owner rule, and the audit views.

use axum::http::StatusCode;
use granary_gateway::seed::{DEMO_PASSWORD, seed_demo_users};
use granary_identity::EmailAddress;

use crate::support::{Browser, Granary, t0};

async fn demo() -> Granary {
    let g = Granary::demo().await;
    seed_demo_users(&g.db.db, t0()).await.unwrap();
    g
}

async fn signed_in<'a>(g: &'a Granary, email: &str) -> Browser<'a> {
    let mut b = Browser::new(g);
    b.get("/").await;
    let r = b
        .post_form("/sign-in", &[("email", email), ("password", DEMO_PASSWORD)])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{email} signs in: {}", r.text());
    b
}

async fn user_id(g: &Granary, email: &str) -> String {
    granary_identity::find_user_by_email(&g.db.db, &EmailAddress::parse(email).unwrap())
        .await
        .unwrap()
        .unwrap()
        .id
        .to_string()
}

/// The id of the (first) organization a demo user belongs to.
async fn org_of(g: &Granary, email: &str) -> String {
    let id = user_id(g, email).await.parse().unwrap();
    granary_identity::memberships_of(&g.db.db, id).await.unwrap()[0]
        .organization_id
        .to_string()
}

const APPLICANT: &str = "applicant@demo.granary.test";
const OFFICER: &str = "officer@demo.granary.test";
const OVC_OFFICER: &str = "ovc.officer@demo.granary.test";
const REVIEWER: &str = "reviewer@demo.granary.test";
const INTERMEDIARY: &str = "intermediary@demo.granary.test";
const ADMIN: &str = "admin@demo.granary.test";

#[tokio::test]
async fn an_owner_edits_the_profile_and_mistakes_keep_what_was_typed() {
    let g = demo().await;
    let org = org_of(&g, APPLICANT).await;
    let mut b = signed_in(&g, APPLICANT).await;

    let account = b.get("/account").await;
    assert!(
        account.text().contains(&format!("href=\"/organizations/{org}\"")),
        "the account page links to the organization"
    );
    let page = b.get(&format!("/organizations/{org}")).await;
    assert_eq!(page.status, StatusCode::OK);
    let html = page.text();
    assert!(html.contains("Eastside Peacekeepers (demo)"));
    assert!(html.contains("community organization"));
    assert!(html.contains(APPLICANT), "the member list shows emails");
    assert!(html.contains(&format!("href=\"/organizations/{org}/edit\"")));
    assert_eq!(
        b.get(&format!("/organizations/{org}/edit")).await.status,
        StatusCode::OK
    );

    // A wrong EIN is named, and everything typed stays in the form.
    let form = [
        ("name", "Eastside Peacekeepers (demo)"),
        ("ein", "12-34"),
        ("city", "Oakland"),
        ("state", "CA"),
        ("postal_code", "94601"),
        ("annual_budget", "$85,000"),
        ("populations_served", "Youth\nFamilies"),
    ];
    let bad = b.post_form(&format!("/organizations/{org}"), &form).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    let html = bad.text();
    assert!(html.contains("an EIN is nine digits"), "{html}");
    assert!(
        html.contains(r#"id="ein" name="ein" type="text" value="12-34" aria-invalid="true""#),
        "{html}"
    );
    assert!(html.contains(r#"aria-describedby="ein-hint ein-error""#));
    assert!(html.contains(r#"value="Oakland""#));
    assert!(html.contains(r#"value="$85,000""#));
    assert!(html.contains("Youth\nFamilies"));
    assert!(html.contains(r##"href="#ein""##), "the summary links to the field");

    // A right one is saved.
    let mut good = form.to_vec();
    good[1] = ("ein", "123456789");
    good.push(("county_fips", "06001"));
    good.push(("year_founded", "2015"));
    good.push(("lived_experience_led", "yes"));
    let ok = b.post_form(&format!("/organizations/{org}"), &good).await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.text());
    assert_eq!(Browser::location(&ok), format!("/organizations/{org}?notice=saved"));
    let html = b.get(&Browser::location(&ok)).await.text();
    assert!(html.contains("The profile was saved."));
    for shown in [
        "12-3456789",
        "06001",
        "Oakland CA 94601",
        "$85,000</dd>",
        "2015",
        "Youth, Families",
    ] {
        assert!(html.contains(shown), "{shown} is shown: {html}");
    }

    // Another organization's member sees none of it; a reviewer sees the office but not its
    // owner's controls.
    let mut other = signed_in(&g, INTERMEDIARY).await;
    assert_eq!(
        other.get(&format!("/organizations/{org}")).await.status,
        StatusCode::FORBIDDEN
    );
    let bja = org_of(&g, OFFICER).await;
    let mut reviewer = signed_in(&g, REVIEWER).await;
    let page = reviewer.get(&format!("/organizations/{bja}")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(!page.text().contains("Edit profile"));
    assert!(!page.text().contains("Send invitation"));
    assert_eq!(
        reviewer.get(&format!("/organizations/{bja}/edit")).await.status,
        StatusCode::FORBIDDEN
    );
    let r = reviewer
        .post_form(&format!("/organizations/{bja}"), &[("name", "Taken over")])
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn an_owner_invites_and_the_invited_person_joins() {
    let g = demo().await;
    let org = org_of(&g, APPLICANT).await;
    let mut owner = signed_in(&g, APPLICANT).await;
    owner.get(&format!("/organizations/{org}")).await;

    // A bad address is named and kept.
    let bad = owner
        .post_form(
            &format!("/organizations/{org}/invitations"),
            &[("email", "not an address"), ("role", "staff")],
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        bad.text()
            .contains(r#"value="not an address" aria-invalid="true" aria-describedby="email-error""#)
    );

    let r = owner
        .post_form(
            &format!("/organizations/{org}/invitations"),
            &[("email", "Newcomer@Example.org"), ("role", "staff")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let page = owner.get(&Browser::location(&r)).await.text();
    assert!(page.contains("The invitation was sent."));
    assert!(
        page.contains("newcomer@example.org"),
        "the pending invitation is listed"
    );

    let link = g
        .link_in_email(
            "invited you to join Eastside",
            "http://granary.test/invitations/accept?token=",
        )
        .await;
    let token = link.split("token=").nth(1).unwrap().to_string();

    // Someone signed in with another address cannot use it.
    let mut stranger = Browser::new(&g);
    stranger
        .sign_up_and_confirm("Sam Stranger", "stranger@example.org", "correct horse battery staple")
        .await;
    let shown = stranger.get(&link).await;
    assert_eq!(shown.status, StatusCode::OK);
    assert!(shown.text().contains("was sent to newcomer@example.org"));
    assert!(!shown.text().contains("Accept and join"));
    let refused = stranger.post_form("/invitations/accept", &[("token", &token)]).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(refused.text().contains("Sign out and sign in"));

    // The invited person signs up with the address and accepts.
    let mut invitee = Browser::new(&g);
    invitee
        .sign_up_and_confirm("Nia Newcomer", "newcomer@example.org", "correct horse battery staple")
        .await;
    let shown = invitee.get(&link).await;
    assert_eq!(shown.status, StatusCode::OK);
    let html = shown.text();
    assert!(html.contains("Join Eastside Peacekeepers (demo)"));
    assert!(html.contains("staff"));
    assert!(html.contains("Accept and join"));
    let joined = invitee.post_form("/invitations/accept", &[("token", &token)]).await;
    assert_eq!(joined.status, StatusCode::SEE_OTHER, "{}", joined.text());
    assert_eq!(
        Browser::location(&joined),
        format!("/organizations/{org}?notice=joined")
    );
    let page = invitee.get(&Browser::location(&joined)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text().contains("Nia Newcomer"));

    // The owner sees the new member, and the link does not work twice.
    let members = owner.get(&format!("/organizations/{org}")).await.text();
    assert!(members.contains("Nia Newcomer") && members.contains("newcomer@example.org"));
    assert_eq!(invitee.get(&link).await.status, StatusCode::BAD_REQUEST);
    assert!(
        invitee
            .get("/account")
            .await
            .text()
            .contains(&format!("/organizations/{org}"))
    );

    // A withdrawn invitation's link stops working.
    owner
        .post_form(
            &format!("/organizations/{org}/invitations"),
            &[("email", "later@example.org"), ("role", "reviewer")],
        )
        .await;
    let inv = granary_identity::pending_invitations(&g.db.db, org.parse().unwrap(), t0())
        .await
        .unwrap();
    assert_eq!(inv.len(), 1);
    let r = owner
        .post_form(&format!("/organizations/{org}/invitations/{}/revoke", inv[0].id), &[])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(
        granary_identity::pending_invitations(&g.db.db, org.parse().unwrap(), t0())
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn staff_who_are_not_owners_cannot_manage_members() {
    let g = demo().await;
    let nnpc = org_of(&g, INTERMEDIARY).await;
    let mut staff = signed_in(&g, INTERMEDIARY).await;
    let page = staff.get(&format!("/organizations/{nnpc}")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(!page.text().contains("Send invitation"));
    let r = staff
        .post_form(
            &format!("/organizations/{nnpc}/invitations"),
            &[("email", "friend@example.org"), ("role", "owner")],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(r.text().contains("owners may do this"), "{}", r.text());
    let me = user_id(&g, INTERMEDIARY).await;
    let r = staff
        .post_form(
            &format!("/organizations/{nnpc}/members/{me}/role"),
            &[("role", "owner")],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "staff cannot promote themselves");
    assert!(g.emails().iter().all(|(_, t)| !t.contains("friend@example.org")));
}

#[tokio::test]
async fn the_last_owner_stays_and_roles_change() {
    let g = demo().await;
    let bja = org_of(&g, OFFICER).await;
    let officer_id = user_id(&g, OFFICER).await;
    let reviewer_id = user_id(&g, REVIEWER).await;
    let mut officer = signed_in(&g, OFFICER).await;

    let r = officer
        .post_form(&format!("/organizations/{bja}/members/{officer_id}/remove"), &[])
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(
        r.text().contains("an organization needs at least one owner"),
        "{}",
        r.text()
    );
    let r = officer
        .post_form(
            &format!("/organizations/{bja}/members/{officer_id}/role"),
            &[("role", "staff")],
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(r.text().contains("make someone else an owner first"));

    let r = officer
        .post_form(
            &format!("/organizations/{bja}/members/{reviewer_id}/role"),
            &[("role", "wizard")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = officer
        .post_form(
            &format!("/organizations/{bja}/members/{reviewer_id}/role"),
            &[("role", "staff")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let members = granary_identity::members(&g.db.db, bja.parse().unwrap()).await.unwrap();
    let rosa = members.iter().find(|m| m.user_id.to_string() == reviewer_id).unwrap();
    assert_eq!(rosa.role, granary_core::policy::Role::Staff);

    let r = officer
        .post_form(&format!("/organizations/{bja}/members/{reviewer_id}/remove"), &[])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let page = officer.get(&Browser::location(&r)).await.text();
    assert!(page.contains("The member was removed"));
    assert!(!page.contains(REVIEWER));
}

#[tokio::test]
async fn administrators_read_the_audit_log_with_filters() {
    let g = demo().await;
    // Something an officer did, and something with markup in it.
    let bja = org_of(&g, OFFICER).await;
    let reviewer_id = user_id(&g, REVIEWER).await;
    let mut officer = signed_in(&g, OFFICER).await;
    let r = officer
        .post_form(
            &format!("/organizations/{bja}/members/{reviewer_id}/role"),
            &[("role", "staff")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let org = org_of(&g, APPLICANT).await;
    let mut applicant = signed_in(&g, APPLICANT).await;
    let r = applicant
        .post_form(
            &format!("/organizations/{org}"),
            &[
                ("name", "Eastside Peacekeepers (demo)"),
                ("legal_name", "<script>alert(1)</script> Inc"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());

    let mut admin = signed_in(&g, ADMIN).await;
    let page = admin.get("/audit").await;
    assert_eq!(page.status, StatusCode::OK);
    let html = page.text();
    let count = granary_core::audit::count(&g.db.db).await.unwrap();
    assert!(
        html.contains(&format!("Hash chain verified: {count} entries")),
        "{html}"
    );
    assert!(html.contains("organization.updated"));
    assert!(html.contains("organization.member_role_changed"));
    assert!(html.contains("Olivia Officer"), "entries name their actor");
    assert!(html.contains("<pre>"), "before and after are shown");
    assert!(!html.contains("<script>alert(1)"), "JSON is escaped");
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt; Inc"));
    assert!(html.contains("Older entries"), "the demo data fills more than one page");

    // The second page holds older entries than the first.
    let second = admin.get("/audit?page=2").await;
    assert_eq!(second.status, StatusCode::OK);
    assert!(second.text().contains("Newer entries"));
    assert!(!second.text().contains(&format!("#{count},")));
    assert!(html.contains(&format!("#{count},")));

    // By actor: only what the officer did.
    let by_officer = admin.get("/audit?actor=officer%40demo.granary.test").await;
    assert_eq!(by_officer.status, StatusCode::OK);
    let html = by_officer.text();
    assert!(html.contains("organization.member_role_changed"));
    assert!(
        !html.contains("organization.updated"),
        "the applicant's change is filtered out"
    );
    assert!(!html.contains("Granary seed") && !html.contains("<code>cli:seed</code>"));
    // By subject and dates.
    let by_subject = admin
        .get(&format!(
            "/audit?subject_type=organization&subject_id={org}&since=2026-11-23&until=2026-11-23"
        ))
        .await;
    assert_eq!(by_subject.status, StatusCode::OK);
    let html = by_subject.text();
    assert!(html.contains("organization.updated"));
    assert!(!html.contains("organization.member_role_changed"));
    let later = admin.get("/audit?since=2026-11-24").await;
    assert_eq!(later.status, StatusCode::OK);
    assert!(later.text().contains("No entries match these filters."));

    // Bad filters are named.
    let bad = admin.get("/audit?since=2026-13-01").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.text().contains("since"), "{}", bad.text());
    let bad = admin.get("/audit?until=yesterday").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.text().contains("until"));
    let bad = admin.get("/audit?page=0").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.text().contains("page"));

    // Nobody else reads the whole log.
    assert_eq!(officer.get("/audit").await.status, StatusCode::FORBIDDEN);
    assert_eq!(applicant.get("/audit").await.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn program_officers_read_their_own_offices_audit_log_only() {
    let g = demo().await;
    let bja = org_of(&g, OFFICER).await;
    let ovc = org_of(&g, OVC_OFFICER).await;
    let mut officer = signed_in(&g, OFFICER).await;
    let page = officer.get(&format!("/organizations/{bja}")).await;
    assert!(page.text().contains(&format!("href=\"/organizations/{bja}/audit\"")));
    let audit = officer.get(&format!("/organizations/{bja}/audit")).await;
    assert_eq!(audit.status, StatusCode::OK);
    let html = audit.text();
    assert!(html.contains("Audit log: Bureau of Justice Assistance (demo)"));
    assert!(html.contains("organization.member_added"), "the office's own entries");
    assert!(html.contains(&bja));
    assert!(!html.contains(&ovc), "nothing about another office");
    assert!(
        !html.contains("Hash chain verified"),
        "the whole chain is for administrators"
    );

    // Its solicitations' entries are there too.
    let ids = {
        let mut out = Vec::new();
        let page = granary_solicitations::search(
            &g.db.db,
            &granary_solicitations::SearchQuery {
                page_size: 100,
                statuses: vec![
                    granary_solicitations::Status::Forecasted,
                    granary_solicitations::Status::Open,
                    granary_solicitations::Status::Closed,
                ],
                ..Default::default()
            },
            t0(),
        )
        .await
        .unwrap();
        for s in page.items {
            out.push((s.office.id.to_string(), s.id.to_string()));
        }
        out
    };
    let (mine, theirs): (Vec<_>, Vec<_>) = ids.into_iter().partition(|(office, _)| *office == bja);
    assert!(!mine.is_empty(), "the demo office issued solicitations");
    for (_, id) in &mine {
        assert!(html.contains(id.as_str()), "entries about solicitation {id}");
    }
    for (_, id) in &theirs {
        assert!(!html.contains(id.as_str()), "no entries about another office's {id}");
    }

    let r = officer.get(&format!("/organizations/{ovc}/audit")).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let mut reviewer = signed_in(&g, REVIEWER).await;
    assert_eq!(
        reviewer.get(&format!("/organizations/{bja}/audit")).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        officer
            .get(&format!("/organizations/{bja}/audit?since=soon"))
            .await
            .status,
        StatusCode::BAD_REQUEST
    );
}

#[tokio::test]
async fn a_grassroots_leader_registers_their_organization() {
    let g = Granary::demo().await;
    let mut b = Browser::new(&g);
    b.sign_up_and_confirm("Tasha Torres", "tasha@example.org", "we keep our corner safe")
        .await;
    assert!(b.get("/account").await.text().contains(r#"href="/organizations/new""#));
    assert_eq!(b.get("/organizations/new").await.status, StatusCode::OK);
    // Mistakes are named and what was typed is kept.
    let bad = b
        .post_form(
            "/organizations",
            &[
                ("kind", "community_organization"),
                ("name", "Corner Keepers"),
                ("county_fips", "DC"),
                ("year_founded", "1492"),
            ],
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    let html = bad.text();
    assert!(html.contains(r#"id="county_fips-error""#), "{html}");
    assert!(html.contains(r#"value="Corner Keepers""#));
    // Asking to register a program office is refused: administrators set those up.
    let office = b
        .post_form(
            "/organizations",
            &[("kind", "program_office"), ("name", "Self-made office")],
        )
        .await;
    assert_eq!(office.status, StatusCode::FORBIDDEN);
    let ok = b
        .post_form(
            "/organizations",
            &[
                ("kind", "community_organization"),
                ("name", "Corner Keepers"),
                ("city", "Washington"),
                ("state", "DC"),
                ("county_fips", "11001"),
                ("annual_budget", "42,000"),
                ("year_founded", "2021"),
                ("lived_experience_led", "yes"),
            ],
        )
        .await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.text());
    let page = b.get(&Browser::location(&ok)).await.text();
    assert!(page.contains("Your organization is registered"));
    assert!(page.contains("Corner Keepers") && page.contains("$42,000"), "{page}");
    assert!(
        page.contains("tasha@example.org"),
        "the registrant is listed as a member"
    );
    // Anonymous visitors are sent to sign in.
    let mut anon = Browser::new(&g);
    let r = anon.get("/organizations/new").await;
    assert_eq!(Browser::location(&r), "/sign-in?next=%2Forganizations%2Fnew");
}
