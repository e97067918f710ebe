//! What-if and sensitivity: the ranking and funding line as the reviews stand now, with the
//! declared priority mechanisms or with changed weights, side by side; and how much the
//! funded set depends on each priority consideration.
//!
//! Nothing here is stored: a preview is computed from the current reviews each time it is
//! asked for. Its lottery seed is derived from the inputs' hash, so the same inputs always
//! preview the same way and a changed weight is compared with the declared weights under the
//! same draw. Recording a decision (`decisions::create`) draws a fresh seed from the
//! operating system and stores it; a tie settled by lottery can therefore come out
//! differently in the record than in the preview, and the page says so.

use std::collections::BTreeMap;

use granary_core::Money;
use granary_solicitations::Solicitation;
use granary_solicitations::model::Mechanism;
use rust_decimal::Decimal;
use sea_orm::ConnectionTrait;
use serde::Serialize;
use uuid::Uuid;

use crate::algo::lottery::LotterySeed;
use crate::algo::sensitivity::{self, SensitivityReport};
use crate::decisions::{config_for, gather_inputs};
use crate::error::{Result, ScoringError};
use crate::pipeline::{self, DecisionConfig, DecisionInputs, DecisionResult};
use crate::pool;

/// One application whose outcome differs between the declared weights and the what-if.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OutcomeChange {
    pub id: Uuid,
    pub label: String,
    pub rank_before: Option<usize>,
    pub rank_after: Option<usize>,
    pub funded_before: bool,
    pub funded_after: bool,
    pub amount_before: Money,
    pub amount_after: Money,
}

/// A preview of the decision under the declared mechanisms and under changed ones.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WhatIf {
    pub inputs_hash: String,
    /// The seed both previews use (derived from the inputs' hash).
    pub preview_seed: String,
    pub declared: DecisionResult,
    /// `None` when no weight was changed.
    pub changed: Option<DecisionResult>,
    pub mechanisms: BTreeMap<String, Option<Mechanism>>,
    /// Applications whose funded status, amount or rank differs, in the what-if's rank order.
    pub changes: Vec<OutcomeChange>,
}

/// The preview seed of a set of inputs: their hash, which is 64 hex digits.
pub fn preview_seed(inputs: &DecisionInputs) -> LotterySeed {
    LotterySeed::from_hex(&inputs.hash()).unwrap_or_else(|_| unreachable_seed())
}

fn unreachable_seed() -> LotterySeed {
    // A SHA-256 in hex is always a valid seed; this keeps the function total.
    LotterySeed::from_hex(&"0".repeat(64)).unwrap_or_else(|e| panic!("the zero seed is valid: {e}"))
}

/// The inputs and the configuration a preview of `s` uses.
pub async fn inputs_and_config<C: ConnectionTrait>(
    db: &C,
    s: &Solicitation,
    mechanisms: BTreeMap<String, Option<Mechanism>>,
) -> Result<(DecisionInputs, DecisionConfig)> {
    let (settings, _) = pool::settings(db, s.id).await?;
    let inputs = gather_inputs(db, s).await?;
    Ok((inputs, config_for(s, &settings, mechanisms)))
}

/// Checks what-if mechanisms against the solicitation's considerations: every key must be
/// one of them, and a changed mechanism must keep its kind (a weight changes, not the
/// mechanism).
pub fn check_mechanisms(s: &Solicitation, mechanisms: &BTreeMap<String, Option<Mechanism>>) -> Result<()> {
    for (key, m) in mechanisms {
        let Some(c) = s.content.priority_considerations.iter().find(|c| &c.key == key) else {
            return Err(ScoringError::field(
                &format!("mechanisms.{key}"),
                "is not one of this solicitation's priority considerations",
            ));
        };
        let Some(m) = m else { continue };
        let same_kind = std::mem::discriminant(m) == std::mem::discriminant(&c.mechanism);
        if !same_kind {
            return Err(ScoringError::field(
                &format!("mechanisms.{key}"),
                "a what-if changes the weight of the declared mechanism, not the mechanism itself",
            ));
        }
        let bad = match m {
            Mechanism::BonusPoints { points } => *points < Decimal::ZERO || *points > Decimal::from(1000),
            Mechanism::Multiplier { factor } => *factor < Decimal::ONE || *factor > Decimal::from(10),
            Mechanism::TieBreak { band } => *band < Decimal::ZERO || *band > Decimal::from(1000),
            Mechanism::SetAside { amount } | Mechanism::SeparateFundingLine { amount } => amount.is_negative(),
        };
        if bad {
            return Err(ScoringError::field(
                &format!("mechanisms.{key}"),
                "is out of range: bonus points and bands 0 to 1,000, a multiplier 1 to 10, amounts not negative",
            ));
        }
    }
    Ok(())
}

fn cannot_compute(e: impl std::fmt::Display) -> ScoringError {
    ScoringError::Conflict(format!("the decision cannot be computed: {e}"))
}

/// Previews the decision with the declared mechanisms and, when `mechanisms` changes any,
/// with the changes, listing the applications whose outcome differs.
pub async fn what_if<C: ConnectionTrait>(
    db: &C,
    s: &Solicitation,
    mechanisms: BTreeMap<String, Option<Mechanism>>,
) -> Result<WhatIf> {
    check_mechanisms(s, &mechanisms)?;
    let (inputs, base_config) = inputs_and_config(db, s, BTreeMap::new()).await?;
    preview(s, &inputs, &base_config, mechanisms)
}

/// [`what_if`] on inputs already gathered, with `base_config` the configuration without
/// what-if changes (`mechanisms` checked by the caller with [`check_mechanisms`]).
pub fn preview(
    s: &Solicitation,
    inputs: &DecisionInputs,
    base_config: &DecisionConfig,
    mechanisms: BTreeMap<String, Option<Mechanism>>,
) -> Result<WhatIf> {
    let seed = preview_seed(inputs);
    let compute = |config: &DecisionConfig| pipeline::compute(inputs, config, seed).map_err(cannot_compute);
    let declared = compute(base_config)?;
    let effective: BTreeMap<String, Option<Mechanism>> = mechanisms
        .into_iter()
        .filter(|(key, m)| {
            let declared = s
                .content
                .priority_considerations
                .iter()
                .find(|c| &c.key == key)
                .map(|c| &c.mechanism);
            m.as_ref() != declared
        })
        .collect();
    let (changed, changes) = if effective.is_empty() {
        (None, Vec::new())
    } else {
        let config = DecisionConfig {
            mechanisms: effective.clone(),
            ..base_config.clone()
        };
        let after = compute(&config)?;
        let changes = compare(&declared, &after);
        (Some(after), changes)
    };
    Ok(WhatIf {
        inputs_hash: inputs.hash(),
        preview_seed: seed.to_hex(),
        declared,
        changed,
        mechanisms: effective,
        changes,
    })
}

/// The applications whose rank, funded status or amount differs between two results, in the
/// second one's order.
pub fn compare(before: &DecisionResult, after: &DecisionResult) -> Vec<OutcomeChange> {
    let old: BTreeMap<Uuid, &pipeline::ApplicationResult> = before.applications.iter().map(|a| (a.id, a)).collect();
    after
        .applications
        .iter()
        .filter_map(|a| {
            let b = old.get(&a.id)?;
            (b.rank != a.rank || b.funded != a.funded || b.amount != a.amount).then(|| OutcomeChange {
                id: a.id,
                label: a.label.clone(),
                rank_before: b.rank,
                rank_after: a.rank,
                funded_before: b.funded,
                funded_after: a.funded,
                amount_before: b.amount,
                amount_after: a.amount,
            })
        })
        .collect()
}

/// The range a weight is studied over: bonus points from 0 to twice the declared points (at
/// least 10), a multiplier from 1 to twice the declared increase (at least 1.5).
pub fn default_range(m: &Mechanism) -> Option<(Decimal, Decimal)> {
    match m {
        Mechanism::BonusPoints { points } => Some((Decimal::ZERO, (*points * Decimal::TWO).max(Decimal::TEN))),
        Mechanism::Multiplier { factor } => {
            let high = Decimal::ONE + (*factor - Decimal::ONE) * Decimal::TWO;
            Some((Decimal::ONE, high.max(Decimal::new(15, 1))))
        }
        _ => None,
    }
}

/// The sensitivity analysis with application labels.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Sensitivity {
    pub inputs_hash: String,
    pub preview_seed: String,
    pub report: SensitivityReport,
    pub labels: BTreeMap<Uuid, String>,
    /// The considerations whose weight was studied, with the range.
    pub ranges: Vec<(String, Decimal, Decimal)>,
}

/// The full sensitivity analysis of the decision as the reviews stand, under the declared
/// mechanisms: each bonus-points or multiplier weight's intervals over its default range,
/// every application's flip margin, and each consideration switched off.
pub async fn sensitivity<C: ConnectionTrait>(db: &C, s: &Solicitation) -> Result<Sensitivity> {
    let (inputs, config) = inputs_and_config(db, s, BTreeMap::new()).await?;
    analyse(&inputs, &config)
}

/// [`sensitivity`] on inputs already gathered, with the configuration without what-if
/// changes.
pub fn analyse(inputs: &DecisionInputs, config: &DecisionConfig) -> Result<Sensitivity> {
    let seed = preview_seed(inputs);
    let prepared = pipeline::prepare(inputs, config, seed).map_err(cannot_compute)?;
    let scenario = pipeline::scenario(&prepared, config).map_err(cannot_compute)?;
    let ranges: Vec<(String, Decimal, Decimal)> = inputs
        .considerations
        .iter()
        .filter_map(|c| default_range(&c.mechanism).map(|(lo, hi)| (c.key.clone(), lo, hi)))
        .collect();
    let weights: Vec<(&str, (Decimal, Decimal))> = ranges.iter().map(|(k, lo, hi)| (k.as_str(), (*lo, *hi))).collect();
    let report = sensitivity::analyse(&prepared.competition, &scenario, &config.funding, &weights)
        .map_err(|e| ScoringError::Conflict(format!("the sensitivity analysis cannot be computed: {e}")))?;
    Ok(Sensitivity {
        inputs_hash: inputs.hash(),
        preview_seed: seed.to_hex(),
        report,
        labels: inputs.applications.iter().map(|a| (a.id, a.label.clone())).collect(),
        ranges,
    })
}
