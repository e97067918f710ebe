//! The program officers' authoring pages: the desk (`/manage`) listing each office's
//! solicitations in every status with a form to start a new one, and the editor for one
//! solicitation (every field of its content, its lifecycle steps and its attachments). They
//! mirror the JSON authoring API in `authoring`, and ask the same policy.
//!
//! Forms are read leniently as name/value pairs after the policy has been asked. Each input
//! is named by the field path the domain validator uses (`funding.award_ceiling`,
//! `rubric.criteria[1].points`), so the gateway's own parse errors and the domain's
//! validation errors both land next to the right input.

use std::collections::HashMap;
use std::str::FromStr;

use axum::body::Bytes;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use chrono_tz::Tz;
use granary_core::id::OrganizationId;
use granary_core::policy::{Action, OrgKind};
use granary_core::time::{DEFAULT_TIME_ZONE, format_instant, instant_in_zone, parse_time_zone};
use granary_core::{FieldError, Money};
use granary_solicitations::{
    self as sol, ApplicantType, Criterion, DerivedSource, Establishment, FocusTag, Mechanism, PriorityConsideration,
    ProgramArea, Question, RequiredDocument, Solicitation, SolicitationContent, SolicitationError, Status, Transition,
};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::auth::Auth;
use crate::error::{AppError, AppResult};
use crate::routes::authoring::{managed, store_attachment};
use crate::state::AppState;
use granary_core::error::message_for;

/// Empty rows offered below the existing ones.
const EMPTY_CRITERIA: usize = 3;
const EMPTY_PRIORITIES: usize = 2;
const EMPTY_DOCUMENTS: usize = 3;
const EMPTY_QUESTIONS: usize = 2;
/// The most rows a posted form may carry per list.
const MAX_ROWS: usize = 60;

/// Time zones offered for the key dates (the solicitation's own is added if missing).
const ZONES: &[(&str, &str)] = &[
    ("America/New_York", "Eastern (New York)"),
    ("America/Chicago", "Central (Chicago)"),
    ("America/Denver", "Mountain (Denver)"),
    ("America/Phoenix", "Mountain, no daylight saving (Phoenix)"),
    ("America/Los_Angeles", "Pacific (Los Angeles)"),
    ("America/Anchorage", "Alaska (Anchorage)"),
    ("Pacific/Honolulu", "Hawaii (Honolulu)"),
    ("America/Puerto_Rico", "Atlantic (Puerto Rico)"),
    ("Pacific/Guam", "Chamorro (Guam)"),
];

const METHODS: &[(&str, &str)] = &[
    ("self_attested", "The applicant attests to a statement"),
    ("documented", "The applicant uploads a document"),
    (
        "derived_county_fips",
        "The applicant's county is one of these FIPS codes",
    ),
    ("derived_state", "The applicant's state is one of these"),
    (
        "derived_annual_budget_at_most",
        "The applicant's annual budget is at most this amount",
    ),
];

const MECHANISMS: &[(&str, &str)] = &[
    ("bonus_points", "Bonus points added to the merit score"),
    ("multiplier", "Merit score multiplied by a factor"),
    ("tie_break", "Ranks first among scores within a band of points"),
    ("set_aside", "An amount set aside for applications meeting it"),
    ("separate_funding_line", "A separate funding line of this amount"),
];

fn field_error(field: impl Into<String>, message: impl Into<String>) -> FieldError {
    FieldError {
        field: field.into(),
        message: message.into(),
    }
}

fn when(at: DateTime<Utc>, tz: &str) -> String {
    format_instant(at, parse_time_zone(tz).unwrap_or(DEFAULT_TIME_ZONE))
}

/// The offices the signed-in user authors for (owner or staff of an office that issues
/// solicitations), or for administrators every issuing office that has solicitations.
async fn desk_offices(state: &AppState, auth: &Auth) -> AppResult<Vec<OrganizationId>> {
    let Some(me) = auth.user() else {
        return Ok(Vec::new());
    };
    let mut offices: Vec<OrganizationId> = me
        .memberships
        .iter()
        .filter(|m| m.kind.issues_solicitations() && me.works_for(m.org))
        .map(|m| m.org)
        .collect();
    if me.site_admin {
        for kind in [OrgKind::ProgramOffice, OrgKind::Intermediary] {
            let mut page = 1;
            loop {
                let p = granary_identity::list_organizations(
                    &state.db,
                    granary_identity::OrganizationQuery {
                        kind: Some(kind),
                        page,
                        page_size: 100,
                    },
                )
                .await?;
                for o in p.items {
                    if !offices.contains(&o.id) && !sol::ids_issued_by(&state.db, o.id).await?.is_empty() {
                        offices.push(o.id);
                    }
                }
                if page >= p.total_pages {
                    break;
                }
                page += 1;
            }
        }
    }
    Ok(offices)
}

/// Asks the policy whether the user may use the desk: they may create solicitations for each
/// of their offices. Without any office the answer is a sign-in or a 403 that says why.
async fn require_desk(state: &AppState, auth: &Auth) -> AppResult<Vec<OrganizationId>> {
    let offices = desk_offices(state, auth).await?;
    if offices.is_empty() {
        // Administrators are allowed everything; everyone else without an office is refused.
        auth.require(&Action::CreateSolicitation {
            office: OrganizationId(uuid::Uuid::nil()),
        })
        .map_err(|e| {
            if e.status == StatusCode::FORBIDDEN {
                AppError::new(
                    StatusCode::FORBIDDEN,
                    "Managing solicitations is for the owners and staff of a program office or intermediary. If you work for one, ask its owner to invite you from the organization's page.",
                )
            } else {
                e
            }
        })?;
    }
    for office in &offices {
        auth.require(&Action::CreateSolicitation { office: *office })?;
    }
    Ok(offices)
}

/// A form body as name/value pairs, read leniently.
fn pairs(body: &Bytes) -> AppResult<Vec<(String, String)>> {
    serde_urlencoded::from_bytes(body).map_err(|e| AppError::bad_request(format!("The form could not be read: {e}")))
}

// ---------------------------------------------------------------------------------------
// The desk

#[derive(Serialize)]
struct Choice {
    value: String,
    label: String,
    selected: bool,
}

#[derive(Serialize)]
struct DeskRow {
    id: String,
    number: String,
    title: String,
    status: &'static str,
    status_label: &'static str,
    version: i32,
    deadline: Option<String>,
    public: bool,
}

#[derive(Serialize)]
struct DeskOffice {
    id: String,
    name: String,
    solicitations: Vec<DeskRow>,
}

#[derive(Serialize, Default)]
struct NewForm {
    office: String,
    number: String,
    title: String,
    office_error: Option<String>,
    number_error: Option<String>,
    title_error: Option<String>,
}

#[derive(Serialize)]
struct DeskBody {
    csrf: String,
    offices: Vec<DeskOffice>,
    office_choices: Vec<Choice>,
    errors: Vec<FieldError>,
    has_errors: bool,
    new: NewForm,
}

async fn render_desk(
    state: &AppState,
    auth: &Auth,
    offices: &[OrganizationId],
    status: StatusCode,
    new: NewForm,
    errors: Vec<FieldError>,
) -> AppResult<Response> {
    let mut views = Vec::new();
    let mut office_choices = Vec::new();
    for office in offices {
        let o = granary_identity::get_organization(&state.db, *office).await?;
        let mut list = Vec::new();
        for id in sol::ids_issued_by(&state.db, *office).await? {
            list.push(sol::get(&state.db, id).await?);
        }
        list.sort_by_key(|s| std::cmp::Reverse(s.updated_at));
        office_choices.push(Choice {
            value: o.id.to_string(),
            label: o.name.clone(),
            selected: new.office == o.id.to_string() || (new.office.is_empty() && offices.len() == 1),
        });
        views.push(DeskOffice {
            id: o.id.to_string(),
            name: o.name,
            solicitations: list
                .iter()
                .map(|s| DeskRow {
                    id: s.id.to_string(),
                    number: s.content.number.clone(),
                    title: s.content.title.clone(),
                    status: s.status.as_str(),
                    status_label: s.status.label(),
                    version: s.version,
                    deadline: s.content.dates.closes_at.map(|c| when(c, &s.content.dates.time_zone)),
                    public: s.status.is_public(),
                })
                .collect(),
        });
    }
    let body = DeskBody {
        csrf: auth.csrf.clone(),
        offices: views,
        office_choices,
        has_errors: !errors.is_empty(),
        errors,
        new,
    };
    let html = state
        .views
        .page(&auth.chrome(), "manage_desk", "Manage solicitations", "manage", &body)?;
    Ok((status, html).into_response())
}

/// `GET /manage`: the officer's desk.
pub async fn desk(auth: Auth, State(state): State<AppState>) -> AppResult<Response> {
    let offices = require_desk(&state, &auth).await?;
    render_desk(&state, &auth, &offices, StatusCode::OK, NewForm::default(), Vec::new()).await
}

/// `POST /manage/solicitations`: creates a draft and opens its editor.
pub async fn create(auth: Auth, State(state): State<AppState>, body: Bytes) -> AppResult<Response> {
    let office: Option<OrganizationId> = serde_urlencoded::from_bytes::<Vec<(String, String)>>(&body)
        .ok()
        .and_then(|p| p.into_iter().rev().find(|(k, _)| k == "office"))
        .and_then(|(_, v)| v.trim().parse().ok());
    let offices = match office {
        Some(office) => {
            auth.require(&Action::CreateSolicitation { office })?;
            desk_offices(&state, &auth).await?
        }
        None => require_desk(&state, &auth).await?,
    };
    let p = pairs(&body)?;
    let get = |k: &str| {
        p.iter()
            .rev()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let mut new = NewForm {
        office: get("office"),
        number: get("number"),
        title: get("title"),
        ..Default::default()
    };
    let Some(office) = office else {
        let errors = vec![field_error("office", "choose the office that issues it")];
        new.office_error = Some(errors[0].message.clone());
        return render_desk(&state, &auth, &offices, StatusCode::UNPROCESSABLE_ENTITY, new, errors).await;
    };
    let content = SolicitationContent {
        number: new.number.trim().to_string(),
        title: new.title.trim().to_string(),
        ..Default::default()
    };
    let errors = match sol::create_draft(&state.db, &auth.actor()?, office, content, state.now()).await {
        Ok(s) => return Ok(Redirect::to(&format!("/manage/solicitations/{}?notice=created", s.id)).into_response()),
        Err(SolicitationError::Invalid(v)) => v.0,
        Err(SolicitationError::DuplicateNumber(_)) => {
            vec![field_error("number", "another solicitation already uses this number")]
        }
        Err(SolicitationError::OfficeNotFound(_)) => vec![field_error("office", "there is no such office")],
        Err(e) => return Err(e.into()),
    };
    let find = |f: &str| message_for(&errors, f).map(str::to_string);
    new.office_error = find("office");
    new.number_error = find("number");
    new.title_error = find("title");
    render_desk(&state, &auth, &offices, StatusCode::UNPROCESSABLE_ENTITY, new, errors).await
}

// ---------------------------------------------------------------------------------------
// The editor's form, as typed

#[derive(Clone, Default)]
struct CriterionRow {
    key: String,
    name: String,
    description: String,
    points: String,
}

#[derive(Clone, Default)]
struct PriorityRow {
    key: String,
    name: String,
    description: String,
    method: String,
    established: String,
    mechanism: String,
    mechanism_value: String,
}

#[derive(Clone, Default)]
struct DocumentRow {
    key: String,
    name: String,
    description: String,
    required: bool,
}

#[derive(Clone, Default)]
struct QuestionRow {
    key: String,
    prompt: String,
    guidance: String,
    max_chars: String,
    required: bool,
}

/// Every input of the editor, as text.
#[derive(Clone, Default)]
struct EditorForm {
    number: String,
    title: String,
    summary: String,
    description: String,
    program_areas: Vec<String>,
    focus_tags: Vec<String>,
    applicant_types: Vec<String>,
    max_annual_budget: String,
    states: String,
    county_fips: String,
    geography: String,
    intermediary_only: bool,
    other_requirements: String,
    total_available: String,
    award_floor: String,
    award_ceiling: String,
    expected_awards: String,
    period_start: String,
    period_end: String,
    funding_notes: String,
    time_zone: String,
    opens_at: String,
    closes_at: String,
    total_points: String,
    criteria: Vec<CriterionRow>,
    priorities: Vec<PriorityRow>,
    documents: Vec<DocumentRow>,
    questions: Vec<QuestionRow>,
    assistance_listing: String,
    contact_name: String,
    contact_email: String,
    contact_phone: String,
    change_summary: String,
}

fn money_text(m: Money) -> String {
    m.to_amount_string()
}

fn local_input(at: Option<DateTime<Utc>>, tz: &str) -> String {
    let tz = parse_time_zone(tz).unwrap_or(DEFAULT_TIME_ZONE);
    at.map(|t| t.with_timezone(&tz).format("%Y-%m-%dT%H:%M").to_string())
        .unwrap_or_default()
}

impl EditorForm {
    fn from_content(c: &SolicitationContent) -> EditorForm {
        let mut criteria: Vec<CriterionRow> = c
            .rubric
            .criteria
            .iter()
            .map(|x| CriterionRow {
                key: x.key.clone(),
                name: x.name.clone(),
                description: x.description.clone(),
                points: x.points.to_string(),
            })
            .collect();
        criteria.extend(std::iter::repeat_n(CriterionRow::default(), EMPTY_CRITERIA));
        let mut priorities: Vec<PriorityRow> = c
            .priority_considerations
            .iter()
            .map(|p| {
                let (method, established) = match &p.established_by {
                    Establishment::SelfAttested { statement } => ("self_attested", statement.clone()),
                    Establishment::Documented { document } => ("documented", document.clone()),
                    Establishment::Derived { source, values } => (
                        match source {
                            DerivedSource::CountyFips => "derived_county_fips",
                            DerivedSource::State => "derived_state",
                            DerivedSource::AnnualBudgetAtMost => "derived_annual_budget_at_most",
                        },
                        values.join(", "),
                    ),
                };
                let (mechanism, value) = match &p.mechanism {
                    Mechanism::BonusPoints { points } => ("bonus_points", points.to_string()),
                    Mechanism::Multiplier { factor } => ("multiplier", factor.to_string()),
                    Mechanism::TieBreak { band } => ("tie_break", band.to_string()),
                    Mechanism::SetAside { amount } => ("set_aside", money_text(*amount)),
                    Mechanism::SeparateFundingLine { amount } => ("separate_funding_line", money_text(*amount)),
                };
                PriorityRow {
                    key: p.key.clone(),
                    name: p.name.clone(),
                    description: p.description.clone(),
                    method: method.into(),
                    established,
                    mechanism: mechanism.into(),
                    mechanism_value: value,
                }
            })
            .collect();
        priorities.extend(std::iter::repeat_n(PriorityRow::default(), EMPTY_PRIORITIES));
        let mut documents: Vec<DocumentRow> = c
            .required_documents
            .iter()
            .map(|d| DocumentRow {
                key: d.key.clone(),
                name: d.name.clone(),
                description: d.description.clone(),
                required: d.required,
            })
            .collect();
        documents.extend(std::iter::repeat_n(
            DocumentRow {
                required: true,
                ..Default::default()
            },
            EMPTY_DOCUMENTS,
        ));
        let mut questions: Vec<QuestionRow> = c
            .questions
            .iter()
            .map(|q| QuestionRow {
                key: q.key.clone(),
                prompt: q.prompt.clone(),
                guidance: q.guidance.clone(),
                max_chars: q.max_chars.to_string(),
                required: q.required,
            })
            .collect();
        questions.extend(std::iter::repeat_n(
            QuestionRow {
                required: true,
                ..Default::default()
            },
            EMPTY_QUESTIONS,
        ));
        let e = &c.eligibility;
        let f = &c.funding;
        let tz = &c.dates.time_zone;
        EditorForm {
            number: c.number.clone(),
            title: c.title.clone(),
            summary: c.summary.clone(),
            description: c.description.clone(),
            program_areas: c.program_areas.iter().map(|a| a.slug().to_string()).collect(),
            focus_tags: c.focus_tags.iter().map(|a| a.slug().to_string()).collect(),
            applicant_types: e.applicant_types.iter().map(|a| a.slug().to_string()).collect(),
            max_annual_budget: e.max_annual_budget.map(money_text).unwrap_or_default(),
            states: e.geography.states.join(", "),
            county_fips: e.geography.county_fips.join(", "),
            geography: e.geography.description.clone(),
            intermediary_only: e.intermediary_only,
            other_requirements: e.other_requirements.join("\n"),
            total_available: if f.total_available.is_zero() {
                String::new()
            } else {
                money_text(f.total_available)
            },
            award_floor: f.award_floor.map(money_text).unwrap_or_default(),
            award_ceiling: if f.award_ceiling.is_zero() {
                String::new()
            } else {
                money_text(f.award_ceiling)
            },
            expected_awards: f.expected_awards.map(|n| n.to_string()).unwrap_or_default(),
            period_start: f.period_start.map(|d| d.to_string()).unwrap_or_default(),
            period_end: f.period_end.map(|d| d.to_string()).unwrap_or_default(),
            funding_notes: f.notes.clone(),
            time_zone: tz.clone(),
            opens_at: local_input(c.dates.opens_at, tz),
            closes_at: local_input(c.dates.closes_at, tz),
            total_points: if c.rubric.total_points == 0 && c.rubric.criteria.is_empty() {
                String::new()
            } else {
                c.rubric.total_points.to_string()
            },
            criteria,
            priorities,
            documents,
            questions,
            assistance_listing: c.assistance_listing.clone().unwrap_or_default(),
            contact_name: c.contact.name.clone(),
            contact_email: c.contact.email.clone(),
            contact_phone: c.contact.phone.clone(),
            change_summary: String::new(),
        }
    }

    fn from_pairs(p: &[(String, String)]) -> EditorForm {
        let map: HashMap<&str, &str> = p.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let get = |k: &str| map.get(k).map(|v| v.to_string()).unwrap_or_default();
        let all = |k: &str| {
            p.iter()
                .filter(|(n, _)| n == k)
                .map(|(_, v)| v.clone())
                .collect::<Vec<_>>()
        };
        let checked = |k: &str| map.get(k).is_some_and(|v| !v.is_empty());
        // How many rows of a list were sent: one more than the largest index seen.
        let rows = |list: &str| {
            let prefix = format!("{list}[");
            p.iter()
                .filter_map(|(k, _)| k.strip_prefix(&prefix))
                .filter_map(|rest| rest.split(']').next()?.parse::<usize>().ok())
                .filter(|i| *i < MAX_ROWS)
                .max()
                .map_or(0, |m| m + 1)
        };
        let at = |list: &str, i: usize, f: &str| get(&format!("{list}[{i}].{f}"));
        EditorForm {
            number: get("number"),
            title: get("title"),
            summary: get("summary"),
            description: get("description"),
            program_areas: all("program_areas"),
            focus_tags: all("focus_tags"),
            applicant_types: all("eligibility.applicant_types"),
            max_annual_budget: get("eligibility.max_annual_budget"),
            states: get("eligibility.geography.states"),
            county_fips: get("eligibility.geography.county_fips"),
            geography: get("eligibility.geography.description"),
            intermediary_only: checked("eligibility.intermediary_only"),
            other_requirements: get("eligibility.other_requirements"),
            total_available: get("funding.total_available"),
            award_floor: get("funding.award_floor"),
            award_ceiling: get("funding.award_ceiling"),
            expected_awards: get("funding.expected_awards"),
            period_start: get("funding.period_start"),
            period_end: get("funding.period_end"),
            funding_notes: get("funding.notes"),
            time_zone: get("dates.time_zone"),
            opens_at: get("dates.opens_at"),
            closes_at: get("dates.closes_at"),
            total_points: get("rubric.total_points"),
            criteria: (0..rows("rubric.criteria"))
                .map(|i| CriterionRow {
                    key: at("rubric.criteria", i, "key"),
                    name: at("rubric.criteria", i, "name"),
                    description: at("rubric.criteria", i, "description"),
                    points: at("rubric.criteria", i, "points"),
                })
                .collect(),
            priorities: (0..rows("priority_considerations"))
                .map(|i| {
                    let pc = |f: &str| at("priority_considerations", i, f);
                    PriorityRow {
                        key: pc("key"),
                        name: pc("name"),
                        description: pc("description"),
                        method: pc("established_by.method"),
                        established: pc("established_by.value"),
                        mechanism: pc("mechanism.type"),
                        mechanism_value: pc("mechanism.value"),
                    }
                })
                .collect(),
            documents: (0..rows("required_documents"))
                .map(|i| DocumentRow {
                    key: at("required_documents", i, "key"),
                    name: at("required_documents", i, "name"),
                    description: at("required_documents", i, "description"),
                    required: !at("required_documents", i, "required").is_empty(),
                })
                .collect(),
            questions: (0..rows("questions"))
                .map(|i| QuestionRow {
                    key: at("questions", i, "key"),
                    prompt: at("questions", i, "prompt"),
                    guidance: at("questions", i, "guidance"),
                    max_chars: at("questions", i, "max_chars"),
                    required: !at("questions", i, "required").is_empty(),
                })
                .collect(),
            assistance_listing: get("assistance_listing"),
            contact_name: get("contact.name"),
            contact_email: get("contact.email"),
            contact_phone: get("contact.phone"),
            change_summary: get("change_summary"),
        }
    }

    /// The content the form describes, with which form row each list entry came from (rows
    /// left blank are skipped), or the fields the gateway itself could not read. `keep` is
    /// the stored content, for what the editor does not show (other key dates).
    fn to_content(&self, keep: &SolicitationContent) -> Result<(SolicitationContent, RowMap), Vec<FieldError>> {
        let mut errors: Vec<FieldError> = Vec::new();
        let mut err = |f: String, m: &str| errors.push(field_error(f, m));
        let money = |err: &mut dyn FnMut(String, &str), f: &str, s: &str| -> Option<Money> {
            match s.trim() {
                "" => None,
                t => match t.parse::<Money>() {
                    Ok(m) => Some(m),
                    Err(_) => {
                        err(f.into(), "enter an amount in dollars, like 250000 or $250,000.00");
                        None
                    }
                },
            }
        };
        let number = |err: &mut dyn FnMut(String, &str), f: &str, s: &str| -> Option<u32> {
            match s.trim() {
                "" => None,
                t => match t.replace(',', "").parse::<u32>() {
                    Ok(n) => Some(n),
                    Err(_) => {
                        err(f.into(), "enter a whole number, like 40");
                        None
                    }
                },
            }
        };
        let date = |err: &mut dyn FnMut(String, &str), f: &str, s: &str| -> Option<NaiveDate> {
            match s.trim() {
                "" => None,
                t => match NaiveDate::parse_from_str(t, "%Y-%m-%d") {
                    Ok(d) => Some(d),
                    Err(_) => {
                        err(f.into(), "enter a date as YYYY-MM-DD, like 2027-01-01");
                        None
                    }
                },
            }
        };
        let decimal = |err: &mut dyn FnMut(String, &str), f: &str, s: &str| -> Decimal {
            match Decimal::from_str(s.trim()) {
                Ok(d) => d,
                Err(_) => {
                    err(f.into(), "enter a number, like 5 or 1.1");
                    Decimal::ZERO
                }
            }
        };
        let list = |s: &str| -> Vec<String> {
            s.split(|c: char| c == ',' || c.is_whitespace())
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_string)
                .collect()
        };

        let mut program_areas = Vec::new();
        for v in &self.program_areas {
            match ProgramArea::parse(v) {
                Some(a) if !program_areas.contains(&a) => program_areas.push(a),
                Some(_) => {}
                None => err("program_areas".into(), "choose program areas from the list"),
            }
        }
        let mut focus_tags = Vec::new();
        for v in &self.focus_tags {
            match FocusTag::parse(v) {
                Some(a) if !focus_tags.contains(&a) => focus_tags.push(a),
                Some(_) => {}
                None => err("focus_tags".into(), "choose focus tags from the list"),
            }
        }
        let mut applicant_types = Vec::new();
        for v in &self.applicant_types {
            match ApplicantType::parse(v) {
                Some(a) if !applicant_types.contains(&a) => applicant_types.push(a),
                Some(_) => {}
                None => err(
                    "eligibility.applicant_types".into(),
                    "choose applicant types from the list",
                ),
            }
        }
        let max_annual_budget = money(&mut err, "eligibility.max_annual_budget", &self.max_annual_budget);
        let total_available = money(&mut err, "funding.total_available", &self.total_available).unwrap_or(Money::ZERO);
        let award_floor = money(&mut err, "funding.award_floor", &self.award_floor);
        let award_ceiling = money(&mut err, "funding.award_ceiling", &self.award_ceiling).unwrap_or(Money::ZERO);
        let expected_awards = number(&mut err, "funding.expected_awards", &self.expected_awards);
        let period_start = date(&mut err, "funding.period_start", &self.period_start);
        let period_end = date(&mut err, "funding.period_end", &self.period_end);

        let time_zone = if self.time_zone.trim().is_empty() {
            DEFAULT_TIME_ZONE.name().to_string()
        } else {
            self.time_zone.trim().to_string()
        };
        let tz: Tz = match parse_time_zone(&time_zone) {
            Ok(tz) => tz,
            Err(_) => {
                err("dates.time_zone".into(), "choose a time zone from the list");
                DEFAULT_TIME_ZONE
            }
        };
        let mut instant = |f: &str, s: &str| -> Option<DateTime<Utc>> {
            match s.trim() {
                "" => None,
                t => match NaiveDateTime::parse_from_str(t, "%Y-%m-%dT%H:%M")
                    .or_else(|_| NaiveDateTime::parse_from_str(t, "%Y-%m-%dT%H:%M:%S"))
                {
                    Ok(dt) => Some(instant_in_zone(dt.date(), dt.time(), tz)),
                    Err(_) => {
                        err(f.into(), "enter a date and time, like 2027-02-15T23:59");
                        None
                    }
                },
            }
        };
        let opens_at = instant("dates.opens_at", &self.opens_at);
        let closes_at = instant("dates.closes_at", &self.closes_at);
        let total_points = number(&mut err, "rubric.total_points", &self.total_points).unwrap_or(0);

        let mut map = RowMap::default();
        let mut criteria = Vec::new();
        for (i, r) in self.criteria.iter().enumerate() {
            if [&r.key, &r.name, &r.description, &r.points]
                .iter()
                .all(|s| s.trim().is_empty())
            {
                continue;
            }
            let f = |n: &str| format!("rubric.criteria[{i}].{n}");
            let points = if r.points.trim().is_empty() {
                err(f("points"), "enter the points for this criterion");
                0
            } else {
                number(&mut err, &f("points"), &r.points).unwrap_or(0)
            };
            map.criteria.push(i);
            criteria.push(Criterion {
                key: r.key.trim().to_string(),
                name: r.name.trim().to_string(),
                description: r.description.trim().to_string(),
                points,
            });
        }
        let mut priority_considerations = Vec::new();
        for (i, r) in self.priorities.iter().enumerate() {
            if [&r.key, &r.name, &r.description, &r.established, &r.mechanism_value]
                .iter()
                .all(|s| s.trim().is_empty())
            {
                continue;
            }
            let f = |n: &str| format!("priority_considerations[{i}].{n}");
            let value = r.established.trim().to_string();
            let established_by = match r.method.as_str() {
                "documented" => Establishment::Documented { document: value },
                "derived_county_fips" => Establishment::Derived {
                    source: DerivedSource::CountyFips,
                    values: list(&value),
                },
                "derived_state" => Establishment::Derived {
                    source: DerivedSource::State,
                    values: list(&value).into_iter().map(|v| v.to_ascii_uppercase()).collect(),
                },
                "derived_annual_budget_at_most" => Establishment::Derived {
                    source: DerivedSource::AnnualBudgetAtMost,
                    values: list(&value),
                },
                "self_attested" | "" => Establishment::SelfAttested { statement: value },
                _ => {
                    err(f("established_by.method"), "choose how it is established");
                    Establishment::SelfAttested { statement: value }
                }
            };
            let vf = f("mechanism.value");
            let amount = |err: &mut dyn FnMut(String, &str)| {
                if r.mechanism_value.trim().is_empty() {
                    err(vf.clone(), "enter the amount");
                    Money::ZERO
                } else {
                    money(err, &vf, &r.mechanism_value).unwrap_or(Money::ZERO)
                }
            };
            let mechanism = match r.mechanism.as_str() {
                "multiplier" => Mechanism::Multiplier {
                    factor: decimal(&mut err, &vf, &r.mechanism_value),
                },
                "tie_break" => Mechanism::TieBreak {
                    band: decimal(&mut err, &vf, &r.mechanism_value),
                },
                "set_aside" => Mechanism::SetAside {
                    amount: amount(&mut err),
                },
                "separate_funding_line" => Mechanism::SeparateFundingLine {
                    amount: amount(&mut err),
                },
                "bonus_points" | "" => Mechanism::BonusPoints {
                    points: decimal(&mut err, &vf, &r.mechanism_value),
                },
                _ => {
                    err(f("mechanism.type"), "choose how it changes the outcome");
                    Mechanism::BonusPoints { points: Decimal::ZERO }
                }
            };
            map.priorities.push(i);
            priority_considerations.push(PriorityConsideration {
                key: r.key.trim().to_string(),
                name: r.name.trim().to_string(),
                description: r.description.trim().to_string(),
                established_by,
                mechanism,
            });
        }
        let mut required_documents = Vec::new();
        for (i, r) in self.documents.iter().enumerate() {
            if [&r.key, &r.name, &r.description].iter().all(|s| s.trim().is_empty()) {
                continue;
            }
            map.documents.push(i);
            required_documents.push(RequiredDocument {
                key: r.key.trim().to_string(),
                name: r.name.trim().to_string(),
                description: r.description.trim().to_string(),
                required: r.required,
            });
        }
        let mut questions = Vec::new();
        for (i, r) in self.questions.iter().enumerate() {
            if [&r.key, &r.prompt, &r.guidance, &r.max_chars]
                .iter()
                .all(|s| s.trim().is_empty())
            {
                continue;
            }
            let max_chars = if r.max_chars.trim().is_empty() {
                err(
                    format!("questions[{i}].max_chars"),
                    "enter the most characters an answer may have",
                );
                0
            } else {
                number(&mut err, &format!("questions[{i}].max_chars"), &r.max_chars).unwrap_or(0)
            };
            map.questions.push(i);
            questions.push(Question {
                key: r.key.trim().to_string(),
                prompt: r.prompt.trim().to_string(),
                guidance: r.guidance.trim().to_string(),
                max_chars,
                required: r.required,
            });
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        let text = |s: &str| s.trim().to_string();
        let content = SolicitationContent {
            number: text(&self.number),
            title: text(&self.title),
            summary: text(&self.summary),
            description: self.description.trim_end().to_string(),
            program_areas,
            focus_tags,
            eligibility: sol::Eligibility {
                applicant_types,
                max_annual_budget,
                geography: sol::Geography {
                    states: list(&self.states).into_iter().map(|s| s.to_ascii_uppercase()).collect(),
                    county_fips: list(&self.county_fips),
                    description: text(&self.geography),
                },
                intermediary_only: self.intermediary_only,
                other_requirements: self
                    .other_requirements
                    .lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty())
                    .map(str::to_string)
                    .collect(),
            },
            funding: sol::Funding {
                total_available,
                award_floor,
                award_ceiling,
                expected_awards,
                period_start,
                period_end,
                notes: text(&self.funding_notes),
            },
            dates: sol::KeyDates {
                time_zone,
                opens_at,
                closes_at,
                other: keep.dates.other.clone(),
            },
            rubric: sol::Rubric { total_points, criteria },
            priority_considerations,
            required_documents,
            questions,
            assistance_listing: Some(text(&self.assistance_listing)).filter(|s| !s.is_empty()),
            contact: sol::Contact {
                name: text(&self.contact_name),
                email: text(&self.contact_email),
                phone: text(&self.contact_phone),
            },
        };
        Ok((content, map))
    }
}

/// For each list, the form row each entry of the content came from.
#[derive(Default)]
struct RowMap {
    criteria: Vec<usize>,
    priorities: Vec<usize>,
    documents: Vec<usize>,
    questions: Vec<usize>,
}

impl RowMap {
    /// Renames a domain error's field to the input it is about: list indexes become form
    /// rows, and a priority consideration's value fields become the one value input.
    fn input_of(&self, field: &str) -> String {
        let mut out = field.to_string();
        for (list, rows) in [
            ("rubric.criteria[", &self.criteria),
            ("priority_considerations[", &self.priorities),
            ("required_documents[", &self.documents),
            ("questions[", &self.questions),
        ] {
            if let Some(rest) = field.strip_prefix(list)
                && let Some((idx, tail)) = rest.split_once(']')
                && let Ok(i) = idx.parse::<usize>()
            {
                let row = rows.get(i).copied().unwrap_or(i);
                out = format!("{list}{row}]{tail}");
            }
        }
        for (from, to) in [
            (".established_by.statement", ".established_by.value"),
            (".established_by.document", ".established_by.value"),
            (".established_by.values", ".established_by.value"),
            (".mechanism.points", ".mechanism.value"),
            (".mechanism.factor", ".mechanism.value"),
            (".mechanism.band", ".mechanism.value"),
            (".mechanism.amount", ".mechanism.value"),
        ] {
            if let Some(base) = out.strip_suffix(from) {
                out = format!("{base}{to}");
            }
        }
        out
    }

    fn errors(&self, errors: Vec<FieldError>) -> Vec<FieldError> {
        errors
            .into_iter()
            .map(|e| FieldError {
                field: self.input_of(&e.field),
                message: e.message,
            })
            .collect()
    }

    /// Rows in the same order as the content (as when the form is built from it).
    fn identity() -> RowMap {
        RowMap::default()
    }
}

// ---------------------------------------------------------------------------------------
// The editor's view

#[derive(Serialize)]
struct Input {
    name: String,
    label: String,
    kind: &'static str,
    value: String,
    hint: Option<String>,
    error: Option<String>,
    describedby: Option<String>,
    options: Vec<Choice>,
    checked: bool,
}

#[derive(Serialize)]
struct Row {
    legend: String,
    inputs: Vec<Input>,
}

#[derive(Serialize)]
struct Section {
    heading: &'static str,
    intro: Option<&'static str>,
    inputs: Vec<Input>,
    rows: Vec<Row>,
}

#[derive(Serialize)]
struct AttachmentView {
    id: String,
    title: String,
    filename: String,
    size: String,
}

#[derive(Serialize)]
struct Step {
    action: &'static str,
    label: &'static str,
}

#[derive(Serialize)]
struct EditorBody {
    csrf: String,
    id: String,
    office: String,
    number: String,
    title: String,
    status: &'static str,
    status_label: &'static str,
    version: i32,
    is_draft: bool,
    is_posted: bool,
    public: bool,
    notice: Option<&'static str>,
    errors: Vec<FieldError>,
    has_errors: bool,
    sections: Vec<Section>,
    change_summary: Input,
    steps: Vec<Step>,
    attachments: Vec<AttachmentView>,
    upload_error: Option<String>,
}

/// Builds inputs, looking up each one's error.
struct Builder<'a> {
    errors: &'a [FieldError],
}

impl Builder<'_> {
    fn input(&self, name: &str, label: &str, kind: &'static str, value: &str, hint: Option<&str>) -> Input {
        let error = self
            .errors
            .iter()
            .filter(|e| e.field == name)
            .map(|e| e.message.clone())
            .reduce(|a, b| format!("{a}; {b}"));
        let describedby = [
            hint.map(|_| format!("{name}-hint")),
            error.as_ref().map(|_| format!("{name}-error")),
        ]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
        Input {
            name: name.to_string(),
            label: label.to_string(),
            kind,
            value: value.to_string(),
            hint: hint.map(str::to_string),
            error,
            describedby: Some(describedby).filter(|d| !d.is_empty()),
            options: Vec::new(),
            checked: false,
        }
    }

    fn text(&self, name: &str, label: &str, value: &str) -> Input {
        self.input(name, label, "text", value, None)
    }

    fn hinted(&self, name: &str, label: &str, kind: &'static str, value: &str, hint: &str) -> Input {
        self.input(name, label, kind, value, Some(hint))
    }

    fn select(&self, name: &str, label: &str, value: &str, options: &[(&str, &str)]) -> Input {
        let mut i = self.input(name, label, "select", value, None);
        i.options = options
            .iter()
            .map(|(v, l)| Choice {
                value: v.to_string(),
                label: l.to_string(),
                selected: *v == value,
            })
            .collect();
        i
    }

    fn checks(&self, name: &str, label: &str, chosen: &[String], options: &[(&'static str, &'static str)]) -> Input {
        let mut i = self.input(name, label, "checks", "", None);
        i.options = options
            .iter()
            .map(|(v, l)| Choice {
                value: v.to_string(),
                label: l.to_string(),
                selected: chosen.iter().any(|c| c == v),
            })
            .collect();
        i
    }

    fn checkbox(&self, name: &str, label: &str, checked: bool) -> Input {
        let mut i = self.input(name, label, "checkbox", "yes", None);
        i.checked = checked;
        i
    }
}

fn vocabulary<T: Copy>(
    all: &[T],
    slug: fn(&T) -> &'static str,
    label: fn(&T) -> &'static str,
) -> Vec<(&'static str, &'static str)> {
    all.iter().map(|v| (slug(v), label(v))).collect()
}

fn sections(f: &EditorForm, errors: &[FieldError]) -> Vec<Section> {
    let b = Builder { errors };
    let mut zones: Vec<(&str, &str)> = ZONES.to_vec();
    if !f.time_zone.is_empty() && !zones.iter().any(|(z, _)| *z == f.time_zone) {
        zones.push((f.time_zone.as_str(), f.time_zone.as_str()));
    }
    let criteria = f
        .criteria
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let n = |x: &str| format!("rubric.criteria[{i}].{x}");
            Row {
                legend: format!("Criterion {}", i + 1),
                inputs: vec![
                    b.hinted(
                        &n("key"),
                        "Key",
                        "text",
                        &r.key,
                        "A short name: lowercase letters, digits and underscores, like need.",
                    ),
                    b.text(&n("name"), "Name", &r.name),
                    b.input(&n("description"), "Description", "textarea", &r.description, None),
                    b.input(&n("points"), "Points", "number", &r.points, None),
                ],
            }
        })
        .collect();
    let priorities = f
        .priorities
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let n = |x: &str| format!("priority_considerations[{i}].{x}");
            Row {
                legend: format!("Priority consideration {}", i + 1),
                inputs: vec![
                    b.text(&n("key"), "Key", &r.key),
                    b.text(&n("name"), "Name", &r.name),
                    b.input(&n("description"), "Description", "textarea", &r.description, None),
                    b.select(&n("established_by.method"), "How it is established", &r.method, METHODS),
                    b.hinted(
                        &n("established_by.value"),
                        "Statement, document, or values",
                        "text",
                        &r.established,
                        "The statement applicants attest to, the document they upload, or the values (separated by commas).",
                    ),
                    b.select(&n("mechanism.type"), "How it changes the outcome", &r.mechanism, MECHANISMS),
                    b.hinted(
                        &n("mechanism.value"),
                        "Points, factor, band or amount",
                        "text",
                        &r.mechanism_value,
                        "Bonus points (like 5), a factor (like 1.1), a band of points (like 2) or dollars (like 50000).",
                    ),
                ],
            }
        })
        .collect();
    let documents = f
        .documents
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let n = |x: &str| format!("required_documents[{i}].{x}");
            Row {
                legend: format!("Document {}", i + 1),
                inputs: vec![
                    b.text(&n("key"), "Key", &r.key),
                    b.text(&n("name"), "Name", &r.name),
                    b.input(&n("description"), "Description", "textarea", &r.description, None),
                    b.checkbox(&n("required"), "Every application must include it", r.required),
                ],
            }
        })
        .collect();
    let questions = f
        .questions
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let n = |x: &str| format!("questions[{i}].{x}");
            Row {
                legend: format!("Question {}", i + 1),
                inputs: vec![
                    b.text(&n("key"), "Key", &r.key),
                    b.input(&n("prompt"), "Question", "textarea", &r.prompt, None),
                    b.input(&n("guidance"), "Guidance", "textarea", &r.guidance, None),
                    b.input(
                        &n("max_chars"),
                        "Most characters in an answer",
                        "number",
                        &r.max_chars,
                        None,
                    ),
                    b.checkbox(&n("required"), "An answer is required", r.required),
                ],
            }
        })
        .collect();
    let section = |heading, intro, inputs, rows| Section {
        heading,
        intro,
        inputs,
        rows,
    };
    vec![
        section(
            "About",
            None,
            vec![
                b.text("number", "Number", &f.number),
                b.text("title", "Title", &f.title),
                b.hinted(
                    "summary",
                    "Summary",
                    "textarea",
                    &f.summary,
                    "One paragraph, shown in lists and search results.",
                ),
                b.hinted(
                    "description",
                    "Full text",
                    "longtext",
                    &f.description,
                    "Plain text; separate paragraphs with a blank line.",
                ),
                b.checks(
                    "program_areas",
                    "Program areas",
                    &f.program_areas,
                    &vocabulary(ProgramArea::ALL, ProgramArea::slug, ProgramArea::label),
                ),
                b.checks(
                    "focus_tags",
                    "Focus",
                    &f.focus_tags,
                    &vocabulary(FocusTag::ALL, FocusTag::slug, FocusTag::label),
                ),
                b.hinted(
                    "assistance_listing",
                    "Assistance Listing number",
                    "text",
                    &f.assistance_listing,
                    "Like 16.812.",
                ),
            ],
            Vec::new(),
        ),
        section(
            "Who may apply",
            None,
            vec![
                b.checks(
                    "eligibility.applicant_types",
                    "Types of applicant",
                    &f.applicant_types,
                    &vocabulary(ApplicantType::ALL, ApplicantType::slug, ApplicantType::label),
                ),
                b.hinted(
                    "eligibility.max_annual_budget",
                    "Largest annual budget an applicant may have (dollars)",
                    "text",
                    &f.max_annual_budget,
                    "Leave empty for no limit.",
                ),
                b.hinted(
                    "eligibility.geography.states",
                    "States",
                    "text",
                    &f.states,
                    "Two-letter codes separated by commas, like DC, MD. Leave empty for nationwide.",
                ),
                b.hinted(
                    "eligibility.geography.county_fips",
                    "Counties (FIPS codes)",
                    "text",
                    &f.county_fips,
                    "Five-digit codes separated by commas, like 11001.",
                ),
                b.text(
                    "eligibility.geography.description",
                    "Where, in plain words",
                    &f.geography,
                ),
                b.checkbox(
                    "eligibility.intermediary_only",
                    "Only intermediaries (which re-grant to grassroots groups) may apply",
                    f.intermediary_only,
                ),
                b.hinted(
                    "eligibility.other_requirements",
                    "Other requirements",
                    "textarea",
                    &f.other_requirements,
                    "One per line.",
                ),
            ],
            Vec::new(),
        ),
        section(
            "Funding",
            None,
            vec![
                b.hinted(
                    "funding.total_available",
                    "Total available (dollars)",
                    "text",
                    &f.total_available,
                    "Like 500000 or $500,000.00.",
                ),
                b.text("funding.award_floor", "Smallest award (dollars)", &f.award_floor),
                b.text("funding.award_ceiling", "Largest award (dollars)", &f.award_ceiling),
                b.input(
                    "funding.expected_awards",
                    "Expected number of awards",
                    "number",
                    &f.expected_awards,
                    None,
                ),
                b.input(
                    "funding.period_start",
                    "Period of performance starts",
                    "date",
                    &f.period_start,
                    None,
                ),
                b.input(
                    "funding.period_end",
                    "Period of performance ends",
                    "date",
                    &f.period_end,
                    None,
                ),
                b.hinted(
                    "funding.notes",
                    "Notes",
                    "textarea",
                    &f.funding_notes,
                    "Cost sharing, payment terms, pass-through requirements.",
                ),
            ],
            Vec::new(),
        ),
        section(
            "Key dates",
            Some("Dates and times are in the time zone chosen here, and shown to applicants in it."),
            vec![
                b.select("dates.time_zone", "Time zone", &f.time_zone, &zones),
                b.input("dates.opens_at", "Opens", "datetime-local", &f.opens_at, None),
                b.hinted(
                    "dates.closes_at",
                    "Deadline",
                    "datetime-local",
                    &f.closes_at,
                    "Applications received before this moment count.",
                ),
            ],
            Vec::new(),
        ),
        section(
            "Scoring rubric",
            Some("The criteria's points must add up to the total. Rows left empty are ignored."),
            vec![b.input("rubric.total_points", "Total points", "number", &f.total_points, None)],
            criteria,
        ),
        section(
            "Priority considerations",
            Some("Rows left empty are ignored."),
            Vec::new(),
            priorities,
        ),
        section(
            "Required documents",
            Some("Rows left empty are ignored."),
            Vec::new(),
            documents,
        ),
        section("Questions", Some("Rows left empty are ignored."), Vec::new(), questions),
        section(
            "Contact",
            None,
            vec![
                b.text("contact.name", "Name", &f.contact_name),
                b.input("contact.email", "Email address", "email", &f.contact_email, None),
                b.input("contact.phone", "Phone", "tel", &f.contact_phone, None),
            ],
            Vec::new(),
        ),
    ]
}

fn steps(status: Status) -> Vec<Step> {
    let step = |action, label| Step { action, label };
    match status {
        Status::Draft => vec![
            step("forecast", "Post as a forecast"),
            step("open", "Open for applications"),
        ],
        Status::Forecasted => vec![
            step("open", "Open for applications"),
            step("archive", "Withdraw and archive"),
        ],
        Status::Open => vec![step("close", "Close to applications")],
        Status::Closed => vec![step("archive", "Archive")],
        Status::Archived => Vec::new(),
    }
}

fn notice_text(key: &str) -> Option<&'static str> {
    match key {
        "created" => Some("The draft was created. Fill it in and save; only your office can see it."),
        "saved" => Some("The draft was saved."),
        "amended" => Some("The amendment was posted; the public page shows it in the history."),
        "forecast" => Some("The solicitation is posted as a forecast."),
        "open" => Some("The solicitation is open for applications."),
        "close" => Some("The solicitation is closed to applications."),
        "archive" => Some("The solicitation is archived."),
        "attached" => Some("The file was attached."),
        "removed" => Some("The attachment was removed."),
        _ => None,
    }
}

/// What the editor shows besides the form: the page state around it.
#[derive(Default)]
struct Extras {
    notice: Option<&'static str>,
    upload_error: Option<String>,
}

async fn render_editor(
    state: &AppState,
    auth: &Auth,
    s: &Solicitation,
    form: &EditorForm,
    errors: Vec<FieldError>,
    status: StatusCode,
    extras: Extras,
) -> AppResult<Response> {
    let attachments = sol::attachments(&state.db, s.id)
        .await?
        .into_iter()
        .map(|a| AttachmentView {
            id: a.id.to_string(),
            title: a.title,
            filename: a.filename,
            size: crate::view_models::human_size(a.size_bytes),
        })
        .collect();
    let b = Builder { errors: &errors };
    let change_summary = b.hinted(
        "change_summary",
        "What this amendment changes",
        "textarea",
        &form.change_summary,
        "Shown to the public in the solicitation's history.",
    );
    let body = EditorBody {
        csrf: auth.csrf.clone(),
        id: s.id.to_string(),
        office: s.office.name.clone(),
        number: s.content.number.clone(),
        title: s.content.title.clone(),
        status: s.status.as_str(),
        status_label: s.status.label(),
        version: s.version,
        is_draft: s.status == Status::Draft,
        is_posted: s.status.is_posted(),
        public: s.status.is_public(),
        notice: extras.notice,
        sections: sections(form, &errors),
        has_errors: !errors.is_empty(),
        errors,
        change_summary,
        steps: steps(s.status),
        attachments,
        upload_error: extras.upload_error,
    };
    let html = state.views.page(
        &auth.chrome(),
        "manage_edit",
        &format!("Edit {}", s.content.number),
        "manage",
        &body,
    )?;
    Ok((status, html).into_response())
}

#[derive(Deserialize, Default)]
pub struct NoticeQuery {
    #[serde(default)]
    notice: String,
}

/// `GET /manage/solicitations/{id}`: the editor.
pub async fn edit_page(
    auth: Auth,
    State(state): State<AppState>,
    Path(raw): Path<String>,
    Query(q): Query<NoticeQuery>,
) -> AppResult<Response> {
    let s = managed(&state, &auth, &raw).await?;
    let form = EditorForm::from_content(&s.content);
    let extras = Extras {
        notice: notice_text(&q.notice),
        ..Default::default()
    };
    render_editor(&state, &auth, &s, &form, Vec::new(), StatusCode::OK, extras).await
}

/// `POST /manage/solicitations/{id}`: saves a draft, or amends a posted solicitation.
pub async fn save(
    auth: Auth,
    State(state): State<AppState>,
    Path(raw): Path<String>,
    body: Bytes,
) -> AppResult<Response> {
    let s = managed(&state, &auth, &raw).await?;
    let who = auth.actor()?;
    let p = pairs(&body)?;
    let form = EditorForm::from_pairs(&p);
    let again = |errors: Vec<FieldError>, status: StatusCode| {
        render_editor(&state, &auth, &s, &form, errors, status, Extras::default())
    };
    let (content, rows) = match form.to_content(&s.content) {
        Ok(c) => c,
        Err(errors) => return again(errors, StatusCode::UNPROCESSABLE_ENTITY).await,
    };
    let result = if s.status == Status::Draft {
        sol::update_draft(&state.db, &who, s.id, content, state.now())
            .await
            .map(|_| "saved")
    } else {
        let expected = p
            .iter()
            .rev()
            .find(|(k, _)| k == "version")
            .and_then(|(_, v)| v.trim().parse::<i32>().ok());
        sol::amend(
            &state.db,
            &who,
            s.id,
            content,
            &form.change_summary,
            expected,
            state.now(),
        )
        .await
        .map(|_| "amended")
    };
    match result {
        Ok(notice) => Ok(Redirect::to(&format!("/manage/solicitations/{}?notice={notice}", s.id)).into_response()),
        Err(SolicitationError::Invalid(v)) => again(rows.errors(v.0), StatusCode::UNPROCESSABLE_ENTITY).await,
        Err(SolicitationError::DuplicateNumber(_)) => {
            again(
                vec![field_error("number", "another solicitation already uses this number")],
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(SolicitationError::StaleVersion { current, .. }) => {
            again(
                vec![field_error(
                    "change_summary",
                    format!(
                        "Someone else amended this solicitation while you were editing (it is now at version {current}). Reload the page to see their changes, then make yours again."
                    ),
                )],
                StatusCode::CONFLICT,
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

/// `POST /manage/solicitations/{id}/transition`: forecast, open, close or archive.
pub async fn transition(
    auth: Auth,
    State(state): State<AppState>,
    Path(raw): Path<String>,
    body: Bytes,
) -> AppResult<Response> {
    let s = managed(&state, &auth, &raw).await?;
    let p = pairs(&body)?;
    let action = p
        .iter()
        .rev()
        .find(|(k, _)| k == "action")
        .map(|(_, v)| v.trim().to_string())
        .unwrap_or_default();
    // The same names the API takes: the transition's own serde names.
    let Ok(step) = serde_json::from_value::<Transition>(serde_json::Value::String(action.clone())) else {
        return Err(AppError::invalid(
            StatusCode::UNPROCESSABLE_ENTITY,
            vec![field_error("action", "choose forecast, open, close or archive")],
        ));
    };
    match sol::transition(&state.db, &auth.actor()?, s.id, step, state.now()).await {
        Ok(_) => Ok(Redirect::to(&format!("/manage/solicitations/{}?notice={action}", s.id)).into_response()),
        Err(SolicitationError::Invalid(v)) => {
            let form = EditorForm::from_content(&s.content);
            let errors = RowMap::identity().errors(v.0);
            render_editor(
                &state,
                &auth,
                &s,
                &form,
                errors,
                StatusCode::UNPROCESSABLE_ENTITY,
                Extras::default(),
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

/// `POST /manage/solicitations/{id}/attachments`: uploads a file (multipart: title, file).
pub async fn upload(
    auth: Auth,
    State(state): State<AppState>,
    Path(raw): Path<String>,
    form: Multipart,
) -> AppResult<Response> {
    let s = managed(&state, &auth, &raw).await?;
    match store_attachment(&state, &auth.actor()?, &s, form).await {
        Ok(_) => Ok(Redirect::to(&format!("/manage/solicitations/{}?notice=attached", s.id)).into_response()),
        Err(e) if e.status.is_client_error() => {
            let message = match e.fields.first() {
                Some(f) => format!("The file was not attached: {} {}.", f.field, f.message),
                None => format!("The file was not attached: {}", e.message),
            };
            let extras = Extras {
                upload_error: Some(message),
                ..Default::default()
            };
            let form = EditorForm::from_content(&s.content);
            render_editor(&state, &auth, &s, &form, Vec::new(), e.status, extras).await
        }
        Err(e) => Err(e),
    }
}

/// `POST /manage/solicitations/{id}/attachments/{attachment_id}/remove`.
pub async fn remove_attachment(
    auth: Auth,
    State(state): State<AppState>,
    Path((raw, attachment)): Path<(String, String)>,
) -> AppResult<Response> {
    let s = managed(&state, &auth, &raw).await?;
    let attachment: uuid::Uuid = attachment
        .parse()
        .map_err(|_| AppError::not_found("There is no such attachment."))?;
    sol::remove_attachment(&state.db, &auth.actor()?, s.id, attachment, state.now()).await?;
    Ok(Redirect::to(&format!("/manage/solicitations/{}?notice=removed", s.id)).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blank_rows_are_skipped_and_errors_follow_their_rows() {
        let pairs: Vec<(String, String)> = [
            ("number", "X-1"),
            ("title", "T"),
            ("rubric.total_points", "100"),
            ("rubric.criteria[0].key", ""),
            ("rubric.criteria[1].key", "need"),
            ("rubric.criteria[1].name", "Need"),
            ("rubric.criteria[1].points", "forty"),
            ("funding.award_ceiling", "lots"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let f = EditorForm::from_pairs(&pairs);
        assert_eq!(f.criteria.len(), 2);
        let errors = f.to_content(&SolicitationContent::default()).err().unwrap_or_default();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["funding.award_ceiling", "rubric.criteria[1].points"]);

        let map = RowMap {
            criteria: vec![1],
            ..Default::default()
        };
        assert_eq!(map.input_of("rubric.criteria[0].points"), "rubric.criteria[1].points");
        assert_eq!(
            map.input_of("priority_considerations[0].mechanism.points"),
            "priority_considerations[0].mechanism.value"
        );
    }

    #[test]
    fn content_survives_the_form() {
        let mut c = SolicitationContent {
            number: "X-1".into(),
            title: "T".into(),
            ..Default::default()
        };
        c.rubric.total_points = 100;
        c.rubric.criteria.push(Criterion {
            key: "need".into(),
            name: "Need".into(),
            description: String::new(),
            points: 100,
        });
        c.funding.award_ceiling = Money::from_dollars(5000).unwrap();
        c.dates.closes_at = Some(instant_in_zone(
            NaiveDate::from_ymd_opt(2027, 2, 15).unwrap(),
            chrono::NaiveTime::from_hms_opt(23, 59, 0).unwrap(),
            DEFAULT_TIME_ZONE,
        ));
        let f = EditorForm::from_content(&c);
        let (back, _) = f.to_content(&c).unwrap();
        assert_eq!(back, c);
    }
}
