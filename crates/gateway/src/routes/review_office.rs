//! The program officer's side of review: settings, the reviewer pool, conflicts, assignment
//! and progress; the ranking and funding line with what-if weights and the sensitivity
//! analysis; decision records, their approval and release. Pages and JSON API.
//!
//! Who may do what: the issuing office's owners and staff run the review
//! (`Action::ManageReview`) and see it (`Action::ReadReview`, which a read-only API token
//! also allows); administrators may too. Everyone else is told the solicitation does not
//! exist (drafts) or is refused.

use std::collections::{BTreeMap, HashMap};

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use granary_applications::budget::dollars;
use granary_core::id::{ApplicationId, UserId};
use granary_core::policy::Action;
use granary_core::time::format_instant;
use granary_core::{FieldError, Money};
use granary_scoring::algo::sensitivity::{MarginBasis, WeightStudy};
use granary_scoring::assign::{self, AssignmentRun};
use granary_scoring::conflicts::{self, ConflictDeclaration};
use granary_scoring::decisions::{self, Decision, DecisionStatus};
use granary_scoring::pipeline::{ApplicationResult, DecisionResult};
use granary_scoring::pool::{self, PoolEntry};
use granary_scoring::whatif::{self, Sensitivity, WhatIf};
use granary_scoring::{
    CalibrationMethod, ConflictKind, ConflictSource, DecisionId, FundingMode, ReviewId, ReviewSettings, ReviewStatus,
    ReviewerKind, ScoringError, reviews, subjects,
};
use granary_solicitations::Solicitation;
use granary_solicitations::model::{Mechanism, ProgramArea};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::auth::Auth;
use crate::error::{AppError, AppResult};
use crate::routes::apply::{field_error, form_pairs, last};
use crate::routes::authoring::parse_json;
use crate::routes::pages::{parse_id, visible_solicitation};
use crate::state::AppState;

/// How many rows of flip margins the page shows (the JSON API gives them all).
const PAGE_MARGIN_ROWS: usize = 200;

/// The solicitation in the path, if the caller may see its review (`manage`: run it).
async fn review_solicitation(state: &AppState, auth: &Auth, raw: &str, manage: bool) -> AppResult<Solicitation> {
    let s = visible_solicitation(state, auth, parse_id(raw)?).await?;
    let office = s.office.id;
    auth.require(&if manage {
        Action::ManageReview { office }
    } else {
        Action::ReadReview { office }
    })?;
    Ok(s)
}

fn query_pairs(q: Option<&str>) -> Vec<(String, String)> {
    serde_urlencoded::from_str(q.unwrap_or("")).unwrap_or_default()
}

fn parse_uuid<T: std::str::FromStr>(raw: &str, what: &str) -> AppResult<T> {
    raw.trim()
        .parse()
        .map_err(|_| AppError::not_found(format!("There is no such {what}.")))
}

fn when(s: &Solicitation, at: chrono::DateTime<chrono::Utc>) -> String {
    format_instant(at, s.time_zone())
}

fn decimal_text(d: Option<Decimal>) -> String {
    d.map(|d| d.round_dp(4).normalize().to_string()).unwrap_or_default()
}

// -- the review as data --

/// Everything about a solicitation's review the office sees, as the API returns it and the
/// page shows it.
#[derive(Serialize)]
pub struct Overview {
    pub solicitation_id: String,
    pub settings: ReviewSettings,
    pub settings_version: i32,
    pub candidates: Vec<pool::Candidate>,
    pub pool: Vec<granary_scoring::PoolMember>,
    pub conflicts: Vec<ConflictView>,
    pub applications: Vec<AppReviews>,
    pub progress: Progress,
}

#[derive(Serialize)]
pub struct ConflictView {
    #[serde(flatten)]
    pub conflict: granary_scoring::Conflict,
    pub reviewer_name: String,
    pub application_label: String,
    pub source_label: &'static str,
    pub kind_label: &'static str,
}

#[derive(Serialize)]
pub struct AppReviews {
    pub id: String,
    pub label: String,
    pub organization: String,
    pub reviews: Vec<ReviewRow>,
    /// Pool members who could still be added by hand (not assigned, not conflicted).
    pub addable: Vec<Choice>,
}

#[derive(Serialize)]
pub struct ReviewRow {
    pub id: String,
    pub reviewer_id: String,
    pub reviewer_name: String,
    pub status: ReviewStatus,
    pub status_label: &'static str,
    pub pinned: bool,
    pub total: String,
    pub submitted: bool,
    pub removable: bool,
}

#[derive(Serialize, Default)]
pub struct Progress {
    pub applications: usize,
    pub assignments: usize,
    pub assigned: usize,
    pub in_progress: usize,
    pub submitted: usize,
    /// Applications with fewer live assignments than the settings ask for.
    pub short: usize,
    pub percent_submitted: String,
    pub loads: Vec<Load>,
}

#[derive(Serialize)]
pub struct Load {
    pub reviewer_id: String,
    pub name: String,
    pub assigned: usize,
    pub submitted: usize,
}

#[derive(Serialize, Clone)]
pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

pub async fn overview(state: &AppState, s: &Solicitation) -> AppResult<Overview> {
    let db = &state.db;
    let (settings, settings_version) = pool::settings(db, s.id).await?;
    let candidates = pool::candidates(db, s).await?;
    let members = pool::pool(db, s.id).await?;
    let conflict_rows = conflicts::conflicts(db, s.id).await?;
    let apps = subjects::submitted(db, s.id).await?;
    let all_reviews = reviews::of_solicitation(db, s.id).await?;
    let mut names: HashMap<uuid::Uuid, String> = candidates
        .iter()
        .map(|c| (c.person.id.as_uuid(), c.person.name.clone()))
        .collect();
    for m in &members {
        names.insert(m.reviewer.id.as_uuid(), m.reviewer.name.clone());
    }
    let name_of = |id: uuid::Uuid| names.get(&id).cloned().unwrap_or_else(|| "(former member)".to_string());
    let label_of: HashMap<uuid::Uuid, String> = apps
        .iter()
        .map(|a| (a.id, format!("{} — {}", a.project_title, a.organization_name)))
        .collect();
    let conflicted: std::collections::BTreeSet<(uuid::Uuid, uuid::Uuid)> = conflict_rows
        .iter()
        .map(|c| (c.application_id.as_uuid(), c.reviewer.as_uuid()))
        .collect();
    let mut progress = Progress {
        applications: apps.len(),
        ..Progress::default()
    };
    let mut loads: BTreeMap<uuid::Uuid, (usize, usize)> =
        members.iter().map(|m| (m.reviewer.id.as_uuid(), (0, 0))).collect();
    let mut applications = Vec::with_capacity(apps.len());
    for a in &apps {
        let live: Vec<&granary_scoring::Review> = all_reviews
            .iter()
            .filter(|r| r.application_id.as_uuid() == a.id && r.is_active())
            .collect();
        if live.len() < settings.reviews_per_application as usize {
            progress.short += 1;
        }
        let rows: Vec<ReviewRow> = live
            .iter()
            .map(|r| {
                progress.assignments += 1;
                match r.status {
                    ReviewStatus::Assigned => progress.assigned += 1,
                    ReviewStatus::InProgress => progress.in_progress += 1,
                    ReviewStatus::Submitted => progress.submitted += 1,
                    ReviewStatus::Released => {}
                }
                let entry = loads.entry(r.reviewer.as_uuid()).or_insert((0, 0));
                entry.0 += 1;
                if r.status == ReviewStatus::Submitted {
                    entry.1 += 1;
                }
                let total: Decimal = r.content.criteria.values().filter_map(|c| c.score).sum();
                ReviewRow {
                    id: r.id.to_string(),
                    reviewer_id: r.reviewer.to_string(),
                    reviewer_name: name_of(r.reviewer.as_uuid()),
                    status: r.status,
                    status_label: r.status.label(),
                    pinned: r.pinned,
                    total: if r.status == ReviewStatus::Submitted {
                        total.normalize().to_string()
                    } else {
                        String::new()
                    },
                    submitted: r.status == ReviewStatus::Submitted,
                    removable: r.status != ReviewStatus::Submitted,
                }
            })
            .collect();
        let addable = members
            .iter()
            .filter(|m| {
                let id = m.reviewer.id.as_uuid();
                !conflicted.contains(&(a.id, id)) && !live.iter().any(|r| r.reviewer.as_uuid() == id)
            })
            .map(|m| Choice {
                value: m.reviewer.id.to_string(),
                label: m.reviewer.name.clone(),
                selected: false,
            })
            .collect();
        applications.push(AppReviews {
            id: a.id.to_string(),
            label: a.project_title.clone(),
            organization: a.organization_name.clone(),
            reviews: rows,
            addable,
        });
    }
    progress.percent_submitted = if progress.assignments == 0 {
        "0".to_string()
    } else {
        (Decimal::from(progress.submitted as u64) * Decimal::ONE_HUNDRED / Decimal::from(progress.assignments as u64))
            .round_dp(0)
            .to_string()
    };
    progress.loads = loads
        .into_iter()
        .map(|(id, (assigned, submitted))| Load {
            reviewer_id: id.to_string(),
            name: name_of(id),
            assigned,
            submitted,
        })
        .collect();
    let conflicts = conflict_rows
        .into_iter()
        .map(|c| ConflictView {
            reviewer_name: name_of(c.reviewer.as_uuid()),
            application_label: label_of
                .get(&c.application_id.as_uuid())
                .cloned()
                .unwrap_or_else(|| c.application_id.to_string()),
            source_label: c.source.label(),
            kind_label: c.kind.label(),
            conflict: c,
        })
        .collect();
    Ok(Overview {
        solicitation_id: s.id.to_string(),
        settings,
        settings_version,
        candidates,
        pool: members,
        conflicts,
        applications,
        progress,
    })
}

// -- JSON API --

pub async fn api_overview(
    auth: Auth,
    State(state): State<AppState>,
    Path(raw): Path<String>,
) -> AppResult<Json<Overview>> {
    let s = review_solicitation(&state, &auth, &raw, false).await?;
    Ok(Json(overview(&state, &s).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SettingsBody {
    pub version: i32,
    pub settings: ReviewSettings,
}

pub async fn api_save_settings(
    auth: Auth,
    State(state): State<AppState>,
    Path(raw): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> AppResult<Json<serde_json::Value>> {
    let s = review_solicitation(&state, &auth, &raw, true).await?;
    let b: SettingsBody = parse_json(&headers, &body)?;
    pool::save_settings(&state.db, &auth.actor()?, s.id, b.settings, b.version, state.now()).await?;
    let (settings, version) = pool::settings(&state.db, s.id).await?;
    Ok(Json(serde_json::json!({ "settings": settings, "version": version })))
}

pub async fn api_set_pool_member(
    auth: Auth,
    State(state): State<AppState>,
    Path((raw, user)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> AppResult<Json<granary_scoring::PoolMember>> {
    let s = review_solicitation(&state, &auth, &raw, true).await?;
    let user: UserId = parse_uuid(&user, "person")?;
    let entry: PoolEntry = parse_json(&headers, &body)?;
    let m = pool::set_pool_member(&state.db, &auth.actor()?, &s, user, entry, state.now()).await?;
    Ok(Json(m))
}

pub async fn api_remove_pool_member(
    auth: Auth,
    State(state): State<AppState>,
    Path((raw, user)): Path<(String, String)>,
) -> AppResult<StatusCode> {
    let s = review_solicitation(&state, &auth, &raw, true).await?;
    let user: UserId = parse_uuid(&user, "person")?;
    pool::remove_pool_member(&state.db, &auth.actor()?, s.id, user, state.now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConflictBody {
    pub application_id: ApplicationId,
    pub reviewer_id: UserId,
    pub kind: ConflictKind,
    #[serde(default)]
    pub note: String,
}

/// A program officer records a conflict between a pool reviewer and an application; the
/// reviewer's assignment to it, if any, is replaced.
pub async fn api_record_conflict(
    auth: Auth,
    State(state): State<AppState>,
    Path(raw): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> AppResult<Response> {
    let s = review_solicitation(&state, &auth, &raw, true).await?;
    let b: ConflictBody = parse_json(&headers, &body)?;
    let d = assign::declare_conflict(
        &state.db,
        &auth.actor()?,
        &s,
        b.application_id,
        b.reviewer_id,
        ConflictSource::Officer,
        &ConflictDeclaration {
            kind: b.kind,
            note: b.note,
        },
        state.now(),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(d)).into_response())
}

pub async fn api_detect_conflicts(
    auth: Auth,
    State(state): State<AppState>,
    Path(raw): Path<String>,
) -> AppResult<Json<assign::ConflictCheck>> {
    let s = review_solicitation(&state, &auth, &raw, true).await?;
    Ok(Json(
        assign::check_conflicts(&state.db, &auth.actor()?, &s, state.now()).await?,
    ))
}

pub async fn api_run_assignment(
    auth: Auth,
    State(state): State<AppState>,
    Path(raw): Path<String>,
) -> AppResult<Json<AssignmentRun>> {
    let s = review_solicitation(&state, &auth, &raw, true).await?;
    Ok(Json(assign::run(&state.db, &auth.actor()?, &s, state.now()).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ManualBody {
    pub application_id: ApplicationId,
    pub reviewer_id: UserId,
}

pub async fn api_assign(
    auth: Auth,
    State(state): State<AppState>,
    Path(raw): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> AppResult<Response> {
    let s = review_solicitation(&state, &auth, &raw, true).await?;
    let b: ManualBody = parse_json(&headers, &body)?;
    let r = assign::assign_manually(
        &state.db,
        &auth.actor()?,
        &s,
        b.application_id,
        b.reviewer_id,
        state.now(),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(r)).into_response())
}

/// A review of this solicitation, by the id in the path.
async fn review_of(state: &AppState, s: &Solicitation, raw: &str) -> AppResult<granary_scoring::Review> {
    let id: ReviewId = parse_uuid(raw, "assignment")?;
    match reviews::get(&state.db, id).await {
        Ok(r) if r.solicitation_id == s.id => Ok(r),
        Ok(_) | Err(ScoringError::NotFound(_)) => Err(AppError::not_found("There is no such assignment.")),
        Err(e) => Err(e.into()),
    }
}

pub async fn api_unassign(
    auth: Auth,
    State(state): State<AppState>,
    Path((raw, review)): Path<(String, String)>,
) -> AppResult<Json<granary_scoring::Review>> {
    let s = review_solicitation(&state, &auth, &raw, true).await?;
    let r = review_of(&state, &s, &review).await?;
    Ok(Json(
        assign::unassign(&state.db, &auth.actor()?, r.id, state.now()).await?,
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReopenBody {
    pub reason: String,
}

pub async fn api_reopen(
    auth: Auth,
    State(state): State<AppState>,
    Path((raw, review)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> AppResult<Json<granary_scoring::Review>> {
    let s = review_solicitation(&state, &auth, &raw, true).await?;
    let r = review_of(&state, &s, &review).await?;
    let b: ReopenBody = parse_json(&headers, &body)?;
    Ok(Json(
        reviews::reopen(&state.db, &auth.actor()?, r.id, &b.reason, state.now()).await?,
    ))
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct WhatIfBody {
    /// Changed mechanisms by consideration key; `null` switches a consideration off.
    #[serde(default)]
    pub mechanisms: BTreeMap<String, Option<Mechanism>>,
}

/// `POST /api/v1/solicitations/{id}/ranking`: the ranking and funding line as the reviews
/// stand, with the declared mechanisms and with the body's changes. Nothing is stored.
pub async fn api_what_if(
    auth: Auth,
    State(state): State<AppState>,
    Path(raw): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> AppResult<Json<WhatIf>> {
    let s = review_solicitation(&state, &auth, &raw, false).await?;
    let b: WhatIfBody = if body.is_empty() {
        WhatIfBody::default()
    } else {
        parse_json(&headers, &body)?
    };
    Ok(Json(whatif::what_if(&state.db, &s, b.mechanisms).await?))
}

pub async fn api_ranking(
    auth: Auth,
    State(state): State<AppState>,
    Path(raw): Path<String>,
) -> AppResult<Json<WhatIf>> {
    let s = review_solicitation(&state, &auth, &raw, false).await?;
    Ok(Json(whatif::what_if(&state.db, &s, BTreeMap::new()).await?))
}

pub async fn api_sensitivity(
    auth: Auth,
    State(state): State<AppState>,
    Path(raw): Path<String>,
) -> AppResult<Json<Sensitivity>> {
    let s = review_solicitation(&state, &auth, &raw, false).await?;
    Ok(Json(whatif::sensitivity(&state.db, &s).await?))
}

#[derive(Serialize)]
pub struct DecisionJson {
    #[serde(flatten)]
    pub decision: Decision,
    pub verification: decisions::Verification,
    pub url: String,
}

fn decision_json(state: &AppState, s: &Solicitation, d: Decision) -> AppResult<DecisionJson> {
    let verification = decisions::verify(&d)?;
    Ok(DecisionJson {
        url: format!("{}/manage/solicitations/{}/decisions/{}", state.public_url, s.id, d.id),
        verification,
        decision: d,
    })
}

pub async fn api_decisions(
    auth: Auth,
    State(state): State<AppState>,
    Path(raw): Path<String>,
) -> AppResult<Json<serde_json::Value>> {
    let s = review_solicitation(&state, &auth, &raw, false).await?;
    let list = decisions::list(&state.db, s.id).await?;
    let items: Vec<serde_json::Value> = list
        .iter()
        .map(|d| {
            serde_json::json!({
                "id": d.id,
                "status": d.status,
                "inputs_hash": d.inputs_hash,
                "result_hash": d.result_hash,
                "seed": d.seed,
                "created_by": d.created_by,
                "created_at": d.created_at,
                "funded": d.result.funded,
                "awarded": d.result.awarded,
                "url": format!("{}/api/v1/solicitations/{}/decisions/{}", state.public_url, s.id, d.id),
            })
        })
        .collect();
    Ok(Json(serde_json::json!({ "items": items })))
}

pub async fn api_create_decision(
    auth: Auth,
    State(state): State<AppState>,
    Path(raw): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> AppResult<Response> {
    let s = review_solicitation(&state, &auth, &raw, true).await?;
    let b: WhatIfBody = if body.is_empty() {
        WhatIfBody::default()
    } else {
        parse_json(&headers, &body)?
    };
    whatif::check_mechanisms(&s, &b.mechanisms)?;
    let d = decisions::create(&state.db, &auth.actor()?, &s, b.mechanisms, state.now()).await?;
    Ok((StatusCode::CREATED, Json(decision_json(&state, &s, d)?)).into_response())
}

async fn decision_of(state: &AppState, s: &Solicitation, raw: &str) -> AppResult<Decision> {
    let id: DecisionId = parse_uuid(raw, "decision")?;
    match decisions::get(&state.db, id).await {
        Ok(d) if d.solicitation_id == s.id => Ok(d),
        Ok(_) | Err(ScoringError::NotFound(_)) => Err(AppError::not_found("There is no such decision.")),
        Err(e) => Err(e.into()),
    }
}

pub async fn api_decision(
    auth: Auth,
    State(state): State<AppState>,
    Path((raw, decision)): Path<(String, String)>,
) -> AppResult<Json<DecisionJson>> {
    let s = review_solicitation(&state, &auth, &raw, false).await?;
    let d = decision_of(&state, &s, &decision).await?;
    Ok(Json(decision_json(&state, &s, d)?))
}

pub async fn api_approve(
    auth: Auth,
    State(state): State<AppState>,
    Path((raw, decision)): Path<(String, String)>,
) -> AppResult<Json<DecisionJson>> {
    let s = review_solicitation(&state, &auth, &raw, true).await?;
    let d = decision_of(&state, &s, &decision).await?;
    let d = decisions::approve(&state.db, &auth.actor()?, &s, d.id, state.now()).await?;
    Ok(Json(decision_json(&state, &s, d)?))
}

pub async fn api_release(
    auth: Auth,
    State(state): State<AppState>,
    Path((raw, decision)): Path<(String, String)>,
) -> AppResult<Json<DecisionJson>> {
    let s = review_solicitation(&state, &auth, &raw, true).await?;
    let d = decision_of(&state, &s, &decision).await?;
    let d = decisions::release(&state.db, &auth.actor()?, &s, d.id, state.now()).await?;
    Ok(Json(decision_json(&state, &s, d)?))
}

// -- pages: the review desk --

#[derive(Serialize)]
struct DeskBody {
    csrf: String,
    id: String,
    number: String,
    title: String,
    office: String,
    status: String,
    notice: Option<String>,
    has_errors: bool,
    errors: Vec<FieldError>,
    can_manage: bool,
    settings: SettingsForm,
    people: Vec<PersonRow>,
    has_people: bool,
    conflicts: Vec<ConflictView>,
    has_conflicts: bool,
    applications: Vec<AppReviews>,
    has_applications: bool,
    progress: Progress,
    reviewer_choices: Vec<Choice>,
    application_choices: Vec<Choice>,
    conflict_kinds: Vec<Choice>,
    has_pool: bool,
}

#[derive(Serialize)]
struct SettingsForm {
    version: i32,
    reviews_per_application: String,
    min_load: String,
    max_load: String,
    blind: bool,
    share: bool,
    disagreement_percent: String,
    available_funds: String,
    default_funds: String,
    calibrations: Vec<Choice>,
    funding_modes: Vec<Choice>,
}

#[derive(Serialize)]
struct PersonRow {
    id: String,
    name: String,
    email: String,
    role: String,
    in_pool: bool,
    kinds: Vec<Choice>,
    areas: Vec<Choice>,
    min_load: String,
    max_load: String,
}

fn settings_form(
    s: &Solicitation,
    v: &ReviewSettings,
    version: i32,
    typed: Option<&[(String, String)]>,
) -> SettingsForm {
    let typed_or = |name: &str, value: String| typed.and_then(|p| last(p, name)).map(str::to_string).unwrap_or(value);
    SettingsForm {
        version,
        reviews_per_application: typed_or("reviews_per_application", v.reviews_per_application.to_string()),
        min_load: typed_or("min_load", v.min_load.to_string()),
        max_load: typed_or("max_load", v.max_load.to_string()),
        blind: v.blind,
        share: v.share_reviews_after_submitting,
        disagreement_percent: typed_or("disagreement_percent", v.disagreement_percent.normalize().to_string()),
        available_funds: typed_or(
            "available_funds",
            v.available_funds.map(|m| m.to_amount_string()).unwrap_or_default(),
        ),
        default_funds: dollars(s.content.funding.total_available),
        calibrations: CalibrationMethod::ALL
            .iter()
            .map(|c| Choice {
                value: c.as_str().into(),
                label: c.label().into(),
                selected: *c == v.calibration,
            })
            .collect(),
        funding_modes: FundingMode::ALL
            .iter()
            .map(|c| Choice {
                value: c.as_str().into(),
                label: c.label().into(),
                selected: *c == v.funding_mode,
            })
            .collect(),
    }
}

async fn render_desk(
    state: &AppState,
    auth: &Auth,
    s: &Solicitation,
    notice: Option<String>,
    errors: Vec<FieldError>,
    typed_settings: Option<(ReviewSettings, Vec<(String, String)>)>,
    status: StatusCode,
) -> AppResult<Response> {
    let o = overview(state, s).await?;
    let settings = match &typed_settings {
        Some((v, typed)) => settings_form(s, v, o.settings_version, Some(typed)),
        None => settings_form(s, &o.settings, o.settings_version, None),
    };
    let in_pool: HashMap<uuid::Uuid, &granary_scoring::PoolMember> =
        o.pool.iter().map(|m| (m.reviewer.id.as_uuid(), m)).collect();
    let people: Vec<PersonRow> = o
        .candidates
        .iter()
        .map(|c| {
            let m = in_pool.get(&c.person.id.as_uuid());
            PersonRow {
                id: c.person.id.to_string(),
                name: c.person.name.clone(),
                email: c.person.email.clone(),
                role: c.role.clone(),
                in_pool: m.is_some(),
                kinds: ReviewerKind::ALL
                    .iter()
                    .map(|k| Choice {
                        value: k.as_str().into(),
                        label: k.label().into(),
                        selected: m.map(|m| m.kind == *k).unwrap_or(*k == ReviewerKind::Staff),
                    })
                    .collect(),
                areas: ProgramArea::ALL
                    .iter()
                    .map(|a| Choice {
                        value: a.slug().into(),
                        label: a.label().into(),
                        selected: m.is_some_and(|m| m.expertise.contains(a)),
                    })
                    .collect(),
                min_load: m.and_then(|m| m.min_load).map(|v| v.to_string()).unwrap_or_default(),
                max_load: m.and_then(|m| m.max_load).map(|v| v.to_string()).unwrap_or_default(),
            }
        })
        .collect();
    let reviewer_choices = o
        .pool
        .iter()
        .map(|m| Choice {
            value: m.reviewer.id.to_string(),
            label: m.reviewer.name.clone(),
            selected: false,
        })
        .collect();
    let application_choices = o
        .applications
        .iter()
        .map(|a| Choice {
            value: a.id.clone(),
            label: format!("{} — {}", a.label, a.organization),
            selected: false,
        })
        .collect();
    let body = DeskBody {
        csrf: auth.csrf.clone(),
        id: s.id.to_string(),
        number: s.content.number.clone(),
        title: s.content.title.clone(),
        office: s.office.name.clone(),
        status: s.status.label().to_string(),
        notice,
        has_errors: !errors.is_empty(),
        errors,
        can_manage: auth.may(&Action::ManageReview { office: s.office.id }),
        settings,
        has_people: !people.is_empty(),
        people,
        has_conflicts: !o.conflicts.is_empty(),
        conflicts: o.conflicts,
        has_applications: !o.applications.is_empty(),
        applications: o.applications,
        progress: o.progress,
        reviewer_choices,
        application_choices,
        conflict_kinds: ConflictKind::ALL
            .iter()
            .map(|k| Choice {
                value: k.as_str().into(),
                label: k.label().into(),
                selected: false,
            })
            .collect(),
        has_pool: !o.pool.is_empty(),
    };
    let html = state.views.page(
        &auth.chrome(),
        "review_desk",
        &format!("Review: {}", s.content.number),
        "manage",
        &body,
    )?;
    Ok((status, html).into_response())
}

fn desk_notice(code: Option<&str>) -> Option<String> {
    Some(
        match code? {
            "settings" => "The review settings were saved.",
            "pool" => "The reviewer pool was updated.",
            "removed" => "The reviewer was taken out of the pool.",
            "detected" => "Conflicts were checked; any new ones are listed below.",
            "detected-released" => "Conflicts were checked. Reviewers found to be conflicted lost those assignments; run assignment to give the applications other reviewers.",
            "conflict" => {
                "The conflict was recorded; if the reviewer had that application, it went to another reviewer."
            }
            "assigned" => "Assignment finished: every application has its reviewers, and started reviews were kept.",
            "added" => "The reviewer was assigned by hand; later runs keep this assignment.",
            "unassigned" => "The assignment was taken back.",
            "reopened" => "The review was reopened; its reviewer can change it and submit again.",
            _ => return None,
        }
        .to_string(),
    )
}

/// `GET /manage/solicitations/{id}/review`: settings, pool, conflicts, assignment, progress.
pub async fn desk(
    auth: Auth,
    State(state): State<AppState>,
    Path(raw): Path<String>,
    RawQuery(q): RawQuery,
) -> AppResult<Response> {
    let s = review_solicitation(&state, &auth, &raw, false).await?;
    let p = query_pairs(q.as_deref());
    let notice = desk_notice(last(&p, "notice"));
    render_desk(&state, &auth, &s, notice, Vec::new(), None, StatusCode::OK).await
}

fn redirect_desk(s: &Solicitation, notice: &str, anchor: &str) -> Response {
    Redirect::to(&format!(
        "/manage/solicitations/{}/review?notice={notice}#{anchor}",
        s.id
    ))
    .into_response()
}

/// The page's answer to a refused change: the desk again, with the reason.
async fn desk_error(state: &AppState, auth: &Auth, s: &Solicitation, e: ScoringError) -> AppResult<Response> {
    use granary_core::error::{Classify, ErrorKind};
    let status = match e.kind() {
        ErrorKind::Validation => StatusCode::UNPROCESSABLE_ENTITY,
        ErrorKind::Conflict => StatusCode::CONFLICT,
        ErrorKind::NotFound => StatusCode::NOT_FOUND,
        ErrorKind::Forbidden => StatusCode::FORBIDDEN,
        _ => return Err(e.into()),
    };
    let mut errors: Vec<FieldError> = e.field_errors().to_vec();
    if errors.is_empty() {
        errors.push(field_error("", e.to_string()));
    }
    render_desk(state, auth, s, None, errors, None, status).await
}

fn parse_number<T: std::str::FromStr>(p: &[(String, String)], name: &str, errors: &mut Vec<FieldError>) -> Option<T> {
    let raw = last(p, name).unwrap_or("").trim();
    match raw.parse() {
        Ok(v) => Some(v),
        Err(_) => {
            errors.push(field_error(name, "enter a whole number"));
            None
        }
    }
}

/// `POST /manage/solicitations/{id}/review/settings`.
pub async fn save_settings(
    auth: Auth,
    State(state): State<AppState>,
    Path(raw): Path<String>,
    body: Bytes,
) -> AppResult<Response> {
    let s = review_solicitation(&state, &auth, &raw, true).await?;
    let p = form_pairs(&body)?;
    let mut errors = Vec::new();
    let (current, _) = pool::settings(&state.db, s.id).await?;
    let mut new = current.clone();
    let version: i32 = last(&p, "version").and_then(|v| v.trim().parse().ok()).unwrap_or(-1);
    if let Some(v) = parse_number(&p, "reviews_per_application", &mut errors) {
        new.reviews_per_application = v;
    }
    if let Some(v) = parse_number(&p, "min_load", &mut errors) {
        new.min_load = v;
    }
    if let Some(v) = parse_number(&p, "max_load", &mut errors) {
        new.max_load = v;
    }
    new.blind = last(&p, "blind").is_some();
    new.share_reviews_after_submitting = last(&p, "share").is_some();
    match last(&p, "disagreement_percent").unwrap_or("").trim().parse::<Decimal>() {
        Ok(d) => new.disagreement_percent = d,
        Err(_) => errors.push(field_error("disagreement_percent", "enter a percentage such as 20")),
    }
    match CalibrationMethod::parse(last(&p, "calibration").unwrap_or("")) {
        Some(c) => new.calibration = c,
        None => errors.push(field_error("calibration", "choose one of the methods listed")),
    }
    match FundingMode::parse(last(&p, "funding_mode").unwrap_or("")) {
        Some(m) => new.funding_mode = m,
        None => errors.push(field_error("funding_mode", "choose one of the ways listed")),
    }
    let funds = last(&p, "available_funds").unwrap_or("").trim().replace([',', '$'], "");
    if funds.is_empty() {
        new.available_funds = None;
    } else {
        match funds.parse::<Decimal>().ok().and_then(|d| Money::from_decimal(d).ok()) {
            Some(m) => new.available_funds = Some(m),
            None => errors.push(field_error(
                "available_funds",
                "enter an amount in dollars and cents, such as 250000 or 250000.00",
            )),
        }
    }
    if !errors.is_empty() {
        return render_desk(
            &state,
            &auth,
            &s,
            None,
            errors,
            Some((new, p)),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    match pool::save_settings(&state.db, &auth.actor()?, s.id, new.clone(), version, state.now()).await {
        Ok(_) => Ok(redirect_desk(&s, "settings", "settings")),
        Err(ScoringError::Invalid(v)) => {
            render_desk(
                &state,
                &auth,
                &s,
                None,
                v.0,
                Some((new, p)),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(ScoringError::VersionConflict { .. }) => {
            // Keep what was typed; the form now carries the current version, so saving again
            // replaces the other person's settings on purpose.
            let errors = vec![field_error(
                "",
                "Someone saved these settings after you opened them. Your values are below: save again to keep them, or reload the page to see theirs.",
            )];
            render_desk(&state, &auth, &s, None, errors, Some((new, p)), StatusCode::CONFLICT).await
        }
        Err(e) => desk_error(&state, &auth, &s, e).await,
    }
}

/// `POST /manage/solicitations/{id}/review/pool`: puts a member in the pool or updates them.
pub async fn set_pool_member(
    auth: Auth,
    State(state): State<AppState>,
    Path(raw): Path<String>,
    body: Bytes,
) -> AppResult<Response> {
    let s = review_solicitation(&state, &auth, &raw, true).await?;
    let p = form_pairs(&body)?;
    let mut errors = Vec::new();
    let user: Option<UserId> = last(&p, "reviewer_id").and_then(|v| v.trim().parse().ok());
    if user.is_none() {
        errors.push(field_error("reviewer_id", "choose a member of the office"));
    }
    let kind = ReviewerKind::parse(last(&p, "kind").unwrap_or(""));
    if kind.is_none() {
        errors.push(field_error("kind", "choose staff, peer or community reviewer"));
    }
    let mut expertise = Vec::new();
    for (k, v) in &p {
        if k == "expertise" {
            match ProgramArea::parse(v) {
                Some(a) => expertise.push(a),
                None => errors.push(field_error("expertise", "choose program areas from the list")),
            }
        }
    }
    let load = |name: &str, errors: &mut Vec<FieldError>| -> Option<u32> {
        let raw = last(&p, name).unwrap_or("").trim();
        if raw.is_empty() {
            return None;
        }
        raw.parse().ok().or_else(|| {
            errors.push(field_error(name, "enter a whole number, or leave it empty"));
            None
        })
    };
    let min_load = load("min_load", &mut errors);
    let max_load = load("max_load", &mut errors);
    let (Some(user), Some(kind), true) = (user, kind, errors.is_empty()) else {
        return render_desk(&state, &auth, &s, None, errors, None, StatusCode::UNPROCESSABLE_ENTITY).await;
    };
    let entry = PoolEntry {
        kind,
        expertise,
        min_load,
        max_load,
    };
    match pool::set_pool_member(&state.db, &auth.actor()?, &s, user, entry, state.now()).await {
        Ok(_) => Ok(redirect_desk(&s, "pool", "pool")),
        Err(e) => desk_error(&state, &auth, &s, e).await,
    }
}

/// `POST /manage/solicitations/{id}/review/pool/{user}/remove`.
pub async fn remove_pool_member(
    auth: Auth,
    State(state): State<AppState>,
    Path((raw, user)): Path<(String, String)>,
) -> AppResult<Response> {
    let s = review_solicitation(&state, &auth, &raw, true).await?;
    let user: UserId = parse_uuid(&user, "person")?;
    match pool::remove_pool_member(&state.db, &auth.actor()?, s.id, user, state.now()).await {
        Ok(_) => Ok(redirect_desk(&s, "removed", "pool")),
        Err(e) => desk_error(&state, &auth, &s, e).await,
    }
}

/// `POST /manage/solicitations/{id}/review/conflicts/detect`.
pub async fn detect(auth: Auth, State(state): State<AppState>, Path(raw): Path<String>) -> AppResult<Response> {
    let s = review_solicitation(&state, &auth, &raw, true).await?;
    let check = assign::check_conflicts(&state.db, &auth.actor()?, &s, state.now()).await?;
    let notice = if check.released > 0 {
        "detected-released"
    } else {
        "detected"
    };
    Ok(redirect_desk(&s, notice, "conflicts"))
}

/// `POST /manage/solicitations/{id}/review/conflicts`: an officer records a conflict.
pub async fn record_conflict(
    auth: Auth,
    State(state): State<AppState>,
    Path(raw): Path<String>,
    body: Bytes,
) -> AppResult<Response> {
    let s = review_solicitation(&state, &auth, &raw, true).await?;
    let p = form_pairs(&body)?;
    let mut errors = Vec::new();
    let app: Option<ApplicationId> = last(&p, "application_id").and_then(|v| v.trim().parse().ok());
    if app.is_none() {
        errors.push(field_error("application_id", "choose an application"));
    }
    let reviewer: Option<UserId> = last(&p, "reviewer_id").and_then(|v| v.trim().parse().ok());
    if reviewer.is_none() {
        errors.push(field_error("reviewer_id", "choose a reviewer from the pool"));
    }
    let kind = ConflictKind::parse(last(&p, "kind").unwrap_or(""));
    if kind.is_none() {
        errors.push(field_error("kind", "choose the kind of conflict"));
    }
    let (Some(app), Some(reviewer), Some(kind)) = (app, reviewer, kind) else {
        return render_desk(&state, &auth, &s, None, errors, None, StatusCode::UNPROCESSABLE_ENTITY).await;
    };
    let declaration = ConflictDeclaration {
        kind,
        note: last(&p, "note").unwrap_or("").to_string(),
    };
    match assign::declare_conflict(
        &state.db,
        &auth.actor()?,
        &s,
        app,
        reviewer,
        ConflictSource::Officer,
        &declaration,
        state.now(),
    )
    .await
    {
        Ok(_) => Ok(redirect_desk(&s, "conflict", "conflicts")),
        Err(e) => desk_error(&state, &auth, &s, e).await,
    }
}

/// `POST /manage/solicitations/{id}/review/assign`: runs assignment.
pub async fn run_assignment(auth: Auth, State(state): State<AppState>, Path(raw): Path<String>) -> AppResult<Response> {
    let s = review_solicitation(&state, &auth, &raw, true).await?;
    match assign::run(&state.db, &auth.actor()?, &s, state.now()).await {
        Ok(_) => Ok(redirect_desk(&s, "assigned", "assignment")),
        Err(e) => desk_error(&state, &auth, &s, e).await,
    }
}

/// `POST /manage/solicitations/{id}/review/assignments`: assigns a reviewer by hand.
pub async fn add_assignment(
    auth: Auth,
    State(state): State<AppState>,
    Path(raw): Path<String>,
    body: Bytes,
) -> AppResult<Response> {
    let s = review_solicitation(&state, &auth, &raw, true).await?;
    let p = form_pairs(&body)?;
    let app: Option<ApplicationId> = last(&p, "application_id").and_then(|v| v.trim().parse().ok());
    let reviewer: Option<UserId> = last(&p, "reviewer_id").and_then(|v| v.trim().parse().ok());
    let (Some(app), Some(reviewer)) = (app, reviewer) else {
        let errors = vec![field_error("reviewer_id", "choose a reviewer to add")];
        return render_desk(&state, &auth, &s, None, errors, None, StatusCode::UNPROCESSABLE_ENTITY).await;
    };
    match assign::assign_manually(&state.db, &auth.actor()?, &s, app, reviewer, state.now()).await {
        Ok(_) => Ok(redirect_desk(&s, "added", "assignment")),
        Err(e) => desk_error(&state, &auth, &s, e).await,
    }
}

/// `POST /manage/solicitations/{id}/review/assignments/{review}/remove`.
pub async fn remove_assignment(
    auth: Auth,
    State(state): State<AppState>,
    Path((raw, review)): Path<(String, String)>,
) -> AppResult<Response> {
    let s = review_solicitation(&state, &auth, &raw, true).await?;
    let r = review_of(&state, &s, &review).await?;
    match assign::unassign(&state.db, &auth.actor()?, r.id, state.now()).await {
        Ok(_) => Ok(redirect_desk(&s, "unassigned", "assignment")),
        Err(e) => desk_error(&state, &auth, &s, e).await,
    }
}

/// `POST /manage/solicitations/{id}/review/assignments/{review}/reopen`.
pub async fn reopen(
    auth: Auth,
    State(state): State<AppState>,
    Path((raw, review)): Path<(String, String)>,
    body: Bytes,
) -> AppResult<Response> {
    let s = review_solicitation(&state, &auth, &raw, true).await?;
    let r = review_of(&state, &s, &review).await?;
    let p = form_pairs(&body)?;
    let reason = last(&p, "reason").unwrap_or("");
    match reviews::reopen(&state.db, &auth.actor()?, r.id, reason, state.now()).await {
        Ok(_) => Ok(redirect_desk(&s, "reopened", "assignment")),
        Err(e) => desk_error(&state, &auth, &s, e).await,
    }
}

// -- pages: ranking, funding line, what-if and sensitivity --

#[derive(Serialize)]
struct RankingBody {
    csrf: String,
    id: String,
    number: String,
    title: String,
    can_manage: bool,
    error: Option<String>,
    has_errors: bool,
    errors: Vec<FieldError>,
    controls: Vec<Control>,
    has_controls: bool,
    changed: bool,
    summary: FundsSummary,
    changed_summary: Option<FundsSummary>,
    rows: Vec<RankRow>,
    has_rows: bool,
    changes: Vec<ChangeRow>,
    has_changes: bool,
    inputs_hash: String,
    preview_seed: String,
    hidden: Vec<Choice>,
    sensitivity: Option<SensitivityView>,
    sensitivity_error: Option<String>,
    decisions: Vec<DecisionRow>,
    has_decisions: bool,
}

#[derive(Serialize)]
struct Control {
    key: String,
    name: String,
    mechanism: String,
    field: String,
    unit: String,
    declared: String,
    value: String,
    off: bool,
    step: String,
    min: String,
}

#[derive(Serialize)]
struct FundsSummary {
    available: String,
    awarded: String,
    left: String,
    funded: usize,
    optimality: String,
}

#[derive(Serialize)]
struct RankRow {
    id: String,
    rank: String,
    label: String,
    reviews: usize,
    raw: String,
    calibrated: String,
    merit: String,
    priorities: String,
    final_score: String,
    funded: bool,
    amount: String,
    reason: String,
    discussion: Vec<String>,
    steps: Vec<String>,
    what_if: Option<String>,
}

#[derive(Serialize)]
struct ChangeRow {
    label: String,
    before: String,
    after: String,
    gained: bool,
}

#[derive(Serialize)]
struct DecisionRow {
    id: String,
    status: String,
    created: String,
    funded: usize,
    awarded: String,
}

fn summary(r: &DecisionResult) -> FundsSummary {
    FundsSummary {
        available: dollars(r.available),
        awarded: dollars(r.awarded),
        left: dollars(r.funds_left),
        funded: r.funded,
        optimality: match serde_json::to_value(r.optimality)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
        {
            Some(s) => s.replace('_', " "),
            None => String::new(),
        },
    }
}

fn rank_row(a: &ApplicationResult) -> RankRow {
    RankRow {
        id: a.id.to_string(),
        rank: a.rank.map(|r| r.to_string()).unwrap_or_else(|| "—".into()),
        label: a.label.clone(),
        reviews: a.reviews,
        raw: decimal_text(a.raw_merit),
        calibrated: decimal_text(a.calibrated_merit),
        merit: decimal_text(a.merit),
        priorities: a
            .priorities
            .iter()
            .filter(|p| p.met)
            .map(|p| p.key.clone())
            .collect::<Vec<_>>()
            .join(", "),
        final_score: decimal_text(a.final_score),
        funded: a.funded,
        amount: if a.funded { dollars(a.amount) } else { String::new() },
        reason: a.reason.clone(),
        discussion: a.discussion.clone(),
        steps: a.steps.clone(),
        what_if: None,
    }
}

fn outcome_text(rank: Option<usize>, funded: bool, amount: Money) -> String {
    let place = rank.map(|r| format!("rank {r}")).unwrap_or_else(|| "not ranked".into());
    if funded {
        format!("{place}, funded {}", dollars(amount))
    } else {
        format!("{place}, not funded")
    }
}

/// Reads what-if controls from a query or form: `w.<key>` a new weight, `off.<key>` switched off.
fn read_mechanisms(s: &Solicitation, p: &[(String, String)]) -> (BTreeMap<String, Option<Mechanism>>, Vec<FieldError>) {
    let mut out = BTreeMap::new();
    let mut errors = Vec::new();
    for c in &s.content.priority_considerations {
        if last(p, &format!("off.{}", c.key)).is_some() {
            out.insert(c.key.clone(), None);
            continue;
        }
        let Some(raw) = last(p, &format!("w.{}", c.key)) else {
            continue;
        };
        let raw = raw.trim().replace([',', '$'], "");
        if raw.is_empty() {
            continue;
        }
        let field = format!("w.{}", c.key);
        let Ok(d) = raw.parse::<Decimal>() else {
            errors.push(field_error(&field, format!("{}: enter a number", c.name)));
            continue;
        };
        let m = match &c.mechanism {
            Mechanism::BonusPoints { .. } => Mechanism::BonusPoints { points: d },
            Mechanism::Multiplier { .. } => Mechanism::Multiplier { factor: d },
            Mechanism::TieBreak { .. } => Mechanism::TieBreak { band: d },
            Mechanism::SetAside { .. } | Mechanism::SeparateFundingLine { .. } => match Money::from_decimal(d) {
                Ok(amount) if matches!(c.mechanism, Mechanism::SetAside { .. }) => Mechanism::SetAside { amount },
                Ok(amount) => Mechanism::SeparateFundingLine { amount },
                Err(_) => {
                    errors.push(field_error(&field, format!("{}: enter an amount in dollars", c.name)));
                    continue;
                }
            },
        };
        out.insert(c.key.clone(), Some(m));
    }
    (out, errors)
}

fn weight_of(m: &Mechanism) -> (String, &'static str, &'static str, &'static str, &'static str) {
    // (value, field label, unit, step, min)
    match m {
        Mechanism::BonusPoints { points } => (points.normalize().to_string(), "Bonus points", "points", "0.01", "0"),
        Mechanism::Multiplier { factor } => (factor.normalize().to_string(), "Multiplier", "×", "0.01", "1"),
        Mechanism::TieBreak { band } => (band.normalize().to_string(), "Tie-break band", "points", "0.01", "0"),
        Mechanism::SetAside { amount } => (amount.to_amount_string(), "Set-aside", "dollars", "0.01", "0"),
        Mechanism::SeparateFundingLine { amount } => (
            amount.to_amount_string(),
            "Separate funding line",
            "dollars",
            "0.01",
            "0",
        ),
    }
}

/// `GET /manage/solicitations/{id}/ranking`: the ranking and funding line as the reviews
/// stand, with what-if controls (`?w.<key>=…`, `?off.<key>=1`) and the sensitivity analysis.
pub async fn ranking(
    auth: Auth,
    State(state): State<AppState>,
    Path(raw): Path<String>,
    RawQuery(q): RawQuery,
) -> AppResult<Response> {
    let s = review_solicitation(&state, &auth, &raw, false).await?;
    let p = query_pairs(q.as_deref());
    let (mechanisms, mut errors) = read_mechanisms(&s, &p);
    // The reviews are read once for the preview and the sensitivity analysis.
    let gathered = match whatif::inputs_and_config(&state.db, &s, BTreeMap::new()).await {
        Ok(g) => Ok(g),
        Err(e @ (ScoringError::Conflict(_) | ScoringError::NotFound(_))) => Err(e.to_string()),
        Err(e) => return Err(e.into()),
    };
    let checked = errors.is_empty()
        && match whatif::check_mechanisms(&s, &mechanisms) {
            Ok(()) => true,
            Err(ScoringError::Invalid(v)) => {
                errors.extend(v.0);
                false
            }
            Err(e) => return Err(e.into()),
        };
    let (preview, error) = match &gathered {
        Err(message) if checked => (None, Some(message.clone())),
        Err(_) => (None, None),
        Ok((inputs, base)) if checked => match whatif::preview(&s, inputs, base, mechanisms.clone()) {
            Ok(w) => (Some(w), None),
            Err(e @ (ScoringError::Conflict(_) | ScoringError::NotFound(_))) => (None, Some(e.to_string())),
            Err(e) => return Err(e.into()),
        },
        Ok((inputs, base)) => (whatif::preview(&s, inputs, base, BTreeMap::new()).ok(), None),
    };
    let (sensitivity, sensitivity_error) = match (&preview, &gathered) {
        (Some(w), Ok((inputs, base))) if w.declared.funded > 0 || !w.declared.applications.is_empty() => {
            match whatif::analyse(inputs, base) {
                Ok(x) => (Some(sensitivity_view(&x)), None),
                Err(e @ ScoringError::Conflict(_)) => (None, Some(e.to_string())),
                Err(e) => return Err(e.into()),
            }
        }
        _ => (None, None),
    };
    let controls: Vec<Control> = s
        .content
        .priority_considerations
        .iter()
        .map(|c| {
            let (declared, field, unit, step, min) = weight_of(&c.mechanism);
            let chosen = mechanisms.get(&c.key);
            Control {
                key: c.key.clone(),
                name: c.name.clone(),
                mechanism: c.mechanism.describe(),
                field: field.into(),
                unit: unit.into(),
                value: match chosen {
                    Some(Some(m)) => weight_of(m).0,
                    _ => last(&p, &format!("w.{}", c.key)).unwrap_or(&declared).to_string(),
                },
                declared,
                off: matches!(chosen, Some(None)),
                step: step.into(),
                min: min.into(),
            }
        })
        .collect();
    let mut hidden = Vec::new();
    for (key, m) in &mechanisms {
        match m {
            None => hidden.push(Choice {
                value: "1".into(),
                label: format!("off.{key}"),
                selected: false,
            }),
            Some(m) => hidden.push(Choice {
                value: weight_of(m).0,
                label: format!("w.{key}"),
                selected: false,
            }),
        }
    }
    let list = decisions::list(&state.db, s.id).await?;
    let decisions_rows: Vec<DecisionRow> = list
        .iter()
        .map(|d| DecisionRow {
            id: d.id.to_string(),
            status: d.status.label().to_string(),
            created: format!("{}, {}", d.created_by, when(&s, d.created_at)),
            funded: d.result.funded,
            awarded: dollars(d.result.awarded),
        })
        .collect();
    let (rows, changes, summary_now, changed_summary, inputs_hash, preview_seed, changed) = match &preview {
        Some(w) => {
            let shown = w.changed.as_ref().unwrap_or(&w.declared);
            let before: HashMap<uuid::Uuid, &ApplicationResult> =
                w.declared.applications.iter().map(|a| (a.id, a)).collect();
            let rows: Vec<RankRow> = shown
                .applications
                .iter()
                .map(|a| {
                    let mut row = rank_row(a);
                    if w.changed.is_some()
                        && let Some(b) = before.get(&a.id)
                        && (b.rank != a.rank || b.funded != a.funded)
                    {
                        row.what_if = Some(format!("declared: {}", outcome_text(b.rank, b.funded, b.amount)));
                    }
                    row
                })
                .collect();
            let changes = w
                .changes
                .iter()
                .map(|c| ChangeRow {
                    label: c.label.clone(),
                    before: outcome_text(c.rank_before, c.funded_before, c.amount_before),
                    after: outcome_text(c.rank_after, c.funded_after, c.amount_after),
                    gained: c.funded_after && !c.funded_before,
                })
                .collect();
            (
                rows,
                changes,
                summary(&w.declared),
                w.changed.as_ref().map(summary),
                w.inputs_hash.clone(),
                w.preview_seed.clone(),
                w.changed.is_some(),
            )
        }
        None => (
            Vec::new(),
            Vec::new(),
            FundsSummary {
                available: String::new(),
                awarded: String::new(),
                left: String::new(),
                funded: 0,
                optimality: String::new(),
            },
            None,
            String::new(),
            String::new(),
            false,
        ),
    };
    let body = RankingBody {
        csrf: auth.csrf.clone(),
        id: s.id.to_string(),
        number: s.content.number.clone(),
        title: s.content.title.clone(),
        can_manage: auth.may(&Action::ManageReview { office: s.office.id }),
        error,
        has_errors: !errors.is_empty(),
        errors,
        has_controls: !controls.is_empty(),
        controls,
        changed,
        summary: summary_now,
        changed_summary,
        has_rows: !rows.is_empty(),
        rows,
        has_changes: !changes.is_empty(),
        changes,
        inputs_hash,
        preview_seed,
        hidden,
        sensitivity,
        sensitivity_error,
        has_decisions: !decisions_rows.is_empty(),
        decisions: decisions_rows,
    };
    let html = state.views.page(
        &auth.chrome(),
        "review_ranking",
        &format!("Ranking: {}", s.content.number),
        "manage",
        &body,
    )?;
    Ok(html.into_response())
}

#[derive(Serialize)]
struct SensitivityView {
    weights: Vec<WeightView>,
    margins: Vec<MarginRow>,
    margins_truncated: bool,
    margin_count: usize,
    switched_off: Vec<SwitchedRow>,
    has_switched_off: bool,
}

#[derive(Serialize)]
struct WeightView {
    key: String,
    kind: String,
    declared: String,
    low: String,
    high: String,
    intervals: Vec<IntervalRow>,
    changes: Vec<String>,
    plot: Plot,
}

#[derive(Serialize)]
struct IntervalRow {
    range: String,
    funded: u32,
    awarded: String,
    funded_meeting: u32,
    awarded_to_meeting: String,
    declared: bool,
}

#[derive(Serialize)]
struct MarginRow {
    label: String,
    funded: bool,
    final_score: String,
    margin: String,
    basis: String,
    flips: String,
}

#[derive(Serialize)]
struct SwitchedRow {
    consideration: String,
    mechanism: String,
    funded: String,
    losing: Vec<String>,
    gaining: Vec<String>,
    money: String,
}

/// A step plot of the number of funded applications meeting a consideration against its
/// weight, as SVG coordinates (computed exactly, printed rounded).
#[derive(Serialize)]
struct Plot {
    width: u32,
    height: u32,
    points: String,
    declared_x: String,
    x_low: String,
    x_high: String,
    y_max: u32,
    label: String,
}

const PLOT_W: u32 = 320;
const PLOT_H: u32 = 160;
const PLOT_PAD: u32 = 24;

fn plot(study: &WeightStudy) -> Plot {
    let w = Decimal::from(PLOT_W - 2 * PLOT_PAD);
    let h = Decimal::from(PLOT_H - 2 * PLOT_PAD);
    let pad = Decimal::from(PLOT_PAD);
    let span = (study.high - study.low).max(Decimal::new(1, 6));
    let y_max = study
        .intervals
        .iter()
        .map(|i| i.funded_meeting)
        .max()
        .unwrap_or(0)
        .max(1);
    let x = |v: Decimal| pad + (v - study.low) / span * w;
    let y = |n: u32| pad + h - Decimal::from(n) / Decimal::from(y_max) * h;
    let mut points = Vec::new();
    for i in &study.intervals {
        points.push(format!(
            "{},{}",
            x(i.start).round_dp(1),
            y(i.funded_meeting).round_dp(1)
        ));
        points.push(format!("{},{}", x(i.end).round_dp(1), y(i.funded_meeting).round_dp(1)));
    }
    Plot {
        width: PLOT_W,
        height: PLOT_H,
        points: points.join(" "),
        declared_x: x(study.declared).round_dp(1).to_string(),
        x_low: study.low.normalize().to_string(),
        x_high: study.high.normalize().to_string(),
        y_max,
        label: format!(
            "Funded applications meeting {} as its weight goes from {} to {}",
            study.consideration,
            study.low.normalize(),
            study.high.normalize()
        ),
    }
}

fn sensitivity_view(x: &Sensitivity) -> SensitivityView {
    let label = |id: &uuid::Uuid| x.labels.get(id).cloned().unwrap_or_else(|| id.to_string());
    let weights = x
        .report
        .weights
        .iter()
        .map(|st| WeightView {
            key: st.consideration.clone(),
            kind: serde_json::to_value(st.kind)
                .ok()
                .and_then(|v| v.as_str().map(|s| s.replace('_', " ")))
                .unwrap_or_default(),
            declared: st.declared.normalize().to_string(),
            low: st.low.normalize().to_string(),
            high: st.high.normalize().to_string(),
            intervals: st
                .intervals
                .iter()
                .map(|i| IntervalRow {
                    range: format!(
                        "{}{}{} to {}{}{}",
                        if i.includes_start { "[" } else { "(" },
                        if i.start_exact { "" } else { "≈" },
                        i.start.round_dp(4).normalize(),
                        if i.end_exact { "" } else { "≈" },
                        i.end.round_dp(4).normalize(),
                        if i.includes_end { "]" } else { ")" },
                    ),
                    funded: i.funded,
                    awarded: dollars(i.awarded),
                    funded_meeting: i.funded_meeting,
                    awarded_to_meeting: dollars(i.awarded_to_meeting),
                    declared: i.contains_declared,
                })
                .collect(),
            changes: st
                .changes
                .iter()
                .map(|c| {
                    let names = |ids: &[uuid::Uuid]| ids.iter().map(&label).collect::<Vec<_>>().join("; ");
                    let mut t = format!("At {}{}:", if c.exact { "" } else { "≈" }, c.at.round_dp(4).normalize());
                    if !c.entering.is_empty() {
                        t.push_str(&format!(" funded: {}.", names(&c.entering)));
                    }
                    if !c.leaving.is_empty() {
                        t.push_str(&format!(" no longer funded: {}.", names(&c.leaving)));
                    }
                    t.push_str(&format!(" Money moved: {}.", dollars(c.money_moved)));
                    t
                })
                .collect(),
            plot: plot(st),
        })
        .collect();
    let margins: Vec<MarginRow> = x
        .report
        .margins
        .iter()
        .take(PAGE_MARGIN_ROWS)
        .map(|m| MarginRow {
            label: label(&m.id),
            funded: m.funded,
            final_score: m.final_score.round_dp(4).normalize().to_string(),
            margin: m
                .margin
                .map(|d| d.round_dp(4).normalize().to_string())
                .unwrap_or_default(),
            basis: match m.basis {
                MarginBasis::GeneralLine => "score change that flips it".into(),
                MarginBasis::NeverFlips => "no score change flips it".into(),
                MarginBasis::SetAside { .. } => "funded from a set-aside: see switched off".into(),
                MarginBasis::SeparateLine { .. } => "funded in a separate line: see switched off".into(),
                MarginBasis::AboveMaxAward => "request above the largest award".into(),
                MarginBasis::ExactMode => "exact funding: see switched off".into(),
            },
            flips: m
                .weights
                .iter()
                .map(|f| {
                    let side = |v: Option<Decimal>| v.map(|d| d.round_dp(4).normalize().to_string());
                    match (side(f.below), side(f.above)) {
                        (None, None) => format!("{}: never within the range", f.consideration),
                        (b, a) => format!(
                            "{}: flips below {} / above {}",
                            f.consideration,
                            b.unwrap_or_else(|| "—".into()),
                            a.unwrap_or_else(|| "—".into())
                        ),
                    }
                })
                .collect::<Vec<_>>()
                .join("; "),
        })
        .collect();
    let switched_off: Vec<SwitchedRow> = x
        .report
        .switched_off
        .iter()
        .map(|o| SwitchedRow {
            consideration: o.consideration.clone(),
            mechanism: o.mechanism.describe(),
            funded: format!("{} → {}", o.funded_before, o.funded_after),
            losing: o.losing.iter().map(&label).collect(),
            gaining: o.gaining.iter().map(&label).collect(),
            money: dollars(o.money_lost),
        })
        .collect();
    SensitivityView {
        weights,
        margins_truncated: x.report.margins.len() > PAGE_MARGIN_ROWS,
        margin_count: x.report.margins.len(),
        margins,
        has_switched_off: !switched_off.is_empty(),
        switched_off,
    }
}

/// `POST /manage/solicitations/{id}/decisions`: records a decision with the what-if weights
/// sent (none: the declared ones).
pub async fn create_decision(
    auth: Auth,
    State(state): State<AppState>,
    Path(raw): Path<String>,
    body: Bytes,
) -> AppResult<Response> {
    let s = review_solicitation(&state, &auth, &raw, true).await?;
    let p = form_pairs(&body)?;
    let (mechanisms, errors) = read_mechanisms(&s, &p);
    if let Some(e) = errors.first() {
        return Err(AppError::invalid(StatusCode::UNPROCESSABLE_ENTITY, vec![e.clone()]));
    }
    whatif::check_mechanisms(&s, &mechanisms)?;
    let d = decisions::create(&state.db, &auth.actor()?, &s, mechanisms, state.now()).await?;
    Ok(Redirect::to(&format!(
        "/manage/solicitations/{}/decisions/{}?notice=recorded",
        s.id, d.id
    ))
    .into_response())
}

#[derive(Serialize)]
struct DecisionBody {
    csrf: String,
    id: String,
    decision_id: String,
    number: String,
    title: String,
    notice: Option<String>,
    error: Option<String>,
    can_manage: bool,
    status: String,
    is_draft: bool,
    is_approved: bool,
    is_released: bool,
    created: String,
    approved: String,
    released: String,
    inputs_hash: String,
    result_hash: String,
    seed: String,
    inputs_match: bool,
    result_matches: bool,
    config: String,
    summary: FundsSummary,
    rows: Vec<RankRow>,
    solicitation_closed: bool,
}

async fn render_decision(
    state: &AppState,
    auth: &Auth,
    s: &Solicitation,
    d: Decision,
    notice: Option<String>,
    error: Option<String>,
    status: StatusCode,
) -> AppResult<Response> {
    let v = decisions::verify(&d)?;
    let body = DecisionBody {
        csrf: auth.csrf.clone(),
        id: s.id.to_string(),
        decision_id: d.id.to_string(),
        number: s.content.number.clone(),
        title: s.content.title.clone(),
        notice,
        error,
        can_manage: auth.may(&Action::ManageReview { office: s.office.id }),
        status: d.status.label().to_string(),
        is_draft: d.status == DecisionStatus::Draft,
        is_approved: d.status == DecisionStatus::Approved,
        is_released: d.status == DecisionStatus::Released,
        created: format!("{}, {}", d.created_by, when(s, d.created_at)),
        approved: match (&d.approved_by, d.approved_at) {
            (Some(by), Some(at)) => format!("{by}, {}", when(s, at)),
            _ => String::new(),
        },
        released: d.released_at.map(|t| when(s, t)).unwrap_or_default(),
        inputs_hash: d.inputs_hash.clone(),
        result_hash: d.result_hash.clone(),
        seed: d.seed.clone(),
        inputs_match: v.inputs_match,
        result_matches: v.result_matches,
        config: serde_json::to_string_pretty(&d.config).unwrap_or_default(),
        summary: summary(&d.result),
        rows: d.result.applications.iter().map(rank_row).collect(),
        solicitation_closed: !matches!(
            s.effective_status(state.now()),
            granary_solicitations::Status::Draft
                | granary_solicitations::Status::Forecasted
                | granary_solicitations::Status::Open
        ),
    };
    let html = state.views.page(
        &auth.chrome(),
        "review_decision",
        &format!("Decision: {}", s.content.number),
        "manage",
        &body,
    )?;
    Ok((status, html).into_response())
}

/// `GET /manage/solicitations/{id}/decisions/{decision}`.
pub async fn decision_page(
    auth: Auth,
    State(state): State<AppState>,
    Path((raw, decision)): Path<(String, String)>,
    RawQuery(q): RawQuery,
) -> AppResult<Response> {
    let s = review_solicitation(&state, &auth, &raw, false).await?;
    let d = decision_of(&state, &s, &decision).await?;
    let p = query_pairs(q.as_deref());
    let notice = match last(&p, "notice") {
        Some("recorded") => Some(
            "The decision was computed and recorded as a draft. Nothing has changed for applicants yet.".to_string(),
        ),
        Some("approved") => {
            Some("Approved: the funded applications are recommended for award and the others not selected.".to_string())
        }
        Some("released") => Some("Released: applicants can now see their outcome and its explanation.".to_string()),
        _ => None,
    };
    render_decision(&state, &auth, &s, d, notice, None, StatusCode::OK).await
}

async fn decision_step(
    state: &AppState,
    auth: &Auth,
    s: &Solicitation,
    raw: &str,
    approve: bool,
) -> AppResult<Response> {
    let d = decision_of(state, s, raw).await?;
    let id = d.id;
    let done = if approve {
        decisions::approve(&state.db, &auth.actor()?, s, id, state.now()).await
    } else {
        decisions::release(&state.db, &auth.actor()?, s, id, state.now()).await
    };
    match done {
        Ok(_) => Ok(Redirect::to(&format!(
            "/manage/solicitations/{}/decisions/{id}?notice={}",
            s.id,
            if approve { "approved" } else { "released" }
        ))
        .into_response()),
        Err(e @ (ScoringError::Conflict(_) | ScoringError::Invalid(_))) => {
            render_decision(state, auth, s, d, None, Some(e.to_string()), StatusCode::CONFLICT).await
        }
        Err(e) => Err(e.into()),
    }
}

/// `POST /manage/solicitations/{id}/decisions/{decision}/approve`.
pub async fn approve(
    auth: Auth,
    State(state): State<AppState>,
    Path((raw, decision)): Path<(String, String)>,
) -> AppResult<Response> {
    let s = review_solicitation(&state, &auth, &raw, true).await?;
    decision_step(&state, &auth, &s, &decision, true).await
}

/// `POST /manage/solicitations/{id}/decisions/{decision}/release`.
pub async fn release(
    auth: Auth,
    State(state): State<AppState>,
    Path((raw, decision)): Path<(String, String)>,
) -> AppResult<Response> {
    let s = review_solicitation(&state, &auth, &raw, true).await?;
    decision_step(&state, &auth, &s, &decision, false).await
}
