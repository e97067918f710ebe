//! The application pages: the eligibility pre-check, starting an application, "My
//! applications", the editor (with a read-only view for those who may only read, and a merge
//! view when someone else saved first), documents, submission and the receipt, and the
//! program officer's list of applications with its extension form.
//!
//! Every page works without JavaScript; `/static/application.js` adds autosave and live
//! character counters. The pages share their domain calls and policy checks with the JSON
//! API in `applications`.
//!
//! The editor's inputs are named by the field paths the completeness check reports
//! (`project_title`, `answers.need`, `budget.lines[3].unit_cost`, ...), and each sits in an
//! element whose id is that name prefixed with `f-`, so every problem links to its input.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::str::FromStr;

use axum::body::Bytes;
use axum::extract::{FromRequest, Multipart, Path, RawQuery, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use granary_applications::budget::{self, BudgetCategory, BudgetLine, IndirectRate};
use granary_applications::eligibility::{self, EligibilityAnswers, QuestionKind, Verdict};
use granary_applications::{
    self as apps, ABSTRACT_MAX_CHARS, Application, ApplicationContent, ApplicationDocument, ApplicationError,
    ApplicationStatus, DocumentSlot, PriorityClaim, TITLE_MAX_CHARS,
};
use granary_core::id::OrganizationId;
use granary_core::policy::{Action, OrgKind};
use granary_core::time::{instant_in_zone, time_left};
use granary_core::{FieldError, Money};
use granary_solicitations::{ApplicantType, Establishment, ProgramArea, Solicitation, Status};
use rust_decimal::Decimal;
use serde::Serialize;

use crate::auth::Auth;
use crate::error::{AppError, AppResult};
use crate::routes::applications::{
    Need, applicant_orgs, conflict_response, load, load_editable, load_receipt, local_time, merge_with,
    officer_solicitation, receipt, receive_document, submit_with_receipt,
};
use crate::routes::pages::{parse_id, visible_solicitation};
use crate::state::AppState;
use crate::view_models::human_size;

/// Blank budget rows offered below the existing lines (more when there are none yet).
const EMPTY_LINES: usize = 3;
const EMPTY_LINES_WHEN_NONE: usize = 5;
/// The most budget rows a posted form may carry.
const MAX_FORM_LINES: usize = 500;
/// The most eligibility requirement answers a posted form may carry.
const MAX_REQUIREMENTS: usize = 100;

pub(crate) fn field_error(field: impl Into<String>, message: impl Into<String>) -> FieldError {
    FieldError {
        field: field.into(),
        message: message.into(),
    }
}

/// A form body as name/value pairs, read leniently.
pub(crate) fn form_pairs(body: &Bytes) -> AppResult<Vec<(String, String)>> {
    serde_urlencoded::from_bytes(body).map_err(|e| AppError::bad_request(format!("The form could not be read: {e}")))
}

/// The last value sent for a name.
pub(crate) fn last<'a>(p: &'a [(String, String)], name: &str) -> Option<&'a str> {
    p.iter().rev().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

/// Whether the caller is the autosave script (or another program) rather than a browser page.
fn wants_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("application/json") && !a.contains("text/html"))
}

fn checked(v: &str) -> bool {
    matches!(v.trim(), "yes" | "on" | "true" | "1")
}

/// A decimal as people type it: `1,200.5`, ` 2 `, `15%`.
fn parse_decimal(s: &str) -> Option<Decimal> {
    let cleaned: String = s
        .trim()
        .trim_end_matches('%')
        .chars()
        .filter(|c| *c != ',' && *c != '_' && !c.is_whitespace())
        .collect();
    if cleaned.is_empty()
        || !cleaned
            .chars()
            .enumerate()
            .all(|(i, c)| c.is_ascii_digit() || c == '.' || (i == 0 && c == '-'))
    {
        return None;
    }
    Decimal::from_str(&cleaned).ok()
}

fn money_error(e: &granary_core::money::MoneyError) -> String {
    match e {
        granary_core::money::MoneyError::FractionOfCent => {
            "amounts are in dollars and cents: use at most 2 decimal places".to_string()
        }
        granary_core::money::MoneyError::TooLarge => "that amount is too large".to_string(),
        _ => "enter an amount in dollars, such as 1200 or $1,200.50".to_string(),
    }
}

/// An amount as a form shows it: `1200`, `1200.50`.
fn money_input(m: Money) -> String {
    if m.cents() % 100 == 0 {
        (m.cents() / 100).to_string()
    } else {
        m.to_amount_string()
    }
}

/// Entries separated by commas, semicolons or spaces, each once, as the service stores them
/// (so that a form can be compared with what is saved).
fn split_list(s: &str, upper: bool) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for x in s.split(|c: char| c == ',' || c == ';' || c.is_whitespace()) {
        let x = if upper {
            x.trim().to_uppercase()
        } else {
            x.trim().to_string()
        };
        if !x.is_empty() && !out.contains(&x) {
            out.push(x);
        }
    }
    out
}

// ---------------------------------------------------------------------------------------
// The editor's form, as typed

/// One budget row as typed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct LineRow {
    /// The row's number in the form that was sent: the form shows saved line n as row n, so
    /// this names the saved line even after blank rows before it are dropped.
    sent_as: Option<usize>,
    category: String,
    description: String,
    quantity: String,
    unit_cost: String,
    recipient: String,
    mtdc_excluded: bool,
}

impl LineRow {
    fn is_blank(&self) -> bool {
        self.description.trim().is_empty() && self.unit_cost.trim().is_empty()
    }
}

/// Every input of the editor, as text, so that a form sent back with a mistake shows
/// exactly what was typed.
#[derive(Debug, Clone, Default)]
struct EditorForm {
    version: String,
    project_title: String,
    project_abstract: String,
    /// Answers by question key: only those on the form.
    answers: BTreeMap<String, String>,
    program_areas: Vec<String>,
    populations_served: String,
    states: String,
    county_fips: String,
    area_description: String,
    /// Claims by consideration key: only those on the form.
    priorities: BTreeMap<String, (bool, String)>,
    /// Eligibility answers by question key (`applicant_type`, `requirements[0]`): only those
    /// on the form. Yes/no questions hold `yes`, `no` or nothing.
    eligibility: BTreeMap<String, String>,
    lines: Vec<LineRow>,
    indirect: String,
    rate_percent: String,
    indirect_requested: String,
    justification: String,
}

fn yes_no(v: Option<bool>) -> String {
    match v {
        Some(true) => "yes".into(),
        Some(false) => "no".into(),
        None => String::new(),
    }
}

/// The eligibility answers as form values, by question key.
fn eligibility_values(a: &EligibilityAnswers) -> BTreeMap<String, String> {
    let mut m = BTreeMap::new();
    m.insert(
        eligibility::APPLICANT_TYPE.to_string(),
        a.applicant_type.map(|t| t.slug().to_string()).unwrap_or_default(),
    );
    m.insert(
        eligibility::ANNUAL_BUDGET.to_string(),
        a.annual_budget.map(money_input).unwrap_or_default(),
    );
    m.insert(eligibility::STATE.to_string(), a.state.clone().unwrap_or_default());
    m.insert(
        eligibility::COUNTY_FIPS.to_string(),
        a.county_fips.clone().unwrap_or_default(),
    );
    m.insert(eligibility::IS_INTERMEDIARY.to_string(), yes_no(a.is_intermediary));
    for (i, r) in a.requirements.iter().enumerate() {
        m.insert(eligibility::requirement_key(i), yes_no(*r));
    }
    m
}

/// Reads the eligibility fields of a form (`eligibility.<key>`) over `base`: a key on the
/// form replaces its answer (empty means "not answered"); others keep theirs.
fn parse_eligibility(
    values: &BTreeMap<String, String>,
    base: &EligibilityAnswers,
) -> (EligibilityAnswers, Vec<FieldError>) {
    let mut a = base.clone();
    let mut errors = Vec::new();
    let text = |v: &str| Some(v.trim().to_string()).filter(|t| !t.is_empty());
    let yn = |v: &str| match v.trim() {
        "yes" | "true" => Some(true),
        "no" | "false" => Some(false),
        _ => None,
    };
    for (key, v) in values {
        let field = format!("eligibility.{key}");
        match key.as_str() {
            eligibility::APPLICANT_TYPE => {
                if v.trim().is_empty() {
                    a.applicant_type = None;
                } else if let Some(t) = ApplicantType::parse(v) {
                    a.applicant_type = Some(t);
                } else {
                    errors.push(field_error(field, "choose one of the kinds of organization listed"));
                }
            }
            eligibility::ANNUAL_BUDGET => {
                if v.trim().is_empty() {
                    a.annual_budget = None;
                } else {
                    match Money::from_str(v) {
                        Ok(m) => a.annual_budget = Some(m),
                        Err(e) => errors.push(field_error(field, money_error(&e))),
                    }
                }
            }
            eligibility::STATE => a.state = text(v),
            eligibility::COUNTY_FIPS => a.county_fips = text(v),
            eligibility::IS_INTERMEDIARY => a.is_intermediary = yn(v),
            k => {
                let index = k
                    .strip_prefix("requirements[")
                    .and_then(|r| r.strip_suffix(']'))
                    .and_then(|n| n.parse::<usize>().ok())
                    .filter(|n| *n < MAX_REQUIREMENTS);
                if let Some(i) = index {
                    if a.requirements.len() <= i {
                        a.requirements.resize(i + 1, None);
                    }
                    a.requirements[i] = yn(v);
                }
            }
        }
    }
    (a, errors)
}

impl EditorForm {
    fn from_content(c: &ApplicationContent, version: i32) -> EditorForm {
        let b = &c.budget;
        let (indirect, rate) = match &b.indirect {
            IndirectRate::None => ("none", String::new()),
            IndirectRate::DeMinimis => ("de_minimis", String::new()),
            IndirectRate::Negotiated { rate_percent } => ("negotiated", rate_percent.normalize().to_string()),
        };
        EditorForm {
            version: version.to_string(),
            project_title: c.project_title.clone(),
            project_abstract: c.project_abstract.clone(),
            answers: c.answers.clone(),
            program_areas: c.program_areas.iter().map(|a| a.slug().to_string()).collect(),
            populations_served: c.populations_served.join("\n"),
            states: c.service_area.states.join(", "),
            county_fips: c.service_area.county_fips.join(", "),
            area_description: c.service_area.description.clone(),
            priorities: c
                .priorities
                .iter()
                .map(|(k, p)| (k.clone(), (p.claimed, p.explanation.clone())))
                .collect(),
            eligibility: eligibility_values(&c.eligibility),
            lines: b
                .lines
                .iter()
                .enumerate()
                .map(|(i, l)| LineRow {
                    sent_as: Some(i),
                    category: l.category.slug().to_string(),
                    description: l.description.clone(),
                    quantity: l.quantity.normalize().to_string(),
                    unit_cost: money_input(l.unit_cost),
                    recipient: l.recipient.clone(),
                    mtdc_excluded: l.mtdc_excluded,
                })
                .collect(),
            indirect: indirect.to_string(),
            rate_percent: rate,
            indirect_requested: b.indirect_requested.map(money_input).unwrap_or_default(),
            justification: b.justification.clone(),
        }
    }

    /// Reads the posted form. Budget rows with neither a description nor a unit cost are
    /// dropped, and the rest numbered from 0 in order.
    fn from_pairs(p: &[(String, String)]) -> EditorForm {
        let mut f = EditorForm::default();
        let mut rows: BTreeMap<usize, LineRow> = BTreeMap::new();
        let mut claimed: HashSet<String> = HashSet::new();
        for (k, v) in p {
            match k.as_str() {
                "version" => f.version = v.clone(),
                "project_title" => f.project_title = v.clone(),
                "abstract" => f.project_abstract = v.clone(),
                "program_areas" => f.program_areas.push(v.trim().to_string()),
                "populations_served" => f.populations_served = v.clone(),
                "service_area.states" => f.states = v.clone(),
                "service_area.county_fips" => f.county_fips = v.clone(),
                "service_area.description" => f.area_description = v.clone(),
                "budget.indirect" => f.indirect = v.trim().to_string(),
                "budget.rate_percent" => f.rate_percent = v.clone(),
                "budget.indirect_requested" => f.indirect_requested = v.clone(),
                "budget.justification" => f.justification = v.clone(),
                _ => {
                    if let Some(key) = k.strip_prefix("answers.") {
                        f.answers.insert(key.to_string(), v.clone());
                    } else if let Some(key) = k.strip_prefix("eligibility.") {
                        f.eligibility.insert(key.to_string(), v.clone());
                    } else if let Some(rest) = k.strip_prefix("priorities.") {
                        if let Some(key) = rest.strip_suffix(".claimed") {
                            if checked(v) {
                                claimed.insert(key.to_string());
                            }
                            f.priorities.entry(key.to_string()).or_default();
                        } else if let Some(key) = rest.strip_suffix(".explanation") {
                            f.priorities.entry(key.to_string()).or_default().1 = v.clone();
                        }
                    } else if let Some(rest) = k.strip_prefix("budget.lines[")
                        && let Some((n, name)) = rest.split_once("].")
                        && let Ok(i) = n.parse::<usize>()
                        && i < MAX_FORM_LINES
                    {
                        let row = rows.entry(i).or_default();
                        match name {
                            "category" => row.category = v.trim().to_string(),
                            "description" => row.description = v.clone(),
                            "quantity" => row.quantity = v.clone(),
                            "unit_cost" => row.unit_cost = v.clone(),
                            "recipient" => row.recipient = v.clone(),
                            "mtdc_excluded" => row.mtdc_excluded = checked(v),
                            _ => {}
                        }
                    }
                }
            }
        }
        for (key, claim) in f.priorities.iter_mut() {
            claim.0 = claimed.contains(key);
        }
        f.lines = rows
            .into_iter()
            .map(|(i, mut r)| {
                r.sent_as = Some(i);
                r
            })
            .filter(|r| !r.is_blank())
            .collect();
        f
    }

    /// The content the form describes, over `base` (the draft as saved): what cannot be read
    /// keeps the draft's value and is reported, so everything else can still be saved.
    fn to_content(&self, base: &ApplicationContent) -> (ApplicationContent, Vec<FieldError>) {
        let mut errors = Vec::new();
        let mut c = base.clone();
        c.project_title = self.project_title.clone();
        c.project_abstract = self.project_abstract.clone();
        for (k, v) in &self.answers {
            if v.is_empty() {
                c.answers.remove(k);
            } else {
                c.answers.insert(k.clone(), v.clone());
            }
        }
        let mut areas = Vec::new();
        for slug in &self.program_areas {
            match ProgramArea::parse(slug) {
                Some(a) if areas.contains(&a) => {}
                Some(a) => areas.push(a),
                None => errors.push(field_error("program_areas", format!("{slug:?} is not a program area"))),
            }
        }
        c.program_areas = areas;
        c.populations_served = Vec::new();
        for line in self.populations_served.lines().map(str::trim) {
            if !line.is_empty() && !c.populations_served.iter().any(|p| p == line) {
                c.populations_served.push(line.to_string());
            }
        }
        c.service_area.states = split_list(&self.states, true);
        c.service_area.county_fips = split_list(&self.county_fips, false);
        c.service_area.description = self.area_description.clone();
        for (k, (claimed, explanation)) in &self.priorities {
            if !claimed && explanation.is_empty() {
                c.priorities.remove(k);
            } else {
                c.priorities.insert(
                    k.clone(),
                    PriorityClaim {
                        claimed: *claimed,
                        explanation: explanation.clone(),
                    },
                );
            }
        }
        let (answers, e) = parse_eligibility(&self.eligibility, &base.eligibility);
        c.eligibility = answers;
        errors.extend(e);

        // The budget, line by line.
        let old = &base.budget;
        let mut lines = Vec::with_capacity(self.lines.len());
        for (i, row) in self.lines.iter().enumerate() {
            let field = |name: &str| format!("budget.lines[{i}].{name}");
            // The saved line this row was, to keep its value when what was typed cannot be
            // read: the one the form showed in this row.
            let before = row.sent_as.and_then(|n| old.lines.get(n));
            let category = match BudgetCategory::parse(&row.category) {
                Some(cat) => cat,
                None => {
                    errors.push(field_error(field("category"), "choose a category"));
                    before.map(|l| l.category).unwrap_or(BudgetCategory::Other)
                }
            };
            let quantity = if row.quantity.trim().is_empty() {
                Decimal::ONE
            } else {
                match parse_decimal(&row.quantity) {
                    Some(q) => q,
                    None => {
                        errors.push(field_error(field("quantity"), "enter a number, such as 1, 12 or 0.5"));
                        before.map(|l| l.quantity).unwrap_or(Decimal::ONE)
                    }
                }
            };
            let unit_cost = if row.unit_cost.trim().is_empty() {
                Money::ZERO
            } else {
                match Money::from_str(&row.unit_cost) {
                    Ok(m) => m,
                    Err(e) => {
                        errors.push(field_error(field("unit_cost"), money_error(&e)));
                        before.map(|l| l.unit_cost).unwrap_or(Money::ZERO)
                    }
                }
            };
            lines.push(BudgetLine {
                category,
                description: row.description.clone(),
                quantity,
                unit_cost,
                recipient: row.recipient.clone(),
                mtdc_excluded: row.mtdc_excluded,
            });
        }
        c.budget.lines = lines;
        c.budget.indirect = match self.indirect.as_str() {
            "de_minimis" => IndirectRate::DeMinimis,
            "negotiated" => {
                let rate = if self.rate_percent.trim().is_empty() {
                    Decimal::ZERO
                } else {
                    match parse_decimal(&self.rate_percent) {
                        Some(r) => r,
                        None => {
                            errors.push(field_error(
                                "budget.rate_percent",
                                "enter the rate from your agreement as a percentage, such as 22.5",
                            ));
                            match old.indirect {
                                IndirectRate::Negotiated { rate_percent } => rate_percent,
                                _ => Decimal::ZERO,
                            }
                        }
                    }
                };
                IndirectRate::Negotiated { rate_percent: rate }
            }
            _ => IndirectRate::None,
        };
        c.budget.indirect_requested = if self.indirect_requested.trim().is_empty() {
            None
        } else {
            match Money::from_str(&self.indirect_requested) {
                Ok(m) => Some(m),
                Err(e) => {
                    errors.push(field_error("budget.indirect_requested", money_error(&e)));
                    old.indirect_requested
                }
            }
        };
        c.budget.justification = self.justification.clone();
        (c, errors)
    }
}

// ---------------------------------------------------------------------------------------
// Pieces of pages

#[derive(Serialize, Clone)]
struct Choice {
    value: String,
    label: String,
    selected: bool,
}

/// One eligibility question as a form shows it.
#[derive(Serialize)]
struct QuestionView {
    key: String,
    name: String,
    anchor: String,
    prompt: String,
    help: String,
    /// `select`, `text` or `yesno`.
    kind: &'static str,
    inputmode: &'static str,
    value: String,
    /// The answer in words, for the read-only view.
    answer: String,
    options: Vec<Choice>,
    yes: bool,
    no: bool,
    unanswered: bool,
    error: Option<String>,
    describedby: String,
}

fn errors_for(errors: &[FieldError], field: &str) -> Option<String> {
    errors
        .iter()
        .filter(|e| e.field == field)
        .map(|e| e.message.clone())
        .reduce(|a, b| format!("{a}; {b}"))
}

fn question_views(
    e: &granary_solicitations::Eligibility,
    values: &BTreeMap<String, String>,
    errors: &[FieldError],
) -> Vec<QuestionView> {
    eligibility::questions(e)
        .into_iter()
        .map(|q| {
            let name = format!("eligibility.{}", q.key);
            let value = values.get(&q.key).cloned().unwrap_or_default();
            let error = errors_for(errors, &name);
            let describedby = [
                Some(format!("{name}-hint")),
                error.as_ref().map(|_| format!("{name}-error")),
            ]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
            let (kind, inputmode, options) = match &q.kind {
                QuestionKind::ApplicantType { options } => {
                    let mut choices = vec![Choice {
                        value: String::new(),
                        label: "Choose one".into(),
                        selected: value.is_empty(),
                    }];
                    choices.extend(options.iter().map(|t| Choice {
                        value: t.slug().to_string(),
                        label: t.label().to_string(),
                        selected: value == t.slug(),
                    }));
                    ("select", "", choices)
                }
                QuestionKind::AnnualBudget { .. } => ("text", "decimal", Vec::new()),
                QuestionKind::County { .. } => ("text", "numeric", Vec::new()),
                QuestionKind::State { .. } => ("text", "", Vec::new()),
                QuestionKind::Intermediary | QuestionKind::Requirement { .. } => ("yesno", "", Vec::new()),
            };
            let answer = match kind {
                "select" => ApplicantType::parse(&value)
                    .map(|t| t.label().to_string())
                    .unwrap_or_default(),
                "yesno" => match value.as_str() {
                    "yes" => "Yes".into(),
                    "no" => "No".into(),
                    _ => String::new(),
                },
                _ => value.trim().to_string(),
            };
            QuestionView {
                anchor: format!("f-{name}"),
                key: q.key,
                prompt: q.prompt,
                help: q.help,
                kind,
                inputmode,
                yes: value == "yes",
                no: value == "no",
                unanswered: value != "yes" && value != "no",
                answer: if answer.is_empty() {
                    "Not answered".into()
                } else {
                    answer
                },
                value,
                options,
                error,
                describedby,
                name,
            }
        })
        .collect()
}

/// A text input or text area with its label, hint, error and (for limited text) counter.
#[derive(Serialize)]
struct TextField {
    name: String,
    anchor: String,
    label: String,
    hint: String,
    value: String,
    error: Option<String>,
    describedby: String,
    counter: Option<Counter>,
    /// `text` (one line) or `textarea`.
    kind: &'static str,
    rows: u32,
}

impl TextField {
    /// The same field as a text area of so many rows.
    fn area(mut self, rows: u32) -> TextField {
        self.kind = "textarea";
        self.rows = rows;
        self
    }
}

#[derive(Serialize)]
struct Counter {
    id: String,
    max: usize,
    text: String,
    over: bool,
}

fn counter(name: &str, value: &str, max: usize) -> Counter {
    let n = value.chars().count();
    Counter {
        id: format!("{name}-count"),
        max,
        text: counter_text(n, max),
        over: n > max,
    }
}

fn counter_text(n: usize, max: usize) -> String {
    if n > max {
        format!("{n} / {max} characters: {} over the limit", n - max)
    } else {
        format!("{n} / {max} characters")
    }
}

fn text_field(
    name: &str,
    label: &str,
    hint: &str,
    value: &str,
    limit: Option<usize>,
    errors: &[FieldError],
) -> TextField {
    let error = errors_for(errors, name);
    let counter = limit.map(|max| counter(name, value, max));
    let describedby = [
        Some(format!("{name}-hint")).filter(|_| !hint.is_empty()),
        counter.as_ref().map(|c| c.id.clone()),
        error.as_ref().map(|_| format!("{name}-error")),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(" ");
    TextField {
        name: name.to_string(),
        anchor: format!("f-{name}"),
        label: label.to_string(),
        hint: hint.to_string(),
        value: value.to_string(),
        error,
        describedby,
        counter,
        kind: "text",
        rows: 1,
    }
}

/// Where a solicitation's deadline stands for one organization.
#[derive(Serialize, Default)]
struct DeadlineView {
    deadline: String,
    iso: String,
    time_left: String,
    passed: bool,
    extension: Option<String>,
    time_zone: String,
}

struct Timing {
    view: DeadlineView,
    /// Submissions and withdrawals are still taken.
    accepting: bool,
}

fn timing(s: &Solicitation, ext: Option<&apps::Extension>, now: DateTime<Utc>) -> Timing {
    let closes = s.content.dates.closes_at;
    let effective = match (closes, ext) {
        (Some(c), Some(e)) => Some(c.max(e.until)),
        (c, _) => c,
    };
    // The same rule the submission itself applies.
    let accepting = apps::check_deadline(s, ext, now).is_ok();
    Timing {
        view: DeadlineView {
            deadline: closes
                .map(|c| local_time(s, c))
                .unwrap_or_else(|| "none: applications are taken on a rolling basis".into()),
            iso: closes.map(|c| c.to_rfc3339()).unwrap_or_default(),
            time_left: match effective {
                Some(d) if now < d => time_left(now, d),
                _ => String::new(),
            },
            passed: effective.is_some_and(|d| now >= d),
            extension: ext
                .filter(|e| closes.is_none_or(|c| e.until > c))
                .map(|e| format!("Your organization has an extension until {}.", local_time(s, e.until))),
            time_zone: s.time_zone().name().to_string(),
        },
        accepting,
    }
}

// ---------------------------------------------------------------------------------------
// The stylesheet's companion: the autosave script

/// `GET /static/application.js`: autosave and character counters for the editor.
pub async fn script(auth: Auth) -> AppResult<Response> {
    auth.require(&Action::ReadPublic)?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        crate::views::APPLICATION_SCRIPT,
    )
        .into_response())
}

// ---------------------------------------------------------------------------------------
// The eligibility pre-check

#[derive(Serialize)]
struct Hidden {
    name: String,
    value: String,
}

#[derive(Serialize)]
struct EligibilityBody {
    csrf: String,
    id: String,
    number: String,
    title: String,
    office: String,
    is_open: bool,
    deadline: DeadlineView,
    questions: Vec<QuestionView>,
    has_questions: bool,
    prefilled_from: Option<String>,
    checked: bool,
    eligible: bool,
    not_eligible: bool,
    incomplete: bool,
    reasons: Vec<String>,
    missing: Vec<String>,
    errors: Vec<FieldError>,
    has_errors: bool,
    signed_in: bool,
    sign_in_next: String,
    has_orgs: bool,
    several_orgs: bool,
    orgs: Vec<Choice>,
    /// The answers, carried into the application when it is started.
    carry: Vec<Hidden>,
}

/// The organizations the caller may apply for, with their names (the first is the default).
async fn org_choices(
    state: &AppState,
    auth: &Auth,
) -> AppResult<Vec<(OrganizationId, granary_identity::Organization)>> {
    let mut out = Vec::new();
    for id in applicant_orgs(auth) {
        out.push((id, granary_identity::get_organization(&state.db, id).await?));
    }
    Ok(out)
}

/// What an organization's profile already says, as eligibility answers.
fn prefill(org: &granary_identity::Organization) -> EligibilityAnswers {
    EligibilityAnswers {
        annual_budget: org.annual_budget,
        state: org.address.state.as_ref().map(|s| s.as_str().to_string()),
        county_fips: org.county_fips.as_ref().map(|c| c.as_str().to_string()),
        is_intermediary: (org.kind == OrgKind::Intermediary).then_some(true),
        ..Default::default()
    }
}

async fn render_eligibility(
    state: &AppState,
    auth: &Auth,
    s: &Solicitation,
    values: Option<BTreeMap<String, String>>,
    errors: Vec<FieldError>,
) -> AppResult<Response> {
    let orgs = org_choices(state, auth).await?;
    let checked = values.is_some();
    let mut prefilled_from = None;
    let values = match values {
        Some(v) => v,
        None => match orgs.first() {
            Some((_, org)) => {
                prefilled_from = Some(org.name.clone());
                eligibility_values(&prefill(org))
            }
            None => BTreeMap::new(),
        },
    };
    let (answers, _) = parse_eligibility(&values, &EligibilityAnswers::default());
    let result = eligibility::check(&s.content.eligibility, &answers);
    let questions = question_views(&s.content.eligibility, &values, &errors);
    let prompt_of = |key: &str| {
        questions
            .iter()
            .find(|q| q.key == key)
            .map(|q| q.prompt.clone())
            .unwrap_or_else(|| key.to_string())
    };
    let now = state.now();
    let is_open = s.effective_status(now) == Status::Open;
    let eligible = checked && result.verdict == Verdict::Eligible && errors.is_empty();
    let body = EligibilityBody {
        csrf: auth.csrf.clone(),
        id: s.id.to_string(),
        number: s.content.number.clone(),
        title: s.content.title.clone(),
        office: s.office.name.clone(),
        is_open,
        deadline: timing(s, None, now).view,
        has_questions: !questions.is_empty(),
        prefilled_from,
        checked,
        eligible,
        not_eligible: checked && result.verdict == Verdict::NotEligible,
        incomplete: checked && result.verdict == Verdict::Incomplete,
        reasons: result.reasons.iter().map(|r| r.message.clone()).collect(),
        missing: result.missing.iter().map(|k| prompt_of(k)).collect(),
        has_errors: !errors.is_empty(),
        errors,
        signed_in: auth.user().is_some(),
        // Only the value: an `=` in an attribute would be written as an entity.
        sign_in_next: serde_urlencoded::to_string([("next", format!("/solicitations/{}/eligibility", s.id))])
            .unwrap_or_default()
            .trim_start_matches("next=")
            .to_string(),
        has_orgs: !orgs.is_empty(),
        several_orgs: orgs.len() > 1,
        orgs: orgs
            .iter()
            .enumerate()
            .map(|(i, (id, o))| Choice {
                value: id.to_string(),
                label: o.name.clone(),
                selected: i == 0,
            })
            .collect(),
        carry: values
            .iter()
            .filter(|(_, v)| !v.trim().is_empty())
            .map(|(k, v)| Hidden {
                name: format!("eligibility.{k}"),
                value: v.clone(),
            })
            .collect(),
        questions,
    };
    let status = if body.has_errors {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let html = state.views.page(
        &auth.chrome(),
        "apply_eligibility",
        &format!("Check eligibility: {}", s.content.title),
        "solicitations",
        &body,
    )?;
    Ok((status, html).into_response())
}

/// `GET /solicitations/{id}/eligibility`: the questions, prefilled from the user's
/// organization when signed in.
pub async fn eligibility_page(
    auth: Auth,
    State(state): State<AppState>,
    Path(raw): Path<String>,
) -> AppResult<Response> {
    let s = visible_solicitation(&state, &auth, parse_id(&raw)?).await?;
    render_eligibility(&state, &auth, &s, None, Vec::new()).await
}

/// The `eligibility.<key>` fields of a form.
fn eligibility_fields(p: &[(String, String)]) -> BTreeMap<String, String> {
    p.iter()
        .filter_map(|(k, v)| k.strip_prefix("eligibility.").map(|k| (k.to_string(), v.clone())))
        .collect()
}

/// `POST /solicitations/{id}/eligibility`: the verdict, with every reason.
pub async fn eligibility_check(
    auth: Auth,
    State(state): State<AppState>,
    Path(raw): Path<String>,
    body: Bytes,
) -> AppResult<Response> {
    let s = visible_solicitation(&state, &auth, parse_id(&raw)?).await?;
    let p = form_pairs(&body)?;
    let values = eligibility_fields(&p);
    let (_, errors) = parse_eligibility(&values, &EligibilityAnswers::default());
    render_eligibility(&state, &auth, &s, Some(values), errors).await
}

/// `POST /solicitations/{id}/apply`: starts the organization's application (or finds the
/// one it has) and opens it. Eligibility answers carried from the pre-check fill a new draft.
pub async fn start(
    auth: Auth,
    State(state): State<AppState>,
    Path(raw): Path<String>,
    body: Bytes,
) -> AppResult<Response> {
    let s = visible_solicitation(&state, &auth, parse_id(&raw)?).await?;
    let p = form_pairs(&body)?;
    let org = match last(&p, "organization_id").and_then(|v| v.trim().parse::<OrganizationId>().ok()) {
        Some(org) => org,
        None => applicant_orgs(&auth)
            .first()
            .copied()
            .unwrap_or(OrganizationId(uuid::Uuid::nil())),
    };
    auth.require(&Action::EditApplication { org }).map_err(|e| {
        if e.status == StatusCode::FORBIDDEN {
            AppError::new(
                StatusCode::FORBIDDEN,
                "Applications are made by an organization's owners and staff. Register your organization, or ask its owner to invite you, and then apply.",
            )
        } else {
            e
        }
    })?;
    let actor = auth.actor()?;
    let (app, created) = apps::start(&state.db, &actor, s.id, org, state.now()).await?;
    let values = eligibility_fields(&p);
    if created && !values.is_empty() {
        let (answers, errors) = parse_eligibility(&values, &app.content.eligibility);
        if errors.is_empty() && answers != app.content.eligibility {
            let content = ApplicationContent {
                eligibility: answers,
                ..app.content.clone()
            };
            // A fresh draft nobody else has touched; if someone has, their draft stands.
            match apps::save(&state.db, &actor, app.id, app.version, content, state.now()).await {
                Ok(_) | Err(ApplicationError::VersionConflict { .. }) => {}
                Err(e) => return Err(e.into()),
            }
        }
    }
    let notice = if created { "started" } else { "existing" };
    Ok(Redirect::to(&format!("/applications/{}?notice={notice}", app.id)).into_response())
}

// ---------------------------------------------------------------------------------------
// My applications

#[derive(Serialize)]
struct MyRow {
    id: String,
    organization: String,
    solicitation_id: String,
    solicitation_number: String,
    solicitation_title: String,
    status: &'static str,
    status_label: &'static str,
    project_title: String,
    deadline: DeadlineView,
    updated: String,
}

#[derive(Serialize)]
struct MyBody {
    rows: Vec<MyRow>,
    has_rows: bool,
    has_orgs: bool,
}

/// `GET /applications`: the applications of the organizations the user applies for.
pub async fn my_applications(auth: Auth, State(state): State<AppState>) -> AppResult<Response> {
    auth.require(&Action::ManageOwnAccount)?;
    let orgs = applicant_orgs(&auth);
    let list = apps::of_organizations(&state.db, &orgs).await?;
    let now = state.now();
    let mut solicitations: HashMap<granary_core::id::SolicitationId, Solicitation> = HashMap::new();
    let mut rows = Vec::with_capacity(list.len());
    for a in &list {
        if let std::collections::hash_map::Entry::Vacant(e) = solicitations.entry(a.solicitation_id) {
            e.insert(granary_solicitations::get(&state.db, a.solicitation_id).await?);
        }
        let s = &solicitations[&a.solicitation_id];
        let ext = apps::extension_for(&state.db, s.id, a.organization.id).await?;
        rows.push(MyRow {
            id: a.id.to_string(),
            organization: a.organization.name.clone(),
            solicitation_id: s.id.to_string(),
            solicitation_number: s.content.number.clone(),
            solicitation_title: s.content.title.clone(),
            status: a.status.as_str(),
            status_label: a.status.label(),
            project_title: a.content.project_title.clone(),
            deadline: timing(s, ext.as_ref(), now).view,
            updated: local_time(s, a.updated_at),
        });
    }
    let body = MyBody {
        has_rows: !rows.is_empty(),
        rows,
        has_orgs: !orgs.is_empty(),
    };
    let html = state
        .views
        .page(&auth.chrome(), "apply_list", "My applications", "applications", &body)?;
    Ok(html.into_response())
}

// ---------------------------------------------------------------------------------------
// The editor

#[derive(Serialize, Clone)]
struct ProblemView {
    field: String,
    anchor: String,
    text: String,
}

#[derive(Serialize)]
struct AnswerView {
    field: TextField,
    prompt: String,
    guidance: String,
    required: bool,
}

#[derive(Serialize)]
struct PriorityView {
    key: String,
    anchor: String,
    name: String,
    description: String,
    /// The checkbox's words (the statement attested, or the claim).
    claim_label: String,
    claim_name: String,
    claim_id: String,
    claimable: bool,
    claimed: bool,
    /// For a documented consideration: the document, and where to upload it.
    document: Option<String>,
    evidence_anchor: String,
    /// For one derived from data: how.
    derived: Option<String>,
    explanation: TextField,
    error: Option<String>,
}

#[derive(Serialize)]
struct Cell {
    name: String,
    anchor: String,
    label: String,
    value: String,
    error: Option<String>,
}

#[derive(Serialize)]
struct LineView {
    number: usize,
    category: Cell,
    category_label: String,
    categories: Vec<Choice>,
    description: Cell,
    quantity: Cell,
    unit_cost: Cell,
    /// The unit cost as an amount, for the read-only view.
    unit_cost_shown: String,
    recipient: Cell,
    mtdc_excluded: Cell,
    excluded: bool,
    amount: String,
    blank: bool,
}

#[derive(Serialize)]
struct Pair {
    label: String,
    amount: String,
}

#[derive(Serialize)]
struct SummaryView {
    categories: Vec<Pair>,
    direct_total: String,
    mtdc: String,
    exclusions: Vec<Pair>,
    has_exclusions: bool,
    rate: String,
    cap: String,
    indirect: String,
    total: String,
    range: String,
    range_note: String,
    range_ok: bool,
}

#[derive(Serialize)]
struct DocView {
    id: String,
    title: String,
    filename: String,
    size: String,
    sha_prefix: String,
    sha256: String,
    url: String,
    added: String,
    remove_action: String,
    csrf: String,
    editable: bool,
}

#[derive(Serialize)]
struct SlotView {
    slot: String,
    anchor: String,
    heading: String,
    description: String,
    need: String,
    docs: Vec<DocView>,
    has_docs: bool,
    is_other: bool,
    input_id: String,
    app_id: String,
    csrf: String,
    upload_title: String,
    error: Option<String>,
    editable: bool,
}

#[derive(Serialize)]
struct SubmissionView {
    tracking: String,
    when: String,
    by: String,
    withdrawn: Option<String>,
    url: String,
    current: bool,
}

#[derive(Serialize)]
struct PartDiff {
    label: String,
    anchor: String,
    saved: String,
    yours: String,
}

#[derive(Serialize)]
struct ConflictView {
    by: String,
    when: String,
    version: i32,
    /// The parts both people changed: yours is in the form, theirs shown beside it.
    parts: Vec<PartDiff>,
    /// The parts only they changed, whose saved version the form now holds.
    taken: Vec<String>,
    reload_url: String,
}

#[derive(Serialize)]
struct EditorBody {
    csrf: String,
    id: String,
    action: String,
    organization: String,
    solicitation_id: String,
    solicitation_number: String,
    solicitation_title: String,
    office: String,
    status: &'static str,
    status_label: &'static str,
    editable: bool,
    may_edit: bool,
    version: String,
    deadline: DeadlineView,
    accepting: bool,
    notice: Option<String>,
    banner: Option<String>,
    conflict: Option<ConflictView>,
    problems: Vec<ProblemView>,
    has_problems: bool,
    problem_count: usize,
    errors: Vec<ProblemView>,
    has_errors: bool,
    eligibility: Vec<QuestionView>,
    has_eligibility: bool,
    eligibility_verdict: String,
    project_title: TextField,
    abstract_field: TextField,
    answers: Vec<AnswerView>,
    has_answers: bool,
    program_areas: Vec<Choice>,
    program_areas_text: String,
    program_areas_error: Option<String>,
    populations: TextField,
    states: TextField,
    counties: TextField,
    area_description: TextField,
    service_area_error: Option<String>,
    priorities: Vec<PriorityView>,
    has_priorities: bool,
    lines: Vec<LineView>,
    has_lines: bool,
    lines_error: Option<String>,
    indirect_none: bool,
    indirect_de_minimis: bool,
    indirect_negotiated: bool,
    indirect_label: String,
    indirect_error: Option<String>,
    rate_percent: TextField,
    indirect_requested: TextField,
    justification: TextField,
    summary: Option<SummaryView>,
    summary_error: Option<String>,
    slots: Vec<SlotView>,
    submissions: Vec<SubmissionView>,
    has_submissions: bool,
    show_submit: bool,
    can_submit: bool,
    can_withdraw: bool,
}

/// What the editor shows besides the saved application.
struct EditorView {
    /// What the inputs show.
    form: EditorForm,
    /// What the form describes (for the budget summary).
    content: ApplicationContent,
    /// Problems with what was just sent, shown next to their inputs.
    errors: Vec<FieldError>,
    /// The completeness problems, when already known (a refused submission).
    problems: Option<Vec<FieldError>>,
    /// Show the completeness problems next to their inputs too.
    problems_inline: bool,
    notice: Option<String>,
    banner: Option<String>,
    conflict: Option<ConflictView>,
    /// Show the form even though the application cannot be changed now, so that what was
    /// typed is not lost.
    force_form: bool,
    status: StatusCode,
}

impl EditorView {
    fn saved(app: &Application) -> EditorView {
        EditorView {
            form: EditorForm::from_content(&app.content, app.version),
            content: app.content.clone(),
            errors: Vec::new(),
            problems: None,
            problems_inline: false,
            notice: None,
            banner: None,
            conflict: None,
            force_form: false,
            status: StatusCode::OK,
        }
    }

    /// What was typed, with the problems it has.
    fn typed(form: EditorForm, content: ApplicationContent, errors: Vec<FieldError>, status: StatusCode) -> EditorView {
        EditorView {
            form,
            content,
            errors,
            problems: None,
            problems_inline: false,
            notice: None,
            banner: None,
            conflict: None,
            force_form: true,
            status,
        }
    }
}

fn notice_text(key: &str) -> Option<&'static str> {
    match key {
        "started" => Some(
            "Your application is started. With JavaScript on it saves as you type; otherwise press Save at the end of the form.",
        ),
        "existing" => Some("Your organization already has an application to this solicitation: here it is."),
        "saved" => Some("Saved."),
        "uploaded" => Some("The file was uploaded."),
        "removed" => Some("The document was removed."),
        "withdrawn" => Some(
            "Your application was withdrawn. You can change it and submit it again before the deadline; until then it is not under consideration.",
        ),
        _ => None,
    }
}

fn notice_from_query(raw: Option<&str>) -> Option<String> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(raw.unwrap_or("")).unwrap_or_default();
    last(&pairs, "notice").and_then(notice_text).map(str::to_string)
}

/// What a problem is about, in words ("Question: Describe your plan").
fn problem_label(field: &str, s: &Solicitation) -> String {
    let c = &s.content;
    if field.starts_with("eligibility.") {
        return "Eligibility".into();
    }
    if let Some(k) = field.strip_prefix("answers.") {
        return match c.questions.iter().position(|q| q.key == k) {
            Some(i) => format!("Question {}", i + 1),
            None => "Question".into(),
        };
    }
    if let Some(slot) = field.strip_prefix("documents.") {
        let name = match DocumentSlot::parse(slot) {
            Some(DocumentSlot::Required(k)) => c.required_documents.iter().find(|d| d.key == k).map(|d| d.name.clone()),
            Some(DocumentSlot::PriorityEvidence(k)) => c
                .priority_considerations
                .iter()
                .find(|p| p.key == k)
                .map(|p| format!("evidence for “{}”", p.name)),
            Some(DocumentSlot::IndirectRateAgreement) => Some("indirect cost rate agreement".into()),
            _ => None,
        };
        return match name {
            Some(n) => format!("Documents: {n}"),
            None => "Documents".into(),
        };
    }
    if field.starts_with("budget") {
        return "Budget".into();
    }
    if let Some(rest) = field.strip_prefix("priorities.") {
        let key = rest.split('.').next().unwrap_or("");
        return c
            .priority_considerations
            .iter()
            .find(|p| p.key == key)
            .map(|p| format!("Priority: {}", p.name))
            .unwrap_or_else(|| "Priority considerations".into());
    }
    match field {
        "project_title" => "Project title",
        "abstract" => "Abstract",
        "program_areas" => "Program areas",
        "populations_served" => "Populations served",
        f if f.starts_with("service_area") => "Service area",
        _ => "",
    }
    .to_string()
}

/// The section an anchor-less field belongs to.
fn section_anchor(field: &str) -> String {
    let head = field.split(['.', '[']).next().unwrap_or("");
    match head {
        "eligibility" | "answers" | "budget" | "documents" | "priorities" | "service_area" => format!("f-{head}"),
        _ => "f-project".into(),
    }
}

fn problem_views(problems: &[FieldError], s: &Solicitation, anchors: &HashSet<String>) -> Vec<ProblemView> {
    problems
        .iter()
        .map(|p| {
            let anchor = format!("f-{}", p.field);
            let label = problem_label(&p.field, s);
            let mut message = p.message.clone();
            // "answer this eligibility question" says which one.
            if let Some(k) = p.field.strip_prefix("eligibility.")
                && message == "answer this eligibility question"
                && let Some(q) = eligibility::questions(&s.content.eligibility)
                    .into_iter()
                    .find(|q| q.key == k)
            {
                message = format!("answer “{}”", q.prompt);
            }
            if let Some(first) = message.get(..1) {
                message = first.to_uppercase() + &message[1..];
            }
            ProblemView {
                field: p.field.clone(),
                anchor: if anchors.contains(&anchor) {
                    anchor
                } else {
                    section_anchor(&p.field)
                },
                text: if label.is_empty() {
                    message
                } else {
                    format!("{label}: {message}")
                },
            }
        })
        .collect()
}

fn summary_view(content: &ApplicationContent, s: &Solicitation) -> (Option<SummaryView>, Option<String>) {
    let summary = match budget::summarize(&content.budget) {
        Ok(x) => x,
        Err(e) => return (None, Some(e.field_error().message)),
    };
    let f = &s.content.funding;
    let ceiling = Some(f.award_ceiling).filter(|c| !c.is_zero());
    let floor = f.award_floor.filter(|c| !c.is_zero());
    let total = summary.total_request;
    let range = match (floor, ceiling) {
        (Some(a), Some(b)) => format!("Awards range from {} to {}.", a.display(), b.display()),
        (None, Some(b)) => format!("The largest award is {}.", b.display()),
        (Some(a), None) => format!("The smallest award is {}.", a.display()),
        (None, None) => String::new(),
    };
    let (range_ok, range_note) = match (floor, ceiling) {
        _ if total.is_zero() => (true, String::new()),
        (_, Some(c)) if total > c => (
            false,
            format!(
                "Your request is {} above the largest award.",
                budget::dollars(Money::from_cents(total.cents() - c.cents()).unwrap_or(Money::ZERO))
            ),
        ),
        (Some(fl), _) if total < fl => (
            false,
            format!(
                "Your request is {} below the smallest award.",
                budget::dollars(Money::from_cents(fl.cents() - total.cents()).unwrap_or(Money::ZERO))
            ),
        ),
        (None, None) => (true, String::new()),
        _ => (true, "Your request is within the award range.".into()),
    };
    (
        Some(SummaryView {
            categories: summary
                .categories
                .iter()
                .filter(|c| !c.total.is_zero())
                .map(|c| Pair {
                    label: c.label.to_string(),
                    amount: budget::dollars(c.total),
                })
                .collect(),
            direct_total: budget::dollars(summary.direct_total),
            mtdc: budget::dollars(summary.mtdc),
            has_exclusions: !summary.mtdc_exclusions.is_empty(),
            exclusions: summary
                .mtdc_exclusions
                .iter()
                .map(|(what, m)| Pair {
                    label: what.clone(),
                    amount: budget::dollars(*m),
                })
                .collect(),
            rate: budget::percent(summary.indirect_rate_percent),
            cap: budget::dollars(summary.indirect_cap),
            indirect: budget::dollars(summary.indirect),
            total: budget::dollars(total),
            range,
            range_note,
            range_ok,
        }),
        None,
    )
}

fn indirect_label(r: &IndirectRate) -> String {
    match r {
        IndirectRate::None => "No indirect costs".into(),
        IndirectRate::DeMinimis => "The de minimis rate of 15% of modified total direct costs".into(),
        IndirectRate::Negotiated { rate_percent } => {
            format!("A negotiated rate of {}", budget::percent(*rate_percent))
        }
    }
}

/// A part of an application as text, for the merge view.
fn part_text(c: &ApplicationContent, part: &str, s: &Solicitation) -> String {
    if let Some(k) = part.strip_prefix("answers.") {
        return c.answers.get(k).cloned().unwrap_or_default();
    }
    if let Some(k) = part.strip_prefix("priorities.") {
        return match c.priorities.get(k) {
            Some(p) => {
                let claim = if p.claimed { "Claimed" } else { "Not claimed" };
                if p.explanation.is_empty() {
                    claim.to_string()
                } else {
                    format!("{claim}\n{}", p.explanation)
                }
            }
            None => "Not claimed".into(),
        };
    }
    match part {
        "project_title" => c.project_title.clone(),
        "abstract" => c.project_abstract.clone(),
        "program_areas" => c.program_areas.iter().map(|a| a.label()).collect::<Vec<_>>().join(", "),
        "populations_served" => c.populations_served.join("\n"),
        "service_area" => {
            let a = &c.service_area;
            let mut out = Vec::new();
            if !a.states.is_empty() {
                out.push(format!("States: {}", a.states.join(", ")));
            }
            if !a.county_fips.is_empty() {
                out.push(format!("Counties: {}", a.county_fips.join(", ")));
            }
            if !a.description.is_empty() {
                out.push(a.description.clone());
            }
            out.join("\n")
        }
        "eligibility" => question_views(&s.content.eligibility, &eligibility_values(&c.eligibility), &[])
            .into_iter()
            .map(|q| format!("{} {}", q.prompt, q.answer))
            .collect::<Vec<_>>()
            .join("\n"),
        "budget" => {
            let b = &c.budget;
            let mut out: Vec<String> = b
                .lines
                .iter()
                .enumerate()
                .map(|(i, l)| {
                    let recipient = if l.recipient.trim().is_empty() {
                        String::new()
                    } else {
                        format!(" (to {})", l.recipient.trim())
                    };
                    format!(
                        "Line {}: {}, {}: {} × {}{recipient}",
                        i + 1,
                        l.category.label(),
                        l.description,
                        l.quantity.normalize(),
                        budget::dollars(l.unit_cost)
                    )
                })
                .collect();
            out.push(format!("Indirect: {}", indirect_label(&b.indirect)));
            if let Some(r) = b.indirect_requested {
                out.push(format!("Indirect requested: {}", budget::dollars(r)));
            }
            if !b.justification.is_empty() {
                out.push(format!("Justification: {}", b.justification));
            }
            out.join("\n")
        }
        _ => String::new(),
    }
}

fn part_label(part: &str, s: &Solicitation) -> (String, String) {
    if let Some(k) = part.strip_prefix("answers.") {
        let prompt = s
            .content
            .questions
            .iter()
            .find(|q| q.key == k)
            .map(|q| q.prompt.clone())
            .unwrap_or_else(|| k.to_string());
        return (format!("Question: {prompt}"), format!("f-{part}"));
    }
    if let Some(k) = part.strip_prefix("priorities.") {
        let name = s
            .content
            .priority_considerations
            .iter()
            .find(|p| p.key == k)
            .map(|p| p.name.clone())
            .unwrap_or_else(|| k.to_string());
        return (format!("Priority: {name}"), format!("f-{part}"));
    }
    let label = match part {
        "project_title" => "Project title",
        "abstract" => "Abstract",
        "program_areas" => "Program areas",
        "populations_served" => "Populations served",
        "service_area" => "Service area",
        "eligibility" => "Eligibility answers",
        "budget" => "Budget",
        other => other,
    };
    (label.to_string(), format!("f-{part}"))
}

fn conflict_view(
    s: &Solicitation,
    current: &Application,
    yours: &ApplicationContent,
    merged: &apps::merge::Merged,
) -> ConflictView {
    let diff = |part: String| {
        let (label, anchor) = part_label(&part, s);
        PartDiff {
            saved: part_text(&current.content, &part, s),
            yours: part_text(yours, &part, s),
            label,
            anchor,
        }
    };
    // What the form took from the saved version: the parts you had not changed.
    let taken = apps::changed_parts(yours, &merged.content)
        .into_iter()
        .map(|part| part_label(&part, s).0)
        .collect();
    ConflictView {
        by: current.updated_by.clone(),
        when: local_time(s, current.updated_at),
        version: current.version,
        parts: merged.conflicts.iter().cloned().map(diff).collect(),
        taken,
        reload_url: format!("/applications/{}", current.id),
    }
}

fn doc_view(app: &Application, d: &ApplicationDocument, s: &Solicitation, csrf: &str, editable: bool) -> DocView {
    DocView {
        id: d.id.to_string(),
        title: d.title.clone(),
        filename: d.filename.clone(),
        size: human_size(d.size_bytes),
        sha_prefix: d.sha256.chars().take(12).collect(),
        sha256: d.sha256.clone(),
        url: format!("/api/v1/applications/{}/documents/{}", app.id, d.id),
        added: format!("{}, {}", d.added_by, local_time(s, d.created_at)),
        remove_action: format!("/applications/{}/documents/{}/remove", app.id, d.id),
        csrf: csrf.to_string(),
        editable,
    }
}

fn slot_views(
    app: &Application,
    s: &Solicitation,
    docs: &[ApplicationDocument],
    content: &ApplicationContent,
    csrf: &str,
    errors: &[FieldError],
    editable: bool,
) -> Vec<SlotView> {
    let c = &s.content;
    let mut slots: Vec<(DocumentSlot, String, String, String)> = Vec::new();
    for d in &c.required_documents {
        slots.push((
            DocumentSlot::Required(d.key.clone()),
            d.name.clone(),
            d.description.clone(),
            if d.required { "Required" } else { "Optional" }.to_string(),
        ));
    }
    for p in &c.priority_considerations {
        if let Establishment::Documented { document } = &p.established_by {
            let claimed = content.priorities.get(&p.key).is_some_and(|x| x.claimed);
            slots.push((
                DocumentSlot::PriorityEvidence(p.key.clone()),
                format!("Evidence: {}", p.name),
                document.clone(),
                if claimed {
                    "Required, because you claim this priority consideration"
                } else {
                    "Only if you claim this priority consideration"
                }
                .to_string(),
            ));
        }
    }
    let negotiated = matches!(content.budget.indirect, IndirectRate::Negotiated { .. });
    slots.push((
        DocumentSlot::IndirectRateAgreement,
        "Negotiated indirect cost rate agreement".into(),
        "Your current federally negotiated indirect cost rate agreement.".into(),
        if negotiated {
            "Required, because your budget uses a negotiated indirect rate"
        } else {
            "Only if your budget uses a negotiated indirect rate"
        }
        .to_string(),
    ));
    slots.push((
        DocumentSlot::Other,
        "Other attachments".into(),
        "Anything else that supports your application. Give each a title.".into(),
        "Optional".into(),
    ));
    let known: HashSet<DocumentSlot> = slots.iter().map(|(slot, ..)| slot.clone()).collect();
    slots
        .into_iter()
        .map(|(slot, heading, description, need)| {
            let name = slot.as_string();
            let is_other = slot == DocumentSlot::Other;
            let docs: Vec<DocView> = docs
                .iter()
                .filter(|d| d.slot == slot || (is_other && !known.contains(&d.slot)))
                .map(|d| doc_view(app, d, s, csrf, editable))
                .collect();
            SlotView {
                anchor: format!("f-documents.{name}"),
                input_id: format!("file-{name}"),
                app_id: app.id.to_string(),
                csrf: csrf.to_string(),
                upload_title: if is_other { String::new() } else { heading.clone() },
                error: errors_for(errors, &format!("documents.{name}")),
                editable,
                has_docs: !docs.is_empty(),
                docs,
                slot: name,
                heading,
                description,
                need,
                is_other,
            }
        })
        .collect()
}

async fn render_editor(
    state: &AppState,
    auth: &Auth,
    app: &Application,
    s: &Solicitation,
    v: EditorView,
) -> AppResult<Response> {
    let docs = apps::documents(&state.db, app.id).await?;
    let subs = apps::submissions(&state.db, app.id).await?;
    let ext = apps::extension_for(&state.db, s.id, app.organization.id).await?;
    let problems = match v.problems {
        Some(p) => p,
        None => apps::completeness::check(&app.content, s, &docs),
    };
    let now = state.now();
    let t = timing(s, ext.as_ref(), now);
    let may_edit = auth.may(&Action::EditApplication {
        org: app.organization.id,
    });
    let editable = may_edit && (app.status.is_editable() || v.force_form);
    let csrf = auth.csrf.clone();
    let f = &v.form;
    let c = &s.content;

    // Errors shown next to their inputs.
    let mut inline = v.errors.clone();
    if v.problems_inline {
        inline.extend(problems.iter().cloned());
    }
    let inline = inline.as_slice();

    let eligibility = question_views(&c.eligibility, &f.eligibility, inline);
    let (answers_now, _) = parse_eligibility(&f.eligibility, &EligibilityAnswers::default());
    let verdict = eligibility::check(&c.eligibility, &answers_now);
    let eligibility_verdict = match verdict.verdict {
        Verdict::Eligible => "From these answers, your organization appears eligible.".to_string(),
        Verdict::NotEligible => {
            "From these answers, your organization does not appear eligible: see the reasons below each question."
                .to_string()
        }
        Verdict::Incomplete => format!(
            "{} of {} questions are not answered yet.",
            verdict.missing.len(),
            eligibility.len()
        ),
    };
    let mut eligibility = eligibility;
    if verdict.verdict == Verdict::NotEligible {
        for r in &verdict.reasons {
            if let Some(q) = eligibility.iter_mut().find(|q| q.key == r.question)
                && q.error.is_none()
            {
                q.error = Some(r.message.clone());
                q.describedby = format!("{} {}-error", q.describedby, q.name);
            }
        }
    }

    let answers: Vec<AnswerView> = c
        .questions
        .iter()
        .map(|q| {
            let name = format!("answers.{}", q.key);
            let value = f.answers.get(&q.key).cloned().unwrap_or_default();
            AnswerView {
                field: text_field(
                    &name,
                    &q.prompt,
                    &q.guidance,
                    &value,
                    Some(q.max_chars as usize),
                    inline,
                )
                .area(8),
                prompt: q.prompt.clone(),
                guidance: q.guidance.clone(),
                required: q.required,
            }
        })
        .collect();

    let mut area_slugs: Vec<ProgramArea> = c.program_areas.clone();
    for slug in &f.program_areas {
        if let Some(a) = ProgramArea::parse(slug)
            && !area_slugs.contains(&a)
        {
            area_slugs.push(a);
        }
    }
    if area_slugs.is_empty() {
        area_slugs = ProgramArea::ALL.to_vec();
    }
    let program_areas: Vec<Choice> = area_slugs
        .iter()
        .map(|a| Choice {
            value: a.slug().to_string(),
            label: a.label().to_string(),
            selected: f.program_areas.iter().any(|x| x == a.slug()),
        })
        .collect();
    let program_areas_text = program_areas
        .iter()
        .filter(|x| x.selected)
        .map(|x| x.label.clone())
        .collect::<Vec<_>>()
        .join(", ");

    let priorities: Vec<PriorityView> = c
        .priority_considerations
        .iter()
        .map(|p| {
            let (claimed, explanation) = f.priorities.get(&p.key).cloned().unwrap_or_default();
            let (claim_label, document, derived) = match &p.established_by {
                Establishment::SelfAttested { statement } => (format!("We attest: {statement}"), None, None),
                Establishment::Documented { document } => (
                    format!("We claim “{}” and will upload the evidence", p.name),
                    Some(document.clone()),
                    None,
                ),
                Establishment::Derived { source, values } => {
                    let how = match source {
                        granary_solicitations::DerivedSource::CountyFips => {
                            format!(
                                "Decided from your service area's counties: it applies in {}.",
                                values.join(", ")
                            )
                        }
                        granary_solicitations::DerivedSource::State => {
                            format!(
                                "Decided from your service area's states: it applies in {}.",
                                values.join(", ")
                            )
                        }
                        granary_solicitations::DerivedSource::AnnualBudgetAtMost => format!(
                            "Decided from your annual budget in the eligibility answers: it applies at {} or less.",
                            values.join(", ")
                        ),
                    };
                    (String::new(), None, Some(how))
                }
            };
            let name = format!("priorities.{}.explanation", p.key);
            PriorityView {
                anchor: format!("f-priorities.{}", p.key),
                name: p.name.clone(),
                description: p.description.clone(),
                claim_name: format!("priorities.{}.claimed", p.key),
                claim_id: format!("priorities.{}.claimed", p.key),
                claimable: derived.is_none(),
                claimed,
                claim_label,
                evidence_anchor: format!("#f-documents.priority:{}", p.key),
                document,
                derived,
                explanation: text_field(&name, "Explanation (optional)", "", &explanation, None, inline).area(3),
                error: errors_for(inline, &format!("priorities.{}", p.key)),
                key: p.key.clone(),
            }
        })
        .collect();

    // Budget rows: those typed, then blank ones to add more (none in the read-only view).
    let blanks = if !editable {
        0
    } else if f.lines.is_empty() {
        EMPTY_LINES_WHEN_NONE
    } else {
        EMPTY_LINES
    };
    let rows: Vec<(LineRow, bool)> = f
        .lines
        .iter()
        .cloned()
        .map(|r| (r, false))
        .chain((0..blanks).map(|_| (LineRow::default(), true)))
        .collect();
    let lines: Vec<LineView> = rows
        .into_iter()
        .enumerate()
        .map(|(i, (r, blank))| {
            let number = i + 1;
            let cell = |name: &str, label: &str, value: &str| {
                let full = format!("budget.lines[{i}].{name}");
                Cell {
                    anchor: format!("f-{full}"),
                    error: errors_for(inline, &full),
                    label: format!("Line {number}: {label}"),
                    value: value.to_string(),
                    name: full,
                }
            };
            let amount = match (
                parse_decimal(&r.quantity).or(Some(Decimal::ONE).filter(|_| r.quantity.trim().is_empty())),
                Money::from_str(&r.unit_cost),
            ) {
                (Some(q), Ok(m)) => BudgetLine {
                    quantity: q,
                    unit_cost: m,
                    ..Default::default()
                }
                .amount()
                .map(budget::dollars)
                .unwrap_or_default(),
                _ => String::new(),
            };
            LineView {
                number,
                category_label: BudgetCategory::parse(&r.category)
                    .map(|x| x.label().to_string())
                    .unwrap_or_default(),
                categories: BudgetCategory::ALL
                    .iter()
                    .map(|x| Choice {
                        value: x.slug().to_string(),
                        label: x.label().to_string(),
                        selected: x.slug() == r.category,
                    })
                    .collect(),
                category: cell("category", "category", &r.category),
                description: cell("description", "description", &r.description),
                quantity: cell("quantity", "quantity", &r.quantity),
                unit_cost: cell("unit_cost", "unit cost (dollars)", &r.unit_cost),
                unit_cost_shown: Money::from_str(&r.unit_cost)
                    .map(budget::dollars)
                    .unwrap_or_else(|_| r.unit_cost.clone()),
                recipient: cell("recipient", "recipient (for subawards)", &r.recipient),
                mtdc_excluded: cell("mtdc_excluded", "excluded from MTDC", "yes"),
                excluded: r.mtdc_excluded,
                amount,
                blank,
            }
        })
        .collect();

    let (summary, summary_error) = summary_view(&v.content, s);
    let slots = slot_views(
        app,
        s,
        &docs,
        &v.content,
        &csrf,
        inline,
        editable && app.status.is_editable(),
    );

    // Every anchor the page has, so each problem links to the nearest one.
    let mut anchors: HashSet<String> = [
        "f-eligibility",
        "f-project",
        "f-project_title",
        "f-abstract",
        "f-answers",
        "f-program_areas",
        "f-populations_served",
        "f-service_area",
        "f-priorities",
        "f-budget",
        "f-budget.lines",
        "f-budget.indirect",
        "f-budget.rate_percent",
        "f-budget.indirect_requested",
        "f-budget.justification",
        "f-budget.total",
        "f-documents",
    ]
    .into_iter()
    .map(str::to_string)
    .collect();
    anchors.extend(eligibility.iter().map(|q| q.anchor.clone()));
    anchors.extend(answers.iter().map(|a| a.field.anchor.clone()));
    anchors.extend(priorities.iter().map(|p| p.anchor.clone()));
    anchors.extend(slots.iter().map(|x| x.anchor.clone()));
    for l in &lines {
        for cell in [&l.category, &l.description, &l.quantity, &l.unit_cost, &l.recipient] {
            anchors.insert(cell.anchor.clone());
        }
    }
    let problem_list = problem_views(&problems, s, &anchors);
    let error_list = problem_views(&v.errors, s, &anchors);

    let submissions: Vec<SubmissionView> = subs
        .iter()
        .map(|x| SubmissionView {
            tracking: x.tracking_number.clone(),
            when: local_time(s, x.submitted_at),
            by: x.submitted_by.clone(),
            withdrawn: x.withdrawn_at.map(|w| {
                format!(
                    "Withdrawn {} by {}",
                    local_time(s, w),
                    x.withdrawn_by.clone().unwrap_or_default()
                )
            }),
            url: format!("/receipts/{}", x.tracking_number),
            current: app.current_submission == Some(x.id),
        })
        .collect();

    let indirect = f.indirect.as_str();
    let body = EditorBody {
        csrf: csrf.clone(),
        id: app.id.to_string(),
        action: format!("/applications/{}", app.id),
        organization: app.organization.name.clone(),
        solicitation_id: s.id.to_string(),
        solicitation_number: c.number.clone(),
        solicitation_title: c.title.clone(),
        office: s.office.name.clone(),
        status: app.status.as_str(),
        status_label: app.status.label(),
        editable,
        may_edit,
        version: f.version.clone(),
        deadline: t.view,
        accepting: t.accepting,
        notice: v.notice,
        banner: v.banner,
        conflict: v.conflict,
        has_problems: !problem_list.is_empty(),
        problem_count: problem_list.len(),
        problems: problem_list,
        has_errors: !error_list.is_empty(),
        errors: error_list,
        has_eligibility: !eligibility.is_empty(),
        eligibility,
        eligibility_verdict,
        project_title: text_field(
            "project_title",
            "Project title",
            "A short name for the project.",
            &f.project_title,
            Some(TITLE_MAX_CHARS),
            inline,
        ),
        abstract_field: text_field(
            "abstract",
            "Abstract",
            "A summary of the project in plain language: what you will do, for whom, and what will change.",
            &f.project_abstract,
            Some(ABSTRACT_MAX_CHARS),
            inline,
        )
        .area(8),
        has_answers: !answers.is_empty(),
        answers,
        program_areas,
        program_areas_text,
        program_areas_error: errors_for(inline, "program_areas"),
        populations: text_field(
            "populations_served",
            "Populations served",
            "One per line, in your own words, such as “young adults returning from incarceration”.",
            &f.populations_served,
            None,
            inline,
        )
        .area(4),
        states: text_field(
            "service_area.states",
            "States or territories",
            "Two-letter codes separated by commas, such as DC, MD.",
            &f.states,
            None,
            inline,
        ),
        counties: text_field(
            "service_area.county_fips",
            "Counties (FIPS codes)",
            "Five-digit codes separated by commas, such as 11001 for the District of Columbia.",
            &f.county_fips,
            None,
            inline,
        ),
        area_description: text_field(
            "service_area.description",
            "Where you work, in your words",
            "Neighborhoods, wards, cities or ZIP codes.",
            &f.area_description,
            None,
            inline,
        )
        .area(3),
        service_area_error: errors_for(inline, "service_area"),
        has_priorities: !priorities.is_empty(),
        priorities,
        has_lines: lines.iter().any(|l| !l.blank),
        lines,
        lines_error: errors_for(inline, "budget.lines"),
        indirect_none: indirect != "de_minimis" && indirect != "negotiated",
        indirect_de_minimis: indirect == "de_minimis",
        indirect_negotiated: indirect == "negotiated",
        indirect_label: indirect_label(&v.content.budget.indirect),
        indirect_error: errors_for(inline, "budget.indirect"),
        rate_percent: text_field(
            "budget.rate_percent",
            "Negotiated rate (percent)",
            "Only for a negotiated rate: the rate in your agreement, such as 22.5.",
            &f.rate_percent,
            None,
            inline,
        ),
        indirect_requested: text_field(
            "budget.indirect_requested",
            "Indirect costs requested (dollars, optional)",
            "Leave empty to request the most your rate allows, shown in the summary.",
            &f.indirect_requested,
            None,
            inline,
        ),
        justification: text_field(
            "budget.justification",
            "Budget justification",
            "Explain briefly why each cost is needed.",
            &f.justification,
            None,
            inline,
        )
        .area(5),
        summary,
        summary_error,
        slots,
        has_submissions: !submissions.is_empty(),
        submissions,
        show_submit: may_edit && app.status.is_editable(),
        can_submit: may_edit && app.status.is_editable() && problems.is_empty() && t.accepting,
        can_withdraw: may_edit && app.status == ApplicationStatus::Submitted && t.accepting,
    };
    let title = if app.content.project_title.trim().is_empty() {
        format!("Application to {}", c.number)
    } else {
        app.content.project_title.clone()
    };
    let html = state
        .views
        .page(&auth.chrome(), "apply_edit", &title, "applications", &body)?;
    Ok((v.status, html).into_response())
}

/// `GET /applications/{id}`: the editor for the applicant organization's owners and staff;
/// a read-only view for those who may only read it (and once it is submitted).
pub async fn editor(
    auth: Auth,
    State(state): State<AppState>,
    Path(raw): Path<String>,
    RawQuery(query): RawQuery,
) -> AppResult<Response> {
    let (app, s) = load(&state, &auth, &raw, Need::Read).await?;
    let mut v = EditorView::saved(&app);
    v.notice = notice_from_query(query.as_deref());
    render_editor(&state, &auth, &app, &s, v).await
}

/// A saved form: the application as saved, the form as typed, what it described, and the
/// entries that could not be read (whose saved values were kept).
struct SavedForm {
    app: Application,
    form: EditorForm,
    content: ApplicationContent,
    errors: Vec<FieldError>,
}

/// The outcome of saving the editor's form.
enum Saved {
    Done(Box<SavedForm>),
    /// Not saved, and the answer is ready (the merge view, or the form with its problems).
    Answered(Response),
}

async fn save_form(
    state: &AppState,
    auth: &Auth,
    app: &Application,
    s: &Solicitation,
    p: &[(String, String)],
    json: bool,
) -> AppResult<Saved> {
    let mut form = EditorForm::from_pairs(p);
    let Ok(version) = form.version.trim().parse::<i32>() else {
        return Err(AppError::invalid(
            StatusCode::UNPROCESSABLE_ENTITY,
            vec![field_error(
                "version",
                "this form does not say which version of the application it started from; reload the page and try again",
            )],
        ));
    };
    let (content, errors) = form.to_content(&app.content);
    match apps::save(&state.db, &auth.actor()?, app.id, version, content.clone(), state.now()).await {
        Ok(saved) => Ok(Saved::Done(Box::new(SavedForm {
            app: saved,
            form,
            content,
            errors,
        }))),
        // Nothing differs from what is saved now (the autosave got there first): done.
        Err(ApplicationError::VersionConflict { current, .. })
            if apps::changed_parts(&current.content, &content).is_empty() =>
        {
            Ok(Saved::Done(Box::new(SavedForm {
                app: *current,
                form,
                content,
                errors,
            })))
        }
        Err(ApplicationError::VersionConflict { current, base }) => {
            if json {
                return Ok(Saved::Answered(conflict_response(
                    state,
                    &current,
                    base.as_deref(),
                    &content,
                    version,
                )));
            }
            // The form shows the merge: the parts only the other person changed come from
            // the saved version, the rest (and every part both changed) are yours. Saving it
            // again (from the current version) keeps both people's work. When the form had
            // entries that could not be read, it is shown as typed instead.
            let merged = merge_with(base.as_deref(), &current, &content);
            let mut v = if errors.is_empty() {
                EditorView::typed(
                    EditorForm::from_content(&merged.content, current.version),
                    merged.content.clone(),
                    errors,
                    StatusCode::CONFLICT,
                )
            } else {
                form.version = current.version.to_string();
                EditorView::typed(form, content.clone(), errors, StatusCode::CONFLICT)
            };
            v.conflict = Some(conflict_view(s, &current, &content, &merged));
            Ok(Saved::Answered(render_editor(state, auth, &current, s, v).await?))
        }
        Err(ApplicationError::Invalid(more)) if !json => {
            let mut all = errors;
            all.extend(more.0);
            let mut v = EditorView::typed(form, content, all, StatusCode::UNPROCESSABLE_ENTITY);
            v.banner = Some("Nothing was saved: please fix the entries marked below and save again.".into());
            Ok(Saved::Answered(render_editor(state, auth, app, s, v).await?))
        }
        Err(e @ ApplicationError::NotEditable { .. }) if !json => {
            let mut v = EditorView::typed(form, content, errors, StatusCode::CONFLICT);
            v.banner = Some(format!(
                "Nothing was saved: {e}. What you typed is still in the form below."
            ));
            Ok(Saved::Answered(render_editor(state, auth, app, s, v).await?))
        }
        Err(e) => Err(e.into()),
    }
}

/// `POST /applications/{id}`: saves the form. The autosave script (`Accept:
/// application/json`) gets the new version and what is still missing; a page gets sent back
/// to the editor, or the merge view when someone else saved first.
pub async fn save(
    auth: Auth,
    State(state): State<AppState>,
    Path(raw): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> AppResult<Response> {
    let (app, s) = load(&state, &auth, &raw, Need::Edit).await?;
    let p = form_pairs(&body)?;
    let json = wants_json(&headers);
    let SavedForm {
        app: saved,
        form,
        content,
        errors,
    } = match save_form(&state, &auth, &app, &s, &p, json).await? {
        Saved::Answered(r) => return Ok(r),
        Saved::Done(done) => *done,
    };
    if json {
        let docs = apps::documents(&state.db, saved.id).await?;
        let problems = apps::completeness::check(&saved.content, &s, &docs);
        let anchors = HashSet::new();
        return Ok(axum::Json(serde_json::json!({
            "version": saved.version,
            "saved_at": saved.updated_at,
            "saved_at_local": local_time(&s, saved.updated_at),
            "problems": problem_views(&problems, &s, &anchors)
                .into_iter()
                .zip(problems.iter())
                .map(|(v, p)| serde_json::json!({
                    "field": p.field,
                    "message": p.message,
                    "anchor": format!("f-{}", p.field),
                    "section": v.anchor,
                    "text": v.text,
                }))
                .collect::<Vec<_>>(),
            "errors": errors,
        }))
        .into_response());
    }
    if errors.is_empty() {
        return Ok(Redirect::to(&format!("/applications/{}?notice=saved#saved", saved.id)).into_response());
    }
    let mut form = form;
    form.version = saved.version.to_string();
    let mut v = EditorView::typed(form, content, errors, StatusCode::UNPROCESSABLE_ENTITY);
    v.force_form = false;
    v.notice = Some(
        "Saved, except the entries marked below: they could not be read, so their earlier values were kept. What you typed is still in the form."
            .into(),
    );
    render_editor(&state, &auth, &saved, &s, v).await
}

/// `POST /applications/{id}/submit`: saves what the form holds (the Submit button belongs to
/// the editor's form), then submits. Shows the receipt, or the editor with what is missing.
pub async fn submit(
    auth: Auth,
    State(state): State<AppState>,
    Path(raw): Path<String>,
    body: Bytes,
) -> AppResult<Response> {
    let (mut app, s) = load(&state, &auth, &raw, Need::Edit).await?;
    let p = form_pairs(&body)?;
    if last(&p, "version").is_some() && app.status.is_editable() {
        match save_form(&state, &auth, &app, &s, &p, false).await? {
            Saved::Answered(r) => return Ok(r),
            Saved::Done(done) => {
                let SavedForm {
                    app: saved,
                    form,
                    content,
                    errors,
                } = *done;
                if !errors.is_empty() {
                    let mut form = form;
                    form.version = saved.version.to_string();
                    let mut v = EditorView::typed(form, content, errors, StatusCode::UNPROCESSABLE_ENTITY);
                    v.force_form = false;
                    v.banner = Some(
                        "Not submitted: some entries could not be read. Fix them and submit again; everything else was saved."
                            .into(),
                    );
                    return render_editor(&state, &auth, &saved, &s, v).await;
                }
                app = saved;
            }
        }
    }
    match submit_with_receipt(&state, &auth, &s, app.id).await {
        Ok(sub) => Ok(Redirect::to(&format!("/receipts/{}", sub.tracking_number)).into_response()),
        Err(ApplicationError::Incomplete(problems)) => {
            let mut v = EditorView::saved(&app);
            let n = problems.0.len();
            v.banner = Some(format!(
                "Not submitted yet: {n} {} still missing. Each is listed under “What's missing” and marked in the form.",
                if n == 1 { "thing is" } else { "things are" }
            ));
            v.problems = Some(problems.0);
            v.problems_inline = true;
            v.status = StatusCode::UNPROCESSABLE_ENTITY;
            render_editor(&state, &auth, &app, &s, v).await
        }
        Err(ApplicationError::DeadlinePassed { deadline, .. }) => {
            let contact = if s.content.contact.email.is_empty() {
                String::new()
            } else {
                format!(" ({})", s.content.contact.email)
            };
            let mut v = EditorView::saved(&app);
            v.banner = Some(format!(
                "Not submitted: the deadline was {}. Granary accepts an application only if it receives it before the deadline. If a technical problem kept you from submitting in time, contact the program officer{contact} and ask for an extension.",
                local_time(&s, deadline)
            ));
            v.status = StatusCode::CONFLICT;
            render_editor(&state, &auth, &app, &s, v).await
        }
        Err(e @ (ApplicationError::NotAccepting(_) | ApplicationError::WrongStatus { .. })) => {
            let mut v = EditorView::saved(&app);
            v.banner = Some(format!("Not submitted: {e}."));
            v.status = StatusCode::CONFLICT;
            render_editor(&state, &auth, &app, &s, v).await
        }
        Err(e) => Err(e.into()),
    }
}

/// `POST /applications/{id}/withdraw`: withdraws a submitted application before the deadline.
pub async fn withdraw(auth: Auth, State(state): State<AppState>, Path(raw): Path<String>) -> AppResult<Response> {
    let (app, s) = load(&state, &auth, &raw, Need::Edit).await?;
    match apps::withdraw(&state.db, &auth.actor()?, app.id, state.clock.as_ref()).await {
        Ok(_) => Ok(Redirect::to(&format!("/applications/{}?notice=withdrawn", app.id)).into_response()),
        Err(
            e @ (ApplicationError::DeadlinePassed { .. }
            | ApplicationError::NotAccepting(_)
            | ApplicationError::WrongStatus { .. }),
        ) => {
            let mut v = EditorView::saved(&app);
            v.banner = Some(format!("Not withdrawn: {e}."));
            v.status = StatusCode::CONFLICT;
            render_editor(&state, &auth, &app, &s, v).await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Serialize)]
struct NoticeBody {
    heading: String,
    message: String,
    link_href: String,
    link_text: String,
}

fn upload_failed(
    state: &AppState,
    auth: &Auth,
    back: &str,
    status: StatusCode,
    message: String,
) -> AppResult<Response> {
    let body = NoticeBody {
        heading: "The file was not uploaded".into(),
        message,
        link_href: format!("{back}#f-documents"),
        link_text: "Back to the application".into(),
    };
    let html = state.views.page(
        &auth.chrome(),
        "notice",
        "The file was not uploaded",
        "applications",
        &body,
    )?;
    Ok((status, html).into_response())
}

/// `POST /applications/{id}/documents` (multipart: `slot`, `title`, then `file`): uploads a
/// document into its slot, replacing the one there.
pub async fn upload(
    auth: Auth,
    State(state): State<AppState>,
    Path(raw): Path<String>,
    req: Request,
) -> AppResult<Response> {
    let app = load_editable(&state, &auth, &raw).await?;
    let back = format!("/applications/{}", app.id);
    let form = match Multipart::from_request(req, &state).await {
        Ok(f) => f,
        Err(_) => {
            return upload_failed(
                &state,
                &auth,
                &back,
                StatusCode::BAD_REQUEST,
                "The upload could not be read. Choose a file with the upload form and try again.".into(),
            );
        }
    };
    match receive_document(&state, &auth.actor()?, &app, form).await {
        Ok(d) => {
            Ok(Redirect::to(&format!("{back}?notice=uploaded#f-documents.{}", d.slot.as_string())).into_response())
        }
        Err(e) if e.status.is_client_error() => {
            let detail = match e.fields.first() {
                Some(f) if f.field == "file" || f.field == "title" || f.field == "slot" => f.message.clone(),
                Some(f) => format!("{}: {}", f.field, f.message),
                None => e.message.clone(),
            };
            let detail = detail.trim_end_matches('.').to_string();
            let message = if e.status == StatusCode::PAYLOAD_TOO_LARGE {
                format!(
                    "The file is too large: {detail}. Make it smaller (for example, save a PDF at a lower resolution) and try again."
                )
            } else if e.status == StatusCode::UNSUPPORTED_MEDIA_TYPE {
                format!("That kind of file is not accepted. {detail}.")
            } else {
                format!("{detail}.")
            };
            upload_failed(&state, &auth, &back, e.status, message)
        }
        Err(e) => Err(e),
    }
}

/// `POST /applications/{id}/documents/{attachment_id}/remove`.
pub async fn remove_document(
    auth: Auth,
    State(state): State<AppState>,
    Path((raw, attachment)): Path<(String, String)>,
) -> AppResult<Response> {
    let app = load_editable(&state, &auth, &raw).await?;
    let attachment: uuid::Uuid = attachment
        .parse()
        .map_err(|_| AppError::not_found("There is no such document on this application."))?;
    apps::remove_document(&state.db, &auth.actor()?, app.id, attachment, state.now()).await?;
    Ok(Redirect::to(&format!("/applications/{}?notice=removed#f-documents", app.id)).into_response())
}

// ---------------------------------------------------------------------------------------
// The receipt

#[derive(Serialize)]
struct ReceiptDocView {
    title: String,
    filename: String,
    size: String,
    /// The exact size, when the rounded one is not exact.
    exact_size: Option<String>,
    sha256: String,
}

#[derive(Serialize)]
struct ReceiptBody {
    tracking_number: String,
    application_url: String,
    organization: String,
    solicitation_number: String,
    solicitation_title: String,
    received: String,
    received_iso: String,
    submitted_by: String,
    digest: String,
    digest_verified: bool,
    extension: Option<String>,
    withdrawn: Option<String>,
    documents: Vec<ReceiptDocView>,
    has_documents: bool,
}

/// `GET /receipts/{tracking}`: the receipt of one submission, printable.
pub async fn receipt_page(
    auth: Auth,
    State(state): State<AppState>,
    Path(tracking): Path<String>,
) -> AppResult<Response> {
    let (s, sub) = load_receipt(&state, &auth, &tracking).await?;
    let r = receipt(&state, &s, &sub)?;
    let body = ReceiptBody {
        application_url: format!("/applications/{}", r.application_id),
        organization: r.organization,
        solicitation_number: r.solicitation_number,
        solicitation_title: r.solicitation_title,
        received: r.submitted_at_local,
        received_iso: r.submitted_at.to_rfc3339(),
        submitted_by: r.submitted_by,
        digest: r.digest,
        digest_verified: r.digest_verified,
        extension: r
            .on_time_by_extension_until
            .map(|u| format!("Received under an extension granted until {}.", local_time(&s, u))),
        withdrawn: r.withdrawn_at.map(|w| {
            format!(
                "This submission was withdrawn {}. It is kept on record but is not under consideration.",
                local_time(&s, w)
            )
        }),
        has_documents: !r.documents.is_empty(),
        documents: r
            .documents
            .into_iter()
            .map(|d| ReceiptDocView {
                size: human_size(d.size_bytes),
                exact_size: (d.size_bytes >= 1024).then(|| format!("{} bytes", d.size_bytes)),
                title: d.title,
                filename: d.filename,
                sha256: d.sha256,
            })
            .collect(),
        tracking_number: r.tracking_number,
    };
    let html = state.views.page(
        &auth.chrome(),
        "apply_receipt",
        &format!("Receipt {}", body.tracking_number),
        "applications",
        &body,
    )?;
    Ok(html.into_response())
}

// ---------------------------------------------------------------------------------------
// Program officers: the applications to a solicitation, and extensions

#[derive(Serialize)]
struct OfficerRow {
    id: String,
    organization: String,
    status: &'static str,
    status_label: &'static str,
    title: String,
    request: String,
    tracking: String,
    submitted: String,
    submissions: u32,
    extension: String,
    readable: bool,
}

#[derive(Serialize)]
struct ExtensionView {
    organization: String,
    until: String,
    reason: String,
    granted: String,
}

#[derive(Serialize, Default)]
struct ExtensionForm {
    orgs: Vec<Choice>,
    date: String,
    time: String,
    reason: String,
    org_error: Option<String>,
    date_error: Option<String>,
    time_error: Option<String>,
    reason_error: Option<String>,
}

#[derive(Serialize)]
struct Counts {
    total: usize,
    draft: usize,
    submitted: usize,
    withdrawn: usize,
}

#[derive(Serialize)]
struct OfficerBody {
    csrf: String,
    id: String,
    number: String,
    title: String,
    office: String,
    deadline: DeadlineView,
    counts: Counts,
    rows: Vec<OfficerRow>,
    has_rows: bool,
    csv_url: String,
    extensions: Vec<ExtensionView>,
    has_extensions: bool,
    form: ExtensionForm,
    can_extend: bool,
    notice: Option<String>,
    errors: Vec<FieldError>,
    has_errors: bool,
}

/// What the extension form held, as typed.
#[derive(Default)]
struct ExtensionInput {
    organization_id: String,
    date: String,
    time: String,
    reason: String,
}

async fn render_officer(
    state: &AppState,
    auth: &Auth,
    s: &Solicitation,
    input: ExtensionInput,
    errors: Vec<FieldError>,
    notice: Option<String>,
    status: StatusCode,
) -> AppResult<Response> {
    let rows = apps::list_for_solicitation(&state.db, s.id).await?;
    let exts = apps::extensions(&state.db, s.id).await?;
    let count = |st: ApplicationStatus| rows.iter().filter(|r| r.status == st).count();
    let names: HashMap<OrganizationId, String> = rows
        .iter()
        .map(|r| (r.organization.id, r.organization.name.clone()))
        .collect();
    let mut orgs: Vec<Choice> = vec![Choice {
        value: String::new(),
        label: "Choose an organization".into(),
        selected: input.organization_id.is_empty(),
    }];
    let mut seen = HashSet::new();
    for r in &rows {
        if seen.insert(r.organization.id) {
            orgs.push(Choice {
                value: r.organization.id.to_string(),
                label: r.organization.name.clone(),
                selected: input.organization_id == r.organization.id.to_string(),
            });
        }
    }
    let find = |f: &str| errors_for(&errors, f);
    let form = ExtensionForm {
        org_error: find("organization_id"),
        date_error: [find("until"), find("until_date")]
            .into_iter()
            .flatten()
            .reduce(|a, b| format!("{a}; {b}")),
        time_error: find("until_time"),
        reason_error: find("reason"),
        orgs,
        date: input.date,
        time: if input.time.is_empty() {
            "23:59".into()
        } else {
            input.time
        },
        reason: input.reason,
    };
    let body = OfficerBody {
        csrf: auth.csrf.clone(),
        id: s.id.to_string(),
        number: s.content.number.clone(),
        title: s.content.title.clone(),
        office: s.office.name.clone(),
        deadline: timing(s, None, state.now()).view,
        counts: Counts {
            total: rows.len(),
            draft: count(ApplicationStatus::Draft),
            submitted: count(ApplicationStatus::Submitted),
            withdrawn: count(ApplicationStatus::Withdrawn),
        },
        has_rows: !rows.is_empty(),
        rows: rows
            .iter()
            .map(|r| OfficerRow {
                id: r.id.to_string(),
                organization: r.organization.name.clone(),
                status: r.status.as_str(),
                status_label: r.status.label(),
                title: r.project_title.clone(),
                request: r.total_request.map(budget::dollars).unwrap_or_default(),
                tracking: r.tracking_number.clone().unwrap_or_default(),
                submitted: r.submitted_at.map(|t| local_time(s, t)).unwrap_or_default(),
                submissions: r.submissions,
                extension: r.extension_until.map(|t| local_time(s, t)).unwrap_or_default(),
                readable: r.status == ApplicationStatus::Submitted,
            })
            .collect(),
        csv_url: format!("/api/v1/solicitations/{}/applications.csv", s.id),
        has_extensions: !exts.is_empty(),
        extensions: exts
            .iter()
            .map(|e| ExtensionView {
                organization: names
                    .get(&e.organization_id)
                    .cloned()
                    .unwrap_or_else(|| e.organization_id.to_string()),
                until: local_time(s, e.until),
                reason: e.reason.clone(),
                granted: format!("{}, {}", e.granted_by, local_time(s, e.granted_at)),
            })
            .collect(),
        can_extend: !seen.is_empty(),
        form,
        notice,
        has_errors: !errors.is_empty(),
        errors,
    };
    let html = state.views.page(
        &auth.chrome(),
        "apply_officer",
        &format!("Applications: {}", s.content.number),
        "manage",
        &body,
    )?;
    Ok((status, html).into_response())
}

/// `GET /manage/solicitations/{id}/applications`: the program officer's list.
pub async fn officer_list(
    auth: Auth,
    State(state): State<AppState>,
    Path(raw): Path<String>,
    RawQuery(query): RawQuery,
) -> AppResult<Response> {
    let s = officer_solicitation(&state, &auth, &raw).await?;
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query.as_deref().unwrap_or("")).unwrap_or_default();
    let notice = match last(&pairs, "notice") {
        Some("extended") => Some("The extension was granted and recorded.".to_string()),
        _ => None,
    };
    render_officer(
        &state,
        &auth,
        &s,
        ExtensionInput::default(),
        Vec::new(),
        notice,
        StatusCode::OK,
    )
    .await
}

/// `POST /manage/solicitations/{id}/extensions`: grants one organization a later deadline;
/// the date and time are read in the solicitation's time zone.
pub async fn extension(
    auth: Auth,
    State(state): State<AppState>,
    Path(raw): Path<String>,
    body: Bytes,
) -> AppResult<Response> {
    let s = visible_solicitation(&state, &auth, parse_id(&raw)?).await?;
    auth.require(&Action::GrantExtension { office: s.office.id })?;
    let p = form_pairs(&body)?;
    let get = |k: &str| last(&p, k).unwrap_or("").to_string();
    let input = ExtensionInput {
        organization_id: get("organization_id").trim().to_string(),
        date: get("until_date").trim().to_string(),
        time: get("until_time").trim().to_string(),
        reason: get("reason"),
    };
    let mut errors = Vec::new();
    let org = if input.organization_id.is_empty() {
        errors.push(field_error(
            "organization_id",
            "choose the organization that gets the extension",
        ));
        None
    } else {
        match input.organization_id.parse::<OrganizationId>() {
            Ok(o) => Some(o),
            Err(_) => {
                errors.push(field_error("organization_id", "choose one of the organizations listed"));
                None
            }
        }
    };
    let date = match NaiveDate::parse_from_str(&input.date, "%Y-%m-%d") {
        Ok(d) => Some(d),
        Err(_) => {
            errors.push(field_error(
                "until_date",
                "enter the new deadline's date, such as 2027-03-01",
            ));
            None
        }
    };
    let time = if input.time.is_empty() {
        NaiveTime::from_hms_opt(23, 59, 0)
    } else {
        match NaiveTime::parse_from_str(&input.time, "%H:%M")
            .or_else(|_| NaiveTime::parse_from_str(&input.time, "%H:%M:%S"))
        {
            Ok(t) => Some(t),
            Err(_) => {
                errors.push(field_error("until_time", "enter a time such as 23:59"));
                None
            }
        }
    };
    if input.reason.trim().is_empty() {
        errors.push(field_error(
            "reason",
            "say why the extension is granted (it is kept on record)",
        ));
    }
    let (Some(org), Some(date), Some(time), true) = (org, date, time, errors.is_empty()) else {
        return render_officer(&state, &auth, &s, input, errors, None, StatusCode::UNPROCESSABLE_ENTITY).await;
    };
    let until = instant_in_zone(date, time, s.time_zone());
    match apps::grant_extension(&state.db, &auth.actor()?, s.id, org, until, &input.reason, state.now()).await {
        Ok(_) => {
            Ok(Redirect::to(&format!("/manage/solicitations/{}/applications?notice=extended", s.id)).into_response())
        }
        Err(ApplicationError::Invalid(v)) => {
            render_officer(&state, &auth, &s, input, v.0, None, StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(v: &[(&str, &str)]) -> Vec<(String, String)> {
        v.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn the_form_becomes_content_and_blank_rows_are_dropped() {
        let f = EditorForm::from_pairs(&pairs(&[
            ("version", "3"),
            ("project_title", "  Title  "),
            ("abstract", "Short"),
            ("answers.need", "Because"),
            ("answers.plan", ""),
            ("program_areas", "prevention"),
            ("populations_served", "Youth\n\n  Elders  \n"),
            ("service_area.states", "dc, md;VA"),
            ("service_area.county_fips", "11001 24033"),
            ("priorities.lived.claimed", "yes"),
            ("priorities.lived.explanation", ""),
            ("priorities.other.explanation", ""),
            ("eligibility.applicant_type", "non_profit_with_501c3"),
            ("eligibility.annual_budget", "$85,000"),
            ("eligibility.is_intermediary", "no"),
            ("eligibility.requirements[1]", "yes"),
            ("budget.lines[0].category", "personnel"),
            ("budget.lines[0].description", ""),
            ("budget.lines[0].unit_cost", ""),
            ("budget.lines[1].category", "supplies"),
            ("budget.lines[1].description", "Paper"),
            ("budget.lines[1].quantity", "1,000"),
            ("budget.lines[1].unit_cost", "$1.25"),
            ("budget.lines[1].mtdc_excluded", "yes"),
            ("budget.indirect", "negotiated"),
            ("budget.rate_percent", "22.5%"),
            ("budget.indirect_requested", ""),
        ]));
        let mut base = ApplicationContent::default();
        base.answers.insert("plan".into(), "old".into());
        base.answers.insert("kept".into(), "not on the form".into());
        let (c, errors) = f.to_content(&base);
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(c.project_title, "  Title  ", "text is kept exactly as typed");
        assert_eq!(c.answers.get("need").map(String::as_str), Some("Because"));
        assert!(!c.answers.contains_key("plan"), "an emptied answer is removed");
        assert_eq!(c.answers.get("kept").map(String::as_str), Some("not on the form"));
        assert_eq!(c.program_areas, vec![ProgramArea::Prevention]);
        assert_eq!(c.populations_served, vec!["Youth", "Elders"]);
        assert_eq!(c.service_area.states, vec!["DC", "MD", "VA"]);
        assert_eq!(c.service_area.county_fips, vec!["11001", "24033"]);
        assert!(c.priorities["lived"].claimed);
        assert!(
            !c.priorities.contains_key("other"),
            "an empty, unclaimed consideration is left out"
        );
        assert_eq!(c.eligibility.applicant_type, Some(ApplicantType::NonprofitWith501c3));
        assert_eq!(c.eligibility.annual_budget, Some(Money::from_dollars(85_000).unwrap()));
        assert_eq!(c.eligibility.is_intermediary, Some(false));
        assert_eq!(c.eligibility.requirements, vec![None, Some(true)]);
        assert_eq!(c.budget.lines.len(), 1, "the blank row is dropped");
        let l = &c.budget.lines[0];
        assert_eq!(l.category, BudgetCategory::Supplies);
        assert_eq!(l.quantity, Decimal::from(1000));
        assert_eq!(l.unit_cost, Money::from_cents(125).unwrap());
        assert!(l.mtdc_excluded);
        assert_eq!(
            c.budget.indirect,
            IndirectRate::Negotiated {
                rate_percent: Decimal::new(225, 1)
            }
        );
        assert_eq!(c.budget.indirect_requested, None);
    }

    #[test]
    fn an_unreadable_cost_keeps_its_own_lines_value_after_a_blank_row_is_dropped() {
        let mut base = ApplicationContent::default();
        for (d, dollars) in [("Rent", 1000), ("Coach", 500)] {
            base.budget.lines.push(BudgetLine {
                description: d.into(),
                unit_cost: Money::from_dollars(dollars).unwrap(),
                ..Default::default()
            });
        }
        // Rent is blanked out (the row is dropped), and Coach's cost mistyped.
        let f = EditorForm::from_pairs(&pairs(&[
            ("version", "1"),
            ("budget.lines[0].category", "personnel"),
            ("budget.lines[0].description", ""),
            ("budget.lines[0].unit_cost", ""),
            ("budget.lines[1].category", "personnel"),
            ("budget.lines[1].description", "Coach"),
            ("budget.lines[1].unit_cost", "5OO"),
        ]));
        let (c, errors) = f.to_content(&base);
        assert_eq!(errors.len(), 1);
        assert_eq!(c.budget.lines.len(), 1);
        assert_eq!(c.budget.lines[0].description, "Coach");
        assert_eq!(
            c.budget.lines[0].unit_cost,
            Money::from_dollars(500).unwrap(),
            "Coach's own cost, not Rent's"
        );
    }

    #[test]
    fn what_cannot_be_read_keeps_the_saved_value_and_is_reported() {
        let mut base = ApplicationContent::default();
        base.budget.lines.push(BudgetLine {
            description: "Coach".into(),
            unit_cost: Money::from_dollars(500).unwrap(),
            ..Default::default()
        });
        base.eligibility.annual_budget = Some(Money::from_dollars(10).unwrap());
        let f = EditorForm::from_pairs(&pairs(&[
            ("version", "1"),
            ("budget.lines[0].category", "personnel"),
            ("budget.lines[0].description", "Coach, part time"),
            ("budget.lines[0].quantity", "two"),
            ("budget.lines[0].unit_cost", "abc"),
            ("budget.lines[1].category", "nonsense"),
            ("budget.lines[1].description", "New"),
            ("budget.lines[1].unit_cost", "12.345"),
            ("budget.indirect_requested", "lots"),
            ("eligibility.annual_budget", "ten"),
        ]));
        let (c, errors) = f.to_content(&base);
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            vec![
                "eligibility.annual_budget",
                "budget.lines[0].quantity",
                "budget.lines[0].unit_cost",
                "budget.lines[1].category",
                "budget.lines[1].unit_cost",
                "budget.indirect_requested",
            ]
        );
        assert!(errors[4].message.contains("2 decimal places"));
        assert_eq!(c.budget.lines[0].description, "Coach, part time", "the rest is taken");
        assert_eq!(c.budget.lines[0].unit_cost, Money::from_dollars(500).unwrap());
        assert_eq!(c.budget.lines[0].quantity, Decimal::ONE);
        assert_eq!(c.budget.lines[1].unit_cost, Money::ZERO);
        assert_eq!(c.eligibility.annual_budget, Some(Money::from_dollars(10).unwrap()));
        // The form still holds what was typed.
        assert_eq!(f.lines[0].unit_cost, "abc");
    }

    #[test]
    fn content_survives_the_form() {
        let mut c = ApplicationContent {
            project_title: "T".into(),
            project_abstract: "A\nB".into(),
            program_areas: vec![ProgramArea::Intervention],
            populations_served: vec!["Youth".into()],
            ..Default::default()
        };
        c.answers.insert("need".into(), "\nStarts with a newline".into());
        c.priorities.insert(
            "lived".into(),
            PriorityClaim {
                claimed: true,
                explanation: "Yes".into(),
            },
        );
        c.eligibility.requirements = vec![Some(true), None, Some(false)];
        c.eligibility.state = Some("DC".into());
        c.budget.lines.push(BudgetLine {
            category: BudgetCategory::Subawards,
            description: "To a group".into(),
            quantity: Decimal::new(5, 1),
            unit_cost: Money::from_cents(123_456).unwrap(),
            recipient: "Group".into(),
            mtdc_excluded: false,
        });
        c.budget.indirect = IndirectRate::DeMinimis;
        c.budget.indirect_requested = Some(Money::from_dollars(100).unwrap());
        c.budget.justification = "Why".into();
        let f = EditorForm::from_content(&c, 7);
        let mut p: Vec<(String, String)> = vec![
            ("version".into(), f.version.clone()),
            ("project_title".into(), f.project_title.clone()),
            ("abstract".into(), f.project_abstract.clone()),
            ("populations_served".into(), f.populations_served.clone()),
            ("service_area.states".into(), f.states.clone()),
            ("service_area.county_fips".into(), f.county_fips.clone()),
            ("service_area.description".into(), f.area_description.clone()),
            ("budget.indirect".into(), f.indirect.clone()),
            ("budget.rate_percent".into(), f.rate_percent.clone()),
            ("budget.indirect_requested".into(), f.indirect_requested.clone()),
            ("budget.justification".into(), f.justification.clone()),
        ];
        p.extend(f.program_areas.iter().map(|a| ("program_areas".into(), a.clone())));
        p.extend(f.answers.iter().map(|(k, v)| (format!("answers.{k}"), v.clone())));
        p.extend(
            f.eligibility
                .iter()
                .map(|(k, v)| (format!("eligibility.{k}"), v.clone())),
        );
        for (k, (claimed, explanation)) in &f.priorities {
            if *claimed {
                p.push((format!("priorities.{k}.claimed"), "yes".into()));
            }
            p.push((format!("priorities.{k}.explanation"), explanation.clone()));
        }
        for (i, l) in f.lines.iter().enumerate() {
            p.push((format!("budget.lines[{i}].category"), l.category.clone()));
            p.push((format!("budget.lines[{i}].description"), l.description.clone()));
            p.push((format!("budget.lines[{i}].quantity"), l.quantity.clone()));
            p.push((format!("budget.lines[{i}].unit_cost"), l.unit_cost.clone()));
            p.push((format!("budget.lines[{i}].recipient"), l.recipient.clone()));
        }
        let (back, errors) = EditorForm::from_pairs(&p).to_content(&ApplicationContent::default());
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(back, c);
    }

    #[test]
    fn counters_say_how_far_over() {
        assert_eq!(counter_text(12, 500), "12 / 500 characters");
        assert_eq!(counter_text(510, 500), "510 / 500 characters: 10 over the limit");
        assert!(counter("x", &"é".repeat(501), 500).over, "characters, not bytes");
        assert!(!counter("x", &"é".repeat(500), 500).over);
    }
}
