//! Demo data from `seed/demo.json`, compiled into the binary. Seeding is idempotent: a
//! solicitation whose number already exists is left alone, so running it twice changes
//! nothing. Dates in the file are relative to the day the seed runs, so the demo always shows
//! open, forecasted and closed solicitations. Each solicitation is seeded in one transaction,
//! with a generated summary attached through the document store.

use std::sync::Arc;

use chrono::{DateTime, Duration, NaiveTime, Utc};
use granary_core::Actor;
use granary_core::db::begin_write;
use granary_core::document_record::{self, NewDocument};
use granary_core::id::DocumentId;
use granary_core::time::{DEFAULT_TIME_ZONE, format_instant, instant_in_zone, parse_time_zone};
use granary_documents::{DocumentKey, DocumentStore};
use granary_solicitations::{self as sol, OtherDate, SolicitationContent, SolicitationError, Transition};
use sea_orm::{DatabaseConnection, TransactionSession};
use serde::Deserialize;

/// The demo data shipped with Granary.
pub const DEMO: &str = include_str!("../../../seed/demo.json");

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SeedFile {
    offices: Vec<SeedOffice>,
    solicitations: Vec<SeedSolicitation>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SeedOffice {
    name: String,
    kind: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SeedSolicitation {
    office: String,
    state: String,
    opens_in_days: i64,
    closes_in_days: i64,
    close_time: String,
    #[serde(default)]
    other_dates: Vec<SeedDate>,
    content: serde_json::Value,
    #[serde(default)]
    amendments: Vec<SeedAmendment>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SeedDate {
    name: String,
    in_days: i64,
    time: String,
    #[serde(default)]
    description: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SeedAmendment {
    change_summary: String,
    closes_in_days: Option<i64>,
    #[serde(default)]
    content_patch: serde_json::Value,
}

/// What a seed run did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct SeedReport {
    pub offices: usize,
    pub created: usize,
    pub skipped: usize,
}

/// Why seeding failed.
#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    #[error("the seed file is not valid: {0}")]
    Format(String),
    #[error("seeding {number}: {source}")]
    Solicitation { number: String, source: SolicitationError },
    #[error("storing the attachment of {number}: {message}")]
    Attachment { number: String, message: String },
}

/// RFC 7386 JSON merge patch.
fn merge_patch(target: &mut serde_json::Value, patch: &serde_json::Value) {
    match patch {
        serde_json::Value::Object(p) => {
            if !target.is_object() {
                *target = serde_json::Value::Object(Default::default());
            }
            if let serde_json::Value::Object(t) = target {
                for (k, v) in p {
                    if v.is_null() {
                        t.remove(k);
                    } else {
                        merge_patch(t.entry(k.clone()).or_insert(serde_json::Value::Null), v);
                    }
                }
            }
        }
        other => *target = other.clone(),
    }
}

fn local_time(s: &str) -> Result<NaiveTime, SeedError> {
    NaiveTime::parse_from_str(s, "%H:%M").map_err(|_| SeedError::Format(format!("{s:?} is not a time like 23:59")))
}

/// Loads the demo data into the database and document store.
pub async fn seed_demo(
    db: &DatabaseConnection,
    store: &Arc<dyn DocumentStore>,
    now: DateTime<Utc>,
) -> Result<SeedReport, SeedError> {
    seed(db, store, DEMO, now).await
}

/// Loads seed data from JSON text.
pub async fn seed(
    db: &DatabaseConnection,
    store: &Arc<dyn DocumentStore>,
    json: &str,
    now: DateTime<Utc>,
) -> Result<SeedReport, SeedError> {
    let file: SeedFile = serde_json::from_str(json).map_err(|e| SeedError::Format(e.to_string()))?;
    let actor = Actor::cli("seed");
    let mut report = SeedReport::default();
    let mut offices = std::collections::HashMap::new();
    for o in &file.offices {
        let office = sol::ensure_office(db, &actor, &o.name, &o.kind, now)
            .await
            .map_err(|source| SeedError::Solicitation {
                number: o.name.clone(),
                source,
            })?;
        offices.insert(o.name.clone(), office);
        report.offices += 1;
    }
    for s in file.solicitations {
        let mut content: SolicitationContent = serde_json::from_value(s.content.clone())
            .map_err(|e| SeedError::Format(format!("content of a solicitation: {e}")))?;
        let number = content.number.clone();
        match sol::get_by_number(db, &number).await {
            Ok(_) => {
                report.skipped += 1;
                continue;
            }
            Err(SolicitationError::NotFound(_)) => {}
            Err(source) => return Err(SeedError::Solicitation { number, source }),
        }
        let office = offices
            .get(&s.office)
            .ok_or_else(|| SeedError::Format(format!("{number}: no office named {:?}", s.office)))?;
        let tz = parse_time_zone(&content.dates.time_zone).unwrap_or(DEFAULT_TIME_ZONE);
        let today = now.with_timezone(&tz).date_naive();
        let day = |n: i64, t: NaiveTime| instant_in_zone(today + Duration::days(n), t, tz);
        let opens_at = day(s.opens_in_days, NaiveTime::from_hms_opt(9, 0, 0).unwrap_or_default());
        let closes_at = day(s.closes_in_days, local_time(&s.close_time)?);
        content.dates.opens_at = Some(opens_at);
        content.dates.closes_at = Some(closes_at);
        content.dates.other = s
            .other_dates
            .iter()
            .map(|d| {
                Ok(OtherDate {
                    name: d.name.clone(),
                    at: day(d.in_days, local_time(&d.time)?),
                    description: d.description.clone(),
                })
            })
            .collect::<Result<_, SeedError>>()?;

        let fail = |source| SeedError::Solicitation {
            number: number.clone(),
            source,
        };
        let txn = begin_write(db).await.map_err(|e| fail(e.into()))?;
        // Things that happened in the past are recorded at the time they happened.
        let posted_at = if s.opens_in_days <= 0 { opens_at.min(now) } else { now };
        let created = sol::create_draft(&txn, &actor, office.id, content.clone(), posted_at)
            .await
            .map_err(fail)?;
        let id = created.id;
        match s.state.as_str() {
            "forecasted" => {
                sol::transition(&txn, &actor, id, Transition::Forecast, posted_at)
                    .await
                    .map_err(fail)?;
            }
            "open" => {
                sol::transition(&txn, &actor, id, Transition::Open, posted_at)
                    .await
                    .map_err(fail)?;
            }
            "closed" => {
                sol::transition(&txn, &actor, id, Transition::Open, posted_at)
                    .await
                    .map_err(fail)?;
                sol::transition(
                    &txn,
                    &Actor::System,
                    id,
                    Transition::Close,
                    closes_at + Duration::seconds(1),
                )
                .await
                .map_err(fail)?;
            }
            other => {
                return Err(SeedError::Format(format!(
                    "{number}: state {other:?} is not forecasted, open or closed"
                )));
            }
        }
        let mut current = content;
        for a in &s.amendments {
            let mut value = serde_json::to_value(&current).map_err(|e| SeedError::Format(e.to_string()))?;
            merge_patch(&mut value, &a.content_patch);
            let mut next: SolicitationContent =
                serde_json::from_value(value).map_err(|e| SeedError::Format(format!("{number} amendment: {e}")))?;
            if let Some(d) = a.closes_in_days {
                next.dates.closes_at = Some(day(d, local_time(&s.close_time)?));
            }
            sol::amend(&txn, &actor, id, next.clone(), &a.change_summary, None, now)
                .await
                .map_err(fail)?;
            current = next;
        }
        let summary = summary_text(&current, &office.name, tz);
        let doc_id = DocumentId::new();
        let key = DocumentKey::parse(&format!("solicitations/{id}/{doc_id}")).map_err(|e| SeedError::Attachment {
            number: number.clone(),
            message: e.to_string(),
        })?;
        let meta = store
            .put(
                &key,
                Box::pin(std::io::Cursor::new(summary.into_bytes())),
                Some("text/plain; charset=utf-8"),
            )
            .await
            .map_err(|e| SeedError::Attachment {
                number: number.clone(),
                message: e.to_string(),
            })?;
        document_record::insert(
            &txn,
            NewDocument {
                id: doc_id,
                storage_key: key.as_str().to_string(),
                filename: format!("{}-summary.txt", current.number),
                content_type: "text/plain; charset=utf-8".into(),
                size_bytes: meta.size,
                sha256: meta.sha256,
                uploaded_by: actor.audit_label(),
            },
            now,
        )
        .await
        .map_err(|e| fail(e.into()))?;
        sol::add_attachment(&txn, &actor, id, doc_id, "Solicitation at a glance (plain text)", now)
            .await
            .map_err(fail)?;
        txn.commit().await.map_err(|e| fail(e.into()))?;
        report.created += 1;
    }
    Ok(report)
}

/// A plain-text summary of a solicitation, attached to each demo solicitation.
fn summary_text(c: &SolicitationContent, office: &str, tz: chrono_tz::Tz) -> String {
    let mut out = format!("{}\n{}\nIssued by {}\n\n{}\n\n", c.number, c.title, office, c.summary);
    if let Some(close) = c.dates.closes_at {
        out.push_str(&format!("Deadline: {}\n", format_instant(close, tz)));
    }
    out.push_str(&format!(
        "Funding: {} in total; awards up to {}\n\nScoring ({} points):\n",
        c.funding.total_available, c.funding.award_ceiling, c.rubric.total_points
    ));
    for k in &c.rubric.criteria {
        out.push_str(&format!("  - {} ({} points)\n", k.name, k.points));
    }
    if !c.priority_considerations.is_empty() {
        out.push_str("\nPriority considerations:\n");
        for p in &c.priority_considerations {
            out.push_str(&format!("  - {}: {}\n", p.name, p.mechanism.describe()));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::merge_patch;
    use serde_json::json;

    #[test]
    fn merge_patch_follows_rfc_7386() {
        let mut t = json!({"a": {"b": 1, "c": 2}, "d": [1, 2]});
        merge_patch(&mut t, &json!({"a": {"b": null, "e": 3}, "d": [9]}));
        assert_eq!(t, json!({"a": {"c": 2, "e": 3}, "d": [9]}));
    }
}

/// The password of every demo account. Printed only by `granary serve --demo`.
pub const DEMO_PASSWORD: &str = "granary-demo-2026";

/// A demo account and what it is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoUser {
    pub email: &'static str,
    pub role: &'static str,
}

/// A strong random password (24 letters and digits) for `granary user create`.
pub fn generate_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut bytes = [0u8; 24];
    getrandom::fill(&mut bytes).unwrap_or_else(|_| panic!("the system random number generator is unavailable"));
    bytes
        .iter()
        .map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char)
        .collect()
}

/// Creates an account whose email counts as verified (an operator vouches for it).
pub async fn create_verified_user(
    db: &DatabaseConnection,
    email: &str,
    name: &str,
    password: &str,
    admin: bool,
    now: DateTime<Utc>,
) -> anyhow::Result<granary_identity::User> {
    let actor = Actor::cli("user create");
    let new = granary_identity::NewUser::parse(email, name, password).map_err(|e| anyhow::anyhow!("{e}"))?;
    let user = granary_identity::create_user(db, &actor, new, now).await?;
    let user = granary_identity::mark_email_verified(db, &actor, user.id, now).await?;
    if admin {
        return Ok(granary_identity::set_site_admin(db, &actor, user.id, true, now).await?);
    }
    Ok(user)
}

/// One demo account for each role, in the demo organizations. Idempotent: accounts that
/// exist are left alone.
pub async fn seed_demo_users(db: &DatabaseConnection, now: DateTime<Utc>) -> anyhow::Result<Vec<DemoUser>> {
    use granary_core::policy::{OrgKind, Role};
    let actor = Actor::cli("seed");
    let bja = sol::ensure_office(db, &actor, "Bureau of Justice Assistance (demo)", "program_office", now).await?;
    let ovc = sol::ensure_office(db, &actor, "Office for Victims of Crime (demo)", "program_office", now).await?;
    let nnpc = sol::ensure_office(
        db,
        &actor,
        "National Neighborhood Peace Collaborative (demo)",
        "intermediary",
        now,
    )
    .await?;
    let users = [
        (
            DemoUser {
                email: "admin@demo.granary.test",
                role: "administrator",
            },
            "Avery Admin",
            None,
            true,
        ),
        (
            DemoUser {
                email: "officer@demo.granary.test",
                role: "program officer, Bureau of Justice Assistance",
            },
            "Olivia Officer",
            Some((bja.id, Role::Owner)),
            false,
        ),
        (
            DemoUser {
                email: "ovc.officer@demo.granary.test",
                role: "program officer, Office for Victims of Crime",
            },
            "Victor Vance",
            Some((ovc.id, Role::Staff)),
            false,
        ),
        (
            DemoUser {
                email: "reviewer@demo.granary.test",
                role: "community reviewer, Bureau of Justice Assistance",
            },
            "Rosa Reviewer",
            Some((bja.id, Role::Reviewer)),
            false,
        ),
        (
            DemoUser {
                email: "intermediary@demo.granary.test",
                role: "intermediary staff, Neighborhood Peace Collaborative",
            },
            "Ivan Intermediary",
            Some((nnpc.id, Role::Staff)),
            false,
        ),
        (
            DemoUser {
                email: "applicant@demo.granary.test",
                role: "applicant, Eastside Peacekeepers (grassroots)",
            },
            "Amara Applicant",
            None,
            false,
        ),
    ];
    let mut out = Vec::new();
    for (demo, name, membership, admin) in users {
        let email = granary_identity::EmailAddress::parse(demo.email).map_err(|e| anyhow::anyhow!("{}", e.0))?;
        if granary_identity::find_user_by_email(db, &email).await?.is_none() {
            let user = create_verified_user(db, demo.email, name, DEMO_PASSWORD, admin, now).await?;
            if let Some((org, role)) = membership {
                granary_identity::add_member(db, &actor, org, user.id, role, now).await?;
            }
            if demo.email.starts_with("applicant@") {
                let profile = granary_identity::OrganizationProfile {
                    name: "Eastside Peacekeepers (demo)".into(),
                    city: Some("Washington".into()),
                    state: Some("DC".into()),
                    county_fips: Some("11001".into()),
                    annual_budget: Some(granary_core::Money::from_dollars(85_000)?),
                    year_founded: Some(2019),
                    populations_served: vec!["young adults".into(), "returning citizens".into()],
                    lived_experience_led: true,
                    ..Default::default()
                };
                let new = granary_identity::NewOrganization {
                    kind: OrgKind::CommunityOrganization,
                    profile,
                };
                granary_identity::create_organization(db, &actor, new, Some(user.id), now).await?;
            }
        }
        out.push(demo);
    }
    Ok(out)
}

/// Demo organizations that have already applied, so the offices' application pages have
/// something in them: (organization, solicitation number, project title).
const DEMO_APPLICANTS: [(&str, &str, &str); 2] = [
    (
        "Harbor Youth Collective (demo)",
        "NNPC-2027-MG-90006",
        "Late-night basketball and mentoring",
    ),
    (
        "Cure the Streets Coalition (demo)",
        "O-BJA-2027-90001",
        "Community violence intervention subgrants for Baltimore",
    ),
];

/// Submitted demo applications, one for each of `DEMO_APPLICANTS`, with a small PDF in each
/// required document's slot. Idempotent: an organization that exists is left alone.
pub async fn seed_demo_applications(
    db: &DatabaseConnection,
    store: &Arc<dyn DocumentStore>,
    now: DateTime<Utc>,
) -> anyhow::Result<usize> {
    use granary_applications as apps;
    let actor = Actor::cli("seed");
    // The community organizations there are, to leave existing ones alone.
    let mut names = Vec::new();
    let mut page = 1;
    loop {
        let p = granary_identity::list_organizations(
            db,
            granary_identity::OrganizationQuery {
                kind: Some(granary_core::policy::OrgKind::CommunityOrganization),
                page,
                page_size: 100,
            },
        )
        .await?;
        names.extend(p.items.into_iter().map(|o| o.name));
        if page >= p.total_pages {
            break;
        }
        page += 1;
    }
    let mut made = 0;
    for (name, number, title) in DEMO_APPLICANTS {
        if names.iter().any(|n| n == name) {
            continue;
        }
        let s = sol::get_by_number(db, number).await?;
        if s.effective_status(now) != granary_solicitations::Status::Open {
            continue;
        }
        let org = granary_identity::create_organization(
            db,
            &actor,
            granary_identity::NewOrganization {
                kind: granary_core::policy::OrgKind::CommunityOrganization,
                profile: granary_identity::OrganizationProfile {
                    name: name.into(),
                    city: Some("Baltimore".into()),
                    state: Some("MD".into()),
                    county_fips: Some("24510".into()),
                    annual_budget: Some(granary_core::Money::from_dollars(240_000)?),
                    ..Default::default()
                },
            },
            None,
            now,
        )
        .await?;
        let (app, _) = apps::start(db, &actor, s.id, org.id, now).await?;
        let app = apps::save(
            db,
            &actor,
            app.id,
            app.version,
            apps::sample::complete_content(&s, title),
            now,
        )
        .await?;
        attach_sample_documents(db, store, &actor, &s, app.id, name, now).await?;
        let clock = granary_core::time::FixedClock::at(now);
        apps::submit(db, &actor, app.id, &clock).await?;
        made += 1;
    }
    Ok(made)
}

/// Puts a small PDF naming `who` into each required document's slot of an application: the
/// documents of the demo applications, and of the tests' ready applications.
pub async fn attach_sample_documents(
    db: &DatabaseConnection,
    store: &Arc<dyn DocumentStore>,
    actor: &Actor,
    s: &granary_solicitations::Solicitation,
    app: granary_core::id::ApplicationId,
    who: &str,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    use granary_applications as apps;
    for d in s.content.required_documents.iter().filter(|d| d.required) {
        let doc = DocumentId::new();
        let key = DocumentKey::parse(&format!("applications/{app}/{doc}"))?;
        let text = format!("%PDF-1.4\n% {who}: {}\n%%EOF\n", d.name);
        let meta = store
            .put(
                &key,
                Box::pin(std::io::Cursor::new(text.into_bytes())),
                Some("application/pdf"),
            )
            .await?;
        document_record::insert(
            db,
            NewDocument {
                id: doc,
                storage_key: key.as_str().to_string(),
                filename: format!("{}.pdf", d.key),
                content_type: "application/pdf".into(),
                size_bytes: meta.size,
                sha256: meta.sha256,
                uploaded_by: actor.audit_label(),
            },
            now,
        )
        .await?;
        apps::attach_document(
            db,
            actor,
            app,
            apps::DocumentSlot::Required(d.key.clone()),
            doc,
            &d.name,
            now,
        )
        .await?;
    }
    Ok(())
}

/// The demo solicitation whose review the demo shows: BJA's reentry incubator program, with
/// bonus points for applicants led by formerly incarcerated people (self-attested).
pub const DEMO_REVIEW_SOLICITATION: &str = "O-BJA-2027-90002";

/// Demo incubators that have applied to it: (name, city, state, county FIPS, request in
/// dollars, attests to being led by formerly incarcerated people).
const DEMO_REVIEWED: [(&str, &str, &str, &str, i64, bool); 8] = [
    (
        "Second Chance Builders (demo)",
        "Baltimore",
        "MD",
        "24510",
        1_200_000,
        true,
    ),
    (
        "Riverton Reentry Network (demo)",
        "Riverton",
        "OH",
        "39049",
        1_450_000,
        false,
    ),
    (
        "Homecoming Collective (demo)",
        "Los Angeles",
        "CA",
        "06037",
        1_500_000,
        true,
    ),
    (
        "Millbrook Fresh Start (demo)",
        "Millbrook",
        "NC",
        "37183",
        1_000_000,
        false,
    ),
    (
        "Northside Returning Citizens Alliance (demo)",
        "Seattle",
        "WA",
        "53033",
        1_300_000,
        true,
    ),
    (
        "Cedar Valley Bridges (demo)",
        "Cedar Falls",
        "IA",
        "19013",
        1_050_000,
        false,
    ),
    (
        "Lakeside Open Doors (demo)",
        "Lakeside",
        "MI",
        "26163",
        1_150_000,
        false,
    ),
    (
        "Harbor Reentry Partners (demo)",
        "Harbor",
        "SC",
        "45019",
        1_400_000,
        true,
    ),
];

/// Demo reviewers added to BJA for the demo review (besides its officer and Rosa Reviewer).
const DEMO_EXTRA_REVIEWERS: [(&str, &str); 2] = [
    ("peer.reviewer@demo.granary.test", "Pat Peer"),
    ("community.reviewer@demo.granary.test", "Camila Community"),
];

/// A review in progress for the demo: eight incubators have applied to the reentry program
/// (four attest to being led by formerly incarcerated people); three reviewers are in the pool
/// (Rosa Reviewer and two more; the officer stays out, since officers see the ranking);
/// assignment gave each application three; every
/// review is submitted except Rosa Reviewer's first, left for her to score. Funds for the
/// review are set to $5,000,000 so the funding line falls inside the list. The solicitation
/// is still open, so a decision can be computed and previewed but approved only once the
/// office closes it. Idempotent: nothing happens when the solicitation already has submitted
/// applications. Needs `seed_demo` and `seed_demo_users` first.
pub async fn seed_demo_review(
    db: &DatabaseConnection,
    store: &Arc<dyn DocumentStore>,
    now: DateTime<Utc>,
) -> anyhow::Result<usize> {
    use granary_applications as apps;
    use granary_scoring as scoring;
    use rust_decimal::Decimal;
    let actor = Actor::cli("seed");
    let s = sol::get_by_number(db, DEMO_REVIEW_SOLICITATION).await?;
    if !scoring::subjects::submitted(db, s.id).await?.is_empty() {
        return Ok(0);
    }
    let clock = granary_core::time::FixedClock::at(now);
    for (name, city, state, county, request, led) in DEMO_REVIEWED {
        let org = granary_identity::create_organization(
            db,
            &actor,
            granary_identity::NewOrganization {
                kind: granary_core::policy::OrgKind::CommunityOrganization,
                profile: granary_identity::OrganizationProfile {
                    name: name.into(),
                    city: Some(city.into()),
                    state: Some(state.into()),
                    county_fips: Some(county.into()),
                    annual_budget: Some(granary_core::Money::from_dollars(900_000)?),
                    lived_experience_led: led,
                    ..Default::default()
                },
            },
            None,
            now,
        )
        .await?;
        let (app, _) = apps::start(db, &actor, s.id, org.id, now).await?;
        let mut content = apps::sample::complete_content(&s, &format!("Reentry incubator for {city}"));
        if let Some(line) = content.budget.lines.first_mut() {
            line.unit_cost = granary_core::Money::from_dollars(request)?;
        }
        if led {
            content.priorities.insert(
                "led_by_formerly_incarcerated".to_string(),
                apps::PriorityClaim {
                    claimed: true,
                    explanation: "Our executive director came home from prison in 2014.".to_string(),
                },
            );
        }
        let app = apps::save(db, &actor, app.id, app.version, content, now).await?;
        attach_sample_documents(db, store, &actor, &s, app.id, name, now).await?;
        apps::submit(db, &actor, app.id, &clock).await?;
    }
    // The pool: the office's officer and reviewers.
    let bja = s.office.id;
    for (email, name) in DEMO_EXTRA_REVIEWERS {
        let parsed = granary_identity::EmailAddress::parse(email).map_err(|e| anyhow::anyhow!("{}", e.0))?;
        if granary_identity::find_user_by_email(db, &parsed).await?.is_none() {
            let user = create_verified_user(db, email, name, DEMO_PASSWORD, false, now).await?;
            granary_identity::add_member(db, &actor, bja, user.id, granary_core::policy::Role::Reviewer, now).await?;
        }
    }
    let mut rosa = None;
    let mut names = std::collections::HashMap::new();
    for c in scoring::pool::candidates(db, &s).await? {
        names.insert(c.person.id, c.person.name.clone());
        let (kind, expertise) = match c.person.email.as_str() {
            "reviewer@demo.granary.test" => {
                rosa = Some(c.person.id);
                (
                    scoring::ReviewerKind::Community,
                    vec![granary_solicitations::ProgramArea::Prevention],
                )
            }
            "peer.reviewer@demo.granary.test" => (
                scoring::ReviewerKind::Peer,
                vec![granary_solicitations::ProgramArea::Accountability],
            ),
            "community.reviewer@demo.granary.test" => (scoring::ReviewerKind::Community, vec![]),
            _ => continue,
        };
        let entry = scoring::pool::PoolEntry {
            kind,
            expertise,
            min_load: None,
            max_load: None,
        };
        scoring::pool::set_pool_member(db, &actor, &s, c.person.id, entry, now).await?;
    }
    let settings = scoring::ReviewSettings {
        reviews_per_application: 3,
        max_load: 8,
        share_reviews_after_submitting: true,
        available_funds: Some(granary_core::Money::from_dollars(5_000_000)?),
        ..Default::default()
    };
    let (_, version) = scoring::pool::settings(db, s.id).await?;
    scoring::pool::save_settings(db, &actor, s.id, settings, version, now).await?;
    scoring::assign::run(db, &actor, &s, now).await?;
    // Every review submitted, with scores that differ by application and reviewer, except
    // Rosa Reviewer's first.
    let assignments = scoring::reviews::of_solicitation(db, s.id).await?;
    let mut left_for_rosa = false;
    let mut order: Vec<uuid::Uuid> = assignments.iter().map(|r| r.application_id.as_uuid()).collect();
    order.dedup();
    let mut reviewers: Vec<uuid::Uuid> = assignments.iter().map(|r| r.reviewer.as_uuid()).collect();
    reviewers.sort_unstable();
    reviewers.dedup();
    for r in assignments.iter().filter(|r| r.is_active()) {
        if Some(r.reviewer) == rosa && !left_for_rosa {
            left_for_rosa = true;
            continue;
        }
        let a = order.iter().position(|x| *x == r.application_id.as_uuid()).unwrap_or(0);
        let who = reviewers.iter().position(|x| *x == r.reviewer.as_uuid()).unwrap_or(0);
        let mut content = scoring::ReviewContent::default();
        for (i, c) in s.content.rubric.criteria.iter().enumerate() {
            // A share of the points between 55% and 97%, varying by application, criterion
            // and reviewer.
            let share = Decimal::new(55 + ((a * 37 + i * 13 + who * 7) % 43) as i64, 2);
            content.criteria.insert(
                c.key.clone(),
                scoring::CriterionReview {
                    score: Some((Decimal::from(c.points) * share).round_dp(0)),
                    strengths: format!("Clear plan for {}.", c.name.to_lowercase()),
                    weaknesses: "Sustainability after the award is not fully explained.".to_string(),
                },
            );
        }
        content.overall_comment = "A credible project from an agency with the partners it needs.".to_string();
        let reviewer_actor = Actor::User {
            id: r.reviewer,
            name: names.get(&r.reviewer).cloned().unwrap_or_default(),
        };
        scoring::reviews::submit(
            db,
            &reviewer_actor,
            r.reviewer,
            r.id,
            Some(content),
            r.version,
            &s.content.rubric,
            now,
        )
        .await?;
    }
    Ok(DEMO_REVIEWED.len())
}
