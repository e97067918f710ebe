//! The whole decision, from reviews to funded set, as one pure function: `compute(inputs,
//! config, seed)`. Everything it reads is in [`DecisionInputs`] and [`DecisionConfig`], both
//! stored in the decision record with the seed, so recomputing a recorded decision gives the
//! identical result (same bytes, same hash).
//!
//! The steps, each shown in an application's explanation:
//! 1. each reviewer's criterion scores and total (reviewers named "Reviewer 1", "Reviewer 2"...
//!    in the order of their ids, so explanations never reveal who reviewed);
//! 2. calibration, when configured, shown beside the raw figures;
//! 3. merit: the mean of the reviewers' totals (raw or calibrated, as configured);
//! 4. priority considerations: each determined (attested, documented or derived, or an
//!    officer's override), then applied by the declared mechanism (`ranking`);
//! 5. rank, and the funding line with its reason (`funding`).
//!
//! Applications without any submitted review have no merit score; they are listed, not ranked.

use std::collections::BTreeMap;

use granary_core::Money;
use granary_solicitations::model::{Mechanism, PriorityConsideration};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::algo::aggregate::{self, DisagreementThresholds, ReviewSet};
use crate::algo::calibration::{self, BiasModelSettings, StandardizationSettings};
use crate::algo::funding::{self, FundingConfig, FundingResult, Optimality};
use crate::algo::lottery::LotterySeed;
use crate::algo::priority::{self, ApplicantFacts, Override};
use crate::algo::ranking::{Candidate, Competition, Ranking, Scenario};
use crate::model::CalibrationMethod;

/// A rubric criterion as the decision uses it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CriterionInput {
    pub key: String,
    pub name: String,
    pub points: Decimal,
}

/// An application entering the decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApplicationInput {
    pub id: Uuid,
    /// How program officers see it ("Project title — Organization").
    pub label: String,
    pub requested: Money,
    /// An amount the office recommends instead of the request, if any.
    #[serde(default)]
    pub recommended: Option<Money>,
    pub facts: ApplicantFacts,
    /// Program officers' overrides of priority determinations, by consideration key.
    #[serde(default)]
    pub overrides: BTreeMap<String, Override>,
}

/// One submitted review.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewInput {
    pub application: Uuid,
    pub reviewer: Uuid,
    /// Scores in the order of `DecisionInputs::criteria`.
    pub scores: Vec<Decimal>,
}

/// Everything a decision is computed from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DecisionInputs {
    pub criteria: Vec<CriterionInput>,
    pub considerations: Vec<PriorityConsideration>,
    pub applications: Vec<ApplicationInput>,
    pub reviews: Vec<ReviewInput>,
}

impl DecisionInputs {
    /// SHA-256 of the inputs' JSON, lowercase hex.
    pub fn hash(&self) -> String {
        hex::encode(Sha256::digest(serde_json::to_vec(self).unwrap_or_default()))
    }
}

/// How a decision is computed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DecisionConfig {
    pub calibration: CalibrationMethod,
    /// Flag for discussion when reviewer totals differ by more than this share (0..1] of the
    /// rubric's total.
    pub disagreement_share: Decimal,
    pub funding: FundingConfig,
    /// What-if changes to the declared mechanisms, by consideration key: a different weight,
    /// or `null` to switch the consideration off.
    #[serde(default)]
    pub mechanisms: BTreeMap<String, Option<Mechanism>>,
}

/// One priority consideration's determination for an application.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PriorityResult {
    pub key: String,
    pub met: bool,
    pub explanation: String,
}

/// One application's outcome, with its explanation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApplicationResult {
    pub id: Uuid,
    pub label: String,
    pub reviews: usize,
    pub raw_merit: Option<Decimal>,
    pub calibrated_merit: Option<Decimal>,
    /// The merit the ranking used (calibrated when calibration is on).
    pub merit: Option<Decimal>,
    pub final_score: Option<Decimal>,
    /// 1-based place in the ranking.
    pub rank: Option<usize>,
    pub funded: bool,
    pub amount: Money,
    pub reason: String,
    pub priorities: Vec<PriorityResult>,
    /// Why the reviewers' disagreement calls for discussion, if it does.
    pub discussion: Vec<String>,
    /// The waterfall, step by step, in plain sentences.
    pub steps: Vec<String>,
}

/// A computed decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DecisionResult {
    /// In ranking order; unranked (unreviewed) applications last.
    pub applications: Vec<ApplicationResult>,
    pub available: Money,
    pub awarded: Money,
    pub funds_left: Money,
    pub funded: usize,
    pub optimality: Optimality,
}

impl DecisionResult {
    /// SHA-256 of the result's JSON, lowercase hex.
    pub fn hash(&self) -> String {
        hex::encode(Sha256::digest(serde_json::to_vec(self).unwrap_or_default()))
    }
}

/// Why a decision cannot be computed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecisionError {
    #[error("{0}")]
    Aggregate(#[from] aggregate::AggregateError),
    #[error("{0}")]
    Calibration(#[from] calibration::CalibrationError),
    #[error("{0}")]
    Priority(#[from] priority::PriorityError),
    #[error("{0}")]
    Ranking(#[from] crate::algo::ranking::RankingError),
    #[error("{0}")]
    Funding(#[from] funding::FundingError),
    #[error("a review names application {0}, which is not among the applications")]
    UnknownApplication(Uuid),
}

/// Everything computed once per decision that what-if changes to weights do not touch.
pub struct Prepared {
    pub competition: Competition,
    /// Index into `inputs.applications` of each competition entry.
    pub ranked: Vec<usize>,
    per_app: Vec<Prework>,
}

struct Prework {
    reviews: usize,
    raw: Option<Decimal>,
    calibrated: Option<Decimal>,
    priorities: Vec<PriorityResult>,
    discussion: Vec<String>,
    steps: Vec<String>,
}

/// Aggregates, calibrates and determines priorities: everything before the ranking.
pub fn prepare(inputs: &DecisionInputs, config: &DecisionConfig, seed: LotterySeed) -> Result<Prepared, DecisionError> {
    let app_index: BTreeMap<Uuid, usize> = inputs.applications.iter().enumerate().map(|(i, a)| (a.id, i)).collect();
    let mut reviewer_ids: Vec<Uuid> = inputs.reviews.iter().map(|r| r.reviewer).collect();
    reviewer_ids.sort_unstable();
    reviewer_ids.dedup();
    let rubric = aggregate::Rubric::new(inputs.criteria.iter().map(|c| c.points).collect())?;
    let mut reviews = Vec::with_capacity(inputs.reviews.len());
    for r in &inputs.reviews {
        let application = *app_index
            .get(&r.application)
            .ok_or(DecisionError::UnknownApplication(r.application))?;
        let reviewer = reviewer_ids.binary_search(&r.reviewer).unwrap_or_default();
        reviews.push(aggregate::Review {
            application,
            reviewer,
            scores: r.scores.clone(),
        });
    }
    let set = ReviewSet::new(rubric, inputs.applications.len(), reviewer_ids.len(), reviews)?;
    let thresholds = DisagreementThresholds::new(Some(config.disagreement_share), None)?;
    let agg = aggregate::aggregate(&set, &thresholds);
    let calibrated: Vec<Option<Decimal>>;
    let mut calib_text: Vec<Vec<String>> = vec![Vec::new(); inputs.applications.len()];
    match config.calibration {
        CalibrationMethod::None => calibrated = vec![None; inputs.applications.len()],
        CalibrationMethod::Standardize if !set.is_empty() => {
            let st = calibration::standardize(&set, &StandardizationSettings::default())?;
            calibrated = st
                .applications
                .iter()
                .map(|a| a.merit.as_ref().map(|m| m.calibrated))
                .collect();
            for (i, text) in calib_text.iter_mut().enumerate() {
                if let Some(t) = st.explain_application(i) {
                    text.push(anonymize(&t, &set, i));
                }
            }
        }
        CalibrationMethod::LeastSquares if !set.is_empty() => {
            let bm = calibration::fit_reviewer_bias(&set, &BiasModelSettings::default())?;
            calibrated = bm
                .applications
                .iter()
                .map(|a| a.merit.as_ref().map(|m| m.calibrated))
                .collect();
            for (i, text) in calib_text.iter_mut().enumerate() {
                if let Some(t) = bm.explain_application(i) {
                    text.push(anonymize(&t, &set, i));
                }
            }
        }
        _ => calibrated = vec![None; inputs.applications.len()],
    }
    let mut candidates = Vec::new();
    let mut ranked = Vec::new();
    let mut per_app = Vec::with_capacity(inputs.applications.len());
    for (i, app) in inputs.applications.iter().enumerate() {
        let score = &agg.applications[i];
        let determinations = priority::determine_all(&inputs.considerations, &app.facts, &app.overrides)?;
        let priorities: Vec<PriorityResult> = determinations
            .iter()
            .zip(&inputs.considerations)
            .map(|(d, c)| PriorityResult {
                key: c.key.clone(),
                met: d.is_met(),
                explanation: d.explain(&c.name),
            })
            .collect();
        let mut steps = Vec::new();
        for (n, r) in set.reviews_of(i).enumerate() {
            let parts: Vec<String> = inputs
                .criteria
                .iter()
                .zip(r.scores)
                .map(|(c, s)| format!("{} {} of {}", c.name, s.normalize(), c.points.normalize()))
                .collect();
            steps.push(format!(
                "Reviewer {}: {}; total {}.",
                n + 1,
                parts.join(", "),
                r.total.normalize()
            ));
        }
        let raw = score.merit.as_ref().map(|m| m.merit);
        let cal = calibrated.get(i).copied().flatten();
        match raw {
            Some(m) => steps.push(format!("Raw merit (mean of the reviewers' totals): {}.", m.normalize())),
            None => steps.push("No submitted reviews yet, so no merit score.".to_string()),
        }
        steps.extend(calib_text[i].iter().cloned());
        for p in &priorities {
            steps.push(p.explanation.clone());
        }
        let merit = if config.calibration == CalibrationMethod::None {
            raw
        } else {
            cal.or(raw)
        };
        if let Some(merit) = merit {
            ranked.push(i);
            candidates.push(Candidate {
                id: app.id,
                merit,
                requested: app.requested,
                recommended: app.recommended,
                meets: priority::met_keys(&determinations),
            });
        }
        per_app.push(Prework {
            reviews: score.review_count(),
            raw,
            calibrated: cal,
            priorities,
            discussion: score
                .merit
                .as_ref()
                .map(|m| {
                    m.disagreement
                        .reasons
                        .iter()
                        .map(|r| anonymize(&r.to_string(), &set, i))
                        .collect()
                })
                .unwrap_or_default(),
            steps,
        });
    }
    let competition = Competition::new(inputs.considerations.clone(), candidates, seed)?;
    Ok(Prepared {
        competition,
        ranked,
        per_app,
    })
}

/// Replaces the solver's reviewer numbers with "Reviewer 1", "Reviewer 2"... in the order the
/// application's reviews are listed, so no reviewer id or pool position leaks.
fn anonymize(text: &str, set: &ReviewSet, application: usize) -> String {
    let mut out = text.to_string();
    let reviewers: Vec<usize> = set.reviews_of(application).map(|r| r.reviewer).collect();
    // Longest numbers first so "reviewer 12" is not caught by "reviewer 1".
    let mut order: Vec<(usize, usize)> = reviewers.iter().enumerate().map(|(n, r)| (*r, n)).collect();
    order.sort_by_key(|(r, _)| std::cmp::Reverse(r.to_string().len()));
    // Each replacement is written with markers that no later pattern can match ("reviewer"
    // and the number are not separated by a space until the end), so "reviewer 1" put in for
    // reviewer 0 is not taken for reviewer 1 afterwards.
    for (r, n) in order {
        for word in ["reviewer", "Reviewer"] {
            out = out.replace(&format!("{word} {r}"), &format!("{word}\u{1}{}\u{2}", n + 1));
        }
    }
    out.replace('\u{1}', " ").replace('\u{2}', "")
}

/// The scenario a config asks for: the declared mechanisms with the what-if changes.
pub fn scenario(prepared: &Prepared, config: &DecisionConfig) -> Result<Scenario, DecisionError> {
    let mut s = prepared.competition.declared_scenario();
    for (key, mechanism) in &config.mechanisms {
        s.set(key, mechanism.clone())?;
    }
    Ok(s)
}

/// Ranks and draws the funding line for a prepared decision.
pub fn finish(
    inputs: &DecisionInputs,
    config: &DecisionConfig,
    prepared: &Prepared,
) -> Result<(Ranking, FundingResult, DecisionResult), DecisionError> {
    let comp = &prepared.competition;
    let ranking = comp.rank(&scenario(prepared, config)?)?;
    let drawn = funding::draw(comp, &ranking, &config.funding)?;
    let mut rows: Vec<ApplicationResult> = Vec::with_capacity(inputs.applications.len());
    for c in ranking.order() {
        let i = prepared.ranked[c];
        let pre = &prepared.per_app[i];
        let outcome = &drawn.outcomes[c];
        let mut steps = pre.steps.clone();
        steps.extend(ranking.explain(comp, c).iter().map(|s| s.describe(comp)));
        let reason = outcome.reason.describe(comp, c);
        steps.push(reason.clone());
        rows.push(ApplicationResult {
            id: inputs.applications[i].id,
            label: inputs.applications[i].label.clone(),
            reviews: pre.reviews,
            raw_merit: pre.raw,
            calibrated_merit: pre.calibrated,
            merit: Some(comp.merit(c)),
            final_score: Some(ranking.final_score(c)),
            rank: Some(ranking.rank_of(c)),
            funded: outcome.is_funded(),
            amount: outcome.amount,
            reason,
            priorities: pre.priorities.clone(),
            discussion: pre.discussion.clone(),
            steps,
        });
    }
    for (i, pre) in prepared.per_app.iter().enumerate() {
        if pre.raw.is_some() {
            continue;
        }
        rows.push(ApplicationResult {
            id: inputs.applications[i].id,
            label: inputs.applications[i].label.clone(),
            reviews: 0,
            raw_merit: None,
            calibrated_merit: None,
            merit: None,
            final_score: None,
            rank: None,
            funded: false,
            amount: Money::ZERO,
            reason: "Not ranked: it has no submitted reviews.".to_string(),
            priorities: pre.priorities.clone(),
            discussion: Vec::new(),
            steps: pre.steps.clone(),
        });
    }
    let result = DecisionResult {
        funded: rows.iter().filter(|r| r.funded).count(),
        applications: rows,
        available: drawn.available,
        awarded: drawn.awarded,
        funds_left: drawn.funds_left,
        optimality: drawn.optimality,
    };
    Ok((ranking, drawn, result))
}

/// Computes a decision from its inputs, configuration and lottery seed.
pub fn compute(
    inputs: &DecisionInputs,
    config: &DecisionConfig,
    seed: LotterySeed,
) -> Result<DecisionResult, DecisionError> {
    let prepared = prepare(inputs, config, seed)?;
    Ok(finish(inputs, config, &prepared)?.2)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reviewers_are_numbered_once_and_never_renumbered() {
        let rubric = aggregate::Rubric::new(vec![Decimal::TEN]).unwrap();
        let reviews = (0..3)
            .map(|r| aggregate::Review {
                application: 0,
                reviewer: r,
                scores: vec![Decimal::from(5)],
            })
            .collect();
        let set = ReviewSet::new(rubric, 1, 3, reviews).unwrap();
        let text = "reviewer 0 scores high, Reviewer 1 low and reviewer 2 in between";
        assert_eq!(
            anonymize(text, &set, 0),
            "reviewer 1 scores high, Reviewer 2 low and reviewer 3 in between"
        );
    }
}
