//! What the pages show: solicitations turned into display-ready text (money as "$1,250,000",
//! instants in the solicitation's own time zone, time left in words). Templates only place
//! these strings; they compute nothing.

use chrono::{DateTime, Utc};
use granary_core::Money;
use granary_core::time::{format_date, format_instant, time_left};
use granary_solicitations::{Amendment, Attachment, Establishment, Mechanism, Solicitation, Status};
use serde::Serialize;

#[derive(Serialize)]
pub struct Labelled {
    pub slug: &'static str,
    pub label: &'static str,
}

#[derive(Serialize)]
pub struct Card {
    pub id: String,
    pub number: String,
    pub title: String,
    pub office: String,
    pub summary: String,
    pub status: &'static str,
    pub status_label: &'static str,
    pub closes: String,
    pub closes_iso: String,
    pub time_left: String,
    pub is_open: bool,
    pub total: String,
    pub ceiling: String,
    pub program_areas: Vec<Labelled>,
}

pub fn card(s: &Solicitation, now: DateTime<Utc>) -> Card {
    let tz = s.time_zone();
    let status = s.effective_status(now);
    let closes_at = s.content.dates.closes_at;
    Card {
        id: s.id.to_string(),
        number: s.content.number.clone(),
        title: s.content.title.clone(),
        office: s.office.name.clone(),
        summary: s.content.summary.clone(),
        status: status.as_str(),
        status_label: status.label(),
        closes: closes_at
            .map(|c| format_instant(c, tz))
            .unwrap_or_else(|| "to be announced".into()),
        closes_iso: closes_at.map(|c| c.to_rfc3339()).unwrap_or_default(),
        time_left: match (status, closes_at) {
            (Status::Open, Some(c)) => time_left(now, c),
            _ => String::new(),
        },
        is_open: status == Status::Open,
        total: s.content.funding.total_available.display(),
        ceiling: s.content.funding.award_ceiling.display(),
        program_areas: s
            .content
            .program_areas
            .iter()
            .map(|a| Labelled {
                slug: a.slug(),
                label: a.label(),
            })
            .collect(),
    }
}

#[derive(Serialize)]
pub struct KeyDate {
    pub name: String,
    pub when: String,
    pub iso: String,
    pub description: String,
}

#[derive(Serialize)]
pub struct CriterionView {
    pub name: String,
    pub description: String,
    pub points: u32,
}

#[derive(Serialize)]
pub struct PriorityView {
    pub name: String,
    pub description: String,
    pub established_by: String,
    pub mechanism: String,
}

#[derive(Serialize)]
pub struct DocumentView {
    pub name: String,
    pub description: String,
    pub required: bool,
}

#[derive(Serialize)]
pub struct QuestionView {
    pub prompt: String,
    pub guidance: String,
    pub max_chars: u32,
}

#[derive(Serialize)]
pub struct AmendmentView {
    pub version: i32,
    pub change_summary: String,
    pub changed_fields: String,
    pub when: String,
    pub iso: String,
}

#[derive(Serialize)]
pub struct AttachmentView {
    pub url: String,
    pub title: String,
    pub filename: String,
    pub size: String,
    pub sha256: String,
}

#[derive(Serialize)]
pub struct Detail {
    pub card: Card,
    pub time_zone: String,
    pub paragraphs: Vec<String>,
    pub focus_tags: Vec<Labelled>,
    pub opens: String,
    pub posted: String,
    pub other_dates: Vec<KeyDate>,
    pub floor: String,
    pub expected_awards: String,
    pub period: String,
    pub funding_notes: String,
    pub applicant_types: Vec<Labelled>,
    pub max_annual_budget: String,
    pub geography: String,
    pub intermediary_only: bool,
    pub other_requirements: Vec<String>,
    pub rubric_total: u32,
    pub criteria: Vec<CriterionView>,
    pub priorities: Vec<PriorityView>,
    pub required_documents: Vec<DocumentView>,
    pub questions: Vec<QuestionView>,
    pub amendments: Vec<AmendmentView>,
    pub attachments: Vec<AttachmentView>,
    pub assistance_listing: String,
    pub contact_name: String,
    pub contact_email: String,
    pub contact_phone: String,
    pub version: i32,
}

pub fn human_size(bytes: i64) -> String {
    let b = bytes.max(0) as u64;
    if b >= 1024 * 1024 {
        format!("{}.{} MB", b / (1024 * 1024), (b % (1024 * 1024)) * 10 / (1024 * 1024))
    } else if b >= 1024 {
        format!("{} KB", b.div_ceil(1024))
    } else {
        format!("{b} bytes")
    }
}

fn establishment(e: &Establishment) -> String {
    match e {
        Establishment::SelfAttested { statement } => {
            format!("Self-attested: the applicant confirms that {}", lower_first(statement))
        }
        Establishment::Documented { document } => format!("Documented: {document}"),
        Establishment::Derived { source, values } => {
            let what = match source {
                granary_solicitations::DerivedSource::CountyFips => "the applicant's county (FIPS code) is one of",
                granary_solicitations::DerivedSource::State => "the applicant's state is one of",
                granary_solicitations::DerivedSource::AnnualBudgetAtMost => "the applicant's annual budget is at most",
            };
            format!("From data: {what} {}", values.join(", "))
        }
    }
}

fn lower_first(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_lowercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

pub fn detail(s: &Solicitation, amendments: &[Amendment], attachments: &[Attachment], now: DateTime<Utc>) -> Detail {
    let tz = s.time_zone();
    let c = &s.content;
    let f = &c.funding;
    let g = &c.eligibility.geography;
    Detail {
        card: card(s, now),
        time_zone: tz.name().to_string(),
        paragraphs: c
            .description
            .split("\n\n")
            .map(|p| p.trim().to_string())
            .filter(|p| !p.is_empty())
            .collect(),
        focus_tags: c
            .focus_tags
            .iter()
            .map(|t| Labelled {
                slug: t.slug(),
                label: t.label(),
            })
            .collect(),
        opens: c.dates.opens_at.map(|t| format_instant(t, tz)).unwrap_or_default(),
        posted: s.posted_at.map(|t| format_date(t, tz)).unwrap_or_default(),
        other_dates: c
            .dates
            .other
            .iter()
            .map(|d| KeyDate {
                name: d.name.clone(),
                when: format_instant(d.at, tz),
                iso: d.at.to_rfc3339(),
                description: d.description.clone(),
            })
            .collect(),
        floor: f.award_floor.map(|m| m.display()).unwrap_or_default(),
        expected_awards: f.expected_awards.map(|n| n.to_string()).unwrap_or_default(),
        period: match (f.period_start, f.period_end) {
            (Some(a), Some(b)) => {
                format!("{} to {}", a.format("%B %-d, %Y"), b.format("%B %-d, %Y"))
            }
            (Some(a), None) => format!("starting {}", a.format("%B %-d, %Y")),
            _ => String::new(),
        },
        funding_notes: f.notes.clone(),
        applicant_types: c
            .eligibility
            .applicant_types
            .iter()
            .map(|t| Labelled {
                slug: t.slug(),
                label: t.label(),
            })
            .collect(),
        max_annual_budget: c
            .eligibility
            .max_annual_budget
            .map(|m: Money| m.display())
            .unwrap_or_default(),
        geography: if !g.description.is_empty() {
            g.description.clone()
        } else if g.states.is_empty() {
            "Anywhere in the United States".into()
        } else {
            g.states.join(", ")
        },
        intermediary_only: c.eligibility.intermediary_only,
        other_requirements: c.eligibility.other_requirements.clone(),
        rubric_total: c.rubric.total_points,
        criteria: c
            .rubric
            .criteria
            .iter()
            .map(|k| CriterionView {
                name: k.name.clone(),
                description: k.description.clone(),
                points: k.points,
            })
            .collect(),
        priorities: c
            .priority_considerations
            .iter()
            .map(|p| PriorityView {
                name: p.name.clone(),
                description: p.description.clone(),
                established_by: establishment(&p.established_by),
                mechanism: mechanism(&p.mechanism),
            })
            .collect(),
        required_documents: c
            .required_documents
            .iter()
            .map(|d| DocumentView {
                name: d.name.clone(),
                description: d.description.clone(),
                required: d.required,
            })
            .collect(),
        questions: c
            .questions
            .iter()
            .map(|q| QuestionView {
                prompt: q.prompt.clone(),
                guidance: q.guidance.clone(),
                max_chars: q.max_chars,
            })
            .collect(),
        amendments: amendments
            .iter()
            .map(|a| AmendmentView {
                version: a.version,
                change_summary: a.change_summary.clone(),
                changed_fields: a
                    .changed_fields
                    .iter()
                    .map(|f| f.replace('_', " "))
                    .collect::<Vec<_>>()
                    .join(", "),
                when: format_instant(a.created_at, tz),
                iso: a.created_at.to_rfc3339(),
            })
            .collect(),
        attachments: attachments
            .iter()
            .map(|a| AttachmentView {
                url: format!("/solicitations/{}/attachments/{}", s.id, a.id),
                title: a.title.clone(),
                filename: a.filename.clone(),
                size: human_size(a.size_bytes),
                sha256: a.sha256.clone(),
            })
            .collect(),
        assistance_listing: c.assistance_listing.clone().unwrap_or_default(),
        contact_name: c.contact.name.clone(),
        contact_email: c.contact.email.clone(),
        contact_phone: c.contact.phone.clone(),
        version: s.version,
    }
}

fn mechanism(m: &Mechanism) -> String {
    let d = m.describe();
    let mut c = d.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => d,
    }
}
