//! Decision records. A program officer computes a decision from the reviews as they stand:
//! the configuration, every input, their SHA-256, a lottery seed drawn from the operating
//! system and the result (with its own SHA-256) are stored together, so anyone can recompute
//! it and get the identical result. Approval moves each application to recommended or not
//! selected, refusing if the reviews changed after the decision was computed; release lets
//! applicants read their own explanation, with reviewers anonymized.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use granary_applications::DocumentSlot;
use granary_core::audit::{self, AuditEvent};
use granary_core::db::begin_write;
use granary_core::id::{ApplicationId, SolicitationId};
use granary_core::{Actor, Money};
use granary_solicitations::Solicitation;
use rust_decimal::Decimal;
use sea_orm::ActiveValue::Set;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder, QuerySelect,
    TransactionSession, TransactionTrait,
};
use serde::{Deserialize, Serialize};

use crate::algo::funding::FundingConfig;
use crate::algo::lottery::LotterySeed;
use crate::algo::priority::ApplicantFacts;
use crate::conflicts;
use crate::entity::{decision, organization, outcome, review};
use crate::error::{Result, ScoringError};
use crate::model::*;
use crate::pipeline::{
    self, ApplicationInput, CriterionInput, DecisionConfig, DecisionInputs, DecisionResult, ReviewInput,
};
use crate::pool::{self, from_json, to_json};
use crate::subjects;

/// Where a decision stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DecisionStatus {
    /// Computed, for the officers to look at; nothing has changed for applicants.
    Draft,
    /// Approved: applications are recommended or not selected.
    Approved,
    /// Approved and released: applicants can read their own outcome and explanation.
    Released,
}

impl DecisionStatus {
    pub fn as_str(&self) -> &'static str {
        match self {
            DecisionStatus::Draft => "draft",
            DecisionStatus::Approved => "approved",
            DecisionStatus::Released => "released",
        }
    }

    /// The plain-language name shown to people.
    pub fn label(&self) -> &'static str {
        match self {
            DecisionStatus::Draft => "Draft (not approved)",
            DecisionStatus::Approved => "Approved",
            DecisionStatus::Released => "Approved and released to applicants",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        [
            DecisionStatus::Draft,
            DecisionStatus::Approved,
            DecisionStatus::Released,
        ]
        .into_iter()
        .find(|d| d.as_str() == s)
    }
}

/// A stored decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Decision {
    pub id: DecisionId,
    pub solicitation_id: SolicitationId,
    pub status: DecisionStatus,
    pub config: DecisionConfig,
    pub inputs: DecisionInputs,
    pub inputs_hash: String,
    /// The lottery seed, hex.
    pub seed: String,
    pub result: DecisionResult,
    pub result_hash: String,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub approved_by: Option<String>,
    pub approved_at: Option<DateTime<Utc>>,
    pub released_at: Option<DateTime<Utc>>,
}

fn to_decision(row: decision::Model) -> Result<Decision> {
    Ok(Decision {
        id: DecisionId(row.id),
        solicitation_id: SolicitationId(row.solicitation_id),
        status: DecisionStatus::parse(&row.status)
            .ok_or_else(|| ScoringError::Corrupt(format!("decision status {:?}", row.status)))?,
        config: from_json("decision configuration", &row.config_json)?,
        inputs: from_json("decision inputs", &row.inputs_json)?,
        inputs_hash: row.inputs_hash,
        seed: row.seed,
        result: from_json("decision result", &row.result_json)?,
        result_hash: row.result_hash,
        created_by: row.created_by,
        created_at: row.created_at,
        approved_by: row.approved_by,
        approved_at: row.approved_at,
        released_at: row.released_at,
    })
}

/// The inputs of a decision as the database holds them now: the rubric, the declared
/// considerations, every application under review with the facts its priorities are
/// determined from, and every submitted review whose reviewer has no conflict with it.
pub async fn gather_inputs<C: ConnectionTrait>(db: &C, s: &Solicitation) -> Result<DecisionInputs> {
    let apps = subjects::submitted(db, s.id).await?;
    let snaps = subjects::snapshots(db, &apps).await?;
    let orgs: BTreeMap<uuid::Uuid, organization::Model> = {
        let ids: Vec<uuid::Uuid> = apps.iter().map(|a| a.organization_id).collect();
        let mut out = BTreeMap::new();
        for chunk in ids.chunks(500) {
            for o in organization::Entity::find()
                .filter(organization::Column::Id.is_in(chunk.to_vec()))
                .all(db)
                .await?
            {
                out.insert(o.id, o);
            }
        }
        out
    };
    let criteria: Vec<CriterionInput> = s
        .content
        .rubric
        .criteria
        .iter()
        .map(|c| CriterionInput {
            key: c.key.clone(),
            name: c.name.clone(),
            points: Decimal::from(c.points),
        })
        .collect();
    let mut applications = Vec::with_capacity(apps.len());
    for a in &apps {
        let snap = snaps.get(&a.id);
        let org = orgs.get(&a.organization_id);
        let facts = ApplicantFacts {
            attested: snap
                .map(|s| {
                    s.content
                        .priorities
                        .iter()
                        .filter(|(_, c)| c.claimed)
                        .map(|(k, _)| k.clone())
                        .collect()
                })
                .unwrap_or_default(),
            evidence: snap
                .map(|s| {
                    s.documents
                        .iter()
                        .filter_map(|d| match &d.slot {
                            DocumentSlot::PriorityEvidence(k) => Some(k.clone()),
                            _ => None,
                        })
                        .collect()
                })
                .unwrap_or_default(),
            county_fips: org.and_then(|o| o.county_fips.clone()),
            state: org.and_then(|o| o.state.clone()),
            annual_budget: org
                .and_then(|o| o.annual_budget_cents)
                .and_then(|c| Money::from_cents(c).ok()),
        };
        applications.push(ApplicationInput {
            id: a.id,
            label: format!("{} — {}", a.project_title, a.organization_name),
            requested: a.request.unwrap_or(Money::ZERO),
            recommended: None,
            facts,
            overrides: BTreeMap::new(),
        });
    }
    let conflicted = conflicts::conflicted_pairs(db, s.id).await?;
    let under_review: BTreeSet<uuid::Uuid> = apps.iter().map(|a| a.id).collect();
    let mut reviews = Vec::new();
    for r in review::Entity::find()
        .filter(review::Column::SolicitationId.eq(s.id.as_uuid()))
        .filter(review::Column::Status.eq(ReviewStatus::Submitted.as_str()))
        .order_by_asc(review::Column::ApplicationId)
        .order_by_asc(review::Column::ReviewerId)
        .all(db)
        .await?
    {
        if conflicted.contains(&(r.application_id, r.reviewer_id)) || !under_review.contains(&r.application_id) {
            continue;
        }
        let scores: BTreeMap<String, CriterionReview> = from_json("review scores", &r.scores_json)?;
        let Some(scores) = criteria
            .iter()
            .map(|c| scores.get(&c.key).and_then(|x| x.score))
            .collect::<Option<Vec<Decimal>>>()
        else {
            // Submitted under an older rubric: it cannot be counted until it is rescored.
            continue;
        };
        reviews.push(ReviewInput {
            application: r.application_id,
            reviewer: r.reviewer_id,
            scores,
        });
    }
    Ok(DecisionInputs {
        criteria,
        considerations: s.content.priority_considerations.clone(),
        applications,
        reviews,
    })
}

/// The decision configuration from a solicitation's review settings, with optional what-if
/// changes to the priority mechanisms.
pub fn config_for(
    s: &Solicitation,
    settings: &ReviewSettings,
    mechanisms: BTreeMap<String, Option<granary_solicitations::Mechanism>>,
) -> DecisionConfig {
    let available = settings.available_funds.unwrap_or(s.content.funding.total_available);
    let funding = match settings.funding_mode {
        FundingMode::RankOrder => FundingConfig::rank_order(available),
        FundingMode::Exact => FundingConfig::exact(available),
    };
    DecisionConfig {
        calibration: settings.calibration,
        disagreement_share: settings.disagreement_percent / Decimal::ONE_HUNDRED,
        funding,
        mechanisms,
    }
}

fn new_seed() -> LotterySeed {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the operating system's random number generator works");
    LotterySeed::from_hex(&hex::encode(bytes)).expect("64 hex digits are a seed")
}

/// Computes a decision from the reviews as they stand and records it as a draft.
pub async fn create<C>(
    db: &C,
    actor: &Actor,
    s: &Solicitation,
    mechanisms: BTreeMap<String, Option<granary_solicitations::Mechanism>>,
    now: DateTime<Utc>,
) -> Result<Decision>
where
    C: ConnectionTrait + TransactionTrait,
{
    let txn = begin_write(db).await?;
    let (settings, _) = pool::settings(&txn, s.id).await?;
    let inputs = gather_inputs(&txn, s).await?;
    if inputs.applications.is_empty() {
        return Err(ScoringError::Conflict(
            "there are no submitted applications to decide on".to_string(),
        ));
    }
    let config = config_for(s, &settings, mechanisms);
    let seed = new_seed();
    let result = pipeline::compute(&inputs, &config, seed)
        .map_err(|e| ScoringError::Conflict(format!("the decision cannot be computed: {e}")))?;
    let row = decision::ActiveModel {
        id: Set(DecisionId::new().as_uuid()),
        solicitation_id: Set(s.id.as_uuid()),
        status: Set(DecisionStatus::Draft.as_str().to_string()),
        config_json: Set(to_json(&config)?),
        inputs_json: Set(to_json(&inputs)?),
        inputs_hash: Set(inputs.hash()),
        seed: Set(seed.to_hex()),
        result_json: Set(to_json(&result)?),
        result_hash: Set(result.hash()),
        created_by: Set(actor.display_name()),
        created_at: Set(now),
        approved_by: Set(None),
        approved_at: Set(None),
        released_at: Set(None),
    }
    .insert(&txn)
    .await?;
    audit::record(
        &txn,
        actor,
        AuditEvent::new("decision.computed", "solicitation", s.id).after(&serde_json::json!({
            "decision": row.id,
            "inputs_hash": row.inputs_hash,
            "seed": row.seed,
            "result_hash": row.result_hash,
            "funded": result.funded,
            "awarded": result.awarded,
        })),
        now,
    )
    .await?;
    txn.commit().await?;
    to_decision(row)
}

/// A decision by id.
pub async fn get<C: ConnectionTrait>(db: &C, id: DecisionId) -> Result<Decision> {
    decision::Entity::find_by_id(id.as_uuid())
        .one(db)
        .await?
        .ok_or_else(|| ScoringError::NotFound(format!("decision {id}")))
        .and_then(to_decision)
}

/// A solicitation's decisions, newest first.
pub async fn list<C: ConnectionTrait>(db: &C, solicitation: SolicitationId) -> Result<Vec<Decision>> {
    decision::Entity::find()
        .filter(decision::Column::SolicitationId.eq(solicitation.as_uuid()))
        .order_by_desc(decision::Column::CreatedAt)
        .order_by_desc(decision::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(to_decision)
        .collect()
}

/// What recomputing a recorded decision found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verification {
    /// The stored inputs still hash to the recorded inputs hash.
    pub inputs_match: bool,
    /// Recomputing from the stored inputs, configuration and seed gives the recorded result.
    pub result_matches: bool,
    pub recomputed_hash: String,
}

/// Recomputes a recorded decision from its own record.
pub fn verify(d: &Decision) -> Result<Verification> {
    let seed = LotterySeed::from_hex(&d.seed).map_err(|e| ScoringError::Corrupt(format!("seed: {e}")))?;
    let again = pipeline::compute(&d.inputs, &d.config, seed)
        .map_err(|e| ScoringError::Corrupt(format!("the recorded decision no longer computes: {e}")))?;
    let recomputed_hash = again.hash();
    Ok(Verification {
        inputs_match: d.inputs.hash() == d.inputs_hash,
        result_matches: again == d.result && recomputed_hash == d.result_hash,
        recomputed_hash,
    })
}

/// Approves a draft decision: each application becomes recommended (with its amount) or not
/// selected. Refused when the reviews or applications changed after it was computed (compute
/// it again), or when another decision of the solicitation is already approved.
pub async fn approve<C>(db: &C, actor: &Actor, s: &Solicitation, id: DecisionId, now: DateTime<Utc>) -> Result<Decision>
where
    C: ConnectionTrait + TransactionTrait,
{
    use granary_solicitations::Status;
    if matches!(
        s.effective_status(now),
        Status::Draft | Status::Forecasted | Status::Open
    ) {
        return Err(ScoringError::Conflict(
            "the solicitation is still accepting applications; approve a decision after it closes".to_string(),
        ));
    }
    // An organization with an extension still running may yet submit or withdraw: deciding
    // now would leave it out for good.
    if let Some(e) = granary_applications::extensions(db, s.id)
        .await?
        .into_iter()
        .filter(|e| e.until > now)
        .max_by_key(|e| e.until)
    {
        return Err(ScoringError::Conflict(format!(
            "an extension lets an applicant submit until {}; approve a decision after it ends",
            granary_core::time::format_instant(e.until, s.time_zone())
        )));
    }
    let txn = begin_write(db).await?;
    let row = decision::Entity::find_by_id(id.as_uuid())
        .lock_exclusive()
        .one(&txn)
        .await?
        .filter(|d| d.solicitation_id == s.id.as_uuid())
        .ok_or_else(|| ScoringError::NotFound(format!("decision {id}")))?;
    if row.status != DecisionStatus::Draft.as_str() {
        return Err(ScoringError::Conflict("this decision was already approved".to_string()));
    }
    if decision::Entity::find()
        .filter(decision::Column::SolicitationId.eq(s.id.as_uuid()))
        .filter(decision::Column::Status.ne(DecisionStatus::Draft.as_str()))
        .one(&txn)
        .await?
        .is_some()
    {
        return Err(ScoringError::Conflict(
            "another decision for this solicitation is already approved".to_string(),
        ));
    }
    let current = gather_inputs(&txn, s).await?;
    if current.hash() != row.inputs_hash {
        return Err(ScoringError::Conflict(
            "reviews or applications changed after this decision was computed; compute it again and approve the new one"
                .to_string(),
        ));
    }
    let d = to_decision(row.clone())?;
    for a in &d.result.applications {
        outcome::ActiveModel {
            application_id: Set(a.id),
            solicitation_id: Set(s.id.as_uuid()),
            decision_id: Set(d.id.as_uuid()),
            status: Set(if a.funded { "recommended" } else { "not_selected" }.to_string()),
            amount_cents: Set(a.amount.cents()),
            reason: Set(a.reason.clone()),
            decided_at: Set(now),
        }
        .insert(&txn)
        .await?;
    }
    let mut am = row.into_active_model();
    am.status = Set(DecisionStatus::Approved.as_str().to_string());
    am.approved_by = Set(Some(actor.display_name()));
    am.approved_at = Set(Some(now));
    let row = am.update(&txn).await?;
    audit::record(
        &txn,
        actor,
        AuditEvent::new("decision.approved", "solicitation", s.id).after(&serde_json::json!({
            "decision": row.id,
            "recommended": d.result.funded,
            "not_selected": d.result.applications.len() - d.result.funded,
            "awarded": d.result.awarded,
        })),
        now,
    )
    .await?;
    txn.commit().await?;
    to_decision(row)
}

/// Releases an approved decision to applicants.
pub async fn release<C>(db: &C, actor: &Actor, s: &Solicitation, id: DecisionId, now: DateTime<Utc>) -> Result<Decision>
where
    C: ConnectionTrait + TransactionTrait,
{
    let txn = begin_write(db).await?;
    let row = decision::Entity::find_by_id(id.as_uuid())
        .lock_exclusive()
        .one(&txn)
        .await?
        .filter(|d| d.solicitation_id == s.id.as_uuid())
        .ok_or_else(|| ScoringError::NotFound(format!("decision {id}")))?;
    if row.status != DecisionStatus::Approved.as_str() {
        return Err(ScoringError::Conflict(
            "only an approved decision can be released".to_string(),
        ));
    }
    let mut am = row.into_active_model();
    am.status = Set(DecisionStatus::Released.as_str().to_string());
    am.released_at = Set(Some(now));
    let row = am.update(&txn).await?;
    audit::record(
        &txn,
        actor,
        AuditEvent::new("decision.released", "solicitation", s.id).after(&serde_json::json!({ "decision": row.id })),
        now,
    )
    .await?;
    txn.commit().await?;
    to_decision(row)
}

/// An application's outcome and explanation, once its solicitation's decision is released.
pub async fn released_outcome<C: ConnectionTrait>(
    db: &C,
    application: ApplicationId,
) -> Result<Option<pipeline::ApplicationResult>> {
    let Some(o) = outcome::Entity::find_by_id(application.as_uuid()).one(db).await? else {
        return Ok(None);
    };
    let d = get(db, DecisionId(o.decision_id)).await?;
    if d.status != DecisionStatus::Released {
        return Ok(None);
    }
    Ok(d.result
        .applications
        .into_iter()
        .find(|a| a.id == application.as_uuid()))
}
