//! The reviewer's side of scoring, and the applicant's explanation of the outcome.
//!
//! Reviewers (any member of the issuing office a program officer put in a solicitation's
//! pool) see their assignments, read each application as it was submitted, score it against
//! the published rubric, save drafts, submit, and declare a conflict of interest. The policy
//! is asked first (`Action::Review` for the solicitation's office); then the scoring service
//! opens a review only for the person it is assigned to, never when it was released (which
//! is what a declared conflict does), so a conflicted reviewer never sees the application.
//! Reviewers never see priority considerations, and when the review is blind nothing that
//! names the applicant.
//!
//! Applicants read their outcome and its step-by-step explanation once the program office
//! releases its decision; reviewers appear there only as "Reviewer 1", "Reviewer 2"...
//!
//! Every page has its JSON twin under `/api/v1`; both make the same domain calls.

use std::collections::BTreeMap;
use std::str::FromStr;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, Utc};
use granary_applications::{DocumentSlot, ReceivedSnapshot, budget};
use granary_core::FieldError;
use granary_core::Money;
use granary_core::id::{ApplicationId, SolicitationId, UserId};
use granary_core::policy::Action;
use granary_scoring::conflicts::{self, ConflictDeclaration};
use granary_scoring::pipeline::ApplicationResult;
use granary_scoring::{
    ConflictKind, ConflictSource, CriterionReview, Review, ReviewContent, ReviewId, ReviewSettings, ReviewStatus,
    ScoringError, assign, decisions, pool, reviews, subjects,
};
use granary_solicitations::{self as sol, ProgramArea, Rubric, Solicitation};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::auth::Auth;
use crate::error::{AppError, AppResult};
use crate::routes::applications::{Need, load, local_time};
use crate::routes::apply::{field_error, form_pairs, last};
use crate::routes::authoring::parse_json;
use crate::state::AppState;

/// Scoring's errors as responses, by their kind: used here and by the program officer's
/// review pages.
impl From<ScoringError> for AppError {
    fn from(e: ScoringError) -> Self {
        use granary_core::error::Classify;
        AppError::from_kind(e.kind(), e.to_string(), e.field_errors())
    }
}

/// What a review page answers when there is no review for the caller to see: someone else's,
/// one taken back, or none at all look the same.
fn no_review() -> AppError {
    AppError::not_found("There is no such review among your assignments.")
}

const NOT_RELEASED: &str = "Decisions for this solicitation have not been released yet.";

fn errors_for(errors: &[FieldError], field: &str) -> Option<String> {
    errors
        .iter()
        .filter(|e| e.field == field)
        .map(|e| e.message.clone())
        .reduce(|a, b| format!("{a}; {b}"))
}

/// A score or merit as people read it: `12.5`, `80`.
fn number(d: Decimal) -> String {
    d.round_dp(2).normalize().to_string()
}

fn total_of(content: &ReviewContent) -> Decimal {
    content.criteria.values().filter_map(|c| c.score).sum()
}

/// The signed-in person asking, after the policy agreed they may use their own pages.
fn me(auth: &Auth) -> AppResult<UserId> {
    auth.require(&Action::ManageOwnAccount)?;
    auth.user().map(|u| u.id).ok_or_else(AppError::sign_in_required)
}

// ---------------------------------------------------------------------------------------
// Opening a review

/// A review opened by its own reviewer, with what its pages need.
struct Opened {
    review: Review,
    s: Solicitation,
    settings: ReviewSettings,
    me: UserId,
}

/// Opens a review for the caller: signed in, allowed by the policy to review for the
/// solicitation's office, and the review's own (live, unconflicted) reviewer. Anyone else is
/// told there is no such review.
async fn open(state: &AppState, auth: &Auth, raw: &str) -> AppResult<Opened> {
    // Someone signed out is sent to sign in and brought back here.
    let me = me(auth)?;
    let id: ReviewId = raw.parse().map_err(|_| no_review())?;
    let found = match reviews::get(&state.db, id).await {
        Ok(r) => r,
        Err(ScoringError::NotFound(_)) => return Err(no_review()),
        Err(e) => return Err(e.into()),
    };
    let s = sol::get(&state.db, found.solicitation_id).await?;
    if !auth.allows(&Action::Review { office: s.office.id }) {
        return Err(no_review());
    }
    // Always the signed-in person: the service opens only their own assignment.
    let review = match reviews::open_for_reviewer(&state.db, id, me).await {
        Ok(r) => r,
        Err(ScoringError::NotFound(_)) => return Err(no_review()),
        Err(e) => return Err(e.into()),
    };
    let (settings, _) = pool::settings(&state.db, s.id).await?;
    Ok(Opened {
        review,
        s,
        settings,
        me,
    })
}

/// A reviewer's live, unconflicted assignments of one solicitation, in the order they were
/// given: the list numbers blind applications by this order.
async fn assignments_in(state: &AppState, me: UserId, solicitation: SolicitationId) -> AppResult<Vec<Review>> {
    let conflicted = conflicts::conflicted_pairs(&state.db, solicitation).await?;
    let mut mine: Vec<Review> = reviews::assignments_of(&state.db, me)
        .await?
        .into_iter()
        .filter(|r| r.solicitation_id == solicitation)
        .filter(|r| !conflicted.contains(&(r.application_id.as_uuid(), me.as_uuid())))
        .collect();
    // Assignments made in one run share their time: the id settles the order for good.
    mine.sort_by_key(|r| (r.assigned_at, r.id));
    Ok(mine)
}

/// "Application 3": how a blind review names its application.
fn blind_label(n: usize) -> String {
    format!("Application {n}")
}

/// The name of the application a reviewer reviews: its project title, or "Application N"
/// when the review is blind.
async fn label_of(state: &AppState, o: &Opened, project_title: &str) -> AppResult<String> {
    if o.settings.blind {
        let mine = assignments_in(state, o.me, o.s.id).await?;
        let n = mine.iter().position(|r| r.id == o.review.id).unwrap_or(0) + 1;
        return Ok(blind_label(n));
    }
    Ok(if project_title.trim().is_empty() {
        "Untitled application".to_string()
    } else {
        project_title.to_string()
    })
}

// ---------------------------------------------------------------------------------------
// The application as a reviewer may see it

/// Takes the applicant's name out of text a blind reviewer reads (the applicant may have
/// written it into an answer). Matches ignore ASCII case.
struct Redactor {
    name: Option<String>,
}

const REDACTED: &str = "[the applicant]";

impl Redactor {
    fn new(blind: bool, name: &str) -> Redactor {
        let name = name.trim();
        Redactor {
            name: (blind && name.chars().count() >= 3).then(|| name.to_string()),
        }
    }

    fn apply(&self, text: &str) -> String {
        let Some(name) = &self.name else {
            return text.to_string();
        };
        let (hay, needle) = (text.as_bytes(), name.as_bytes());
        let mut out = String::with_capacity(text.len());
        let mut i = 0;
        let mut copied = 0;
        while i + needle.len() <= hay.len() {
            if text.is_char_boundary(i)
                && text.is_char_boundary(i + needle.len())
                && hay[i..i + needle.len()].eq_ignore_ascii_case(needle)
            {
                out.push_str(&text[copied..i]);
                out.push_str(REDACTED);
                i += needle.len();
                copied = i;
            } else {
                i += 1;
            }
        }
        out.push_str(&text[copied..]);
        out
    }
}

#[derive(Serialize)]
struct ShownAnswer {
    key: String,
    prompt: String,
    answer: String,
}

#[derive(Serialize)]
struct ShownServiceArea {
    states: Vec<String>,
    county_fips: Vec<String>,
    description: String,
}

#[derive(Serialize)]
struct ShownCategory {
    label: &'static str,
    total: Money,
}

#[derive(Serialize)]
struct ShownBudget {
    /// The categories with costs in them.
    categories: Vec<ShownCategory>,
    direct_total: Money,
    indirect_rate_percent: Decimal,
    indirect: Money,
    total_request: Money,
    justification: String,
}

#[derive(Serialize)]
struct ShownDocument {
    title: String,
}

/// An application as its reviewer may see it: what was submitted, without the priority
/// considerations (reviewers score merit only) and, when blind, without the applicant.
#[derive(Serialize)]
struct ShownApplication {
    id: ApplicationId,
    /// The project title, or "Application N" when the review is blind.
    label: String,
    identity_hidden: bool,
    /// The applicant organization's name, unless the review is blind.
    organization: Option<String>,
    /// The applicant withdrew it after it was assigned: there is nothing to review now.
    withdrawn: bool,
    submitted_at: Option<DateTime<Utc>>,
    project_title: String,
    #[serde(rename = "abstract")]
    project_abstract: String,
    answers: Vec<ShownAnswer>,
    program_areas: Vec<ProgramArea>,
    populations_served: Vec<String>,
    service_area: Option<ShownServiceArea>,
    budget: Option<ShownBudget>,
    /// Titles only; documents are not downloaded from the review.
    documents: Vec<ShownDocument>,
}

fn shown_application(
    s: &Solicitation,
    id: ApplicationId,
    label: String,
    blind: bool,
    snap: Option<&ReceivedSnapshot>,
) -> ShownApplication {
    let Some(snap) = snap else {
        return ShownApplication {
            id,
            label,
            identity_hidden: blind,
            organization: None,
            withdrawn: true,
            submitted_at: None,
            project_title: String::new(),
            project_abstract: String::new(),
            answers: Vec::new(),
            program_areas: Vec::new(),
            populations_served: Vec::new(),
            service_area: None,
            budget: None,
            documents: Vec::new(),
        };
    };
    let r = Redactor::new(blind, &snap.organization.name);
    let c = &snap.content;
    let mut answers: Vec<ShownAnswer> = s
        .content
        .questions
        .iter()
        .filter_map(|q| {
            c.answers.get(&q.key).map(|a| ShownAnswer {
                key: q.key.clone(),
                prompt: q.prompt.clone(),
                answer: r.apply(a),
            })
        })
        .collect();
    // Answers to questions an amendment has since removed are shown too, by their key.
    for (k, a) in &c.answers {
        if !s.content.questions.iter().any(|q| &q.key == k) {
            answers.push(ShownAnswer {
                key: k.clone(),
                prompt: k.clone(),
                answer: r.apply(a),
            });
        }
    }
    let budget = budget::summarize(&c.budget).ok().map(|b| ShownBudget {
        categories: b
            .categories
            .iter()
            .filter(|x| !x.total.is_zero())
            .map(|x| ShownCategory {
                label: x.label,
                total: x.total,
            })
            .collect(),
        direct_total: b.direct_total,
        indirect_rate_percent: b.indirect_rate_percent,
        indirect: b.indirect,
        total_request: b.total_request,
        justification: r.apply(&c.budget.justification),
    });
    let documents = snap
        .documents
        .iter()
        .filter_map(|d| {
            // Evidence for a priority consideration would tell the reviewer its status.
            let named = match &d.slot {
                DocumentSlot::PriorityEvidence(_) => return None,
                DocumentSlot::Required(k) => s
                    .content
                    .required_documents
                    .iter()
                    .find(|x| &x.key == k)
                    .map(|x| x.name.clone()),
                DocumentSlot::IndirectRateAgreement => Some("Indirect cost rate agreement".to_string()),
                DocumentSlot::Other => None,
            };
            // A blind review shows what the solicitation calls the document, not the
            // applicant's own title, where it can.
            let title = match (blind, named) {
                (true, Some(n)) => n,
                (false, Some(n)) if d.title.trim().is_empty() => n,
                (_, _) if d.title.trim().is_empty() => "Attachment".to_string(),
                _ => r.apply(&d.title),
            };
            Some(ShownDocument { title })
        })
        .collect();
    ShownApplication {
        id,
        label,
        identity_hidden: blind,
        organization: (!blind).then(|| snap.organization.name.clone()),
        withdrawn: false,
        submitted_at: Some(snap.submitted_at),
        project_title: r.apply(&c.project_title),
        project_abstract: r.apply(&c.project_abstract),
        answers,
        program_areas: c.program_areas.clone(),
        populations_served: c.populations_served.iter().map(|p| r.apply(p)).collect(),
        service_area: Some(ShownServiceArea {
            states: c.service_area.states.clone(),
            county_fips: c.service_area.county_fips.clone(),
            description: r.apply(&c.service_area.description),
        }),
        budget,
        documents,
    }
}

/// The submitted snapshot of the review's application, or None when the applicant withdrew it.
async fn snapshot_of(state: &AppState, application: ApplicationId) -> AppResult<Option<ReceivedSnapshot>> {
    match subjects::snapshot(&state.db, application).await {
        Ok(s) => Ok(Some(s)),
        Err(ScoringError::Conflict(_)) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

async fn shown_for(state: &AppState, o: &Opened) -> AppResult<ShownApplication> {
    let snap = snapshot_of(state, o.review.application_id).await?;
    let title = snap
        .as_ref()
        .map(|s| s.content.project_title.clone())
        .unwrap_or_default();
    let label = label_of(state, o, &title).await?;
    Ok(shown_application(
        &o.s,
        o.review.application_id,
        label,
        o.settings.blind,
        snap.as_ref(),
    ))
}

// ---------------------------------------------------------------------------------------
// The review form, as typed

#[derive(Debug, Clone, Default)]
struct TypedCriterion {
    score: String,
    strengths: String,
    weaknesses: String,
}

/// Every input of the review form, as text, so a form sent back with a mistake shows exactly
/// what was typed.
#[derive(Debug, Clone, Default)]
struct TypedReview {
    version: String,
    criteria: BTreeMap<String, TypedCriterion>,
    overall_comment: String,
}

/// Text from a textarea, with the browser's line breaks made plain.
fn plain_lines(s: &str) -> String {
    s.replace("\r\n", "\n")
}

impl TypedReview {
    fn from_review(r: &Review) -> TypedReview {
        TypedReview {
            version: r.version.to_string(),
            criteria: r
                .content
                .criteria
                .iter()
                .map(|(k, c)| {
                    (
                        k.clone(),
                        TypedCriterion {
                            score: c.score.map(|s| s.normalize().to_string()).unwrap_or_default(),
                            strengths: c.strengths.clone(),
                            weaknesses: c.weaknesses.clone(),
                        },
                    )
                })
                .collect(),
            overall_comment: r.content.overall_comment.clone(),
        }
    }

    fn from_pairs(p: &[(String, String)], rubric: &Rubric) -> TypedReview {
        let mut t = TypedReview::default();
        for (k, v) in p {
            if k == "version" {
                t.version = v.trim().to_string();
            } else if k == "overall_comment" {
                t.overall_comment = plain_lines(v);
            } else if let Some(rest) = k.strip_prefix("criteria.")
                && let Some((key, part)) = rest.rsplit_once('.')
                // Only the rubric's criteria: a forged form cannot grow the map.
                && rubric.criteria.iter().any(|c| c.key == key)
            {
                let c = t.criteria.entry(key.to_string()).or_default();
                match part {
                    "score" => c.score = v.trim().to_string(),
                    "strengths" => c.strengths = plain_lines(v),
                    "weaknesses" => c.weaknesses = plain_lines(v),
                    _ => {}
                }
            }
        }
        t
    }

    /// The review the form describes, and the scores that could not be read.
    fn to_content(&self, rubric: &Rubric) -> (ReviewContent, Vec<FieldError>) {
        let mut errors = Vec::new();
        let mut content = ReviewContent {
            overall_comment: self.overall_comment.clone(),
            ..Default::default()
        };
        for c in &rubric.criteria {
            let Some(t) = self.criteria.get(&c.key) else {
                continue;
            };
            let score = if t.score.is_empty() {
                None
            } else {
                match Decimal::from_str(&t.score) {
                    Ok(d) => Some(d),
                    Err(_) => {
                        errors.push(field_error(
                            format!("criteria.{}.score", c.key),
                            format!("enter a number of points from 0 to {}, such as 12 or 12.5", c.points),
                        ));
                        None
                    }
                }
            };
            if score.is_some() || !t.strengths.is_empty() || !t.weaknesses.is_empty() {
                content.criteria.insert(
                    c.key.clone(),
                    CriterionReview {
                        score,
                        strengths: t.strengths.clone(),
                        weaknesses: t.weaknesses.clone(),
                    },
                );
            }
        }
        (content, errors)
    }
}

/// The conflict form, as typed.
#[derive(Debug, Clone, Default)]
struct TypedConflict {
    kind: String,
    note: String,
}

// ---------------------------------------------------------------------------------------
// The review page

#[derive(Serialize)]
struct ProblemView {
    anchor: String,
    text: String,
}

#[derive(Serialize)]
struct InputView {
    name: String,
    value: String,
    error: Option<String>,
}

#[derive(Serialize)]
struct CriterionView {
    key: String,
    name: String,
    description: String,
    points: u32,
    score: InputView,
    strengths: InputView,
    weaknesses: InputView,
    /// The saved score, for the read-only view ("12.5"; empty when not scored).
    shown_score: String,
}

#[derive(Serialize)]
struct OtherCriterionView {
    name: String,
    points: u32,
    score: String,
    strengths: String,
    weaknesses: String,
}

#[derive(Serialize)]
struct OtherView {
    label: String,
    total: String,
    criteria: Vec<OtherCriterionView>,
    overall_comment: String,
}

#[derive(Serialize)]
struct Choice {
    value: String,
    label: String,
    selected: bool,
}

#[derive(Serialize)]
struct ConflictFormView {
    action: String,
    kinds: Vec<Choice>,
    note: String,
    kind_error: Option<String>,
    note_error: Option<String>,
    has_errors: bool,
    errors: Vec<ProblemView>,
}

#[derive(Serialize)]
struct PageAmount {
    label: String,
    amount: String,
}

#[derive(Serialize)]
struct PageBudget {
    categories: Vec<PageAmount>,
    direct_total: String,
    indirect: String,
    rate: String,
    total_request: String,
    justification: String,
}

#[derive(Serialize)]
struct ReviewPage<'a> {
    csrf: String,
    id: String,
    action: String,
    solicitation_number: String,
    solicitation_title: String,
    office: String,
    status: &'static str,
    status_label: &'static str,
    notice: Option<String>,
    banner: Option<String>,
    reopened: Option<String>,
    has_errors: bool,
    errors: Vec<ProblemView>,
    app: &'a ShownApplication,
    program_areas: String,
    budget: Option<PageBudget>,
    has_answers: bool,
    has_documents: bool,
    editable: bool,
    version: String,
    criteria: Vec<CriterionView>,
    overall_comment: InputView,
    total: String,
    total_points: u32,
    submitted_at: String,
    shares_reviews: bool,
    others: Vec<OtherView>,
    has_others: bool,
    conflict: ConflictFormView,
}

/// What a review page shows besides the review itself.
struct PageState {
    typed: TypedReview,
    errors: Vec<FieldError>,
    notice: Option<String>,
    banner: Option<String>,
    conflict: TypedConflict,
    conflict_errors: Vec<FieldError>,
    status: StatusCode,
}

impl PageState {
    fn saved(r: &Review) -> PageState {
        PageState {
            typed: TypedReview::from_review(r),
            errors: Vec::new(),
            notice: None,
            banner: None,
            conflict: TypedConflict::default(),
            conflict_errors: Vec::new(),
            status: StatusCode::OK,
        }
    }
}

/// What a field of the form is, in words ("Statement of the Problem: score").
fn field_label(field: &str, rubric: &Rubric) -> String {
    if let Some(rest) = field.strip_prefix("criteria.") {
        let (key, part) = rest.rsplit_once('.').unwrap_or((rest, ""));
        let name = rubric
            .criteria
            .iter()
            .find(|c| c.key == key)
            .map(|c| c.name.clone())
            .unwrap_or_else(|| key.to_string());
        return match part {
            "score" => format!("{name}: score"),
            "strengths" => format!("{name}: strengths"),
            "weaknesses" => format!("{name}: weaknesses"),
            _ => name,
        };
    }
    match field {
        "overall_comment" => "Overall comment".to_string(),
        "kind" => "Kind of conflict".to_string(),
        "note" => "Note about the conflict".to_string(),
        _ => String::new(),
    }
}

fn capitalized(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(first) => first.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

fn problem_views(errors: &[FieldError], rubric: &Rubric, anchor: impl Fn(&str) -> String) -> Vec<ProblemView> {
    errors
        .iter()
        .map(|e| {
            let label = field_label(&e.field, rubric);
            // "score Need (0 to 60 points)" already says which.
            let text = if label.is_empty() || e.message.starts_with("score ") {
                capitalized(&e.message)
            } else {
                format!("{label}: {}", e.message)
            };
            ProblemView {
                anchor: anchor(&e.field),
                text,
            }
        })
        .collect()
}

fn conflict_anchor(field: &str) -> String {
    match field {
        "kind" | "note" => format!("conflict-{field}"),
        _ => "conflict".to_string(),
    }
}

fn notice_text(key: &str) -> Option<&'static str> {
    match key {
        "saved" => Some("Your draft is saved. You can come back to it at any time before you submit."),
        "submitted" => Some(
            "Your review is submitted. Thank you! If something needs to change, ask the program officer to reopen it.",
        ),
        _ => None,
    }
}

fn notice_from_query(raw: Option<&str>, text: fn(&str) -> Option<&'static str>) -> Option<String> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(raw.unwrap_or("")).unwrap_or_default();
    last(&pairs, "notice").and_then(text).map(str::to_string)
}

fn page_budget(b: &ShownBudget) -> PageBudget {
    PageBudget {
        categories: b
            .categories
            .iter()
            .map(|c| PageAmount {
                label: c.label.to_string(),
                amount: budget::dollars(c.total),
            })
            .collect(),
        direct_total: budget::dollars(b.direct_total),
        indirect: budget::dollars(b.indirect),
        rate: budget::percent(b.indirect_rate_percent),
        total_request: budget::dollars(b.total_request),
        justification: b.justification.clone(),
    }
}

async fn render_review(state: &AppState, auth: &Auth, o: &Opened, p: PageState) -> AppResult<Response> {
    let r = &o.review;
    let rubric = &o.s.content.rubric;
    let app = shown_for(state, o).await?;
    let others = reviews::others_visible_to(&state.db, r, &o.settings).await?;
    let t = &p.typed;
    let criteria: Vec<CriterionView> = rubric
        .criteria
        .iter()
        .map(|c| {
            let typed = t.criteria.get(&c.key).cloned().unwrap_or_default();
            let name = |part: &str| format!("criteria.{}.{part}", c.key);
            let input = |part: &str, value: String| InputView {
                error: errors_for(&p.errors, &name(part)),
                name: name(part),
                value,
            };
            CriterionView {
                key: c.key.clone(),
                name: c.name.clone(),
                description: c.description.clone(),
                points: c.points,
                score: input("score", typed.score),
                strengths: input("strengths", typed.strengths),
                weaknesses: input("weaknesses", typed.weaknesses),
                shown_score: r
                    .content
                    .criteria
                    .get(&c.key)
                    .and_then(|x| x.score)
                    .map(number)
                    .unwrap_or_default(),
            }
        })
        .collect();
    let others: Vec<OtherView> = others
        .iter()
        .enumerate()
        .map(|(n, other)| OtherView {
            label: format!("Reviewer {}", n + 1),
            total: number(total_of(&other.content)),
            criteria: rubric
                .criteria
                .iter()
                .map(|c| {
                    let x = other.content.criteria.get(&c.key);
                    OtherCriterionView {
                        name: c.name.clone(),
                        points: c.points,
                        score: x.and_then(|x| x.score).map(number).unwrap_or_default(),
                        strengths: x.map(|x| x.strengths.clone()).unwrap_or_default(),
                        weaknesses: x.map(|x| x.weaknesses.clone()).unwrap_or_default(),
                    }
                })
                .collect(),
            overall_comment: other.content.overall_comment.clone(),
        })
        .collect();
    let conflict = ConflictFormView {
        action: format!("/reviews/{}/conflict", r.id),
        kinds: std::iter::once(Choice {
            value: String::new(),
            label: "Choose the kind of conflict".to_string(),
            selected: p.conflict.kind.is_empty(),
        })
        .chain(ConflictKind::ALL.iter().map(|k| Choice {
            value: k.as_str().to_string(),
            label: k.label().to_string(),
            selected: p.conflict.kind == k.as_str(),
        }))
        .collect(),
        note: p.conflict.note.clone(),
        kind_error: errors_for(&p.conflict_errors, "kind"),
        note_error: errors_for(&p.conflict_errors, "note"),
        has_errors: !p.conflict_errors.is_empty(),
        errors: problem_views(&p.conflict_errors, rubric, conflict_anchor),
    };
    let reopened = match (r.status, &r.reopened_by, r.reopened_at) {
        (ReviewStatus::InProgress, Some(by), Some(at)) => Some(format!(
            "{by} reopened this review on {} so you can change it. Submit it again when you are done.",
            local_time(&o.s, at)
        )),
        _ => None,
    };
    let body = ReviewPage {
        csrf: auth.csrf.clone(),
        id: r.id.to_string(),
        action: format!("/reviews/{}", r.id),
        solicitation_number: o.s.content.number.clone(),
        solicitation_title: o.s.content.title.clone(),
        office: o.s.office.name.clone(),
        status: r.status.as_str(),
        status_label: r.status.label(),
        notice: p.notice,
        banner: p.banner,
        reopened,
        has_errors: !p.errors.is_empty(),
        errors: problem_views(&p.errors, rubric, |f| {
            if f.starts_with("criteria.") || f == "overall_comment" {
                f.to_string()
            } else {
                "review".to_string()
            }
        }),
        program_areas: app
            .program_areas
            .iter()
            .map(|a| a.label())
            .collect::<Vec<_>>()
            .join(", "),
        budget: app.budget.as_ref().map(page_budget),
        has_answers: !app.answers.is_empty(),
        has_documents: !app.documents.is_empty(),
        app: &app,
        editable: r.status != ReviewStatus::Submitted,
        version: t.version.clone(),
        criteria,
        overall_comment: InputView {
            name: "overall_comment".to_string(),
            value: t.overall_comment.clone(),
            error: errors_for(&p.errors, "overall_comment"),
        },
        total: number(total_of(&r.content)),
        total_points: rubric.total_points,
        submitted_at: r.submitted_at.map(|at| local_time(&o.s, at)).unwrap_or_default(),
        shares_reviews: o.settings.share_reviews_after_submitting,
        has_others: !others.is_empty(),
        others,
        conflict,
    };
    let html = state.views.page(
        &auth.chrome(),
        "review_form",
        &format!("Review: {}", app.label),
        "reviews",
        &body,
    )?;
    Ok((p.status, html).into_response())
}

/// `GET /reviews/{id}`: the application and the review form (read-only once submitted).
pub async fn review_page(
    auth: Auth,
    State(state): State<AppState>,
    Path(raw): Path<String>,
    RawQuery(query): RawQuery,
) -> AppResult<Response> {
    let o = open(&state, &auth, &raw).await?;
    let mut p = PageState::saved(&o.review);
    p.notice = notice_from_query(query.as_deref(), notice_text);
    render_review(&state, &auth, &o, p).await
}

/// `POST /reviews/{id}`: saves the form as a draft (`action=save`) or submits it
/// (`action=submit`). Mistakes come back with the form as typed (422); a save that started
/// from an older version comes back with what was typed and says so (409).
pub async fn save_page(
    auth: Auth,
    State(state): State<AppState>,
    Path(raw): Path<String>,
    body: Bytes,
) -> AppResult<Response> {
    let o = open(&state, &auth, &raw).await?;
    if o.review.status == ReviewStatus::Submitted {
        // A form left open in another tab.
        let mut page = PageState::saved(&o.review);
        page.status = StatusCode::CONFLICT;
        page.banner = Some(
            "Nothing was saved: this review has been submitted. Ask the program officer to reopen it if it must change."
                .to_string(),
        );
        return render_review(&state, &auth, &o, page).await;
    }
    let p = form_pairs(&body)?;
    let submitting = last(&p, "action") == Some("submit");
    let rubric = &o.s.content.rubric;
    let typed = TypedReview::from_pairs(&p, rubric);
    let (content, mut errors) = typed.to_content(rubric);
    let mut page = PageState::saved(&o.review);
    page.typed = typed.clone();
    let Ok(version) = typed.version.parse::<i32>() else {
        page.errors = vec![field_error(
            "version",
            "this form does not say which version of the review it started from; reload the page and try again",
        )];
        page.status = StatusCode::UNPROCESSABLE_ENTITY;
        return render_review(&state, &auth, &o, page).await;
    };
    // Everything wrong at once: the scores that could not be read, and the rubric's rules.
    if let Err(v) = reviews::validate(&content, rubric, submitting) {
        let unread: Vec<String> = errors.iter().map(|e| e.field.clone()).collect();
        errors.extend(v.0.into_iter().filter(|e| !unread.contains(&e.field)));
    }
    if !errors.is_empty() {
        page.errors = errors;
        page.banner = Some(if submitting {
            "Not submitted: please fix the entries marked below. Nothing was saved.".to_string()
        } else {
            "Nothing was saved: please fix the entries marked below and save again.".to_string()
        });
        page.status = StatusCode::UNPROCESSABLE_ENTITY;
        return render_review(&state, &auth, &o, page).await;
    }
    let actor = auth.actor()?;
    let (now, me, id) = (state.now(), o.me, o.review.id);
    let done = if submitting {
        reviews::submit(&state.db, &actor, me, id, Some(content), version, rubric, now).await
    } else {
        reviews::save(&state.db, &actor, me, id, content, version, rubric, now).await
    };
    match done {
        Ok(r) => {
            let notice = if submitting { "submitted" } else { "saved" };
            Ok(Redirect::to(&format!("/reviews/{}?notice={notice}", r.id)).into_response())
        }
        Err(ScoringError::Invalid(v)) => {
            page.errors = v.0;
            page.status = StatusCode::UNPROCESSABLE_ENTITY;
            render_review(&state, &auth, &o, page).await
        }
        Err(ScoringError::VersionConflict { current }) => {
            // Reopen to show the review as it stands now, with what was typed kept in the form.
            let now_open = open(&state, &auth, &raw).await?;
            let mut page = PageState::saved(&now_open.review);
            page.status = StatusCode::CONFLICT;
            let mut kept = typed;
            // Saving again replaces the newer version with what is in the form.
            kept.version = current.to_string();
            page.typed = kept;
            page.banner = Some(format!(
                "Nothing was saved: this review was saved elsewhere (now version {current}) after you opened version {version}, perhaps in another tab or window. The form still holds what you typed; press Save draft or Submit review again to replace the newer version with it, or reload the page to see the newer version."
            ));
            render_review(&state, &auth, &now_open, page).await
        }
        // Submitted elsewhere in the meantime.
        Err(ScoringError::Conflict(message)) => {
            let now_open = open(&state, &auth, &raw).await?;
            let mut page = PageState::saved(&now_open.review);
            page.status = StatusCode::CONFLICT;
            page.banner = Some(format!("Nothing was saved: {message}."));
            render_review(&state, &auth, &now_open, page).await
        }
        Err(ScoringError::NotFound(_)) => Err(no_review()),
        Err(e) => Err(e.into()),
    }
}

/// `POST /reviews/{id}/conflict`: the reviewer declares a conflict of interest.
pub async fn conflict_page(
    auth: Auth,
    State(state): State<AppState>,
    Path(raw): Path<String>,
    body: Bytes,
) -> AppResult<Response> {
    let o = open(&state, &auth, &raw).await?;
    let p = form_pairs(&body)?;
    let typed = TypedConflict {
        kind: last(&p, "kind").unwrap_or("").trim().to_string(),
        note: plain_lines(last(&p, "note").unwrap_or("")),
    };
    let refuse = |errors: Vec<FieldError>, typed: TypedConflict| {
        let mut page = PageState::saved(&o.review);
        page.conflict = typed;
        page.conflict_errors = errors;
        page.status = StatusCode::UNPROCESSABLE_ENTITY;
        page
    };
    let Some(kind) = ConflictKind::parse(&typed.kind) else {
        let page = refuse(vec![field_error("kind", "choose the kind of conflict")], typed);
        return render_review(&state, &auth, &o, page).await;
    };
    let declaration = ConflictDeclaration {
        kind,
        note: typed.note.clone(),
    };
    let actor = auth.actor()?;
    match assign::declare_conflict(
        &state.db,
        &actor,
        &o.s,
        o.review.application_id,
        o.me,
        ConflictSource::Declared,
        &declaration,
        state.now(),
    )
    .await
    {
        Ok(d) => {
            let notice = if d.replacement.is_some() {
                "conflict"
            } else {
                "conflict-unfilled"
            };
            Ok(Redirect::to(&format!("/reviews?notice={notice}")).into_response())
        }
        Err(ScoringError::Invalid(v)) => {
            let page = refuse(v.0, typed);
            render_review(&state, &auth, &o, page).await
        }
        Err(e) => Err(e.into()),
    }
}

// ---------------------------------------------------------------------------------------
// The list of assignments

/// One solicitation's assignments of a reviewer, each with how the list names it.
struct Group {
    s: Solicitation,
    items: Vec<(Review, String)>,
}

/// The caller's live assignments, by solicitation in the order first assigned. Assignments
/// the caller has a conflict with, or in offices the policy no longer lets them review for,
/// are left out.
async fn my_assignments(state: &AppState, auth: &Auth, me: UserId) -> AppResult<Vec<Group>> {
    let all = reviews::assignments_of(&state.db, me).await?;
    let mut order: Vec<SolicitationId> = Vec::new();
    for r in &all {
        if !order.contains(&r.solicitation_id) {
            order.push(r.solicitation_id);
        }
    }
    let mut groups = Vec::with_capacity(order.len());
    for sid in order {
        let s = sol::get(&state.db, sid).await?;
        // Asking without recording: the list is the caller's own, whatever it holds.
        if !auth.may(&Action::Review { office: s.office.id }) {
            continue;
        }
        let (settings, _) = pool::settings(&state.db, sid).await?;
        let titles: BTreeMap<uuid::Uuid, String> = if settings.blind {
            BTreeMap::new()
        } else {
            subjects::submitted(&state.db, sid)
                .await?
                .into_iter()
                .map(|a| (a.id, a.project_title))
                .collect()
        };
        let items = assignments_in(state, me, sid)
            .await?
            .into_iter()
            .enumerate()
            .map(|(i, r)| {
                let label = if settings.blind {
                    blind_label(i + 1)
                } else {
                    match titles.get(&r.application_id.as_uuid()) {
                        Some(t) if !t.trim().is_empty() => t.clone(),
                        Some(_) => "Untitled application".to_string(),
                        None => "An application its applicant has withdrawn".to_string(),
                    }
                };
                (r, label)
            })
            .collect::<Vec<_>>();
        if !items.is_empty() {
            groups.push(Group { s, items });
        }
    }
    Ok(groups)
}

#[derive(Serialize)]
struct ListRow {
    id: String,
    label: String,
    status: &'static str,
    status_label: &'static str,
    action: &'static str,
    updated: String,
}

#[derive(Serialize)]
struct ListGroup {
    number: String,
    title: String,
    office: String,
    rows: Vec<ListRow>,
    done: usize,
    count: usize,
}

#[derive(Serialize)]
struct ListPage {
    notice: Option<String>,
    groups: Vec<ListGroup>,
    has_groups: bool,
}

fn list_notice(key: &str) -> Option<&'static str> {
    match key {
        "conflict" => {
            Some("Thank you. You no longer have access to that application; it has been given to another reviewer.")
        }
        "conflict-unfilled" => Some(
            "Thank you. You no longer have access to that application; the program officer will assign it to another reviewer.",
        ),
        _ => None,
    }
}

/// `GET /reviews`: the signed-in person's assignments, by solicitation.
pub async fn list_page(auth: Auth, State(state): State<AppState>, RawQuery(query): RawQuery) -> AppResult<Response> {
    let me = me(&auth)?;
    let groups = my_assignments(&state, &auth, me).await?;
    let groups: Vec<ListGroup> = groups
        .into_iter()
        .map(|g| ListGroup {
            number: g.s.content.number.clone(),
            title: g.s.content.title.clone(),
            office: g.s.office.name.clone(),
            done: g
                .items
                .iter()
                .filter(|(r, _)| r.status == ReviewStatus::Submitted)
                .count(),
            count: g.items.len(),
            rows: g
                .items
                .iter()
                .map(|(r, label)| ListRow {
                    id: r.id.to_string(),
                    label: label.clone(),
                    status: r.status.as_str(),
                    status_label: r.status.label(),
                    action: match r.status {
                        ReviewStatus::Assigned => "Start the review",
                        ReviewStatus::InProgress => "Continue the review",
                        _ => "Read your review",
                    },
                    updated: local_time(&g.s, r.updated_at),
                })
                .collect(),
        })
        .collect();
    let body = ListPage {
        notice: notice_from_query(query.as_deref(), list_notice),
        has_groups: !groups.is_empty(),
        groups,
    };
    let html = state
        .views
        .page(&auth.chrome(), "review_list", "My reviews", "reviews", &body)?;
    Ok(html.into_response())
}

// ---------------------------------------------------------------------------------------
// JSON API

fn api_url(state: &AppState, id: ReviewId) -> String {
    format!("{}/api/v1/reviews/{id}", state.public_url)
}

/// A review as its reviewer reads it over the API, with its total.
fn review_json(state: &AppState, r: &Review) -> serde_json::Value {
    let mut v = serde_json::to_value(r).unwrap_or_default();
    v["total"] = serde_json::to_value(total_of(&r.content)).unwrap_or_default();
    v["url"] = serde_json::Value::String(api_url(state, r.id));
    v
}

/// `GET /api/v1/reviews`: the caller's assignments.
pub async fn api_list(auth: Auth, State(state): State<AppState>) -> AppResult<Json<serde_json::Value>> {
    let me = me(&auth)?;
    let groups = my_assignments(&state, &auth, me).await?;
    let items: Vec<serde_json::Value> = groups
        .iter()
        .flat_map(|g| {
            let state = &state;
            g.items.iter().map(move |(r, label)| {
                serde_json::json!({
                    "id": r.id,
                    "solicitation": {
                        "id": g.s.id,
                        "number": g.s.content.number,
                        "title": g.s.content.title,
                    },
                    "application": { "id": r.application_id, "label": label },
                    "status": r.status,
                    "version": r.version,
                    "assigned_at": r.assigned_at,
                    "updated_at": r.updated_at,
                    "submitted_at": r.submitted_at,
                    "url": api_url(state, r.id),
                })
            })
        })
        .collect();
    Ok(Json(serde_json::json!({ "items": items })))
}

/// `GET /api/v1/reviews/{id}`: the review, the application as the reviewer may see it, the
/// rubric, and the other reviews the reviewer may read.
pub async fn api_get(
    auth: Auth,
    State(state): State<AppState>,
    Path(raw): Path<String>,
) -> AppResult<Json<serde_json::Value>> {
    let o = open(&state, &auth, &raw).await?;
    let app = shown_for(&state, &o).await?;
    let others = reviews::others_visible_to(&state.db, &o.review, &o.settings).await?;
    let others: Vec<serde_json::Value> = others
        .iter()
        .enumerate()
        .map(|(n, r)| {
            serde_json::json!({
                "reviewer": format!("Reviewer {}", n + 1),
                "content": r.content,
                "total": total_of(&r.content),
                "submitted_at": r.submitted_at,
            })
        })
        .collect();
    Ok(Json(serde_json::json!({
        "review": review_json(&state, &o.review),
        "solicitation": {
            "id": o.s.id,
            "number": o.s.content.number,
            "title": o.s.content.title,
        },
        "blind": o.settings.blind,
        "share_reviews_after_submitting": o.settings.share_reviews_after_submitting,
        "application": app,
        "rubric": o.s.content.rubric,
        "others": others,
    })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SaveBody {
    /// The version the reviewer opened.
    pub version: i32,
    pub content: ReviewContent,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubmitBody {
    pub version: i32,
    /// The last edits, saved with the submission; the saved draft when absent.
    #[serde(default)]
    pub content: Option<ReviewContent>,
}

/// The 409 answer to a save or submission that started from an older version.
fn version_conflict(current: i32, mine: i32) -> Response {
    let body = serde_json::json!({
        "status": 409,
        "message": format!(
            "This review was saved elsewhere (now version {current}) after you opened version {mine}. Nothing was saved; load the current version and try again."
        ),
        "errors": [],
        "current_version": current,
    });
    (StatusCode::CONFLICT, Json(body)).into_response()
}

/// `PUT /api/v1/reviews/{id}`: saves a draft.
pub async fn api_save(
    auth: Auth,
    State(state): State<AppState>,
    Path(raw): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> AppResult<Response> {
    let o = open(&state, &auth, &raw).await?;
    let b: SaveBody = parse_json(&headers, &body)?;
    let saved = reviews::save(
        &state.db,
        &auth.actor()?,
        o.me,
        o.review.id,
        b.content,
        b.version,
        &o.s.content.rubric,
        state.now(),
    )
    .await;
    api_answer(&state, saved, b.version)
}

/// `POST /api/v1/reviews/{id}/submit`: submits, every criterion scored.
pub async fn api_submit(
    auth: Auth,
    State(state): State<AppState>,
    Path(raw): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> AppResult<Response> {
    let o = open(&state, &auth, &raw).await?;
    let b: SubmitBody = parse_json(&headers, &body)?;
    let submitted = reviews::submit(
        &state.db,
        &auth.actor()?,
        o.me,
        o.review.id,
        b.content,
        b.version,
        &o.s.content.rubric,
        state.now(),
    )
    .await;
    api_answer(&state, submitted, b.version)
}

/// The API's answer to a save or a submission that started from `version`.
fn api_answer(state: &AppState, done: granary_scoring::Result<Review>, version: i32) -> AppResult<Response> {
    match done {
        Ok(r) => Ok(Json(review_json(state, &r)).into_response()),
        Err(ScoringError::VersionConflict { current }) => Ok(version_conflict(current, version)),
        Err(ScoringError::NotFound(_)) => Err(no_review()),
        Err(e) => Err(e.into()),
    }
}

/// `POST /api/v1/reviews/{id}/conflict`: declares a conflict. The answer says whether the
/// application went to another reviewer, never who.
pub async fn api_conflict(
    auth: Auth,
    State(state): State<AppState>,
    Path(raw): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> AppResult<Response> {
    let o = open(&state, &auth, &raw).await?;
    let declaration: ConflictDeclaration = parse_json(&headers, &body)?;
    let d = assign::declare_conflict(
        &state.db,
        &auth.actor()?,
        &o.s,
        o.review.application_id,
        o.me,
        ConflictSource::Declared,
        &declaration,
        state.now(),
    )
    .await?;
    let reassigned = d.replacement.is_some();
    let body = serde_json::json!({
        "conflict": d.conflict,
        "released": d.released,
        "reassigned": reassigned,
        "message": if reassigned {
            "Thank you. You no longer have access to that application; it has been given to another reviewer."
        } else {
            "Thank you. You no longer have access to that application; the program officer will assign it to another reviewer."
        },
    });
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

// ---------------------------------------------------------------------------------------
// The applicant's outcome

#[derive(Serialize)]
struct OutcomeView {
    funded: bool,
    amount: String,
    rank: Option<usize>,
    reason: String,
    steps: Vec<String>,
    priorities: Vec<String>,
    has_priorities: bool,
    reviews: usize,
    raw_merit: Option<String>,
    calibrated_merit: Option<String>,
    final_score: Option<String>,
}

#[derive(Serialize)]
struct OutcomePage {
    app_id: String,
    project_title: String,
    organization: String,
    solicitation_number: String,
    solicitation_title: String,
    office: String,
    contact: String,
    outcome: Option<OutcomeView>,
}

fn outcome_view(o: &ApplicationResult) -> OutcomeView {
    // Each explanation names its consideration and says whether it was met.
    let priorities: Vec<String> = o.priorities.iter().map(|p| p.explanation.clone()).collect();
    OutcomeView {
        funded: o.funded,
        amount: budget::dollars(o.amount),
        rank: o.rank,
        reason: o.reason.clone(),
        steps: o.steps.clone(),
        has_priorities: !priorities.is_empty(),
        priorities,
        reviews: o.reviews,
        raw_merit: o.raw_merit.map(number),
        calibrated_merit: o.calibrated_merit.map(number),
        final_score: o.final_score.map(number),
    }
}

/// `GET /applications/{id}/outcome`: the applicant's outcome and its explanation, once the
/// decision is released.
pub async fn outcome_page(auth: Auth, State(state): State<AppState>, Path(raw): Path<String>) -> AppResult<Response> {
    let (app, s) = load(&state, &auth, &raw, Need::Read).await?;
    let outcome = decisions::released_outcome(&state.db, app.id).await?;
    let body = OutcomePage {
        app_id: app.id.to_string(),
        project_title: app.content.project_title.clone(),
        organization: app.organization.name.clone(),
        solicitation_number: s.content.number.clone(),
        solicitation_title: s.content.title.clone(),
        office: s.office.name.clone(),
        contact: s.content.contact.email.clone(),
        outcome: outcome.as_ref().map(outcome_view),
    };
    let html = state.views.page(
        &auth.chrome(),
        "outcome",
        &format!("Outcome: {}", s.content.number),
        "applications",
        &body,
    )?;
    Ok(html.into_response())
}

/// `GET /api/v1/applications/{id}/outcome`: the released outcome, or 404 until released.
pub async fn api_outcome(
    auth: Auth,
    State(state): State<AppState>,
    Path(raw): Path<String>,
) -> AppResult<Json<ApplicationResult>> {
    let (app, _) = load(&state, &auth, &raw, Need::Read).await?;
    decisions::released_outcome(&state.db, app.id)
        .await?
        .map(Json)
        .ok_or_else(|| AppError::not_found(NOT_RELEASED))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_applicants_name_is_taken_out_of_blind_text() {
        let r = Redactor::new(true, "Eastside Peacekeepers");
        assert_eq!(
            r.apply("EASTSIDE peacekeepers has run walks since 2019; ask Eastside Peacekeepers."),
            "[the applicant] has run walks since 2019; ask [the applicant]."
        );
        assert_eq!(
            r.apply("Ünïcode first: eastside peacekeepers"),
            "Ünïcode first: [the applicant]"
        );
        assert_eq!(Redactor::new(false, "Eastside").apply("Eastside"), "Eastside");
        // Too short to take out safely.
        assert_eq!(Redactor::new(true, "A").apply("A plan"), "A plan");
    }

    fn rubric() -> Rubric {
        Rubric {
            total_points: 20,
            criteria: vec![granary_solicitations::Criterion {
                key: "need".into(),
                name: "Need".into(),
                description: String::new(),
                points: 20,
            }],
        }
    }

    #[test]
    fn the_form_becomes_a_review_and_unreadable_scores_are_named() {
        let p: Vec<(String, String)> = [
            ("version", "3"),
            ("criteria.need.score", " 12.5 "),
            ("criteria.need.strengths", "Clear\r\nplan"),
            ("criteria.bogus.score", "1"),
            ("overall_comment", "Good"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let t = TypedReview::from_pairs(&p, &rubric());
        assert_eq!(t.version, "3");
        let (c, errors) = t.to_content(&rubric());
        assert!(errors.is_empty());
        assert_eq!(c.criteria.len(), 1, "only the rubric's criteria");
        assert_eq!(c.criteria["need"].score, Some(Decimal::new(125, 1)));
        assert_eq!(c.criteria["need"].strengths, "Clear\nplan");
        assert_eq!(c.overall_comment, "Good");

        let p = vec![("criteria.need.score".to_string(), "twelve".to_string())];
        let (c, errors) = TypedReview::from_pairs(&p, &rubric()).to_content(&rubric());
        assert!(c.criteria.is_empty());
        assert_eq!(errors[0].field, "criteria.need.score");
    }
}
