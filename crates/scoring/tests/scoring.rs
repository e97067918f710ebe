//! The scoring service against a real database (SQLite by default; PostgreSQL when
//! GRANARY_TEST_DATABASE_URL is set): the reviewer pool, detected and declared conflicts,
//! optimal assignment and late reassignment, and reviews from draft to submission and
//! reopening.

use chrono::{DateTime, TimeZone, Utc};
use granary_applications as apps;
use granary_core::Actor;
use granary_core::Money;
use granary_core::audit;
use granary_core::id::{ApplicationId, OrganizationId, UserId};
use granary_core::policy::{OrgKind, Role};
use granary_core::testing::TestDb;
use granary_core::time::FixedClock;
use granary_identity::{
    EmailAddress, NewOrganization, NewUser, OrganizationProfile, Password, add_member, create_organization, create_user,
};
use granary_scoring::conflicts::ConflictDeclaration;
use granary_scoring::pool::PoolEntry;
use granary_scoring::*;
use granary_solicitations::{
    ApplicantType, Criterion, Eligibility, Funding, KeyDates, ProgramArea, Rubric, Solicitation, SolicitationContent,
    Transition, create_draft, ensure_office, transition,
};
use rust_decimal_macros::dec;

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 15, 0, 0).unwrap()
}

fn officer() -> Actor {
    Actor::cli("test-officer")
}

fn content() -> SolicitationContent {
    SolicitationContent {
        number: "T-2027-0200".into(),
        title: "Neighborhood Safety Microgrants".into(),
        summary: "Small grants.".into(),
        description: "Paragraph.".into(),
        program_areas: vec![ProgramArea::Prevention, ProgramArea::Intervention],
        eligibility: Eligibility {
            applicant_types: vec![ApplicantType::NonprofitWith501c3],
            ..Default::default()
        },
        funding: Funding {
            total_available: Money::from_dollars(100_000).unwrap(),
            award_floor: Some(Money::from_dollars(10_000).unwrap()),
            award_ceiling: Money::from_dollars(40_000).unwrap(),
            ..Default::default()
        },
        dates: KeyDates {
            closes_at: Some(Utc.with_ymd_and_hms(2026, 12, 2, 4, 59, 0).unwrap()),
            ..Default::default()
        },
        rubric: Rubric {
            total_points: 100,
            criteria: vec![
                Criterion {
                    key: "need".into(),
                    name: "Need".into(),
                    description: String::new(),
                    points: 60,
                },
                Criterion {
                    key: "design".into(),
                    name: "Design".into(),
                    description: String::new(),
                    points: 40,
                },
            ],
        },
        ..Default::default()
    }
}

struct World {
    t: TestDb,
    s: Solicitation,
    /// Applicant organizations, in the order their applications were submitted.
    orgs: Vec<OrganizationId>,
    apps: Vec<ApplicationId>,
    /// Reviewers Ada, Ben, Cy and Dee (Dee also belongs to the first applicant).
    reviewers: Vec<(UserId, Actor)>,
}

async fn user(t: &TestDb, name: &str) -> (UserId, Actor) {
    let email = format!("{}@test.example", name.to_lowercase());
    let u = create_user(
        &t.db,
        &officer(),
        NewUser {
            email: EmailAddress::parse(&email).unwrap(),
            display_name: name.into(),
            password: Password::new("correct horse battery").unwrap(),
        },
        t0(),
    )
    .await
    .unwrap();
    (
        u.id,
        Actor::User {
            id: u.id,
            name: name.into(),
        },
    )
}

async fn world() -> World {
    let t = TestDb::new().await;
    let office = ensure_office(&t.db, &officer(), "Office of Test Programs", "program_office", t0())
        .await
        .unwrap();
    let s = create_draft(&t.db, &officer(), office.id, content(), t0())
        .await
        .unwrap();
    let s = transition(&t.db, &officer(), s.id, Transition::Open, t0())
        .await
        .unwrap();
    let mut orgs = Vec::new();
    let mut app_ids = Vec::new();
    let clock = FixedClock::at(t0());
    for (i, name) in ["Eastside Peacekeepers", "Westside Youth", "Northside Moms"]
        .iter()
        .enumerate()
    {
        let org = create_organization(
            &t.db,
            &officer(),
            NewOrganization {
                kind: OrgKind::CommunityOrganization,
                profile: OrganizationProfile {
                    name: (*name).into(),
                    ..Default::default()
                },
            },
            None,
            t0(),
        )
        .await
        .unwrap();
        let (app, _) = apps::start(&t.db, &officer(), s.id, org.id, t0()).await.unwrap();
        let mut c = apps::sample::complete_content(&s, &format!("Project {}", i + 1));
        c.program_areas = vec![if i == 1 {
            ProgramArea::Intervention
        } else {
            ProgramArea::Prevention
        }];
        let app = apps::save(&t.db, &officer(), app.id, app.version, c, t0())
            .await
            .unwrap();
        apps::submit(&t.db, &officer(), app.id, &clock).await.unwrap();
        orgs.push(org.id);
        app_ids.push(app.id);
    }
    let mut reviewers = Vec::new();
    for name in ["Ada", "Ben", "Cy", "Dee"] {
        let r = user(&t, name).await;
        add_member(&t.db, &officer(), office.id, r.0, Role::Reviewer, t0())
            .await
            .unwrap();
        reviewers.push(r);
    }
    // Dee is also staff of the first applicant: a conflict Granary detects.
    add_member(&t.db, &officer(), orgs[0], reviewers[3].0, Role::Staff, t0())
        .await
        .unwrap();
    World {
        t,
        s,
        orgs,
        apps: app_ids,
        reviewers,
    }
}

async fn fill_pool(w: &World) {
    let expertise = [
        vec![ProgramArea::Prevention],
        vec![ProgramArea::Intervention],
        vec![ProgramArea::Prevention, ProgramArea::Intervention],
        vec![ProgramArea::Prevention],
    ];
    for ((id, _), areas) in w.reviewers.iter().zip(expertise) {
        pool::set_pool_member(
            &w.t.db,
            &officer(),
            &w.s,
            *id,
            PoolEntry {
                kind: ReviewerKind::Community,
                expertise: areas,
                min_load: None,
                max_load: None,
            },
            t0(),
        )
        .await
        .unwrap();
    }
    let settings = ReviewSettings {
        reviews_per_application: 2,
        max_load: 2,
        ..Default::default()
    };
    pool::save_settings(&w.t.db, &officer(), w.s.id, settings, 0, t0())
        .await
        .unwrap();
}

fn live(reviews: &[Review]) -> Vec<&Review> {
    reviews.iter().filter(|r| r.is_active()).collect()
}

#[tokio::test]
async fn assignment_honours_conflicts_and_loads_and_a_late_conflict_is_replaced() {
    let w = world().await;
    // Only members of the office can join the pool.
    let (outsider, _) = user(&w.t, "Outsider").await;
    let err = pool::set_pool_member(
        &w.t.db,
        &officer(),
        &w.s,
        outsider,
        PoolEntry {
            kind: ReviewerKind::Peer,
            expertise: vec![],
            min_load: None,
            max_load: None,
        },
        t0(),
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("not a member"), "{err}");
    fill_pool(&w).await;

    let run = assign::run(&w.t.db, &officer(), &w.s, t0()).await.unwrap();
    assert_eq!((run.applications, run.reviewers, run.conflicts_detected), (3, 4, 1));
    assert_eq!(run.added, 6);
    let conflicts = conflicts::conflicts(&w.t.db, w.s.id).await.unwrap();
    assert_eq!(conflicts.len(), 1);
    assert_eq!(conflicts[0].source, ConflictSource::Detected);
    assert_eq!(
        (conflicts[0].application_id, conflicts[0].reviewer),
        (w.apps[0], w.reviewers[3].0)
    );

    let all = reviews::of_solicitation(&w.t.db, w.s.id).await.unwrap();
    let all = live(&all);
    assert_eq!(all.len(), 6);
    for app in &w.apps {
        assert_eq!(all.iter().filter(|r| r.application_id == *app).count(), 2);
    }
    assert!(
        !all.iter()
            .any(|r| r.application_id == w.apps[0] && r.reviewer == w.reviewers[3].0),
        "Dee never reviews her own organization's application"
    );
    // Six reviews over four reviewers with at most two each: loads 2,2,1,1 at worst.
    assert!(run.loads.values().all(|l| (1..=2).contains(l)), "{:?}", run.loads);
    // Ben (intervention only) gets the intervention application: expertise is preferred.
    assert!(
        all.iter()
            .any(|r| r.application_id == w.apps[1] && r.reviewer == w.reviewers[1].0)
    );

    // A second run changes nothing.
    let again = assign::run(&w.t.db, &officer(), &w.s, t0()).await.unwrap();
    assert_eq!((again.added, again.released, again.kept), (0, 0, 6));

    // A reviewer declares a conflict late: that one assignment is released and replaced.
    let victim = all
        .iter()
        .find(|r| r.application_id == w.apps[2])
        .map(|r| (r.id, r.reviewer))
        .unwrap();
    let declared = assign::declare_conflict(
        &w.t.db,
        &w.reviewers.iter().find(|r| r.0 == victim.1).unwrap().1,
        &w.s,
        w.apps[2],
        victim.1,
        ConflictSource::Declared,
        &ConflictDeclaration {
            kind: ConflictKind::Personal,
            note: "My cousin runs it.".into(),
        },
        t0(),
    )
    .await
    .unwrap();
    assert_eq!(declared.released, Some(victim.0));
    let replacement = declared.replacement.expect("someone replaces them");
    assert_ne!(replacement.reviewer, victim.1);
    assert_eq!(replacement.application_id, w.apps[2]);
    let after = reviews::of_application(&w.t.db, w.apps[2]).await.unwrap();
    let after = live(&after);
    assert_eq!(after.len(), 2);
    assert!(!after.iter().any(|r| r.reviewer == victim.1));
    // The conflicted reviewer cannot open the released review.
    let err = reviews::open_for_reviewer(&w.t.db, victim.0, victim.1)
        .await
        .unwrap_err();
    assert!(matches!(err, ScoringError::NotFound(_)), "{err:?}");
    // A full run afterwards may re-optimize work nobody has started, but never brings the
    // conflicted reviewer back, and every application still has two reviewers.
    let third = assign::run(&w.t.db, &officer(), &w.s, t0()).await.unwrap();
    assert_eq!(third.added, third.released);
    let all = reviews::of_solicitation(&w.t.db, w.s.id).await.unwrap();
    let all = live(&all);
    assert_eq!(all.len(), 6);
    assert!(
        !all.iter()
            .any(|r| r.application_id == w.apps[2] && r.reviewer == victim.1)
    );

    // A reviewer joins an applicant organization after being assigned to its application:
    // checking conflicts finds it and takes the assignment away at once, and the next run
    // gives the application someone else.
    let (app1, joiner) = all
        .iter()
        .find(|r| r.application_id == w.apps[1])
        .map(|r| (r.application_id, r.reviewer))
        .unwrap();
    add_member(&w.t.db, &officer(), w.orgs[1], joiner, Role::Staff, t0())
        .await
        .unwrap();
    let check = assign::check_conflicts(&w.t.db, &officer(), &w.s, t0()).await.unwrap();
    assert_eq!((check.detected, check.released), (1, 1));
    let now = reviews::of_application(&w.t.db, app1).await.unwrap();
    assert!(!live(&now).iter().any(|r| r.reviewer == joiner));
    // Nor can an officer assign them back by hand.
    let err = assign::assign_manually(&w.t.db, &officer(), &w.s, app1, joiner, t0())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("conflict of interest"), "{err}");
    let fourth = assign::run(&w.t.db, &officer(), &w.s, t0()).await.unwrap();
    assert!(fourth.added >= 1);
    let now = reviews::of_application(&w.t.db, app1).await.unwrap();
    let now = live(&now);
    assert_eq!(now.len(), 2);
    assert!(!now.iter().any(|r| r.reviewer == joiner));
    audit::verify(&w.t.db).await.unwrap();
}

#[tokio::test]
async fn infeasible_assignment_names_the_application_and_changes_nothing() {
    let w = world().await;
    fill_pool(&w).await;
    // Three reviewers each, but the first application has only three unconflicted reviewers
    // and each takes at most one.
    let settings = ReviewSettings {
        reviews_per_application: 3,
        max_load: 1,
        ..Default::default()
    };
    pool::save_settings(&w.t.db, &officer(), w.s.id, settings, 1, t0())
        .await
        .unwrap();
    let err = assign::run(&w.t.db, &officer(), &w.s, t0()).await.unwrap_err();
    assert!(matches!(err, ScoringError::Infeasible(_)), "{err:?}");
    let text = err.to_string();
    assert!(!text.contains("application 0"), "indices are replaced by names: {text}");
    assert!(reviews::of_solicitation(&w.t.db, w.s.id).await.unwrap().is_empty());
    // A stale settings save is refused.
    let err = pool::save_settings(&w.t.db, &officer(), w.s.id, ReviewSettings::default(), 1, t0())
        .await
        .unwrap_err();
    assert!(matches!(err, ScoringError::VersionConflict { current: 2 }), "{err:?}");
}

#[tokio::test]
async fn a_review_goes_from_draft_to_submitted_and_only_an_officer_reopens_it() {
    let w = world().await;
    fill_pool(&w).await;
    assign::run(&w.t.db, &officer(), &w.s, t0()).await.unwrap();
    let (ada, ada_actor) = w.reviewers[0].clone();
    let mine = reviews::assignments_of(&w.t.db, ada).await.unwrap();
    assert!(!mine.is_empty());
    let r = reviews::open_for_reviewer(&w.t.db, mine[0].id, ada).await.unwrap();
    // Someone else cannot open Ada's review.
    let err = reviews::open_for_reviewer(&w.t.db, r.id, w.reviewers[1].0)
        .await
        .unwrap_err();
    assert!(matches!(err, ScoringError::NotFound(_)));

    let rubric = &w.s.content.rubric;
    let mut c = ReviewContent::default();
    c.criteria.insert(
        "need".into(),
        CriterionReview {
            score: Some(dec!(45.5)),
            strengths: "Clear data on shootings.".into(),
            weaknesses: String::new(),
        },
    );
    let saved = reviews::save(&w.t.db, &ada_actor, ada, r.id, c.clone(), r.version, rubric, t0())
        .await
        .unwrap();
    assert_eq!((saved.status, saved.version), (ReviewStatus::InProgress, r.version + 1));
    // A save from the old version conflicts.
    let err = reviews::save(&w.t.db, &ada_actor, ada, r.id, c.clone(), r.version, rubric, t0())
        .await
        .unwrap_err();
    assert!(matches!(err, ScoringError::VersionConflict { .. }));
    // Out of range and too precise scores are refused by field.
    let mut bad = c.clone();
    bad.criteria.get_mut("need").unwrap().score = Some(dec!(61));
    bad.criteria.insert(
        "design".into(),
        CriterionReview {
            score: Some(dec!(10.125)),
            ..Default::default()
        },
    );
    let err = reviews::save(&w.t.db, &ada_actor, ada, r.id, bad, saved.version, rubric, t0())
        .await
        .unwrap_err();
    let ScoringError::Invalid(v) = err else { panic!() };
    let fields: Vec<&str> = v.0.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(fields, ["criteria.need.score", "criteria.design.score"]);
    // Submitting without every criterion scored is refused, naming the missing one.
    let err = reviews::submit(&w.t.db, &ada_actor, ada, r.id, None, saved.version, rubric, t0())
        .await
        .unwrap_err();
    let ScoringError::Invalid(v) = err else { panic!() };
    assert_eq!(v.0[0].field, "criteria.design.score");
    c.criteria.insert(
        "design".into(),
        CriterionReview {
            score: Some(dec!(30)),
            ..Default::default()
        },
    );
    let done = reviews::submit(
        &w.t.db,
        &ada_actor,
        ada,
        r.id,
        Some(c.clone()),
        saved.version,
        rubric,
        t0(),
    )
    .await
    .unwrap();
    assert_eq!(done.status, ReviewStatus::Submitted);
    assert_eq!(done.content.criteria["design"].score, Some(dec!(30)));
    // Nothing changes after submission...
    let err = reviews::save(&w.t.db, &ada_actor, ada, r.id, c.clone(), done.version, rubric, t0())
        .await
        .unwrap_err();
    assert!(matches!(err, ScoringError::Conflict(_)));
    // ...until an officer reopens it, with a reason.
    assert!(reviews::reopen(&w.t.db, &officer(), r.id, " ", t0()).await.is_err());
    let reopened = reviews::reopen(&w.t.db, &officer(), r.id, "Score the design again", t0())
        .await
        .unwrap();
    assert_eq!(reopened.status, ReviewStatus::InProgress);
    assert_eq!(reopened.submitted_at, None);
    reviews::save(&w.t.db, &ada_actor, ada, r.id, c, reopened.version, rubric, t0())
        .await
        .unwrap();
    let _ = w.orgs;
    audit::verify(&w.t.db).await.unwrap();
}

fn scores(need: rust_decimal::Decimal, design: rust_decimal::Decimal) -> ReviewContent {
    let mut c = ReviewContent::default();
    for (k, v) in [("need", need), ("design", design)] {
        c.criteria.insert(
            k.into(),
            CriterionReview {
                score: Some(v),
                ..Default::default()
            },
        );
    }
    c
}

#[tokio::test]
async fn a_decision_is_recorded_recomputes_identically_and_is_approved_only_on_current_reviews() {
    let w = world().await;
    fill_pool(&w).await;
    let settings = ReviewSettings {
        reviews_per_application: 2,
        max_load: 2,
        available_funds: Some(Money::from_dollars(20_000).unwrap()),
        ..Default::default()
    };
    pool::save_settings(&w.t.db, &officer(), w.s.id, settings, 1, t0())
        .await
        .unwrap();
    assign::run(&w.t.db, &officer(), &w.s, t0()).await.unwrap();
    // Application i is scored (need, design) = (50 - 10 i, 30): merits 80, 70, 60.
    let rubric = &w.s.content.rubric;
    for (uid, actor) in &w.reviewers {
        for r in reviews::assignments_of(&w.t.db, *uid).await.unwrap() {
            let i = w.apps.iter().position(|a| *a == r.application_id).unwrap();
            let c = scores(rust_decimal::Decimal::from(50 - 10 * i as i64), dec!(30));
            reviews::submit(&w.t.db, actor, *uid, r.id, Some(c), r.version, rubric, t0())
                .await
                .unwrap();
        }
    }
    let d = decisions::create(&w.t.db, &officer(), &w.s, Default::default(), t0())
        .await
        .unwrap();
    let order: Vec<ApplicationId> = d.result.applications.iter().map(|a| ApplicationId(a.id)).collect();
    assert_eq!(order, w.apps, "ranked by merit");
    let merits: Vec<_> = d.result.applications.iter().map(|a| a.merit.unwrap()).collect();
    assert_eq!(merits, [dec!(80), dec!(70), dec!(60)]);
    // $20,000 funds the first two $10,000 requests.
    let funded: Vec<bool> = d.result.applications.iter().map(|a| a.funded).collect();
    assert_eq!(funded, [true, true, false]);
    assert_eq!(d.result.funds_left, Money::ZERO);
    let v = decisions::verify(&d).unwrap();
    assert!(v.inputs_match && v.result_matches, "{v:?}");
    assert_eq!(v.recomputed_hash, d.result_hash);
    // The explanation walks from each (anonymous) reviewer to the outcome.
    let steps = &d.result.applications[2].steps;
    assert!(
        steps[0].starts_with("Reviewer 1: Need 30 of 60, Design 30 of 40; total 60"),
        "{steps:?}"
    );
    assert!(steps.iter().any(|s| s.contains("Raw merit")), "{steps:?}");
    assert!(
        !steps.iter().any(|s| s.contains("Ada") || s.contains("Ben")),
        "{steps:?}"
    );

    // Not while the solicitation still takes applications.
    let err = decisions::approve(&w.t.db, &officer(), &w.s, d.id, t0())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("still accepting"), "{err}");
    let after_close = Utc.with_ymd_and_hms(2026, 12, 3, 12, 0, 0).unwrap();
    // A review reopened and rescored after the decision: the decision is stale.
    let (ada, ada_actor) = w.reviewers[0].clone();
    let r = reviews::assignments_of(&w.t.db, ada).await.unwrap().remove(0);
    let r = reviews::reopen(&w.t.db, &officer(), r.id, "Recheck", t0())
        .await
        .unwrap();
    reviews::submit(
        &w.t.db,
        &ada_actor,
        ada,
        r.id,
        Some(scores(dec!(1), dec!(1))),
        r.version,
        rubric,
        t0(),
    )
    .await
    .unwrap();
    let err = decisions::approve(&w.t.db, &officer(), &w.s, d.id, after_close)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("changed after this decision"), "{err}");
    let d2 = decisions::create(&w.t.db, &officer(), &w.s, Default::default(), t0())
        .await
        .unwrap();
    assert_ne!(d2.inputs_hash, d.inputs_hash);
    let approved = decisions::approve(&w.t.db, &officer(), &w.s, d2.id, after_close)
        .await
        .unwrap();
    assert_eq!(approved.status, decisions::DecisionStatus::Approved);
    let err = decisions::approve(&w.t.db, &officer(), &w.s, d.id, after_close)
        .await
        .unwrap_err();
    assert!(matches!(err, ScoringError::Conflict(_)));
    // Applicants see nothing until release, then their own explanation.
    assert_eq!(decisions::released_outcome(&w.t.db, w.apps[0]).await.unwrap(), None);
    decisions::release(&w.t.db, &officer(), &w.s, d2.id, after_close)
        .await
        .unwrap();
    let mine = decisions::released_outcome(&w.t.db, w.apps[2]).await.unwrap().unwrap();
    assert_eq!(mine.id, w.apps[2].as_uuid());
    assert!(!mine.steps.is_empty());
    audit::verify(&w.t.db).await.unwrap();
}
