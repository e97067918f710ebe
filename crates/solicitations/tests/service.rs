//! The solicitation service against a real database (SQLite by default; PostgreSQL when
//! GRANARY_TEST_DATABASE_URL is set): lifecycle, amendments, attachments, search.

use chrono::{DateTime, Duration, TimeZone, Utc};
use granary_core::audit;
use granary_core::document_record::{self, NewDocument};
use granary_core::id::DocumentId;
use granary_core::testing::TestDb;
use granary_core::{Actor, Money};
use granary_solicitations::*;
use rust_decimal_macros::dec;

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 15, 0, 0).unwrap()
}

fn officer() -> Actor {
    Actor::cli("test-officer")
}

fn content(number: &str, title: &str) -> SolicitationContent {
    SolicitationContent {
        number: number.into(),
        title: title.into(),
        summary: format!("{title}: funds community groups."),
        description: "Paragraph one.\n\nParagraph two.".into(),
        program_areas: vec![ProgramArea::Rehabilitation],
        focus_tags: vec![FocusTag::Reentry],
        eligibility: Eligibility {
            applicant_types: vec![ApplicantType::NonprofitWith501c3, ApplicantType::FiscallySponsoredGroup],
            ..Default::default()
        },
        funding: Funding {
            total_available: "1000000.10".parse().unwrap(),
            award_ceiling: "250000.20".parse().unwrap(),
            award_floor: Some(Money::from_dollars(50_000).unwrap()),
            expected_awards: Some(4),
            ..Default::default()
        },
        dates: KeyDates {
            closes_at: Some(t0() + Duration::days(30)),
            ..Default::default()
        },
        rubric: Rubric {
            total_points: 100,
            criteria: vec![
                Criterion {
                    key: "need".into(),
                    name: "Need".into(),
                    description: String::new(),
                    points: 30,
                },
                Criterion {
                    key: "design".into(),
                    name: "Design".into(),
                    description: String::new(),
                    points: 70,
                },
            ],
        },
        priority_considerations: vec![PriorityConsideration {
            key: "lived".into(),
            name: "Led by people with lived experience".into(),
            description: String::new(),
            established_by: Establishment::SelfAttested {
                statement: "Our leaders have lived experience".into(),
            },
            mechanism: Mechanism::BonusPoints { points: dec!(5) },
        }],
        ..Default::default()
    }
}

async fn office(t: &TestDb) -> OfficeRef {
    ensure_office(&t.db, &officer(), "Bureau of Test Programs", "program_office", t0())
        .await
        .unwrap()
}

#[tokio::test]
async fn draft_to_archive_with_amendments_and_audit() {
    let t = TestDb::new().await;
    let office = office(&t).await;
    let mut c = content("T-2027-0001", "Reentry Incubator");
    c.rubric.total_points = 90; // wrong on purpose: a draft may be incomplete
    let s = create_draft(&t.db, &officer(), office.id, c.clone(), t0())
        .await
        .unwrap();
    assert_eq!((s.status, s.version), (Status::Draft, 0));
    assert_eq!(s.content.funding.total_available.to_amount_string(), "1000000.10");

    // Opening with a rubric that does not add up is refused, naming the field.
    let err = transition(&t.db, &officer(), s.id, Transition::Open, t0())
        .await
        .unwrap_err();
    match &err {
        SolicitationError::Invalid(v) => {
            assert!(v.for_field("rubric.total_points").is_some(), "{v}")
        }
        other => panic!("expected a validation error, got {other:?}"),
    }

    c.rubric.total_points = 100;
    update_draft(&t.db, &officer(), s.id, c.clone(), t0()).await.unwrap();
    let f = transition(&t.db, &officer(), s.id, Transition::Forecast, t0())
        .await
        .unwrap();
    assert_eq!((f.status, f.version), (Status::Forecasted, 1));
    assert!(matches!(
        update_draft(&t.db, &officer(), s.id, c.clone(), t0()).await,
        Err(SolicitationError::NotEditable { .. })
    ));

    let open = transition(&t.db, &officer(), s.id, Transition::Open, t0() + Duration::days(1))
        .await
        .unwrap();
    assert_eq!(open.status, Status::Open);
    assert_eq!(
        open.content.dates.opens_at,
        Some(t0() + Duration::days(1)),
        "opening records the opening time"
    );

    // Amend: extend the deadline.
    let mut amended = open.content.clone();
    amended.dates.closes_at = Some(t0() + Duration::days(37));
    let a = amend(
        &t.db,
        &officer(),
        s.id,
        amended.clone(),
        "Extended the deadline by one week",
        Some(1),
        t0() + Duration::days(2),
    )
    .await
    .unwrap();
    assert_eq!(a.version, 2);
    // A second officer working from version 1 gets a conflict, not a silent overwrite.
    let stale = amend(
        &t.db,
        &officer(),
        s.id,
        amended.clone(),
        "Another change here",
        Some(1),
        t0(),
    )
    .await;
    assert!(
        matches!(stale, Err(SolicitationError::StaleVersion { current: 2, .. })),
        "{stale:?}"
    );
    // An amendment must change something and say what.
    assert!(
        amend(&t.db, &officer(), s.id, amended.clone(), "No real change", None, t0())
            .await
            .is_err()
    );
    assert!(
        amend(&t.db, &officer(), s.id, amended.clone(), "", None, t0())
            .await
            .is_err()
    );

    let history = amendments(&t.db, s.id).await.unwrap();
    assert_eq!(history.len(), 2);
    assert_eq!(history[0].change_summary, "Posted as a forecast");
    assert_eq!(history[1].change_summary, "Extended the deadline by one week");
    assert_eq!(history[1].changed_fields, vec!["dates"]);
    let v1 = version_content(&t.db, s.id, 1).await.unwrap();
    assert_eq!(
        v1.dates.closes_at,
        Some(t0() + Duration::days(30)),
        "version 1 keeps the original deadline"
    );

    let closed = transition(&t.db, &officer(), s.id, Transition::Close, t0() + Duration::days(40))
        .await
        .unwrap();
    assert_eq!(closed.status, Status::Closed);
    assert!(
        amend(&t.db, &officer(), s.id, c.clone(), "Too late to amend", None, t0())
            .await
            .is_err()
    );
    let archived = transition(&t.db, &officer(), s.id, Transition::Archive, t0() + Duration::days(41))
        .await
        .unwrap();
    assert_eq!(archived.status, Status::Archived);
    assert!(matches!(
        transition(&t.db, &officer(), s.id, Transition::Open, t0()).await,
        Err(SolicitationError::IllegalTransition {
            from: Status::Archived,
            to: Status::Open
        })
    ));

    let entries = audit::find(
        &t.db,
        &audit::AuditQuery {
            subject_id: Some(s.id.to_string()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let actions: Vec<&str> = entries.iter().rev().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions,
        vec![
            "solicitation.created",
            "solicitation.draft_saved",
            "solicitation.forecasted",
            "solicitation.opened",
            "solicitation.amended",
            "solicitation.closed",
            "solicitation.archived",
        ]
    );
    assert!(entries.iter().all(|e| e.actor == "cli:test-officer"));
    audit::verify(&t.db).await.expect("the audit chain is intact");
}

#[tokio::test]
async fn posting_needs_a_future_deadline_and_numbers_are_unique() {
    let t = TestDb::new().await;
    let office = office(&t).await;
    let mut c = content("T-2027-0002", "Trauma Recovery");
    c.dates.closes_at = Some(t0() - Duration::seconds(1));
    let s = create_draft(&t.db, &officer(), office.id, c.clone(), t0())
        .await
        .unwrap();
    let err = transition(&t.db, &officer(), s.id, Transition::Open, t0())
        .await
        .unwrap_err();
    assert!(
        matches!(&err, SolicitationError::Invalid(v) if v.for_field("dates.closes_at") == Some("must be in the future"))
    );
    let dup = create_draft(&t.db, &officer(), office.id, c.clone(), t0()).await;
    assert!(matches!(dup, Err(SolicitationError::DuplicateNumber(n)) if n == "T-2027-0002"));
    // Closing a draft is not a thing.
    assert!(matches!(
        transition(&t.db, &officer(), s.id, Transition::Close, t0()).await,
        Err(SolicitationError::IllegalTransition { .. })
    ));
    // An unknown office is refused.
    let nowhere = create_draft(
        &t.db,
        &officer(),
        granary_core::id::OrganizationId::new(),
        content("T-9", "X"),
        t0(),
    )
    .await;
    assert!(matches!(nowhere, Err(SolicitationError::OfficeNotFound(_))));
}

async fn posted(
    t: &TestDb,
    office: &OfficeRef,
    number: &str,
    title: &str,
    f: impl FnOnce(&mut SolicitationContent),
    step: Transition,
) -> Solicitation {
    let mut c = content(number, title);
    f(&mut c);
    let s = create_draft(&t.db, &officer(), office.id, c, t0()).await.unwrap();
    transition(&t.db, &officer(), s.id, step, t0()).await.unwrap()
}

#[tokio::test]
async fn search_filters_sorts_and_pages() {
    let t = TestDb::new().await;
    let office = office(&t).await;
    let reentry = posted(&t, &office, "S-1", "Reentry Incubator", |_| {}, Transition::Open).await;
    let youth = posted(
        &t,
        &office,
        "S-2",
        "Youth Violence Prevention 100% Community",
        |c| {
            c.program_areas = vec![ProgramArea::Prevention];
            c.focus_tags = vec![FocusTag::Youth];
            c.eligibility.applicant_types = vec![ApplicantType::GovernmentMunicipal];
            c.dates.closes_at = Some(t0() + Duration::days(10));
        },
        Transition::Open,
    )
    .await;
    let forecast = posted(
        &t,
        &office,
        "S-3",
        "Co-responder Forecast",
        |c| {
            c.dates.closes_at = Some(t0() + Duration::days(90));
        },
        Transition::Forecast,
    )
    .await;
    let _draft = create_draft(
        &t.db,
        &officer(),
        office.id,
        content("S-4", "Secret Draft Reentry"),
        t0(),
    )
    .await
    .unwrap();
    let soon = posted(
        &t,
        &office,
        "S-5",
        "Closing Tomorrow Reentry",
        |c| {
            c.dates.closes_at = Some(t0() + Duration::days(1));
        },
        Transition::Open,
    )
    .await;

    let run = |q: SearchQuery, now: DateTime<Utc>| {
        let db = t.db.clone();
        async move { search(&db, &q, now).await.unwrap() }
    };
    let ids = |p: &Page<Solicitation>| p.items.iter().map(|s| s.id).collect::<Vec<_>>();

    // Default: open and forecasted, open closing soonest first, drafts never.
    let all = run(SearchQuery::default(), t0()).await;
    assert_eq!(ids(&all), vec![soon.id, youth.id, reentry.id, forecast.id]);

    let q = SearchQuery {
        text: Some("REENTRY".into()),
        ..Default::default()
    };
    assert_eq!(
        ids(&run(q, t0()).await),
        vec![soon.id, reentry.id, forecast.id],
        "case-insensitive, tags too, drafts hidden"
    );
    let q = SearchQuery {
        text: Some("100%".into()),
        ..Default::default()
    };
    assert_eq!(ids(&run(q, t0()).await), vec![youth.id], "% is matched literally");
    let q = SearchQuery {
        program_area: Some(ProgramArea::Prevention),
        ..Default::default()
    };
    assert_eq!(ids(&run(q, t0()).await), vec![youth.id]);
    let q = SearchQuery {
        applicant_type: Some(ApplicantType::GovernmentMunicipal),
        ..Default::default()
    };
    assert_eq!(ids(&run(q, t0()).await), vec![youth.id]);
    let q = SearchQuery {
        statuses: vec![Status::Forecasted],
        ..Default::default()
    };
    assert_eq!(ids(&run(q, t0()).await), vec![forecast.id]);
    let q = SearchQuery {
        closing_before: Some((t0() + Duration::days(10)).date_naive()),
        ..Default::default()
    };
    assert_eq!(ids(&run(q, t0()).await), vec![soon.id, youth.id]);

    // Pages.
    let p1 = run(
        SearchQuery {
            page_size: 2,
            ..Default::default()
        },
        t0(),
    )
    .await;
    assert_eq!((p1.total_items, p1.total_pages, p1.items.len()), (4, 2, 2));
    let p2 = run(
        SearchQuery {
            page_size: 2,
            page: 2,
            ..Default::default()
        },
        t0(),
    )
    .await;
    assert_eq!(ids(&p2), vec![reentry.id, forecast.id]);
    let p9 = run(
        SearchQuery {
            page_size: 2,
            page: 9,
            ..Default::default()
        },
        t0(),
    )
    .await;
    assert!(p9.items.is_empty());

    // Sorted by title, and by a field in either direction.
    let by_title = run(
        SearchQuery {
            sort: SortOrder::Title,
            ..Default::default()
        },
        t0(),
    )
    .await;
    assert_eq!(ids(&by_title), vec![soon.id, forecast.id, reentry.id, youth.id]);
    let q = SearchQuery {
        sort: SortOrder::Field {
            field: SortField::CloseDate,
            descending: true,
        },
        ..Default::default()
    };
    assert_eq!(
        ids(&run(q, t0()).await),
        vec![forecast.id, reentry.id, youth.id, soon.id]
    );

    // Ranges, inside and outside.
    let q = SearchQuery {
        close_range: Some(Range {
            min: t0() + Duration::days(5),
            max: t0() + Duration::days(40),
            inside: true,
        }),
        ..Default::default()
    };
    assert_eq!(ids(&run(q, t0()).await), vec![youth.id, reentry.id]);
    let q = SearchQuery {
        close_range: Some(Range {
            min: t0() + Duration::days(5),
            max: t0() + Duration::days(40),
            inside: false,
        }),
        ..Default::default()
    };
    assert_eq!(ids(&run(q, t0()).await), vec![soon.id, forecast.id]);

    // Two days later the one closing tomorrow counts as closed, before any sweep.
    let later = t0() + Duration::days(2);
    let open_now = run(
        SearchQuery {
            statuses: vec![Status::Open],
            ..Default::default()
        },
        later,
    )
    .await;
    assert_eq!(ids(&open_now), vec![youth.id, reentry.id]);
    let closed = run(
        SearchQuery {
            statuses: vec![Status::Closed],
            ..Default::default()
        },
        later,
    )
    .await;
    assert_eq!(ids(&closed), vec![soon.id]);
    assert_eq!(close_overdue(&t.db, later).await.unwrap(), 1);
    assert_eq!(get(&t.db, soon.id).await.unwrap().status, Status::Closed);
    assert_eq!(close_overdue(&t.db, later).await.unwrap(), 0, "the sweep is idempotent");
}

#[tokio::test]
async fn attachments_come_and_go() {
    let t = TestDb::new().await;
    let office = office(&t).await;
    let s = posted(&t, &office, "A-1", "With files", |_| {}, Transition::Open).await;
    let doc = DocumentId::new();
    document_record::insert(
        &t.db,
        NewDocument {
            id: doc,
            storage_key: format!("solicitations/{}/{doc}", s.id),
            filename: "faq.pdf".into(),
            content_type: "application/pdf".into(),
            size_bytes: 1234,
            sha256: "ab".repeat(32),
            uploaded_by: "cli:test".into(),
        },
        t0(),
    )
    .await
    .unwrap();
    let a = add_attachment(&t.db, &officer(), s.id, doc, "Frequently asked questions", t0())
        .await
        .unwrap();
    assert_eq!(attachments(&t.db, s.id).await.unwrap(), vec![a.clone()]);
    assert!(
        add_attachment(&t.db, &officer(), s.id, DocumentId::new(), "Missing", t0())
            .await
            .is_err()
    );
    assert!(add_attachment(&t.db, &officer(), s.id, doc, "  ", t0()).await.is_err());
    remove_attachment(&t.db, &officer(), s.id, a.id, t0()).await.unwrap();
    assert!(attachments(&t.db, s.id).await.unwrap().is_empty());
    assert!(matches!(
        remove_attachment(&t.db, &officer(), s.id, a.id, t0()).await,
        Err(SolicitationError::AttachmentNotFound(_))
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_amendments_from_the_same_version_conflict() {
    let t = TestDb::new().await;
    let office = office(&t).await;
    let s = posted(&t, &office, "C-1", "Contested", |_| {}, Transition::Open).await;
    let mut tasks = Vec::new();
    for i in 0..4 {
        let db = t.db.clone();
        let mut c = s.content.clone();
        c.summary = format!("Summary rewritten by officer {i}");
        tasks.push(tokio::spawn(async move {
            amend(
                &db,
                &officer(),
                s.id,
                c,
                &format!("Officer {i} rewrote the summary"),
                Some(1),
                t0(),
            )
            .await
        }));
    }
    let mut ok = 0;
    let mut stale = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(a) => {
                assert_eq!(a.version, 2);
                ok += 1;
            }
            Err(SolicitationError::StaleVersion { current: 2, .. }) => stale += 1,
            Err(e) => panic!("unexpected error: {e:?}"),
        }
    }
    assert_eq!(
        (ok, stale),
        (1, 3),
        "exactly one amendment wins; the others are told to reload"
    );
    assert_eq!(amendments(&t.db, s.id).await.unwrap().len(), 2);
    audit::verify(&t.db).await.unwrap();
}
