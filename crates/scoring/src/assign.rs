//! Running reviewer assignment for a solicitation: the pool, the applications under review,
//! conflicts and the officer's manual changes become an [`AssignmentProblem`]; its optimal
//! plan becomes review rows. Reviews a reviewer has started or submitted, and pairs an
//! officer pinned, stay as they are; pairs an officer removed are never proposed again. A
//! conflict declared after assignment releases that one assignment and puts the best
//! available reviewer in its place, leaving everything else alone.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use granary_core::Actor;
use granary_core::audit::{self, AuditEvent};
use granary_core::db::begin_write;
use granary_core::id::{ApplicationId, UserId};
use granary_solicitations::{ProgramArea, Solicitation};
use sea_orm::ActiveValue::Set;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter, QuerySelect,
    TransactionSession, TransactionTrait,
};
use serde::Serialize;

use crate::algo::assignment::{
    self, ApplicationNeeds, Assignment, AssignmentError, AssignmentProblem, AssignmentWeights, ProgramAreas,
    ReviewPair, ReviewerCapacity,
};
use crate::conflicts::{self, ConflictDeclaration};
use crate::entity::review;
use crate::error::{Result, ScoringError};
use crate::model::*;
use crate::pool;
use crate::pool::to_json;
use crate::reviews::to_review;
use crate::subjects::{self, Subject};

/// A solicitation's assignment problem, with the ids behind its indices.
struct Built {
    problem: AssignmentProblem,
    apps: Vec<Subject>,
    reviewers: Vec<PoolMember>,
    /// The live review rows by (application index, reviewer index).
    live: BTreeMap<(usize, usize), review::Model>,
    /// Live rows of pairs now known to be conflicted: they must be released.
    conflicted_live: Vec<review::Model>,
}

fn areas(list: &[ProgramArea]) -> ProgramAreas {
    let idx = list.iter().filter_map(|a| ProgramArea::ALL.iter().position(|x| x == a));
    ProgramAreas::from_indices(idx).unwrap_or_default()
}

async fn build<C: ConnectionTrait>(db: &C, s: &Solicitation, settings: &ReviewSettings) -> Result<Built> {
    let apps = subjects::submitted(db, s.id).await?;
    let snaps = subjects::snapshots(db, &apps).await?;
    let reviewers = pool::pool(db, s.id).await?;
    let app_index: BTreeMap<uuid::Uuid, usize> = apps.iter().enumerate().map(|(i, a)| (a.id, i)).collect();
    let rev_index: BTreeMap<uuid::Uuid, usize> = reviewers
        .iter()
        .enumerate()
        .map(|(i, r)| (r.reviewer.id.as_uuid(), i))
        .collect();
    let pair = |a: &uuid::Uuid, r: &uuid::Uuid| Some(ReviewPair::new(*app_index.get(a)?, *rev_index.get(r)?));
    let conflicted = conflicts::conflicted_pairs(db, s.id).await?;
    let rows = review::Entity::find()
        .filter(review::Column::SolicitationId.eq(s.id.as_uuid()))
        .all(db)
        .await?;
    let mut pinned = Vec::new();
    let mut excluded = Vec::new();
    let mut live = BTreeMap::new();
    let mut conflicted_live = Vec::new();
    for row in rows {
        if conflicted.contains(&(row.application_id, row.reviewer_id)) {
            if row.status != ReviewStatus::Released.as_str() {
                conflicted_live.push(row);
            }
            continue;
        }
        let Some(p) = pair(&row.application_id, &row.reviewer_id) else {
            continue;
        };
        if row.status == ReviewStatus::Released.as_str() {
            // Taken back by an officer: not proposed again.
            excluded.push(p);
            continue;
        }
        // Work started, or an officer's choice, stays.
        if row.pinned || row.status != ReviewStatus::Assigned.as_str() {
            pinned.push(p);
        }
        live.insert((p.application, p.reviewer), row);
    }
    let problem = AssignmentProblem {
        applications: apps
            .iter()
            .map(|a| ApplicationNeeds {
                reviewers_needed: settings.reviews_per_application,
                areas: snaps
                    .get(&a.id)
                    .map(|s| areas(&s.content.program_areas))
                    .unwrap_or_default(),
            })
            .collect(),
        reviewers: reviewers
            .iter()
            .map(|r| ReviewerCapacity {
                expertise: areas(&r.expertise),
                min_load: r.min_load.unwrap_or(settings.min_load),
                max_load: r.max_load.unwrap_or(settings.max_load),
            })
            .collect(),
        conflicts: conflicted.iter().filter_map(|(a, r)| pair(a, r)).collect(),
        pinned,
        excluded,
        weights: AssignmentWeights::default(),
    };
    Ok(Built {
        problem,
        apps,
        reviewers,
        live,
        conflicted_live,
    })
}

/// Replaces "application 3" and "reviewer 5" (and lists such as "applications 1, 2 and 4")
/// in the solver's explanation with the applicant and reviewer names.
fn with_names(text: &str, apps: &[Subject], reviewers: &[PoolMember]) -> String {
    let mut out = String::with_capacity(text.len());
    let mut kind: Option<bool> = None; // Some(true) after "application(s)", Some(false) after "reviewer(s)"
    let mut rest = text;
    while !rest.is_empty() {
        let digits = rest.chars().take_while(char::is_ascii_digit).count();
        if digits > 0 {
            let (num, tail) = rest.split_at(digits);
            match (kind, num.parse::<usize>().ok()) {
                (Some(true), Some(i)) if i < apps.len() => {
                    out.push_str(&format!("“{}” ({})", apps[i].project_title, apps[i].organization_name));
                }
                (Some(false), Some(i)) if i < reviewers.len() => out.push_str(&reviewers[i].reviewer.name),
                _ => out.push_str(num),
            }
            rest = tail;
            continue;
        }
        let word_len = rest
            .char_indices()
            .find(|(_, c)| !c.is_ascii_alphabetic())
            .map_or(rest.len(), |(i, _)| i);
        if word_len > 0 {
            let word = &rest[..word_len];
            kind = match word {
                "application" | "applications" => Some(true),
                "reviewer" | "reviewers" => Some(false),
                "and" => kind,
                _ => None,
            };
            out.push_str(word);
            rest = &rest[word_len..];
        } else {
            let c = rest.chars().next().unwrap_or(' ');
            if !matches!(c, ' ' | ',') {
                kind = None;
            }
            out.push(c);
            rest = &rest[c.len_utf8()..];
        }
    }
    out
}

fn infeasible(e: AssignmentError, built: &Built) -> ScoringError {
    ScoringError::Infeasible(with_names(&e.to_string(), &built.apps, &built.reviewers))
}

/// What an assignment run did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AssignmentRun {
    pub applications: usize,
    pub reviewers: usize,
    pub conflicts_detected: usize,
    pub added: usize,
    pub released: usize,
    pub kept: usize,
    /// Each reviewer's load afterwards, by user id.
    pub loads: BTreeMap<UserId, u32>,
    pub expertise_cost: i64,
    pub balance_cost: i64,
}

async fn insert_review<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    s: &Solicitation,
    application: uuid::Uuid,
    reviewer: uuid::Uuid,
    pinned: bool,
    now: DateTime<Utc>,
) -> Result<review::Model> {
    Ok(review::ActiveModel {
        id: Set(ReviewId::new().as_uuid()),
        solicitation_id: Set(s.id.as_uuid()),
        application_id: Set(application),
        reviewer_id: Set(reviewer),
        status: Set(ReviewStatus::Assigned.as_str().to_string()),
        pinned: Set(pinned),
        version: Set(1),
        scores_json: Set(to_json(&BTreeMap::<String, CriterionReview>::new())?),
        overall_comment: Set(String::new()),
        assigned_by: Set(actor.display_name()),
        assigned_at: Set(now),
        updated_at: Set(now),
        submitted_at: Set(None),
        reopened_by: Set(None),
        reopened_at: Set(None),
    }
    .insert(db)
    .await?)
}

async fn release<C: ConnectionTrait>(db: &C, row: review::Model, now: DateTime<Utc>) -> Result<review::Model> {
    let version = row.version + 1;
    let mut am = row.into_active_model();
    am.status = Set(ReviewStatus::Released.as_str().to_string());
    am.version = Set(version);
    am.updated_at = Set(now);
    Ok(am.update(db).await?)
}

/// Runs assignment for a solicitation: detects conflicts, solves optimally, and writes the
/// plan. All or nothing: when the rules cannot be kept, nothing changes and the error says
/// why, with names.
pub async fn run<C>(db: &C, actor: &Actor, s: &Solicitation, now: DateTime<Utc>) -> Result<AssignmentRun>
where
    C: ConnectionTrait + TransactionTrait,
{
    let txn = begin_write(db).await?;
    let (settings, _) = pool::settings(&txn, s.id).await?;
    let detected = conflicts::detect(&txn, actor, s.id, now).await?;
    let mut built = build(&txn, s, &settings).await?;
    // A conflict found after the reviewer was assigned takes the assignment away (a review
    // they submitted no longer counts); the solver below fills the place.
    let mut released = 0;
    for row in std::mem::take(&mut built.conflicted_live) {
        release(&txn, row, now).await?;
        released += 1;
    }
    if built.apps.is_empty() {
        return Err(ScoringError::Conflict(
            "there are no submitted applications to assign".to_string(),
        ));
    }
    if built.reviewers.is_empty() {
        return Err(ScoringError::Conflict(
            "the reviewer pool is empty; add reviewers first".to_string(),
        ));
    }
    let report = assignment::solve(&built.problem).map_err(|e| infeasible(e, &built))?;
    let plan = report.assignment;
    let wanted: BTreeSet<(usize, usize)> = plan
        .reviewers
        .iter()
        .enumerate()
        .flat_map(|(a, rs)| rs.iter().map(move |r| (a, *r)))
        .collect();
    let (mut added, mut kept) = (0, 0);
    for (key, row) in std::mem::take(&mut built.live) {
        if wanted.contains(&key) {
            kept += 1;
        } else {
            release(&txn, row, now).await?;
            released += 1;
        }
    }
    let live_before: BTreeSet<(usize, usize)> = review::Entity::find()
        .filter(review::Column::SolicitationId.eq(s.id.as_uuid()))
        .filter(review::Column::Status.ne(ReviewStatus::Released.as_str()))
        .all(&txn)
        .await?
        .into_iter()
        .filter_map(|r| {
            let a = built.apps.iter().position(|x| x.id == r.application_id)?;
            let v = built
                .reviewers
                .iter()
                .position(|x| x.reviewer.id.as_uuid() == r.reviewer_id)?;
            Some((a, v))
        })
        .collect();
    for &(a, r) in wanted.difference(&live_before) {
        insert_review(
            &txn,
            actor,
            s,
            built.apps[a].id,
            built.reviewers[r].reviewer.id.as_uuid(),
            false,
            now,
        )
        .await?;
        added += 1;
    }
    let loads: BTreeMap<UserId, u32> = built
        .reviewers
        .iter()
        .zip(&plan.loads)
        .map(|(r, l)| (r.reviewer.id, *l))
        .collect();
    let out = AssignmentRun {
        applications: built.apps.len(),
        reviewers: built.reviewers.len(),
        conflicts_detected: detected,
        added,
        released,
        kept,
        loads,
        expertise_cost: plan.cost.expertise,
        balance_cost: plan.cost.balance,
    };
    audit::record(
        &txn,
        actor,
        AuditEvent::new("assignment.run", "solicitation", s.id).after(&serde_json::json!({
            "applications": out.applications,
            "reviewers": out.reviewers,
            "conflicts_detected": detected,
            "added": added,
            "released": released,
            "kept": kept,
            "expertise_cost": out.expertise_cost,
            "balance_cost": out.balance_cost,
        })),
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(out)
}

/// What checking for conflicts did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConflictCheck {
    /// Conflicts found and recorded now.
    pub detected: usize,
    /// Assignments taken away because their pair is conflicted; the next assignment run
    /// gives those applications other reviewers.
    pub released: usize,
}

/// Finds the conflicts Granary can see for itself (see `conflicts::detect`) and takes away
/// every live assignment of a conflicted pair, in one transaction.
pub async fn check_conflicts<C>(db: &C, actor: &Actor, s: &Solicitation, now: DateTime<Utc>) -> Result<ConflictCheck>
where
    C: ConnectionTrait + TransactionTrait,
{
    let txn = begin_write(db).await?;
    let detected = conflicts::detect(&txn, actor, s.id, now).await?;
    let (settings, _) = pool::settings(&txn, s.id).await?;
    let built = build(&txn, s, &settings).await?;
    let mut released = 0;
    for row in built.conflicted_live {
        let (application, reviewer, review) = (row.application_id, row.reviewer_id, row.id);
        release(&txn, row, now).await?;
        audit::record(
            &txn,
            actor,
            AuditEvent::new("assignment.released_for_conflict", "application", application)
                .after(&serde_json::json!({ "reviewer": reviewer, "review": review })),
            now,
        )
        .await?;
        released += 1;
    }
    txn.commit().await?;
    Ok(ConflictCheck { detected, released })
}

/// An officer assigns a reviewer by hand. The pair is pinned: later runs keep it.
pub async fn assign_manually<C>(
    db: &C,
    actor: &Actor,
    s: &Solicitation,
    application: ApplicationId,
    reviewer: UserId,
    now: DateTime<Utc>,
) -> Result<Review>
where
    C: ConnectionTrait + TransactionTrait,
{
    let txn = begin_write(db).await?;
    if pool::pool_member_for(&txn, s.id, reviewer).await?.is_none() {
        return Err(ScoringError::field(
            "reviewer",
            "is not in this solicitation's reviewer pool",
        ));
    }
    if !subjects::submitted(&txn, s.id)
        .await?
        .iter()
        .any(|a| a.id == application.as_uuid())
    {
        return Err(ScoringError::NotFound(format!("submitted application {application}")));
    }
    // Conflicts Granary can see for itself are recorded first, so a member of the applicant
    // (or of its fiscal sponsor) cannot be assigned by hand either.
    conflicts::detect(&txn, actor, s.id, now).await?;
    if conflicts::is_conflicted(&txn, application, reviewer).await? {
        return Err(ScoringError::Conflict(
            "this reviewer has a conflict of interest with the application".to_string(),
        ));
    }
    let existing = review::Entity::find()
        .filter(review::Column::ApplicationId.eq(application.as_uuid()))
        .filter(review::Column::ReviewerId.eq(reviewer.as_uuid()))
        .one(&txn)
        .await?;
    let row = match existing {
        Some(row) if row.status != ReviewStatus::Released.as_str() => {
            let mut am = row.into_active_model();
            am.pinned = Set(true);
            am.update(&txn).await?
        }
        Some(row) => {
            let version = row.version + 1;
            let mut am = row.into_active_model();
            am.pinned = Set(true);
            am.status = Set(if am.submitted_at.as_ref().is_some() {
                ReviewStatus::Submitted
            } else {
                ReviewStatus::Assigned
            }
            .as_str()
            .to_string());
            am.version = Set(version);
            am.updated_at = Set(now);
            am.update(&txn).await?
        }
        None => insert_review(&txn, actor, s, application.as_uuid(), reviewer.as_uuid(), true, now).await?,
    };
    audit::record(
        &txn,
        actor,
        AuditEvent::new("assignment.added", "application", application)
            .after(&serde_json::json!({ "reviewer": reviewer, "review": row.id })),
        now,
    )
    .await?;
    txn.commit().await?;
    to_review(row)
}

/// An officer takes an assignment back. Later runs do not propose the pair again. A
/// submitted review cannot be taken back this way (its scores count); reopen it first.
pub async fn unassign<C>(db: &C, actor: &Actor, id: ReviewId, now: DateTime<Utc>) -> Result<Review>
where
    C: ConnectionTrait + TransactionTrait,
{
    let txn = begin_write(db).await?;
    // Locked, so a submission racing with this either lands first (and is refused below) or
    // waits and then finds the assignment released.
    let row = review::Entity::find_by_id(id.as_uuid())
        .lock_exclusive()
        .one(&txn)
        .await?
        .ok_or_else(|| ScoringError::NotFound(format!("review {id}")))?;
    match ReviewStatus::parse(&row.status) {
        Some(ReviewStatus::Released) => {
            return Err(ScoringError::Conflict(
                "this assignment was already taken back".to_string(),
            ));
        }
        Some(ReviewStatus::Submitted) => {
            return Err(ScoringError::Conflict(
                "this review has been submitted; reopen it before taking the assignment back".to_string(),
            ));
        }
        _ => {}
    }
    let application = row.application_id;
    let row = release(&txn, row, now).await?;
    audit::record(
        &txn,
        actor,
        AuditEvent::new("assignment.removed", "application", application)
            .after(&serde_json::json!({ "reviewer": row.reviewer_id, "review": row.id })),
        now,
    )
    .await?;
    txn.commit().await?;
    to_review(row)
}

/// What happened when a conflict was declared.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeclaredConflict {
    pub conflict: Conflict,
    /// The assignment the conflict released, if the reviewer had one.
    pub released: Option<ReviewId>,
    /// The reviewer put in their place.
    pub replacement: Option<Review>,
    /// Why no replacement was found, when none was.
    pub unfilled: Option<String>,
}

/// Records a conflict of interest between a reviewer and an application. If the reviewer was
/// assigned to it, the assignment is released (a submitted review from them no longer counts)
/// and the best available reviewer replaces them, everything else unchanged; when no one can,
/// the conflict still stands and the reason is returned for the officer.
#[allow(clippy::too_many_arguments)]
pub async fn declare_conflict<C>(
    db: &C,
    actor: &Actor,
    s: &Solicitation,
    application: ApplicationId,
    reviewer: UserId,
    source: ConflictSource,
    declaration: &ConflictDeclaration,
    now: DateTime<Utc>,
) -> Result<DeclaredConflict>
where
    C: ConnectionTrait + TransactionTrait,
{
    let txn = begin_write(db).await?;
    if !subjects::submitted(&txn, s.id)
        .await?
        .iter()
        .any(|a| a.id == application.as_uuid())
    {
        return Err(ScoringError::NotFound(format!("submitted application {application}")));
    }
    if pool::pool_member_for(&txn, s.id, reviewer).await?.is_none() {
        return Err(ScoringError::field(
            "reviewer",
            "is not in this solicitation's reviewer pool",
        ));
    }
    let (settings, _) = pool::settings(&txn, s.id).await?;
    // The plan as it stands, before the conflict is known.
    let mut built = build(&txn, s, &settings).await?;
    let conflict = conflicts::record(&txn, actor, s.id, application, reviewer, source, declaration, now).await?;
    let a = built.apps.iter().position(|x| x.id == application.as_uuid());
    let r = built.reviewers.iter().position(|x| x.reviewer.id == reviewer);
    let (Some(a), Some(r)) = (a, r) else {
        txn.commit().await?;
        return Ok(DeclaredConflict {
            conflict,
            released: None,
            replacement: None,
            unfilled: None,
        });
    };
    let Some(row) = built.live.remove(&(a, r)) else {
        txn.commit().await?;
        return Ok(DeclaredConflict {
            conflict,
            released: None,
            replacement: None,
            unfilled: None,
        });
    };
    let released = release(&txn, row, now).await?;
    // Minimum loads are a goal of a full run; a single replacement never fails on them.
    for c in &mut built.problem.reviewers {
        c.min_load = 0;
    }
    let mut current: Vec<Vec<usize>> = vec![Vec::new(); built.apps.len()];
    for &(app, rev) in built.live.keys() {
        current[app].push(rev);
    }
    current[a].push(r);
    let chosen = match Assignment::from_reviewers(&built.problem, current.clone()) {
        Ok(mut plan) => assignment::reassign_after_conflict(&built.problem, &mut plan, a, r)
            .map(|rep| rep.replacement)
            .map_err(|e| infeasible(e, &built)),
        Err(_) => {
            // The plan was not complete (no full run yet): fill this application's open places
            // with everything else pinned.
            let mut p = built.problem.clone();
            p.conflicts.push(ReviewPair::new(a, r));
            p.pinned = current
                .iter()
                .enumerate()
                .flat_map(|(app, rs)| rs.iter().map(move |rev| ReviewPair::new(app, *rev)))
                .filter(|pair| *pair != ReviewPair::new(a, r))
                .collect();
            p.applications = p
                .applications
                .iter()
                .enumerate()
                .map(|(i, n)| ApplicationNeeds {
                    reviewers_needed: if i == a {
                        n.reviewers_needed
                    } else {
                        current[i].len() as u32
                    },
                    areas: n.areas,
                })
                .collect();
            assignment::solve(&p)
                .map_err(|e| infeasible(e, &built))
                .and_then(|rep| {
                    rep.assignment.reviewers[a]
                        .iter()
                        .copied()
                        .find(|x| !current[a].contains(x))
                        .ok_or_else(|| ScoringError::Infeasible("no reviewer is free to take it".to_string()))
                })
        }
    };
    let (replacement, unfilled) = match chosen {
        Ok(new) => {
            let rid = built.reviewers[new].reviewer.id;
            let existing = review::Entity::find()
                .filter(review::Column::ApplicationId.eq(application.as_uuid()))
                .filter(review::Column::ReviewerId.eq(rid.as_uuid()))
                .one(&txn)
                .await?;
            let row = match existing {
                Some(old) => {
                    let version = old.version + 1;
                    let mut am = old.into_active_model();
                    am.status = Set(ReviewStatus::Assigned.as_str().to_string());
                    am.version = Set(version);
                    am.updated_at = Set(now);
                    am.update(&txn).await?
                }
                None => insert_review(&txn, actor, s, application.as_uuid(), rid.as_uuid(), false, now).await?,
            };
            (Some(to_review(row)?), None)
        }
        Err(e) => (None, Some(e.to_string())),
    };
    audit::record(
        &txn,
        actor,
        AuditEvent::new("assignment.replaced_after_conflict", "application", application).after(&serde_json::json!({
            "released": released.id,
            "from": reviewer,
            "to": replacement.as_ref().map(|r| r.reviewer),
            "unfilled": unfilled,
        })),
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(DeclaredConflict {
        conflict,
        released: Some(ReviewId(released.id)),
        replacement,
        unfilled,
    })
}
