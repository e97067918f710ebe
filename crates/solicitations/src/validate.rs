//! Validation of a solicitation's content for each stage. A draft need only be well formed;
//! a forecast must say what, for whom, how much and roughly when; an open solicitation must be
//! complete enough to apply to and to score. All problems are gathered at once, each named
//! by its field path (`funding.award_ceiling`, `rubric.criteria[2].points`).

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use granary_core::ValidationErrors;
use rust_decimal::Decimal;

use crate::Status;
use crate::model::*;

const MAX_TITLE: usize = 300;
const MAX_SUMMARY: usize = 2_000;
const MAX_DESCRIPTION: usize = 100_000;
const MAX_LIST: usize = 50;

/// Checks `content` for the given stage: `Draft` (saving), `Forecasted` or `Open` (posting
/// or amending in that state).
pub fn validate(content: &SolicitationContent, stage: Status, now: DateTime<Utc>) -> Result<(), ValidationErrors> {
    let mut e = ValidationErrors::new();
    well_formed(content, &mut e);
    if matches!(stage, Status::Forecasted | Status::Open) {
        ready_to_forecast(content, now, &mut e);
    }
    if stage == Status::Open {
        ready_to_open(content, &mut e);
    }
    e.into_result()
}

fn is_key(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 40
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && s.starts_with(|c: char| c.is_ascii_lowercase())
}

fn text(e: &mut ValidationErrors, field: &str, value: &str, max: usize) {
    if value.chars().count() > max {
        e.add(field, format!("must be at most {max} characters"));
    }
    if value
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
    {
        e.add(field, "contains control characters");
    }
}

fn unique_keys<'a>(e: &mut ValidationErrors, list: &str, keys: impl Iterator<Item = &'a str>) {
    let mut seen = HashSet::new();
    for (i, k) in keys.enumerate() {
        if !is_key(k) {
            e.add(
                format!("{list}[{i}].key"),
                "must be a short name of lowercase letters, digits and underscores, starting with a letter",
            );
        } else if !seen.insert(k) {
            e.add(format!("{list}[{i}].key"), format!("{k:?} is used twice"));
        }
    }
}

/// What every saved draft must satisfy, so stored data is never nonsense.
fn well_formed(c: &SolicitationContent, e: &mut ValidationErrors) {
    let number = c.number.trim();
    if number.is_empty() {
        e.add("number", "is required");
    } else if number.len() > 60
        || !number
            .chars()
            .all(|ch| ch.is_ascii_alphanumeric() || ch == '-' || ch == '.' || ch == '_')
    {
        e.add(
            "number",
            "must be up to 60 letters, digits, dots, dashes or underscores",
        );
    }
    if c.title.trim().is_empty() {
        e.add("title", "is required");
    }
    text(e, "title", &c.title, MAX_TITLE);
    text(e, "summary", &c.summary, MAX_SUMMARY);
    if c.description.chars().count() > MAX_DESCRIPTION {
        e.add("description", format!("must be at most {MAX_DESCRIPTION} characters"));
    }
    if granary_core::time::parse_time_zone(&c.dates.time_zone).is_err() {
        e.add("dates.time_zone", "must be a time zone name such as America/New_York");
    }
    let f = &c.funding;
    for (field, amount) in [
        ("funding.total_available", Some(f.total_available)),
        ("funding.award_ceiling", Some(f.award_ceiling)),
        ("funding.award_floor", f.award_floor),
        ("eligibility.max_annual_budget", c.eligibility.max_annual_budget),
    ] {
        if amount.is_some_and(|m| m.is_negative()) {
            e.add(field, "cannot be negative");
        }
    }
    if let (Some(s), Some(end)) = (f.period_start, f.period_end)
        && end <= s
    {
        e.add(
            "funding.period_end",
            "must be after the start of the period of performance",
        );
    }
    for st in &c.eligibility.geography.states {
        if st.len() != 2 || !st.chars().all(|ch| ch.is_ascii_uppercase()) {
            e.add(
                "eligibility.geography.states",
                format!("{st:?} is not a two-letter state code"),
            );
        }
    }
    for county in &c.eligibility.geography.county_fips {
        if county.len() != 5 || !county.chars().all(|ch| ch.is_ascii_digit()) {
            e.add(
                "eligibility.geography.county_fips",
                format!("{county:?} is not a five-digit county FIPS code"),
            );
        }
    }
    if let Some(al) = &c.assistance_listing {
        let ok = al.len() == 6
            && al.as_bytes()[2] == b'.'
            && al.chars().enumerate().all(|(i, ch)| i == 2 || ch.is_ascii_digit());
        if !ok {
            e.add("assistance_listing", "must look like 16.812");
        }
    }
    if !c.contact.email.is_empty() && !looks_like_email(&c.contact.email) {
        e.add("contact.email", "is not an email address");
    }
    for (list, len) in [
        ("rubric.criteria", c.rubric.criteria.len()),
        ("priority_considerations", c.priority_considerations.len()),
        ("required_documents", c.required_documents.len()),
        ("questions", c.questions.len()),
        ("dates.other", c.dates.other.len()),
    ] {
        if len > MAX_LIST {
            e.add(list, format!("can hold at most {MAX_LIST} entries"));
        }
    }
    unique_keys(e, "rubric.criteria", c.rubric.criteria.iter().map(|x| x.key.as_str()));
    unique_keys(
        e,
        "priority_considerations",
        c.priority_considerations.iter().map(|x| x.key.as_str()),
    );
    unique_keys(
        e,
        "required_documents",
        c.required_documents.iter().map(|x| x.key.as_str()),
    );
    unique_keys(e, "questions", c.questions.iter().map(|x| x.key.as_str()));
    for (i, cr) in c.rubric.criteria.iter().enumerate() {
        if cr.name.trim().is_empty() {
            e.add(format!("rubric.criteria[{i}].name"), "is required");
        }
    }
    for (i, q) in c.questions.iter().enumerate() {
        if q.prompt.trim().is_empty() {
            e.add(format!("questions[{i}].prompt"), "is required");
        }
        if q.max_chars == 0 || q.max_chars > 20_000 {
            e.add(format!("questions[{i}].max_chars"), "must be between 1 and 20000");
        }
    }
    for (i, d) in c.required_documents.iter().enumerate() {
        if d.name.trim().is_empty() {
            e.add(format!("required_documents[{i}].name"), "is required");
        }
    }
    for (i, d) in c.dates.other.iter().enumerate() {
        if d.name.trim().is_empty() {
            e.add(format!("dates.other[{i}].name"), "is required");
        }
    }
}

fn looks_like_email(s: &str) -> bool {
    match s.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty() && domain.contains('.') && !domain.starts_with('.') && !s.contains(char::is_whitespace)
        }
        None => false,
    }
}

/// What a posted forecast must say.
fn ready_to_forecast(c: &SolicitationContent, now: DateTime<Utc>, e: &mut ValidationErrors) {
    if c.summary.trim().is_empty() {
        e.add("summary", "is required before posting");
    }
    if c.program_areas.is_empty() {
        e.add("program_areas", "choose at least one program area");
    }
    if c.eligibility.applicant_types.is_empty() {
        e.add("eligibility.applicant_types", "choose at least one type of applicant");
    }
    let f = &c.funding;
    if f.total_available.is_zero() {
        e.add("funding.total_available", "must be more than $0");
    }
    if f.award_ceiling.is_zero() {
        e.add("funding.award_ceiling", "must be more than $0");
    } else if f.award_ceiling > f.total_available && !f.total_available.is_zero() {
        e.add(
            "funding.award_ceiling",
            format!("cannot exceed the total available ({})", f.total_available),
        );
    }
    if let Some(floor) = f.award_floor
        && floor > f.award_ceiling
    {
        e.add(
            "funding.award_floor",
            format!("cannot exceed the award ceiling ({})", f.award_ceiling),
        );
    }
    if let Some(n) = f.expected_awards {
        if n == 0 {
            e.add("funding.expected_awards", "must be at least 1");
        } else if let Some(floor) = f.award_floor {
            let needed = floor.cents().saturating_mul(i64::from(n));
            if needed > f.total_available.cents() {
                e.add(
                    "funding.expected_awards",
                    format!(
                        "{n} awards of at least {floor} need more than the total available ({})",
                        f.total_available
                    ),
                );
            }
        }
    }
    match c.dates.closes_at {
        None => e.add("dates.closes_at", "a closing date is required before posting"),
        Some(close) if close <= now => e.add("dates.closes_at", "must be in the future"),
        Some(close) => {
            if let Some(open) = c.dates.opens_at
                && open >= close
            {
                e.add("dates.opens_at", "must be before the closing date");
            }
        }
    }
}

/// What an open solicitation must have so people can apply and be scored.
fn ready_to_open(c: &SolicitationContent, e: &mut ValidationErrors) {
    if c.description.trim().is_empty() {
        e.add("description", "the full text is required before opening");
    }
    let r = &c.rubric;
    if r.criteria.is_empty() {
        e.add("rubric.criteria", "add at least one scoring criterion before opening");
    }
    if r.total_points == 0 {
        e.add("rubric.total_points", "must be more than 0");
    } else if r.points_sum() != u64::from(r.total_points) {
        e.add(
            "rubric.total_points",
            format!(
                "the criteria add up to {} points but the rubric's total is {}",
                r.points_sum(),
                r.total_points
            ),
        );
    }
    for (i, cr) in r.criteria.iter().enumerate() {
        if cr.points == 0 {
            e.add(format!("rubric.criteria[{i}].points"), "must be more than 0");
        }
    }
    let mut reserved = granary_core::Money::ZERO;
    for (i, p) in c.priority_considerations.iter().enumerate() {
        let field = |f: &str| format!("priority_considerations[{i}].{f}");
        if p.name.trim().is_empty() {
            e.add(field("name"), "is required");
        }
        match &p.established_by {
            Establishment::SelfAttested { statement } if statement.trim().is_empty() => {
                e.add(field("established_by.statement"), "say what the applicant attests to")
            }
            Establishment::Documented { document } if document.trim().is_empty() => {
                e.add(field("established_by.document"), "say which document shows it")
            }
            Establishment::Derived { values, .. } if values.is_empty() => {
                e.add(field("established_by.values"), "list the values that meet it")
            }
            _ => {}
        }
        match &p.mechanism {
            Mechanism::BonusPoints { points } => {
                if *points <= Decimal::ZERO || *points > Decimal::from(r.total_points.max(1)) {
                    e.add(
                        field("mechanism.points"),
                        "must be more than 0 and at most the rubric's total",
                    );
                }
            }
            Mechanism::Multiplier { factor } => {
                if *factor <= Decimal::ONE || *factor > Decimal::TWO {
                    e.add(field("mechanism.factor"), "must be more than 1 and at most 2");
                }
            }
            Mechanism::TieBreak { band } => {
                if *band <= Decimal::ZERO {
                    e.add(field("mechanism.band"), "must be more than 0 points");
                }
            }
            Mechanism::SetAside { amount } | Mechanism::SeparateFundingLine { amount } => {
                if amount.is_zero() || amount.is_negative() {
                    e.add(field("mechanism.amount"), "must be more than $0");
                } else {
                    reserved = reserved.checked_add(*amount).unwrap_or(reserved);
                }
            }
        }
    }
    if reserved > c.funding.total_available {
        e.add(
            "priority_considerations",
            format!(
                "set-asides and separate funding lines ({reserved}) exceed the total available ({})",
                c.funding.total_available
            ),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone};
    use granary_core::Money;
    use rust_decimal_macros::dec;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 23, 12, 0, 0).unwrap()
    }

    fn complete() -> SolicitationContent {
        SolicitationContent {
            number: "O-BJA-2027-0001".into(),
            title: "Community Violence Intervention Intermediaries".into(),
            summary: "Funds intermediaries that subgrant to grassroots groups.".into(),
            description: "Full text.".into(),
            program_areas: vec![ProgramArea::Intervention],
            eligibility: Eligibility {
                applicant_types: vec![ApplicantType::NonprofitWith501c3],
                ..Default::default()
            },
            funding: Funding {
                total_available: Money::from_dollars(1_000_000).unwrap(),
                award_ceiling: Money::from_dollars(250_000).unwrap(),
                award_floor: Some(Money::from_dollars(50_000).unwrap()),
                expected_awards: Some(4),
                ..Default::default()
            },
            dates: KeyDates {
                closes_at: Some(now() + Duration::days(30)),
                ..Default::default()
            },
            rubric: Rubric {
                total_points: 100,
                criteria: vec![
                    Criterion {
                        key: "need".into(),
                        name: "Need".into(),
                        description: String::new(),
                        points: 40,
                    },
                    Criterion {
                        key: "design".into(),
                        name: "Design".into(),
                        description: String::new(),
                        points: 60,
                    },
                ],
            },
            priority_considerations: vec![PriorityConsideration {
                key: "underserved".into(),
                name: "Serves underserved communities".into(),
                description: String::new(),
                established_by: Establishment::SelfAttested {
                    statement: "We serve ...".into(),
                },
                mechanism: Mechanism::BonusPoints { points: dec!(5) },
            }],
            ..Default::default()
        }
    }

    fn fields(r: Result<(), ValidationErrors>) -> Vec<String> {
        r.err()
            .map(|v| v.0.into_iter().map(|f| f.field).collect())
            .unwrap_or_default()
    }

    #[test]
    fn a_complete_solicitation_may_open() {
        assert_eq!(validate(&complete(), Status::Open, now()), Ok(()));
    }

    #[test]
    fn a_draft_need_only_be_well_formed() {
        let c = SolicitationContent {
            number: "X-1".into(),
            title: "Idea".into(),
            ..Default::default()
        };
        assert_eq!(validate(&c, Status::Draft, now()), Ok(()));
        assert!(fields(validate(&c, Status::Open, now())).contains(&"rubric.criteria".to_string()));
    }

    #[test]
    fn rubric_points_must_sum_to_total() {
        let mut c = complete();
        c.rubric.total_points = 90;
        let v = validate(&c, Status::Open, now()).unwrap_err();
        assert_eq!(
            v.for_field("rubric.total_points"),
            Some("the criteria add up to 100 points but the rubric's total is 90")
        );
        // A forecast need not have its rubric yet.
        assert_eq!(validate(&c, Status::Forecasted, now()), Ok(()));
    }

    #[test]
    fn ceiling_cannot_exceed_total_and_floor_cannot_exceed_ceiling() {
        let mut c = complete();
        c.funding.award_ceiling = Money::from_dollars(2_000_000).unwrap();
        c.funding.award_floor = Some(Money::from_dollars(3_000_000).unwrap());
        let f = fields(validate(&c, Status::Forecasted, now()));
        assert!(f.contains(&"funding.award_ceiling".to_string()), "{f:?}");
        assert!(f.contains(&"funding.award_floor".to_string()), "{f:?}");
    }

    #[test]
    fn closing_date_must_be_in_the_future_to_post() {
        let mut c = complete();
        c.dates.closes_at = Some(now() - Duration::seconds(1));
        assert_eq!(fields(validate(&c, Status::Open, now())), vec!["dates.closes_at"]);
        c.dates.closes_at = None;
        assert_eq!(fields(validate(&c, Status::Forecasted, now())), vec!["dates.closes_at"]);
    }

    #[test]
    fn priority_mechanisms_are_bounded() {
        let mut c = complete();
        c.priority_considerations[0].mechanism = Mechanism::Multiplier { factor: dec!(0.9) };
        assert_eq!(
            fields(validate(&c, Status::Open, now())),
            vec!["priority_considerations[0].mechanism.factor"]
        );
        c.priority_considerations[0].mechanism = Mechanism::SetAside {
            amount: Money::from_dollars(2_000_000).unwrap(),
        };
        assert_eq!(
            fields(validate(&c, Status::Open, now())),
            vec!["priority_considerations"]
        );
    }

    #[test]
    fn keys_are_unique_and_tidy() {
        let mut c = complete();
        c.rubric.criteria[1].key = "need".into();
        c.rubric.criteria[1].points = 60;
        assert_eq!(
            fields(validate(&c, Status::Draft, now())),
            vec!["rubric.criteria[1].key"]
        );
        c.rubric.criteria[1].key = "Need Two".into();
        assert_eq!(
            fields(validate(&c, Status::Draft, now())),
            vec!["rubric.criteria[1].key"]
        );
    }

    #[test]
    fn formats_are_checked() {
        let mut c = complete();
        c.number = "bad number!".into();
        c.dates.time_zone = "Eastern".into();
        c.assistance_listing = Some("16-812".into());
        c.eligibility.geography.county_fips = vec!["11".into()];
        let f = fields(validate(&c, Status::Draft, now()));
        for want in [
            "number",
            "dates.time_zone",
            "assistance_listing",
            "eligibility.geography.county_fips",
        ] {
            assert!(f.contains(&want.to_string()), "{want} in {f:?}");
        }
    }

    #[test]
    fn too_many_awards_for_the_money() {
        let mut c = complete();
        c.funding.expected_awards = Some(30);
        assert_eq!(
            fields(validate(&c, Status::Forecasted, now())),
            vec!["funding.expected_awards"]
        );
    }
}
