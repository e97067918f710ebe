//! The application service against a real database (SQLite by default; PostgreSQL when
//! GRANARY_TEST_DATABASE_URL is set): drafts and conflicts, documents, completeness,
//! submission at the deadline, extensions, withdrawal and resubmission, snapshots.

use chrono::{DateTime, Duration, TimeZone, Utc};
use granary_applications::budget::{BudgetCategory, BudgetLine, IndirectRate};
use granary_applications::*;
use granary_core::audit;
use granary_core::document_record::{self, NewDocument};
use granary_core::id::{DocumentId, OrganizationId};
use granary_core::testing::TestDb;
use granary_core::time::FixedClock;
use granary_core::{Actor, Money};
use granary_solicitations as sol;
use granary_solicitations::{
    ApplicantType, Criterion, Eligibility, Establishment, Funding, KeyDates, Mechanism, PriorityConsideration,
    ProgramArea, Question, RequiredDocument, Rubric, Solicitation, SolicitationContent, Transition, create_draft,
    ensure_office, transition,
};
use rust_decimal_macros::dec;

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 15, 0, 0).unwrap()
}

/// The deadline: 11:59 pm Eastern on December 1, 2026 (04:59 UTC on December 2).
fn deadline() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 2, 4, 59, 0).unwrap()
}

fn officer() -> Actor {
    Actor::cli("test-officer")
}

fn member(name: &str) -> Actor {
    Actor::User {
        id: granary_core::id::UserId::new(),
        name: name.into(),
    }
}

fn solicitation_content() -> SolicitationContent {
    SolicitationContent {
        number: "T-2027-0100".into(),
        title: "Community Safety Microgrants".into(),
        summary: "Small grants for neighborhood violence prevention.".into(),
        description: "Paragraph.".into(),
        program_areas: vec![ProgramArea::Prevention, ProgramArea::Intervention],
        eligibility: Eligibility {
            applicant_types: vec![ApplicantType::NonprofitWith501c3, ApplicantType::FiscallySponsoredGroup],
            max_annual_budget: Some(Money::from_dollars(1_000_000).unwrap()),
            ..Default::default()
        },
        funding: Funding {
            total_available: Money::from_dollars(500_000).unwrap(),
            award_floor: Some(Money::from_dollars(5_000).unwrap()),
            award_ceiling: Money::from_dollars(50_000).unwrap(),
            ..Default::default()
        },
        dates: KeyDates {
            closes_at: Some(deadline()),
            ..Default::default()
        },
        rubric: Rubric {
            total_points: 100,
            criteria: vec![Criterion {
                key: "need".into(),
                name: "Need".into(),
                description: String::new(),
                points: 100,
            }],
        },
        priority_considerations: vec![PriorityConsideration {
            key: "lived".into(),
            name: "Led by people with lived experience".into(),
            description: String::new(),
            established_by: Establishment::Documented {
                document: "a letter from your board".into(),
            },
            mechanism: Mechanism::BonusPoints { points: dec!(5) },
        }],
        required_documents: vec![RequiredDocument {
            key: "budget_narrative".into(),
            name: "budget narrative".into(),
            description: String::new(),
            required: true,
        }],
        questions: vec![Question {
            key: "need".into(),
            prompt: "What need does the project meet?".into(),
            guidance: String::new(),
            max_chars: 60,
            required: true,
        }],
        ..Default::default()
    }
}

struct World {
    t: TestDb,
    solicitation: Solicitation,
    org: OrganizationId,
}

async fn world() -> World {
    let t = TestDb::new().await;
    let office = ensure_office(&t.db, &officer(), "Office of Test Programs", "program_office", t0())
        .await
        .unwrap();
    let s = create_draft(&t.db, &officer(), office.id, solicitation_content(), t0())
        .await
        .unwrap();
    let s = transition(&t.db, &officer(), s.id, Transition::Open, t0())
        .await
        .unwrap();
    let org = ensure_office(&t.db, &officer(), "Eastside Peacekeepers", "intermediary", t0())
        .await
        .unwrap();
    World {
        t,
        solicitation: s,
        org: org.id,
    }
}

fn complete_content() -> ApplicationContent {
    let mut c = ApplicationContent {
        project_title: "Summer Nights".into(),
        project_abstract: "Evening programs in two parks.".into(),
        program_areas: vec![ProgramArea::Prevention],
        populations_served: vec!["Youth 14-24".into()],
        service_area: ServiceArea {
            states: vec!["DC".into()],
            description: "Wards 7 and 8".into(),
            ..Default::default()
        },
        ..Default::default()
    };
    c.answers.insert("need".into(), "Shootings rose in our parks.".into());
    c.eligibility.applicant_type = Some(ApplicantType::FiscallySponsoredGroup);
    c.eligibility.annual_budget = Some(Money::from_dollars(120_000).unwrap());
    c.budget.lines = vec![
        BudgetLine {
            category: BudgetCategory::Personnel,
            description: "Outreach worker".into(),
            quantity: dec!(1000),
            unit_cost: Money::from_dollars(25).unwrap(),
            ..Default::default()
        },
        BudgetLine {
            category: BudgetCategory::Supplies,
            description: "Sports equipment".into(),
            quantity: dec!(1),
            unit_cost: "3000.00".parse().unwrap(),
            ..Default::default()
        },
    ];
    c.budget.indirect = IndirectRate::DeMinimis;
    c
}

async fn stored_document(w: &World, name: &str) -> DocumentId {
    let id = DocumentId::new();
    document_record::insert(
        &w.t.db,
        NewDocument {
            id,
            storage_key: format!("applications/test/{id}"),
            filename: name.into(),
            content_type: "application/pdf".into(),
            size_bytes: 1234,
            sha256: format!("{:0>64}", name.len()),
            uploaded_by: "user:test".into(),
        },
        t0(),
    )
    .await
    .unwrap();
    id
}

#[tokio::test]
async fn concurrent_saves_conflict_instead_of_overwriting() {
    let w = world().await;
    let ana = member("Ana");
    let ben = member("Ben");
    let (app, created) = start(&w.t.db, &ana, w.solicitation.id, w.org, t0()).await.unwrap();
    assert!(created);
    assert_eq!((app.status, app.version), (ApplicationStatus::Draft, 1));
    // A second member starting finds the same draft.
    let (again, created) = start(&w.t.db, &ben, w.solicitation.id, w.org, t0()).await.unwrap();
    assert_eq!((again.id, created), (app.id, false));

    let mut by_ana = app.content.clone();
    by_ana.project_title = "Ana's title".into();
    let saved = save(&w.t.db, &ana, app.id, 1, by_ana.clone(), t0()).await.unwrap();
    assert_eq!(saved.version, 2);

    // Ben started from version 1 too: his save is refused with what is there now.
    let mut by_ben = app.content.clone();
    by_ben.project_abstract = "Ben's abstract".into();
    let err = save(&w.t.db, &ben, app.id, 1, by_ben, t0()).await.unwrap_err();
    match err {
        ApplicationError::VersionConflict { current, base } => {
            assert_eq!(current.version, 2);
            assert_eq!(
                base.map(|b| b.project_title),
                Some(String::new()),
                "the base is version 1"
            );
            assert_eq!(current.content.project_title, "Ana's title");
            assert_eq!(current.updated_by, "Ana");
        }
        other => panic!("expected a conflict, got {other:?}"),
    }
    let now = get(&w.t.db, app.id).await.unwrap();
    assert_eq!(now.content.project_title, "Ana's title");
    assert_eq!(now.content.project_abstract, "", "Ben's edit did not land silently");

    // Saving the same content again changes nothing.
    let same = save(&w.t.db, &ana, app.id, 2, by_ana, t0()).await.unwrap();
    assert_eq!(same.version, 2);
    assert_eq!(
        changed_parts(&ApplicationContent::default(), &now.content),
        vec!["project_title".to_string()]
    );
}

#[tokio::test]
async fn completeness_names_every_missing_item_then_submission_goes_through() {
    let w = world().await;
    let ana = member("Ana");
    let (app, _) = start(&w.t.db, &ana, w.solicitation.id, w.org, t0()).await.unwrap();
    let clock = FixedClock::at(t0() + Duration::days(2));
    let err = submit(&w.t.db, &ana, app.id, &clock).await.unwrap_err();
    let ApplicationError::Incomplete(missing) = err else {
        panic!("expected the list of missing items, got {err:?}");
    };
    for field in [
        "eligibility.applicant_type",
        "project_title",
        "abstract",
        "program_areas",
        "populations_served",
        "service_area",
        "answers.need",
        "documents.required:budget_narrative",
        "budget.lines",
    ] {
        assert!(missing.for_field(field).is_some(), "missing {field} in {missing}");
    }

    // An over-long answer is kept, and reported.
    let mut c = complete_content();
    c.answers.insert("need".into(), "x".repeat(61));
    c.priorities.insert(
        "lived".into(),
        PriorityClaim {
            claimed: true,
            explanation: String::new(),
        },
    );
    let app = save(&w.t.db, &ana, app.id, 1, c.clone(), t0()).await.unwrap();
    assert_eq!(app.content.answers["need"].len(), 61);
    let p = problems(&w.t.db, &app).await.unwrap();
    let fields: Vec<&str> = p.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(
        fields,
        vec![
            "answers.need",
            "documents.priority:lived",
            "documents.required:budget_narrative"
        ],
        "{p:?}"
    );
    assert!(p[0].message.contains("61 characters"), "{}", p[0].message);

    c.answers.insert("need".into(), "Shootings rose in our parks.".into());
    let app = save(&w.t.db, &ana, app.id, app.version, c, t0()).await.unwrap();
    let first = stored_document(&w, "narrative-v1.pdf").await;
    attach_document(
        &w.t.db,
        &ana,
        app.id,
        DocumentSlot::Required("budget_narrative".into()),
        first,
        "",
        t0(),
    )
    .await
    .unwrap();
    // Replacing keeps one document in the slot.
    let second = stored_document(&w, "narrative-v2-final.pdf").await;
    attach_document(
        &w.t.db,
        &ana,
        app.id,
        DocumentSlot::Required("budget_narrative".into()),
        second,
        "Budget narrative",
        t0(),
    )
    .await
    .unwrap();
    let letter = stored_document(&w, "board-letter.pdf").await;
    attach_document(
        &w.t.db,
        &ana,
        app.id,
        DocumentSlot::PriorityEvidence("lived".into()),
        letter,
        "",
        t0(),
    )
    .await
    .unwrap();
    // A slot the solicitation does not have is refused.
    assert!(matches!(
        attach_document(
            &w.t.db,
            &ana,
            app.id,
            DocumentSlot::Required("nope".into()),
            letter,
            "",
            t0()
        )
        .await,
        Err(ApplicationError::Invalid(_))
    ));
    let docs = documents(&w.t.db, app.id).await.unwrap();
    assert_eq!(docs.len(), 2);
    assert_eq!(docs[0].filename, "narrative-v2-final.pdf");
    assert!(problems(&w.t.db, &app).await.unwrap().is_empty());

    let sub = submit(&w.t.db, &ana, app.id, &clock).await.unwrap();
    assert!(sub.tracking_number.starts_with("GRN-") && sub.tracking_number.len() == 18);
    assert!(sub.digest_matches());
    let snap = sub.snapshot().unwrap();
    assert_eq!(snap.tracking_number, sub.tracking_number);
    assert_eq!(snap.documents.len(), 2);
    assert_eq!(
        snap.budget["total_request"], "32200.00",
        "25,000 + 3,000 + 15% of 28,000: {}",
        snap.budget
    );
    assert_eq!(snap.submitted_at, clock_now(&clock));
    let found = submission_by_tracking(&w.t.db, &sub.tracking_number.to_lowercase())
        .await
        .unwrap();
    assert_eq!(found.id, sub.id);

    // Submitted: no more edits, no second submission.
    let app = get(&w.t.db, app.id).await.unwrap();
    assert_eq!(app.status, ApplicationStatus::Submitted);
    assert!(matches!(
        save(&w.t.db, &ana, app.id, app.version, app.content.clone(), t0()).await,
        Err(ApplicationError::NotEditable { .. })
    ));
    assert!(matches!(
        submit(&w.t.db, &ana, app.id, &clock).await,
        Err(ApplicationError::WrongStatus { .. })
    ));
    let actions: Vec<String> = audit::find(
        &w.t.db,
        &audit::AuditQuery {
            subject_type: Some("application".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap()
    .into_iter()
    .map(|e| e.action)
    .collect();
    for a in [
        "application.started",
        "application.saved",
        "application.document_added",
        "application.submitted",
    ] {
        assert!(actions.iter().any(|x| x == a), "{a} missing from {actions:?}");
    }
}

fn clock_now(c: &FixedClock) -> DateTime<Utc> {
    use granary_core::time::Clock;
    c.now()
}

async fn ready(w: &World, who: &Actor) -> Application {
    let (app, _) = start(&w.t.db, who, w.solicitation.id, w.org, t0()).await.unwrap();
    let app = save(&w.t.db, who, app.id, app.version, complete_content(), t0())
        .await
        .unwrap();
    let doc = stored_document(w, "narrative.pdf").await;
    attach_document(
        &w.t.db,
        who,
        app.id,
        DocumentSlot::Required("budget_narrative".into()),
        doc,
        "",
        t0(),
    )
    .await
    .unwrap();
    app
}

#[tokio::test]
async fn one_second_late_is_refused_and_an_extension_lets_one_organization_in() {
    let w = world().await;
    let ana = member("Ana");
    let app = ready(&w, &ana).await;

    let clock = FixedClock::at(deadline() + Duration::seconds(1));
    let err = submit(&w.t.db, &ana, app.id, &clock).await.unwrap_err();
    match &err {
        ApplicationError::DeadlinePassed { deadline: d, shown } => {
            assert_eq!(*d, deadline());
            assert_eq!(shown, "December 1, 2026, 11:59 pm EST");
        }
        other => panic!("expected a late refusal, got {other:?}"),
    }
    assert!(err.to_string().contains("December 1, 2026, 11:59 pm EST"), "{err}");
    // Exactly at the deadline is late too: it counts only if received before.
    clock.set(deadline());
    assert!(matches!(
        submit(&w.t.db, &ana, app.id, &clock).await,
        Err(ApplicationError::DeadlinePassed { .. })
    ));
    assert!(
        submissions(&w.t.db, app.id).await.unwrap().is_empty(),
        "nothing written"
    );
    assert_eq!(get(&w.t.db, app.id).await.unwrap().status, ApplicationStatus::Draft);

    // The extension needs a reason and a later deadline.
    let err = grant_extension(
        &w.t.db,
        &officer(),
        w.solicitation.id,
        w.org,
        deadline(),
        "  ",
        clock_now(&clock),
    )
    .await
    .unwrap_err();
    let ApplicationError::Invalid(v) = err else { panic!() };
    assert!(v.for_field("reason").is_some() && v.for_field("until").is_some(), "{v}");

    let until = deadline() + Duration::days(2);
    let ext = grant_extension(
        &w.t.db,
        &officer(),
        w.solicitation.id,
        w.org,
        until,
        "Portal outage reported at 11:40 pm (ticket 4411)",
        clock_now(&clock),
    )
    .await
    .unwrap();
    assert_eq!(ext.until, until);
    clock.set(deadline() + Duration::hours(20));
    let sub = submit(&w.t.db, &ana, app.id, &clock).await.unwrap();
    assert_eq!(sub.extension_id, Some(ext.id));
    assert_eq!(sub.snapshot().unwrap().extension_until, Some(until));

    // Another organization without an extension is still refused.
    let other = ensure_office(&w.t.db, &officer(), "Westside Youth", "intermediary", t0())
        .await
        .unwrap();
    let (late, _) = start(&w.t.db, &ana, w.solicitation.id, other.id, t0()).await.unwrap();
    assert!(matches!(
        submit(&w.t.db, &ana, late.id, &clock).await,
        Err(ApplicationError::DeadlinePassed { .. })
    ));
    // And nobody can start after the deadline without one.
    let third = ensure_office(&w.t.db, &officer(), "Northside Circle", "intermediary", t0())
        .await
        .unwrap();
    assert!(matches!(
        start(&w.t.db, &ana, w.solicitation.id, third.id, clock_now(&clock)).await,
        Err(ApplicationError::DeadlinePassed { .. })
    ));
    let list = list_for_solicitation(&w.t.db, w.solicitation.id).await.unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(list[0].extension_until, Some(until));
    assert_eq!(list[0].tracking_number.as_deref(), Some(sub.tracking_number.as_str()));
    assert_eq!(list[1].status, ApplicationStatus::Draft);
    assert_eq!(list[1].project_title, "", "drafts' content stays with the applicant");
    let csv = csv::export(&list, granary_core::time::DEFAULT_TIME_ZONE);
    assert_eq!(csv.lines().count(), 3);
    assert!(csv.contains(&sub.tracking_number) && csv.contains("32200.00"), "{csv}");
}

#[tokio::test]
async fn withdraw_and_resubmit_keeps_every_submission() {
    let w = world().await;
    let ana = member("Ana");
    let app = ready(&w, &ana).await;
    let clock = FixedClock::at(t0() + Duration::days(1));
    let first = submit(&w.t.db, &ana, app.id, &clock).await.unwrap();
    clock.advance(Duration::hours(1));
    let withdrawn = withdraw(&w.t.db, &ana, app.id, &clock).await.unwrap();
    assert_eq!(withdrawn.id, first.id);
    assert!(withdrawn.withdrawn_at.is_some());
    let app = get(&w.t.db, app.id).await.unwrap();
    assert_eq!(app.status, ApplicationStatus::Withdrawn);
    let mut c = app.content.clone();
    c.project_title = "Summer Nights, revised".into();
    let app = save(&w.t.db, &ana, app.id, app.version, c, t0()).await.unwrap();
    clock.advance(Duration::hours(1));
    let second = submit(&w.t.db, &ana, app.id, &clock).await.unwrap();
    assert_ne!(first.tracking_number, second.tracking_number);
    let all = submissions(&w.t.db, app.id).await.unwrap();
    assert_eq!(all.len(), 2);
    assert_eq!(all[0].id, second.id, "the latest first");
    assert!(all.iter().all(|s| s.digest_matches()));
    assert_eq!(
        all[1].snapshot().unwrap().content.project_title,
        "Summer Nights",
        "the first snapshot is unchanged"
    );
    let row = list_for_solicitation(&w.t.db, w.solicitation.id).await.unwrap();
    assert_eq!(row[0].submissions, 2);
    assert_eq!(row[0].project_title, "Summer Nights, revised");

    // After the deadline a submission can no longer be withdrawn.
    clock.set(deadline() + Duration::minutes(1));
    assert!(matches!(
        withdraw(&w.t.db, &ana, app.id, &clock).await,
        Err(ApplicationError::DeadlinePassed { .. })
    ));
}

#[tokio::test]
async fn a_forecast_takes_no_applications() {
    let w = world().await;
    let office = ensure_office(&w.t.db, &officer(), "Office of Test Programs", "program_office", t0())
        .await
        .unwrap();
    let mut c = solicitation_content();
    c.number = "T-2027-0200".into();
    let s = create_draft(&w.t.db, &officer(), office.id, c, t0()).await.unwrap();
    let s = sol::transition(&w.t.db, &officer(), s.id, Transition::Forecast, t0())
        .await
        .unwrap();
    assert!(matches!(
        start(&w.t.db, &member("Ana"), s.id, w.org, t0()).await,
        Err(ApplicationError::NotAccepting(_))
    ));
    // An intermediary cannot apply to a solicitation it issued.
    let own = start(
        &w.t.db,
        &member("Ana"),
        w.solicitation.id,
        w.solicitation.office.id,
        t0(),
    )
    .await;
    assert!(matches!(own, Err(ApplicationError::Invalid(_))), "{own:?}");
}

#[tokio::test]
async fn closed_early_takes_nothing_without_an_extension_and_no_one_applies_to_itself() {
    let w = world().await;
    let ana = member("Ana");
    let app = ready(&w, &ana).await;
    // The office closes the solicitation days before its deadline.
    transition(&w.t.db, &officer(), w.solicitation.id, Transition::Close, t0())
        .await
        .unwrap();
    let clock = FixedClock::at(t0() + Duration::hours(1));
    assert!(clock_now(&clock) < deadline());
    assert!(matches!(
        submit(&w.t.db, &ana, app.id, &clock).await,
        Err(ApplicationError::NotAccepting(_))
    ));
    // An extension still lets this one organization in.
    grant_extension(
        &w.t.db,
        &officer(),
        w.solicitation.id,
        w.org,
        deadline() + Duration::days(1),
        "Closed by mistake; reopening for the group that was mid-submission",
        clock_now(&clock),
    )
    .await
    .unwrap();
    assert!(submit(&w.t.db, &ana, app.id, &clock).await.is_ok());

    // The issuing office cannot apply to its own solicitation or get an extension for itself,
    // and an extension cannot run for months.
    let office = w.solicitation.office.id;
    let err = grant_extension(
        &w.t.db,
        &officer(),
        w.solicitation.id,
        office,
        deadline() + Duration::days(90),
        "For ourselves",
        clock_now(&clock),
    )
    .await
    .unwrap_err();
    let ApplicationError::Invalid(v) = err else {
        panic!("{err:?}")
    };
    assert!(
        v.for_field("organization_id").is_some() && v.for_field("until").is_some(),
        "{v}"
    );
}
