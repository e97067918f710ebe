//! The funding line: which ranked applications are funded, from which pot, and why.
//!
//! Inputs: a [`Competition`], a [`Ranking`] of it (whose scenario says which considerations
//! are set-asides and separate funding lines, and for how much) and a [`FundingConfig`]
//! (the funds available, the mode, caps, a per-award maximum). Each application is funded in
//! full at its award amount (the recommended amount when there is one, else the request) or
//! not at all. Output: a [`FundingResult`] with, for every application, whether it is funded,
//! for how much, from which line, and the reason in plain words; totals per line, per
//! consideration, per set-aside and per cap; and the funds left.
//!
//! ## The rules, in the order they are applied
//!
//! 1. **Per-award maximum.** An application whose award amount is above the maximum (when one
//!    is set) is not funded, in any line. Nothing is cut down to fit: a smaller award is a
//!    recommended amount, which the program office sets before ranking.
//! 2. **Separate funding lines.** Each consideration with a separate funding line of amount
//!    `A` takes a pot of `A` out of the funds available (the pots together may not exceed
//!    them). The lines are drawn one after another in declared order, each before the general
//!    line. A separate line is ranked among the applications meeting its consideration only,
//!    in the order of the overall ranking. An application not funded there (or meeting none)
//!    competes in the general line with all the others. What a separate line does not spend
//!    returns to the general line, unless the configuration says it stays unspent
//!    ([`UnspentSeparateFunds`]).
//! 3. **The general line** has the funds available less the separate pots, plus any returned.
//!    * **Set-asides first.** For each consideration with a set-aside of `F`, in declared
//!      order: walk the applications meeting it, not yet funded, in rank order, funding each
//!      whose award fits in what is left of the general line, until the awards to
//!      applications meeting it reach `F`. Awards to them in any line count (a separate-line
//!      award counts, and so does one made for an earlier set-aside to an application meeting
//!      both). The last award may take the total past `F`; an award only has to fit in the
//!      general line's funds, not in what is left of the set-aside. If the meeting
//!      applications run out first, the set-aside is reported as not reached.
//!    * **Then everyone else**, in rank order.
//! 4. **Caps.** A cap on a consideration is the most that may go, in all lines together, to
//!    applications meeting it. An award that would pass a cap is not made. Caps are hard
//!    limits; set-asides are floors reached only as far as the caps and the funds allow.
//!
//! ## The two modes
//!
//! * [`FundingMode::RankOrder`]: every walk above goes down the ranking and funds an
//!   application when its award fits in what is left (and no cap stops it); when it does not
//!   fit, it is skipped (the reason records "skipped: $X requested, $Y left") and the walk
//!   continues with the next one. An application not funded is *skipped* when someone ranked
//!   below it was funded in the same line, and *below the funding line* otherwise.
//! * [`FundingMode::Exact`]: in each line, the funded set is the one with the highest total
//!   final score whose awards fit in the line's funds, within the caps and the set-asides.
//!   Between sets with equal totals, the one that ranks better wins: comparing the two
//!   sets down the ranking, the first application in one and not the other decides (the set
//!   holding it wins). The lines are drawn in the same sequence as in rank order (each
//!   separate line among the applications meeting it, then the general line among the rest).
//!   In the general line, each set-aside must reach at least what the rank-order walk would
//!   reach from the same starting point (the same walk, leaving out applications exact mode
//!   cannot fund): the full floor whenever that walk reaches it, so exact mode never serves a
//!   set-aside less than rank order would. An application with a final score below zero is
//!   never funded in exact mode (it would lower the total).
//!
//!   The search is exact. It starts from the rank-order set (and a greedy set by score per
//!   dollar, if better), and bounds every part of the search by the linear-programming
//!   relaxation (the best total if applications could be funded in part, taken in order of
//!   score per dollar). First it fixes every application that this bound shows is in, or out
//!   of, every best set; then it searches for a higher total in order of score per dollar;
//!   then it fixes again and settles the best total, and the tie between equal totals, by a
//!   branch-and-bound search down the ranking. The search counts the nodes it visits; if it
//!   reaches [`FundingMode::Exact`]'s `max_nodes` before proving its set is the best, it
//!   returns the best set found so far (never worse than the rank-order set), marked
//!   [`Optimality::NotProven`]. Counting nodes, unlike a clock, makes the result the same on
//!   every machine.
//!
//! ## Re-running
//!
//! [`draw`] reads the competition and ranking without changing them, so a sensitivity study
//! can rank once per scenario (or once for all funding variants) and draw as many funding
//! lines as it likes; [`draw_into`] reuses an earlier result's buffers.

use granary_core::Money;
use granary_solicitations::model::Mechanism;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::ranking::{Competition, Ranking, show};

/// The node budget of exact mode unless the configuration gives another.
pub const DEFAULT_MAX_NODES: u64 = 2_000_000;

/// How the funding line is drawn.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FundingConfig {
    /// The funds available, separate funding lines included.
    pub available: Money,
    pub mode: FundingMode,
    /// Caps on the funds going to applications meeting a consideration.
    #[serde(default)]
    pub caps: Vec<Cap>,
    /// The most any one award may be; applications asking more are not funded.
    #[serde(default)]
    pub max_award: Option<Money>,
    #[serde(default)]
    pub unspent_separate_funds: UnspentSeparateFunds,
}

impl FundingConfig {
    /// Rank order, no caps, no per-award maximum, unspent separate funds returned.
    pub fn rank_order(available: Money) -> FundingConfig {
        FundingConfig {
            available,
            mode: FundingMode::RankOrder,
            caps: Vec::new(),
            max_award: None,
            unspent_separate_funds: UnspentSeparateFunds::default(),
        }
    }

    /// Exact mode with the default node budget, otherwise like [`FundingConfig::rank_order`].
    pub fn exact(available: Money) -> FundingConfig {
        FundingConfig {
            mode: FundingMode::Exact {
                max_nodes: DEFAULT_MAX_NODES,
            },
            ..FundingConfig::rank_order(available)
        }
    }
}

/// See the module documentation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "mode", rename_all = "snake_case")]
pub enum FundingMode {
    RankOrder,
    Exact { max_nodes: u64 },
}

/// What happens to the part of a separate funding line it does not spend.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnspentSeparateFunds {
    /// It joins the general line before the general line is drawn.
    #[default]
    ReturnToGeneralLine,
    /// It stays in the separate line, unspent.
    StayUnspent,
}

/// At most `max_total`, in all lines together, to applications meeting `consideration`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cap {
    /// The consideration's key.
    pub consideration: String,
    pub max_total: Money,
}

/// A pot of money an award comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "line", rename_all = "snake_case")]
pub enum Line {
    General,
    /// The separate funding line of the consideration at this index.
    Separate {
        consideration: usize,
    },
}

impl Line {
    fn describe(&self, competition: &Competition) -> String {
        match self {
            Line::General => "the general funding line".to_string(),
            Line::Separate { consideration } => format!(
                "the separate funding line for “{}”",
                competition.consideration_name(*consideration)
            ),
        }
    }
}

/// Why an application is funded or not. [`Reason::describe`] puts it in plain words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum Reason {
    /// Funded in the general line's walk down the ranking.
    FundedInRankOrder,
    /// Funded in the general line while filling the set-aside of this consideration.
    FundedFromSetAside { consideration: usize },
    /// Funded in this consideration's separate funding line.
    FundedFromSeparateLine { consideration: usize },
    /// Exact mode: part of the best set of this line.
    FundedBySelection { line: Line },
    /// Its award did not fit in what was left of the line when its turn came, and an
    /// application ranked below it was funded in that line.
    Skipped { line: Line, amount: Money, left: Money },
    /// Its award did not fit in what was left, and nobody ranked below it was funded in the
    /// general line.
    BelowFundingLine { amount: Money, left: Money },
    /// Funding it would have passed a cap.
    CapReached {
        line: Line,
        consideration: usize,
        cap: Money,
        awarded: Money,
        amount: Money,
    },
    /// Its award amount is above the per-award maximum.
    AboveMaxAward { amount: Money, max: Money },
    /// Exact mode: not part of the best set of this line.
    NotSelected { line: Line, amount: Money, left: Money },
    /// Exact mode: a final score below zero would lower the total, so it is not funded.
    NegativeScore { score: Decimal },
}

impl Reason {
    pub fn is_funded(&self) -> bool {
        matches!(
            self,
            Reason::FundedInRankOrder
                | Reason::FundedFromSetAside { .. }
                | Reason::FundedFromSeparateLine { .. }
                | Reason::FundedBySelection { .. }
        )
    }

    /// The reason in plain words, for `application` of `competition`.
    pub fn describe(&self, competition: &Competition, application: usize) -> String {
        let asked = if competition.recommended(application).is_some() {
            "recommended"
        } else {
            "requested"
        };
        let name = |c: usize| competition.consideration_name(c).to_string();
        let in_line = |line: &Line| match line {
            Line::General => String::new(),
            other => format!(" in {}", other.describe(competition)),
        };
        match self {
            Reason::FundedInRankOrder => "funded in rank order".to_string(),
            Reason::FundedFromSetAside { consideration } => {
                format!("funded from the set-aside for “{}”", name(*consideration))
            }
            Reason::FundedFromSeparateLine { consideration } => {
                format!("funded in the separate funding line for “{}”", name(*consideration))
            }
            Reason::FundedBySelection { line } => format!(
                "funded: part of the set of applications with the highest total final score that fits the funds of {}",
                line.describe(competition)
            ),
            Reason::Skipped { line, amount, left } => {
                format!("skipped{}: {amount} {asked}, {left} left", in_line(line))
            }
            Reason::BelowFundingLine { amount, left } => {
                format!("below the funding line: {amount} {asked}, {left} left")
            }
            Reason::CapReached {
                line,
                consideration,
                cap,
                awarded,
                amount,
            } => format!(
                "not funded{}: {amount} {asked} would pass the cap of {cap} for applications meeting “{}” ({awarded} already awarded to them)",
                in_line(line),
                name(*consideration)
            ),
            Reason::AboveMaxAward { amount, max } => {
                format!("not funded: {amount} {asked} is above the per-award maximum of {max}")
            }
            Reason::NotSelected { line, amount, left } => format!(
                "not funded{}: not part of the set with the highest total final score that fits the funds ({amount} {asked}, {left} left)",
                in_line(line)
            ),
            Reason::NegativeScore { score } => format!(
                "not funded: its final score ({}) is below zero, and exact mode funds the set with the highest total score",
                show(*score)
            ),
        }
    }
}

/// What happened to one application.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outcome {
    /// The line that funded it, if funded.
    pub line: Option<Line>,
    /// The award (zero when not funded).
    pub amount: Money,
    /// The deciding reason.
    pub reason: Reason,
    /// What happened earlier in separate funding lines it competed in without being funded.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub earlier: Vec<Reason>,
}

impl Outcome {
    pub fn is_funded(&self) -> bool {
        self.line.is_some()
    }
}

/// The totals of one funding line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineTotal {
    pub line: Line,
    /// What it started with.
    pub pot: Money,
    /// Unspent separate-line funds it received (general line only).
    pub received: Money,
    pub awarded: Money,
    pub funded: u32,
    /// What it gave back to the general line (separate lines only).
    pub returned: Money,
    pub left: Money,
    pub optimality: Optimality,
}

/// The totals of one consideration, across all lines.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsiderationTotal {
    pub consideration: usize,
    /// Applications meeting it.
    pub meeting: u32,
    /// Of those, funded.
    pub funded: u32,
    /// Awarded to them, in all lines.
    pub awarded: Money,
}

/// How a set-aside fared.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetAsideOutcome {
    pub consideration: usize,
    /// The declared floor.
    pub floor: Money,
    /// The total the funded set had to reach: the floor in rank order; in exact mode the
    /// floor or, if less, what the rank-order walk would reach.
    pub target: Money,
    /// Awarded to applications meeting it, in all lines.
    pub reached: Money,
    /// Whether the floor itself was reached.
    pub met: bool,
}

/// How a cap fared.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CapOutcome {
    pub consideration: usize,
    pub cap: Money,
    pub awarded: Money,
}

/// Whether an exact-mode selection is proven the best.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Optimality {
    /// Rank order: there is nothing to prove.
    NotApplicable,
    /// The search finished: no set scores higher (or equally, ranking better).
    Proven,
    /// The node budget ran out: the best set found, not proven optimal.
    NotProven,
}

/// A drawn funding line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FundingResult {
    pub mode: FundingMode,
    pub available: Money,
    /// One per application, in the competition's index order.
    pub outcomes: Vec<Outcome>,
    /// The general line first, then the separate lines in declared order.
    pub lines: Vec<LineTotal>,
    /// One per consideration, in declared order.
    pub considerations: Vec<ConsiderationTotal>,
    pub set_asides: Vec<SetAsideOutcome>,
    pub caps: Vec<CapOutcome>,
    pub awarded: Money,
    pub funds_left: Money,
    /// Proven only if every line is.
    pub optimality: Optimality,
    /// Exact mode: search nodes visited, over all lines.
    pub nodes: u64,
}

impl Default for FundingResult {
    fn default() -> Self {
        FundingResult {
            mode: FundingMode::RankOrder,
            available: Money::ZERO,
            outcomes: Vec::new(),
            lines: Vec::new(),
            considerations: Vec::new(),
            set_asides: Vec::new(),
            caps: Vec::new(),
            awarded: Money::ZERO,
            funds_left: Money::ZERO,
            optimality: Optimality::NotApplicable,
            nodes: 0,
        }
    }
}

impl FundingResult {
    pub fn is_funded(&self, application: usize) -> bool {
        self.outcomes[application].is_funded()
    }

    /// Indexes of the funded applications, in index order.
    pub fn funded(&self) -> impl Iterator<Item = usize> + '_ {
        self.outcomes
            .iter()
            .enumerate()
            .filter(|(_, o)| o.is_funded())
            .map(|(i, _)| i)
    }

    /// The sum of the funded applications' final scores under `ranking`.
    pub fn total_score(&self, ranking: &Ranking) -> Decimal {
        self.funded().map(|i| ranking.final_score(i)).sum()
    }
}

/// Why a funding line could not be drawn.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FundingError {
    #[error("the funds available cannot be below zero ({available})")]
    NegativeFunds { available: Money },
    #[error("the separate funding lines ({lines}) are more than the funds available ({available})")]
    SeparateLinesExceedFunds { lines: Money, available: Money },
    #[error("a cap names “{key}”, which is not a priority consideration of this solicitation")]
    UnknownCap { key: String },
    #[error("“{key}” has more than one cap")]
    DuplicateCap { key: String },
    #[error("the cap for “{key}” cannot be below zero")]
    NegativeCap { key: String },
    #[error("the per-award maximum must be more than zero")]
    NonPositiveMaxAward,
    #[error("the ranking was made from a different competition ({ranked} applications against {competing})")]
    RankingMismatch { ranked: usize, competing: usize },
    #[error(
        "the final scores have too many decimal places to compare exactly in exact mode; round merit scores to fewer places"
    )]
    ScoresTooPrecise,
}

/// Draws the funding line.
pub fn draw(
    competition: &Competition,
    ranking: &Ranking,
    config: &FundingConfig,
) -> Result<FundingResult, FundingError> {
    let mut out = FundingResult::default();
    draw_into(competition, ranking, config, &mut out)?;
    Ok(out)
}

/// Draws the funding line into `out`, reusing its buffers.
pub fn draw_into(
    competition: &Competition,
    ranking: &Ranking,
    config: &FundingConfig,
    out: &mut FundingResult,
) -> Result<(), FundingError> {
    let plan = Plan::new(competition, ranking, config)?;
    let n = competition.len();
    let mut ledger = Ledger::new(&plan, competition.considerations().len(), n);
    // Every entry is overwritten below: each application is either above the per-award
    // maximum or reached by a walk or a selection.
    let mut reasons = vec![
        Reason::BelowFundingLine {
            amount: Money::ZERO,
            left: Money::ZERO,
        };
        n
    ];
    let mut earlier: Vec<Vec<Reason>> = vec![Vec::new(); n];
    let mut eligible = vec![true; n];
    for i in 0..n {
        let amount = competition.amount_cents(i);
        if let Some(max) = plan.max_award
            && amount > max
        {
            eligible[i] = false;
            reasons[i] = Reason::AboveMaxAward {
                amount: cents(amount),
                max: cents(max),
            };
        }
    }
    let ctx = Ctx {
        comp: competition,
        ranking,
        plan: &plan,
    };
    let mut line_optimality = vec![Optimality::NotApplicable; plan.lines.len()];
    let mut nodes = 0u64;
    let mut set_aside_targets: Vec<i64> = plan.set_asides.iter().map(|s| s.1).collect();

    match config.mode {
        FundingMode::RankOrder => {
            for li in 1..plan.lines.len() {
                ctx.walk_separate(li, &eligible, &mut ledger, &mut reasons, &mut earlier);
            }
            ctx.return_unspent(config.unspent_separate_funds, &mut ledger);
            ctx.walk_general(&eligible, &mut ledger, &mut reasons);
            // "Skipped" only when someone ranked below was funded in the same line.
            let mut last_funded = None;
            for (p, &i) in ranking.order_slice().iter().enumerate() {
                if ledger.line_of[i as usize] == 0 {
                    last_funded = Some(p);
                }
            }
            for (p, &i) in ranking.order_slice().iter().enumerate() {
                let r = &mut reasons[i as usize];
                if let Reason::Skipped {
                    line: Line::General,
                    amount,
                    left,
                } = *r
                    && last_funded.is_none_or(|l| p > l)
                {
                    *r = Reason::BelowFundingLine { amount, left };
                }
            }
        }
        FundingMode::Exact { max_nodes } => {
            for (i, e) in eligible.iter_mut().enumerate() {
                let score = ranking.final_score(i);
                if *e && score.is_sign_negative() && !score.is_zero() {
                    *e = false;
                    reasons[i] = Reason::NegativeScore { score };
                }
            }
            for (li, optimality) in line_optimality.iter_mut().enumerate().skip(1) {
                let c = plan.lines[li].1;
                let items: Vec<u32> = ranking
                    .order_slice()
                    .iter()
                    .copied()
                    .filter(|&i| {
                        let i = i as usize;
                        eligible[i] && !ledger.is_funded(i) && competition.meets(i, c)
                    })
                    .collect();
                // The witness: this line's rank-order walk.
                let mut witness_ledger = ledger.clone();
                let witness: Vec<bool> = items
                    .iter()
                    .map(|&i| witness_ledger.try_fund(&ctx, i as usize, li).is_ok())
                    .collect();
                let (chosen, proven, used) = ctx.select(&items, &witness, li, &ledger, &[], max_nodes)?;
                nodes += used;
                *optimality = proven;
                let line = Line::Separate { consideration: c };
                for (k, &i) in items.iter().enumerate() {
                    let i = i as usize;
                    if chosen[k] {
                        ledger.try_fund(&ctx, i, li).expect("the selected set fits its line");
                        reasons[i] = Reason::FundedBySelection { line };
                    }
                }
                let left = cents(ledger.left[li]);
                for (k, &i) in items.iter().enumerate() {
                    if !chosen[k] {
                        earlier[i as usize].push(Reason::NotSelected {
                            line,
                            amount: competition.award_amount(i as usize),
                            left,
                        });
                    }
                }
            }
            ctx.return_unspent(config.unspent_separate_funds, &mut ledger);

            let items: Vec<u32> = ranking
                .order_slice()
                .iter()
                .copied()
                .filter(|&i| eligible[i as usize] && !ledger.is_funded(i as usize))
                .collect();
            // The witness: the rank-order walk of the general line from here.
            let mut witness_ledger = ledger.clone();
            let mut scratch = reasons.clone();
            ctx.walk_general(&eligible, &mut witness_ledger, &mut scratch);
            let witness: Vec<bool> = items.iter().map(|&i| witness_ledger.line_of[i as usize] == 0).collect();
            // Each set-aside must reach what the rank-order walk reaches, up to its floor.
            let mut floors = Vec::new();
            for (s, &(c, floor)) in plan.set_asides.iter().enumerate() {
                let target = floor.min(witness_ledger.awarded_to[c]);
                set_aside_targets[s] = target;
                let need = target - ledger.awarded_to[c];
                if need > 0 {
                    floors.push((c, need));
                }
            }
            let (chosen, proven, used) = ctx.select(&items, &witness, 0, &ledger, &floors, max_nodes)?;
            nodes += used;
            line_optimality[0] = proven;
            for (k, &i) in items.iter().enumerate() {
                if chosen[k] {
                    ledger
                        .try_fund(&ctx, i as usize, 0)
                        .expect("the selected set fits its line");
                    reasons[i as usize] = Reason::FundedBySelection { line: Line::General };
                }
            }
            let left = cents(ledger.left[0]);
            for (k, &i) in items.iter().enumerate() {
                if !chosen[k] {
                    reasons[i as usize] = Reason::NotSelected {
                        line: Line::General,
                        amount: competition.award_amount(i as usize),
                        left,
                    };
                }
            }
        }
    }

    // Assemble.
    out.mode = config.mode;
    out.available = config.available;
    out.outcomes.clear();
    out.outcomes.reserve(n);
    for (i, (reason, earlier)) in reasons.into_iter().zip(earlier).enumerate() {
        let li = ledger.line_of[i];
        let line = (li != NOT_FUNDED).then(|| plan.line(li as usize));
        out.outcomes.push(Outcome {
            line,
            amount: if line.is_some() {
                competition.award_amount(i)
            } else {
                Money::ZERO
            },
            reason,
            earlier,
        });
    }
    out.lines.clear();
    for (li, &optimality) in line_optimality.iter().enumerate() {
        out.lines.push(LineTotal {
            line: plan.line(li),
            pot: cents(plan.pots[li]),
            received: cents(ledger.received[li]),
            awarded: cents(ledger.awarded[li]),
            funded: ledger.funded[li],
            returned: cents(ledger.returned[li]),
            left: cents(ledger.left[li]),
            optimality,
        });
    }
    out.considerations.clear();
    for c in 0..competition.considerations().len() {
        let meeting = (0..n).filter(|&i| competition.meets(i, c)).count() as u32;
        out.considerations.push(ConsiderationTotal {
            consideration: c,
            meeting,
            funded: ledger.funded_meeting[c],
            awarded: cents(ledger.awarded_to[c]),
        });
    }
    out.set_asides.clear();
    for (s, &(c, floor)) in plan.set_asides.iter().enumerate() {
        out.set_asides.push(SetAsideOutcome {
            consideration: c,
            floor: cents(floor),
            target: cents(set_aside_targets[s]),
            reached: cents(ledger.awarded_to[c]),
            met: ledger.awarded_to[c] >= floor,
        });
    }
    out.caps.clear();
    for (c, cap) in plan.caps.iter().enumerate() {
        if let Some(cap) = cap {
            out.caps.push(CapOutcome {
                consideration: c,
                cap: cents(*cap),
                awarded: cents(ledger.awarded_to[c]),
            });
        }
    }
    let awarded: i64 = ledger.awarded.iter().sum();
    out.awarded = cents(awarded);
    out.funds_left = cents(plan.available - awarded);
    out.optimality = match config.mode {
        FundingMode::RankOrder => Optimality::NotApplicable,
        FundingMode::Exact { .. } => {
            if line_optimality.iter().all(|o| *o == Optimality::Proven) {
                Optimality::Proven
            } else {
                Optimality::NotProven
            }
        }
    };
    out.nodes = nodes;
    Ok(())
}

fn cents(c: i64) -> Money {
    // Every amount here is a sum of valid amounts no larger than the funds available.
    Money::from_cents(c).unwrap_or_default()
}

const NOT_FUNDED: u8 = u8::MAX;

/// The configuration resolved against the competition, in cents.
struct Plan {
    available: i64,
    /// (kind, consideration): index 0 is the general line (consideration unused), then the
    /// separate lines in declared order.
    lines: Vec<(LineKind, usize)>,
    pots: Vec<i64>,
    /// (consideration, floor), declared order.
    set_asides: Vec<(usize, i64)>,
    /// Per consideration.
    caps: Vec<Option<i64>>,
    capped: u64,
    max_award: Option<i64>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum LineKind {
    General,
    Separate,
}

impl Plan {
    fn new(comp: &Competition, ranking: &Ranking, config: &FundingConfig) -> Result<Plan, FundingError> {
        if ranking.len() != comp.len() || ranking.scenario().len() != comp.considerations().len() {
            return Err(FundingError::RankingMismatch {
                ranked: ranking.len(),
                competing: comp.len(),
            });
        }
        if config.available.is_negative() {
            return Err(FundingError::NegativeFunds {
                available: config.available,
            });
        }
        let available = config.available.cents();
        let mut lines = vec![(LineKind::General, 0)];
        let mut pots = vec![0i64];
        let mut set_asides = Vec::new();
        for c in 0..comp.considerations().len() {
            match ranking.scenario().mechanism(c) {
                Some(Mechanism::SeparateFundingLine { amount }) => {
                    lines.push((LineKind::Separate, c));
                    pots.push(amount.cents());
                }
                Some(Mechanism::SetAside { amount }) => set_asides.push((c, amount.cents())),
                _ => {}
            }
        }
        let separate: i64 = pots.iter().sum();
        if separate > available {
            return Err(FundingError::SeparateLinesExceedFunds {
                lines: cents(separate),
                available: config.available,
            });
        }
        pots[0] = available - separate;
        let mut caps = vec![None; comp.considerations().len()];
        let mut capped = 0u64;
        for cap in &config.caps {
            let c = comp
                .consideration_index(&cap.consideration)
                .ok_or_else(|| FundingError::UnknownCap {
                    key: cap.consideration.clone(),
                })?;
            if caps[c].is_some() {
                return Err(FundingError::DuplicateCap {
                    key: cap.consideration.clone(),
                });
            }
            if cap.max_total.is_negative() {
                return Err(FundingError::NegativeCap {
                    key: cap.consideration.clone(),
                });
            }
            caps[c] = Some(cap.max_total.cents());
            capped |= 1 << c;
        }
        let max_award = match config.max_award {
            Some(m) if m.cents() <= 0 => return Err(FundingError::NonPositiveMaxAward),
            Some(m) => Some(m.cents()),
            None => None,
        };
        Ok(Plan {
            available,
            lines,
            pots,
            set_asides,
            caps,
            capped,
            max_award,
        })
    }

    fn line(&self, li: usize) -> Line {
        match self.lines[li] {
            (LineKind::General, _) => Line::General,
            (LineKind::Separate, c) => Line::Separate { consideration: c },
        }
    }
}

/// Money moving during a draw, in cents.
#[derive(Clone)]
struct Ledger {
    /// Per application: the index of the line that funded it, or NOT_FUNDED.
    line_of: Vec<u8>,
    // Per line.
    left: Vec<i64>,
    awarded: Vec<i64>,
    funded: Vec<u32>,
    received: Vec<i64>,
    returned: Vec<i64>,
    // Per consideration, over all lines.
    awarded_to: Vec<i64>,
    funded_meeting: Vec<u32>,
}

/// Why an award could not be made.
#[derive(Debug)]
enum Block {
    Funds {
        left: i64,
    },
    Cap {
        consideration: usize,
        cap: i64,
        awarded: i64,
    },
}

struct Ctx<'a> {
    comp: &'a Competition,
    ranking: &'a Ranking,
    plan: &'a Plan,
}

impl Ledger {
    fn new(plan: &Plan, considerations: usize, applications: usize) -> Ledger {
        let lines = plan.lines.len();
        Ledger {
            line_of: vec![NOT_FUNDED; applications],
            left: plan.pots.clone(),
            awarded: vec![0; lines],
            funded: vec![0; lines],
            received: vec![0; lines],
            returned: vec![0; lines],
            awarded_to: vec![0; considerations],
            funded_meeting: vec![0; considerations],
        }
    }

    fn is_funded(&self, i: usize) -> bool {
        self.line_of[i] != NOT_FUNDED
    }

    /// Funds application `i` from line `li` if its award fits and no cap stops it.
    fn try_fund(&mut self, ctx: &Ctx, i: usize, li: usize) -> Result<(), Block> {
        let amount = ctx.comp.amount_cents(i);
        if amount > self.left[li] {
            return Err(Block::Funds { left: self.left[li] });
        }
        let mask = ctx.comp.mask(i);
        let mut capped = mask & ctx.plan.capped;
        while capped != 0 {
            let c = capped.trailing_zeros() as usize;
            capped &= capped - 1;
            let cap = ctx.plan.caps[c].unwrap_or(i64::MAX);
            if self.awarded_to[c] + amount > cap {
                return Err(Block::Cap {
                    consideration: c,
                    cap,
                    awarded: self.awarded_to[c],
                });
            }
        }
        self.left[li] -= amount;
        self.awarded[li] += amount;
        self.funded[li] += 1;
        self.line_of[i] = li as u8;
        let mut bits = mask;
        while bits != 0 {
            let c = bits.trailing_zeros() as usize;
            bits &= bits - 1;
            self.awarded_to[c] += amount;
            self.funded_meeting[c] += 1;
        }
        Ok(())
    }
}

fn blocked(block: Block, line: Line, amount: i64) -> Reason {
    match block {
        Block::Funds { left } => Reason::Skipped {
            line,
            amount: cents(amount),
            left: cents(left),
        },
        Block::Cap {
            consideration,
            cap,
            awarded,
        } => Reason::CapReached {
            line,
            consideration,
            cap: cents(cap),
            awarded: cents(awarded),
            amount: cents(amount),
        },
    }
}

impl Ctx<'_> {
    /// Rank order in separate line `li`: its consideration's applications, in rank order.
    fn walk_separate(
        &self,
        li: usize,
        eligible: &[bool],
        ledger: &mut Ledger,
        reasons: &mut [Reason],
        earlier: &mut [Vec<Reason>],
    ) {
        let c = self.plan.lines[li].1;
        let line = Line::Separate { consideration: c };
        for &i in self.ranking.order_slice() {
            let i = i as usize;
            if !eligible[i] || ledger.is_funded(i) || !self.comp.meets(i, c) {
                continue;
            }
            match ledger.try_fund(self, i, li) {
                Ok(()) => reasons[i] = Reason::FundedFromSeparateLine { consideration: c },
                Err(b) => earlier[i].push(blocked(b, line, self.comp.amount_cents(i))),
            }
        }
    }

    fn return_unspent(&self, rule: UnspentSeparateFunds, ledger: &mut Ledger) {
        if rule == UnspentSeparateFunds::ReturnToGeneralLine {
            for li in 1..self.plan.lines.len() {
                let unspent = ledger.left[li];
                ledger.left[li] = 0;
                ledger.returned[li] += unspent;
                ledger.left[0] += unspent;
                ledger.received[0] += unspent;
            }
        }
    }

    /// Rank order in the general line: set-asides first, then everyone.
    fn walk_general(&self, eligible: &[bool], ledger: &mut Ledger, reasons: &mut [Reason]) {
        let order = self.ranking.order_slice();
        for &(c, floor) in &self.plan.set_asides {
            for &i in order {
                if ledger.awarded_to[c] >= floor {
                    break;
                }
                let i = i as usize;
                if !eligible[i] || ledger.is_funded(i) || !self.comp.meets(i, c) {
                    continue;
                }
                match ledger.try_fund(self, i, 0) {
                    Ok(()) => reasons[i] = Reason::FundedFromSetAside { consideration: c },
                    Err(b) => reasons[i] = blocked(b, Line::General, self.comp.amount_cents(i)),
                }
            }
        }
        for &i in order {
            let i = i as usize;
            if !eligible[i] || ledger.is_funded(i) {
                continue;
            }
            match ledger.try_fund(self, i, 0) {
                Ok(()) => reasons[i] = Reason::FundedInRankOrder,
                Err(b) => reasons[i] = blocked(b, Line::General, self.comp.amount_cents(i)),
            }
        }
    }

    /// Exact mode: the best set among `items` (application indexes in rank order) for line
    /// `li`, given what the ledger has already spent, with the set-aside needs `floors`.
    /// `witness` is a set known to satisfy every constraint. Returns the chosen flags, whether
    /// optimality is proven, and the nodes visited.
    fn select(
        &self,
        items: &[u32],
        witness: &[bool],
        li: usize,
        ledger: &Ledger,
        floors: &[(usize, i64)],
        max_nodes: u64,
    ) -> Result<(Vec<bool>, Optimality, u64), FundingError> {
        let scale = items
            .iter()
            .map(|&i| self.ranking.final_score(i as usize).normalize().scale())
            .max()
            .unwrap_or(0);
        let mut values = Vec::with_capacity(items.len());
        for &i in items {
            values.push(scaled(self.ranking.final_score(i as usize), scale).ok_or(FundingError::ScoresTooPrecise)?);
        }
        let total = values
            .iter()
            .try_fold(0i128, |a, v| a.checked_add(*v))
            .ok_or(FundingError::ScoresTooPrecise)?;
        // Bounds multiply a value by at most the largest amount; make sure that fits.
        let max_w = items
            .iter()
            .map(|&i| self.comp.amount_cents(i as usize))
            .max()
            .unwrap_or(0);
        total
            .checked_mul(i128::from(max_w).max(1))
            .ok_or(FundingError::ScoresTooPrecise)?;
        let caps: Vec<(usize, i64)> = (0..self.plan.caps.len())
            .filter_map(|c| self.plan.caps[c].map(|cap| (c, cap - ledger.awarded_to[c])))
            .collect();
        let problem = knapsack::Problem {
            values,
            weights: items.iter().map(|&i| self.comp.amount_cents(i as usize)).collect(),
            masks: items.iter().map(|&i| self.comp.mask(i as usize)).collect(),
            capacity: ledger.left[li],
            caps,
            floors: floors.to_vec(),
        };
        let solution = problem.solve(witness.to_vec(), max_nodes);
        let optimality = if solution.proven {
            Optimality::Proven
        } else {
            Optimality::NotProven
        };
        Ok((solution.chosen, optimality, solution.nodes))
    }
}

/// `d` as a whole number of units of 10^-scale, if it fits.
fn scaled(d: Decimal, scale: u32) -> Option<i128> {
    let d = d.normalize();
    let up = scale.checked_sub(d.scale())?;
    10i128.checked_pow(up)?.checked_mul(d.mantissa())
}

/// The exact 0/1 selection: maximise the total value of the chosen items within the
/// capacity, the caps and the floors; between equal totals prefer the set that is first to
/// hold an item when both are read in item order (items come in rank order).
mod knapsack {
    use std::cmp::Ordering;

    pub(super) struct Problem {
        /// Values, zero or more, in units of the smallest decimal place of the scores.
        pub values: Vec<i128>,
        /// Amounts in cents, more than zero.
        pub weights: Vec<i64>,
        /// Which considerations each item meets, as bits.
        pub masks: Vec<u64>,
        pub capacity: i64,
        /// (consideration, cents that may still go to items meeting it).
        pub caps: Vec<(usize, i64)>,
        /// (consideration, cents that must go to items meeting it).
        pub floors: Vec<(usize, i64)>,
    }

    pub(super) struct Solution {
        pub chosen: Vec<bool>,
        pub proven: bool,
        pub nodes: u64,
    }

    /// The linear-programming bound: the best total if items could be taken in part, found
    /// by taking whole items in value-per-cent order and then the part of the next that fits.
    struct Lp {
        /// The usable items in value-per-cent order.
        ratio: Vec<usize>,
        /// Prefix sums of weights and values along `ratio`.
        pw: Vec<i128>,
        pv: Vec<i128>,
    }

    impl Lp {
        fn new(p: &Problem, ratio: Vec<usize>) -> Lp {
            let len = ratio.len();
            let mut pw = vec![0i128; len + 1];
            let mut pv = vec![0i128; len + 1];
            for (i, &k) in ratio.iter().enumerate() {
                pw[i + 1] = pw[i] + i128::from(p.weights[k]);
                pv[i + 1] = pv[i] + p.values[k];
            }
            Lp { ratio, pw, pv }
        }

        /// The bound (rounded down) with capacity `cap`, leaving out the item at position
        /// `skip` of the ratio list.
        fn bound(&self, p: &Problem, cap: i128, skip: usize) -> i128 {
            if cap < 0 {
                return i128::MIN;
            }
            let len = self.ratio.len();
            let (sw, sv) = (i128::from(p.weights[self.ratio[skip]]), p.values[self.ratio[skip]]);
            let w_at = |j: usize| if j > skip { self.pw[j] - sw } else { self.pw[j] };
            let v_at = |j: usize| if j > skip { self.pv[j] - sv } else { self.pv[j] };
            // The largest j with w_at(j) <= cap (w_at never decreases).
            let (mut lo, mut hi) = (0usize, len);
            while lo < hi {
                let mid = (lo + hi).div_ceil(2);
                if w_at(mid) <= cap { lo = mid } else { hi = mid - 1 }
            }
            let mut bound = v_at(lo);
            if lo < len {
                let next = self.ratio[lo];
                bound += fraction(cap - w_at(lo), p.values[next], p.weights[next]);
            }
            bound
        }
    }

    /// `a` ranks before `b` as a set: at the first item where they differ, `a` holds it.
    fn ranks_before(a: &[bool], b: &[bool]) -> bool {
        a.iter().zip(b).find(|(x, y)| x != y).is_some_and(|(x, _)| *x)
    }

    /// (high, low) 128-bit halves of the 256-bit product v × w.
    fn wide(v: i128, w: i64) -> (u128, u128) {
        let v = v as u128;
        let w = w as u128;
        let lo = (v & u128::from(u64::MAX)) * w;
        let hi = (v >> 64) * w;
        let (low, carry) = lo.overflowing_add(hi << 64);
        ((hi >> 64) + u128::from(carry), low)
    }

    /// Compares value per cent: a = (va, wa) against b = (vb, wb), exactly.
    fn ratio_cmp(va: i128, wa: i64, vb: i128, wb: i64) -> Ordering {
        wide(va, wb).cmp(&wide(vb, wa))
    }

    /// floor(rem × v / w) for 0 <= rem < w, or v (a valid upper bound) if it overflows.
    fn fraction(rem: i128, v: i128, w: i64) -> i128 {
        rem.checked_mul(v).map_or(v, |p| p / i128::from(w))
    }

    impl Problem {
        fn meets(&self, k: usize, c: usize) -> bool {
            self.masks[k] & (1 << c) != 0
        }

        fn value(&self, x: &[bool]) -> i128 {
            x.iter().zip(&self.values).filter(|(x, _)| **x).map(|(_, v)| *v).sum()
        }

        fn feasible(&self, x: &[bool]) -> bool {
            let sum = |keep: &dyn Fn(usize) -> bool| -> i64 {
                (0..x.len()).filter(|&k| x[k] && keep(k)).map(|k| self.weights[k]).sum()
            };
            sum(&|_| true) <= self.capacity
                && self.caps.iter().all(|&(c, left)| sum(&|k| self.meets(k, c)) <= left)
                && self.floors.iter().all(|&(c, need)| sum(&|k| self.meets(k, c)) >= need)
        }

        /// Whether item k may be added given what is left of the capacity and caps.
        fn fits(&self, k: usize, rem: i64, cap_left: &[i64]) -> bool {
            self.weights[k] <= rem
                && self
                    .caps
                    .iter()
                    .zip(cap_left)
                    .all(|(&(c, _), &left)| !self.meets(k, c) || self.weights[k] <= left)
        }

        fn take(&self, k: usize, sign: i64, rem: &mut i64, cap_left: &mut [i64], cov: &mut [i64]) {
            let w = self.weights[k] * sign;
            *rem -= w;
            for (cl, &(c, _)) in cap_left.iter_mut().zip(&self.caps) {
                if self.meets(k, c) {
                    *cl -= w;
                }
            }
            for (cv, &(c, _)) in cov.iter_mut().zip(&self.floors) {
                if self.meets(k, c) {
                    *cv += w;
                }
            }
        }

        /// A second starting set: fill each floor by value per cent, then everything by value
        /// per cent. None if it misses a floor.
        fn greedy(&self, ratio: &[usize]) -> Option<Vec<bool>> {
            let mut x = vec![false; self.values.len()];
            let mut rem = self.capacity;
            let mut cap_left: Vec<i64> = self.caps.iter().map(|c| c.1).collect();
            let mut cov = vec![0i64; self.floors.len()];
            for f in 0..self.floors.len() {
                let (c, need) = self.floors[f];
                for &k in ratio {
                    if cov[f] >= need {
                        break;
                    }
                    if !x[k] && self.meets(k, c) && self.fits(k, rem, &cap_left) {
                        x[k] = true;
                        self.take(k, 1, &mut rem, &mut cap_left, &mut cov);
                    }
                }
            }
            for &k in ratio {
                if !x[k] && self.fits(k, rem, &cap_left) {
                    x[k] = true;
                    self.take(k, 1, &mut rem, &mut cap_left, &mut cov);
                }
            }
            self.floors
                .iter()
                .zip(&cov)
                .all(|(&(_, need), &got)| got >= need)
                .then_some(x)
        }

        /// The best set. `witness` must satisfy every constraint; the search starts from it
        /// (or from a better greedy set) and never returns anything worse.
        ///
        /// 1. Every item that the LP bound shows is in (or out of) every best set is fixed:
        ///    leaving it out (putting it in) bounds the total strictly below a set already in
        ///    hand. Strictly, so every best set survives, ties included.
        /// 2. A search in value-per-cent order looks for a higher total (the order in which
        ///    good sets are found fastest), with half the node budget; the fixing of step 1 is
        ///    then redone with what it found, which leaves far fewer items free.
        /// 3. A search in rank order over the remaining free items settles the best total and,
        ///    among sets with that total, the one that ranks first. Only when it finishes is
        ///    the result proven.
        pub fn solve(&self, witness: Vec<bool>, max_nodes: u64) -> Solution {
            let n = self.values.len();
            debug_assert!(self.feasible(&witness), "the witness must satisfy every constraint");
            let mut best = witness;
            let mut best_value = self.value(&best);

            // Items that can be chosen at all.
            let usable: Vec<bool> = (0..n)
                .map(|k| {
                    self.weights[k] <= self.capacity
                        && self
                            .caps
                            .iter()
                            .all(|&(c, left)| !self.meets(k, c) || self.weights[k] <= left)
                })
                .collect();
            // Value per cent, best first; equal ratios in rank order.
            let mut ratio: Vec<usize> = (0..n).filter(|&k| usable[k]).collect();
            ratio.sort_by(|&a, &b| {
                ratio_cmp(self.values[b], self.weights[b], self.values[a], self.weights[a]).then(a.cmp(&b))
            });
            if let Some(g) = self.greedy(&ratio) {
                let gv = self.value(&g);
                if gv > best_value || (gv == best_value && ranks_before(&g, &best)) {
                    best = g;
                    best_value = gv;
                }
            }
            let lp = Lp::new(self, ratio);

            // Steps 1 and 2.
            let fixed = self.reduce(&lp, &usable, best_value);
            let free: Vec<usize> = lp.ratio.iter().copied().filter(|&k| fixed[k] == 0).collect();
            let by_ratio: Vec<usize> = (0..free.len()).collect();
            let (nodes_2, _) = self.search(
                &fixed,
                &free,
                &by_ratio,
                false,
                &mut best,
                &mut best_value,
                max_nodes / 2,
            );

            // Step 3.
            let fixed = self.reduce(&lp, &usable, best_value);
            let free: Vec<usize> = (0..n).filter(|&k| fixed[k] == 0).collect();
            let mut slot = vec![usize::MAX; n];
            for (f, &k) in free.iter().enumerate() {
                slot[k] = f;
            }
            let by_ratio: Vec<usize> = lp.ratio.iter().filter(|&&k| fixed[k] == 0).map(|&k| slot[k]).collect();
            let (nodes_3, finished) = self.search(
                &fixed,
                &free,
                &by_ratio,
                true,
                &mut best,
                &mut best_value,
                max_nodes.saturating_sub(nodes_2),
            );
            debug_assert!(self.feasible(&best));
            Solution {
                chosen: best,
                proven: finished,
                nodes: nodes_2 + nodes_3,
            }
        }

        /// Step 1: 1 for an item in every set scoring `best_value` or more, -1 for an item in
        /// none (or that cannot be chosen at all), 0 for the rest.
        fn reduce(&self, lp: &Lp, usable: &[bool], best_value: i128) -> Vec<i8> {
            let mut fixed: Vec<i8> = usable.iter().map(|&u| if u { 0 } else { -1 }).collect();
            let cap = i128::from(self.capacity);
            for (p, &k) in lp.ratio.iter().enumerate() {
                if lp.bound(self, cap, p) < best_value {
                    fixed[k] = 1;
                    continue;
                }
                let w = i128::from(self.weights[k]);
                if self.values[k] + lp.bound(self, cap - w, p) < best_value {
                    fixed[k] = -1;
                }
            }
            fixed
        }

        /// Depth-first branch and bound over the `free` items, in that order, taking each
        /// item before leaving it out; the other items are in or out as `fixed` says.
        /// `by_ratio` lists positions in `free` in value-per-cent order, for the bound.
        /// `best` (over all items) is replaced by any set with a higher total and, when `lex`
        /// is set (and `free` is in rank order), by a set with an equal total that ranks
        /// before it. Returns the nodes visited and whether the search finished within
        /// `budget`.
        #[allow(clippy::too_many_arguments)]
        fn search(
            &self,
            fixed: &[i8],
            free: &[usize],
            by_ratio: &[usize],
            lex: bool,
            best: &mut [bool],
            best_value: &mut i128,
            budget: u64,
        ) -> (u64, bool) {
            debug_assert!(
                (0..fixed.len()).all(|k| fixed[k] == 0 || best[k] == (fixed[k] == 1)),
                "fixing keeps every best set, so it keeps the one in hand"
            );
            let m = free.len();
            let mut rem = self.capacity;
            let mut cap_left: Vec<i64> = self.caps.iter().map(|c| c.1).collect();
            let mut cov = vec![0i64; self.floors.len()];
            let mut val = 0i128;
            for k in (0..fixed.len()).filter(|&k| fixed[k] == 1) {
                self.take(k, 1, &mut rem, &mut cap_left, &mut cov);
                val += self.values[k];
            }
            // suffix[f][d]: the amounts of free items d.. meeting floor f.
            let suffix: Vec<Vec<i64>> = self
                .floors
                .iter()
                .map(|&(c, _)| {
                    let mut s = vec![0i64; m + 1];
                    for d in (0..m).rev() {
                        let k = free[d];
                        s[d] = s[d + 1] + if self.meets(k, c) { self.weights[k] } else { 0 };
                    }
                    s
                })
                .collect();
            let mut best_free: Vec<bool> = free.iter().map(|&k| best[k]).collect();
            let mut improved = false;
            let mut x = vec![0u8; m]; // 0 undecided, 1 in, 2 out
            let mut in_set = vec![false; m];
            let mut d = 0usize;
            let mut nodes = 0u64;
            let mut finished = true;
            'search: loop {
                if nodes >= budget {
                    finished = false;
                    break;
                }
                nodes += 1;
                // Can the floors still be reached with what is left?
                let mut descend = self
                    .floors
                    .iter()
                    .enumerate()
                    .all(|(f, &(_, need))| cov[f] + suffix[f][d] >= need);
                if descend && d == m {
                    if val > *best_value || (lex && val == *best_value && ranks_before(&in_set, &best_free)) {
                        best_free.copy_from_slice(&in_set);
                        *best_value = val;
                        improved = true;
                    }
                    descend = false;
                } else if descend {
                    // The LP bound over the undecided items.
                    let mut room = i128::from(rem);
                    let mut bound = val;
                    for &f in by_ratio {
                        if f < d {
                            continue;
                        }
                        let k = free[f];
                        let w = i128::from(self.weights[k]);
                        if w <= room {
                            room -= w;
                            bound += self.values[k];
                        } else {
                            bound += fraction(room, self.values[k], self.weights[k]);
                            break;
                        }
                    }
                    let hopeless = if lex {
                        bound < *best_value || (bound == *best_value && ranks_before(&best_free[..d], &in_set[..d]))
                    } else {
                        bound <= *best_value
                    };
                    if hopeless {
                        descend = false;
                    }
                }
                if descend {
                    let k = free[d];
                    if self.fits(k, rem, &cap_left) {
                        self.take(k, 1, &mut rem, &mut cap_left, &mut cov);
                        val += self.values[k];
                        x[d] = 1;
                        in_set[d] = true;
                    } else {
                        x[d] = 2;
                    }
                    d += 1;
                    continue;
                }
                // Back up to the last item taken and try leaving it out.
                loop {
                    if d == 0 {
                        break 'search;
                    }
                    d -= 1;
                    if x[d] == 1 {
                        let k = free[d];
                        self.take(k, -1, &mut rem, &mut cap_left, &mut cov);
                        val -= self.values[k];
                        x[d] = 2;
                        in_set[d] = false;
                        d += 1;
                        continue 'search;
                    }
                    x[d] = 0;
                }
            }
            if improved {
                for (f, &k) in free.iter().enumerate() {
                    best[k] = best_free[f];
                }
            }
            (nodes, finished)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::algo::ranking::tests::{app, consideration, numbers, seed};
    use crate::algo::ranking::{Candidate, Scenario};
    use proptest::prelude::*;
    use rust_decimal_macros::dec;
    use uuid::Uuid;

    fn dollars(d: i64) -> Money {
        Money::from_dollars(d).unwrap()
    }

    /// Application numbers funded, in rank order.
    fn funded_numbers(r: &FundingResult, ranking: &Ranking, comp: &Competition) -> Vec<u128> {
        ranking
            .order()
            .filter(|&i| r.is_funded(i))
            .map(|i| comp.id(i).as_u128())
            .collect()
    }

    fn reason_of(r: &FundingResult, comp: &Competition, n: u128) -> String {
        let i = comp.index_of(Uuid::from_u128(n)).unwrap();
        r.outcomes[i].reason.describe(comp, i)
    }

    fn earlier_of(r: &FundingResult, comp: &Competition, n: u128) -> Vec<String> {
        let i = comp.index_of(Uuid::from_u128(n)).unwrap();
        r.outcomes[i].earlier.iter().map(|e| e.describe(comp, i)).collect()
    }

    fn setup(
        considerations: Vec<granary_solicitations::model::PriorityConsideration>,
        apps: Vec<Candidate>,
    ) -> (Competition, Ranking) {
        let comp = Competition::new(considerations, apps, seed(1)).unwrap();
        let ranking = comp.rank(&comp.declared_scenario()).unwrap();
        (comp, ranking)
    }

    #[test]
    fn rank_order_skips_an_award_that_does_not_fit_and_continues() {
        // $100,000 available; ranking 1..5 by merit.
        //   1: $60,000 -> funded, $40,000 left
        //   2: $50,000 -> skipped ($40,000 left); 3 below it is funded
        //   3: $30,000 -> funded, $10,000 left
        //   4: $20,000 -> does not fit ($10,000 left); nobody below is funded: below the line
        //   5: $15,000 -> likewise
        let (comp, ranking) = setup(
            vec![],
            vec![
                app(1, dec!(90), 60_000, &[]),
                app(2, dec!(85), 50_000, &[]),
                app(3, dec!(80), 30_000, &[]),
                app(4, dec!(75), 20_000, &[]),
                app(5, dec!(70), 15_000, &[]),
            ],
        );
        let r = draw(&comp, &ranking, &FundingConfig::rank_order(dollars(100_000))).unwrap();
        assert_eq!(funded_numbers(&r, &ranking, &comp), vec![1, 3]);
        assert_eq!(reason_of(&r, &comp, 1), "funded in rank order");
        assert_eq!(reason_of(&r, &comp, 2), "skipped: $50,000 requested, $40,000 left");
        assert_eq!(
            reason_of(&r, &comp, 4),
            "below the funding line: $20,000 requested, $10,000 left"
        );
        assert_eq!(
            reason_of(&r, &comp, 5),
            "below the funding line: $15,000 requested, $10,000 left"
        );
        assert_eq!(r.awarded, dollars(90_000));
        assert_eq!(r.funds_left, dollars(10_000));
        assert_eq!(r.lines.len(), 1);
        assert_eq!(r.lines[0].awarded, dollars(90_000));
        assert_eq!(r.lines[0].funded, 2);
        assert_eq!(r.optimality, Optimality::NotApplicable);
        let i3 = comp.index_of(Uuid::from_u128(3)).unwrap();
        assert_eq!(r.outcomes[i3].amount, dollars(30_000));
        assert_eq!(r.outcomes[i3].line, Some(Line::General));
    }

    #[test]
    fn a_set_aside_floor_is_filled_first_then_everyone_in_rank_order() {
        // "rural" has a $50,000 set-aside; $100,000 available. Ranking by merit: 1..6.
        //   1: 95 $40,000 -      2: 90 $30,000 -      3: 85 $30,000 rural
        //   4: 80 $20,000 -      5: 75 $25,000 rural  6: 70 $20,000 rural
        // Without the set-aside: 1, 2, 3 funded ($100,000); rural gets $30,000.
        // With it: set-aside walk: 3 ($30,000; rural total $30,000, $70,000 left), 5
        // ($25,000; rural total $55,000 >= $50,000: stop; $45,000 left). Then rank order:
        // 1 ($40,000; $5,000 left); 2, 4, 6 do not fit.
        // Funded: 1, 3, 5 ($95,000); 2 and 4 are skipped (5, ranked below, was funded), 6 is
        // below the line.
        let considerations = vec![consideration(
            "rural",
            Mechanism::SetAside {
                amount: dollars(50_000),
            },
        )];
        let apps = vec![
            app(1, dec!(95), 40_000, &[]),
            app(2, dec!(90), 30_000, &[]),
            app(3, dec!(85), 30_000, &["rural"]),
            app(4, dec!(80), 20_000, &[]),
            app(5, dec!(75), 25_000, &["rural"]),
            app(6, dec!(70), 20_000, &["rural"]),
        ];
        let (comp, ranking) = setup(considerations, apps);
        let config = FundingConfig::rank_order(dollars(100_000));
        let r = draw(&comp, &ranking, &config).unwrap();
        assert_eq!(funded_numbers(&r, &ranking, &comp), vec![1, 3, 5]);
        assert_eq!(reason_of(&r, &comp, 3), "funded from the set-aside for “rural name”");
        assert_eq!(reason_of(&r, &comp, 5), "funded from the set-aside for “rural name”");
        assert_eq!(reason_of(&r, &comp, 1), "funded in rank order");
        assert_eq!(reason_of(&r, &comp, 2), "skipped: $30,000 requested, $5,000 left");
        assert_eq!(reason_of(&r, &comp, 4), "skipped: $20,000 requested, $5,000 left");
        assert_eq!(
            reason_of(&r, &comp, 6),
            "below the funding line: $20,000 requested, $5,000 left"
        );
        assert_eq!(
            r.set_asides,
            vec![SetAsideOutcome {
                consideration: 0,
                floor: dollars(50_000),
                target: dollars(50_000),
                reached: dollars(55_000),
                met: true,
            }]
        );
        assert_eq!(r.considerations[0].meeting, 3);
        assert_eq!(r.considerations[0].funded, 2);
        assert_eq!(r.considerations[0].awarded, dollars(55_000));
        assert_eq!(r.funds_left, dollars(5_000));

        // Without the set-aside the ranking alone decides.
        let mut off = comp.declared_scenario();
        off.set("rural", None).unwrap();
        let plain = comp.rank(&off).unwrap();
        let r = draw(&comp, &plain, &config).unwrap();
        assert_eq!(funded_numbers(&r, &plain, &comp), vec![1, 2, 3]);

        // A floor of $120,000 cannot be reached: all rural applications ($75,000) are
        // funded first (3, 5, 6; $25,000 left), then rank order funds 4 ($20,000).
        let mut big = comp.declared_scenario();
        big.set(
            "rural",
            Some(Mechanism::SetAside {
                amount: dollars(120_000),
            }),
        )
        .unwrap();
        let ranked = comp.rank(&big).unwrap();
        let r = draw(&comp, &ranked, &config).unwrap();
        assert_eq!(funded_numbers(&r, &ranked, &comp), vec![3, 4, 5, 6]);
        assert_eq!(r.set_asides[0].reached, dollars(75_000));
        assert!(!r.set_asides[0].met);
    }

    #[test]
    fn a_separate_funding_line_ranks_its_own_applications_and_the_rest_compete_in_general() {
        // "tribal" has a separate line of $50,000; $150,000 available, so the general line
        // starts with $100,000. Ranking by merit: 1..7.
        //   1: 95 $50,000 -       2: 90 $40,000 tribal   3: 88 $30,000 -
        //   4: 85 $30,000 tribal  5: 80 $25,000 tribal   6: 75 $20,000 -
        //   7: 70 $20,000 tribal
        // Separate line, tribal applications in rank order: 2 ($40,000; $10,000 left); 4, 5
        // and 7 do not fit. The $10,000 returns: the general line has $110,000.
        // General line, everyone else in rank order: 1 ($50,000; $60,000 left), 3 ($30,000;
        // $30,000 left), 4 ($30,000; $0 left); 5, 6, 7 do not fit.
        // Funded: 2 (separate), 1, 3, 4 (general). $150,000 awarded, nothing left.
        let considerations = vec![consideration(
            "tribal",
            Mechanism::SeparateFundingLine {
                amount: dollars(50_000),
            },
        )];
        let apps = vec![
            app(1, dec!(95), 50_000, &[]),
            app(2, dec!(90), 40_000, &["tribal"]),
            app(3, dec!(88), 30_000, &[]),
            app(4, dec!(85), 30_000, &["tribal"]),
            app(5, dec!(80), 25_000, &["tribal"]),
            app(6, dec!(75), 20_000, &[]),
            app(7, dec!(70), 20_000, &["tribal"]),
        ];
        let (comp, ranking) = setup(considerations, apps);
        let mut config = FundingConfig::rank_order(dollars(150_000));
        let r = draw(&comp, &ranking, &config).unwrap();
        assert_eq!(funded_numbers(&r, &ranking, &comp), vec![1, 2, 3, 4]);
        assert_eq!(
            reason_of(&r, &comp, 2),
            "funded in the separate funding line for “tribal name”"
        );
        let i2 = comp.index_of(Uuid::from_u128(2)).unwrap();
        assert_eq!(r.outcomes[i2].line, Some(Line::Separate { consideration: 0 }));
        assert_eq!(reason_of(&r, &comp, 4), "funded in rank order");
        assert_eq!(
            earlier_of(&r, &comp, 4),
            vec!["skipped in the separate funding line for “tribal name”: $30,000 requested, $10,000 left"]
        );
        assert_eq!(
            reason_of(&r, &comp, 5),
            "below the funding line: $25,000 requested, $0 left"
        );
        assert_eq!(earlier_of(&r, &comp, 5).len(), 1);
        assert!(earlier_of(&r, &comp, 6).is_empty());
        let general = &r.lines[0];
        assert_eq!(
            (general.pot, general.received, general.awarded, general.left),
            (dollars(100_000), dollars(10_000), dollars(110_000), Money::ZERO)
        );
        let separate = &r.lines[1];
        assert_eq!(separate.line, Line::Separate { consideration: 0 });
        assert_eq!(
            (separate.pot, separate.awarded, separate.returned, separate.left),
            (dollars(50_000), dollars(40_000), dollars(10_000), Money::ZERO)
        );
        assert_eq!(r.funds_left, Money::ZERO);

        // When unspent separate funds stay in their line, the general line has $100,000:
        // 1 ($50,000), 3 ($30,000; $20,000 left), 4 and 5 do not fit, 6 ($20,000), 7 not.
        config.unspent_separate_funds = UnspentSeparateFunds::StayUnspent;
        let r = draw(&comp, &ranking, &config).unwrap();
        assert_eq!(funded_numbers(&r, &ranking, &comp), vec![1, 2, 3, 6]);
        assert_eq!(r.lines[1].left, dollars(10_000));
        assert_eq!(r.funds_left, dollars(10_000));
        assert_eq!(reason_of(&r, &comp, 4), "skipped: $30,000 requested, $20,000 left");
    }

    #[test]
    fn caps_and_the_per_award_maximum_are_never_passed() {
        // "urban" applications may receive at most $50,000; $120,000 available.
        //   1: 95 $30,000 urban -> funded (urban $30,000; $90,000 left)
        //   2: 90 $30,000 urban -> would make urban $60,000: not funded
        //   3: 85 $30,000 -     -> funded ($60,000 left)
        //   4: 80 $15,000 urban -> urban $45,000: funded ($45,000 left)
        //   5: 75 $20,000 -     -> funded ($25,000 left)
        let considerations = vec![consideration("urban", Mechanism::BonusPoints { points: dec!(0) })];
        let apps = vec![
            app(1, dec!(95), 30_000, &["urban"]),
            app(2, dec!(90), 30_000, &["urban"]),
            app(3, dec!(85), 30_000, &[]),
            app(4, dec!(80), 15_000, &["urban"]),
            app(5, dec!(75), 20_000, &[]),
        ];
        let (comp, ranking) = setup(considerations, apps);
        let mut config = FundingConfig::rank_order(dollars(120_000));
        config.caps = vec![Cap {
            consideration: "urban".into(),
            max_total: dollars(50_000),
        }];
        let r = draw(&comp, &ranking, &config).unwrap();
        assert_eq!(funded_numbers(&r, &ranking, &comp), vec![1, 3, 4, 5]);
        assert_eq!(
            reason_of(&r, &comp, 2),
            "not funded: $30,000 requested would pass the cap of $50,000 for applications meeting “urban name” ($30,000 already awarded to them)"
        );
        assert_eq!(
            r.caps,
            vec![CapOutcome {
                consideration: 0,
                cap: dollars(50_000),
                awarded: dollars(45_000),
            }]
        );
        assert_eq!(r.funds_left, dollars(25_000));
        // Exact mode under the same cap: the urban options are {1, 4} (scores 175), {2, 4}
        // (170), {1} or {2}; with 3 and 5 the best is {1, 3, 4, 5} again.
        config.mode = FundingMode::Exact {
            max_nodes: DEFAULT_MAX_NODES,
        };
        let r = draw(&comp, &ranking, &config).unwrap();
        assert_eq!(funded_numbers(&r, &ranking, &comp), vec![1, 3, 4, 5]);
        assert_eq!(r.optimality, Optimality::Proven);

        // A per-award maximum of $25,000 leaves out 1, 2 and 3 ($30,000 each).
        let mut config = FundingConfig::rank_order(dollars(120_000));
        config.max_award = Some(dollars(25_000));
        let r = draw(&comp, &ranking, &config).unwrap();
        assert_eq!(funded_numbers(&r, &ranking, &comp), vec![4, 5]);
        assert_eq!(
            reason_of(&r, &comp, 1),
            "not funded: $30,000 requested is above the per-award maximum of $25,000"
        );
    }

    #[test]
    fn exact_mode_beats_rank_order_where_it_matters() {
        // $100,000 available.
        //   1: 90 $60,000   2: 85 $50,000   3: 80 $50,000
        // Rank order: 1 ($40,000 left); 2 and 3 do not fit. Total score 90.
        // Exact: {2, 3} fits exactly and scores 165; {1} scores 90; no other set fits.
        let (comp, ranking) = setup(
            vec![],
            vec![
                app(1, dec!(90), 60_000, &[]),
                app(2, dec!(85), 50_000, &[]),
                app(3, dec!(80), 50_000, &[]),
            ],
        );
        let ro = draw(&comp, &ranking, &FundingConfig::rank_order(dollars(100_000))).unwrap();
        assert_eq!(funded_numbers(&ro, &ranking, &comp), vec![1]);
        assert_eq!(ro.total_score(&ranking), dec!(90));
        let ex = draw(&comp, &ranking, &FundingConfig::exact(dollars(100_000))).unwrap();
        assert_eq!(funded_numbers(&ex, &ranking, &comp), vec![2, 3]);
        assert_eq!(ex.total_score(&ranking), dec!(165));
        assert_eq!(ex.optimality, Optimality::Proven);
        assert_eq!(ex.funds_left, Money::ZERO);
        assert_eq!(
            reason_of(&ex, &comp, 2),
            "funded: part of the set of applications with the highest total final score that fits the funds of the general funding line"
        );
        assert_eq!(
            reason_of(&ex, &comp, 1),
            "not funded: not part of the set with the highest total final score that fits the funds ($60,000 requested, $0 left)"
        );
    }

    #[test]
    fn exact_mode_equals_rank_order_where_rank_order_is_already_best() {
        // $100,000 available.
        //   1: 90 $50,000   2: 85 $30,000   3: 80 $20,000   4: 70 $40,000
        // Rank order: 1, 2, 3 ($100,000), score 255. The sets that fit: {1,2,3} 255,
        // {2,3,4} 235, {1,4} 160, {1,2} 175, ...: {1,2,3} is the best, so exact agrees.
        let (comp, ranking) = setup(
            vec![],
            vec![
                app(1, dec!(90), 50_000, &[]),
                app(2, dec!(85), 30_000, &[]),
                app(3, dec!(80), 20_000, &[]),
                app(4, dec!(70), 40_000, &[]),
            ],
        );
        let ro = draw(&comp, &ranking, &FundingConfig::rank_order(dollars(100_000))).unwrap();
        let ex = draw(&comp, &ranking, &FundingConfig::exact(dollars(100_000))).unwrap();
        assert_eq!(funded_numbers(&ro, &ranking, &comp), vec![1, 2, 3]);
        assert_eq!(funded_numbers(&ex, &ranking, &comp), vec![1, 2, 3]);
        assert_eq!(ex.total_score(&ranking), dec!(255));
    }

    #[test]
    fn exact_mode_breaks_ties_between_equal_sets_by_rank_order() {
        // $50,000 available.
        //   1: 50 $30,000   2: 40 $25,000   3: 40 $25,000   4: 30 $20,000
        // {1, 4} and {2, 3} both score 80 and cost $50,000. Down the ranking, 1 is the first
        // application in one set and not the other, so {1, 4} wins.
        // Swapping the scores of 1 and 2 (2: 50, 1: 40) keeps the ranking's first place with
        // the 50-point application; it is again the one whose set wins.
        let (comp, ranking) = setup(
            vec![],
            vec![
                app(1, dec!(50), 30_000, &[]),
                app(2, dec!(40), 25_000, &[]),
                app(3, dec!(40), 25_000, &[]),
                app(4, dec!(30), 20_000, &[]),
            ],
        );
        let ex = draw(&comp, &ranking, &FundingConfig::exact(dollars(50_000))).unwrap();
        assert_eq!(funded_numbers(&ex, &ranking, &comp), vec![1, 4]);
        // Now with 1 scoring 30 and 4 scoring 50:
        //   1: 30 $30,000   2: 40 $25,000   3: 40 $25,000   4: 50 $20,000
        // The pairs that fit: {4, 2} and {4, 3} score 90 ($45,000), {4, 1} and {2, 3} 80; no
        // three fit. {4, 2} and {4, 3} tie; 2 and 3 tie in the ranking too (same merit and
        // amount), so the lottery ranks one of them second, and its set wins.
        let (comp, ranking) = setup(
            vec![],
            vec![
                app(1, dec!(30), 30_000, &[]),
                app(2, dec!(40), 25_000, &[]),
                app(3, dec!(40), 25_000, &[]),
                app(4, dec!(50), 20_000, &[]),
            ],
        );
        let ex = draw(&comp, &ranking, &FundingConfig::exact(dollars(50_000))).unwrap();
        let ranked = numbers(&ranking, &comp);
        assert_eq!(ranked[0], 4);
        let (i2, i3) = (
            comp.index_of(Uuid::from_u128(2)).unwrap(),
            comp.index_of(Uuid::from_u128(3)).unwrap(),
        );
        let lottery_second = if comp.lottery_key(i2) < comp.lottery_key(i3) {
            2
        } else {
            3
        };
        assert_eq!(ranked[1], lottery_second);
        assert_eq!(funded_numbers(&ex, &ranking, &comp), vec![4, lottery_second]);
        assert_eq!(ex.total_score(&ranking), dec!(90));
        // With another seed the lottery may order 2 and 3 the other way; the funded pair
        // follows it.
        for s in 2..10u8 {
            let comp = Competition::new(
                vec![],
                vec![
                    app(1, dec!(30), 30_000, &[]),
                    app(2, dec!(40), 25_000, &[]),
                    app(3, dec!(40), 25_000, &[]),
                    app(4, dec!(50), 20_000, &[]),
                ],
                seed(s),
            )
            .unwrap();
            let ranking = comp.rank(&comp.declared_scenario()).unwrap();
            let ex = draw(&comp, &ranking, &FundingConfig::exact(dollars(50_000))).unwrap();
            assert_eq!(
                funded_numbers(&ex, &ranking, &comp),
                numbers(&ranking, &comp)[..2].to_vec()
            );
        }
    }

    #[test]
    fn exact_mode_says_when_the_node_budget_ran_out() {
        // Scores equal to the amounts in thousands make every set's score its cost, and with
        // even amounts an odd budget ($101,000) can never be filled: the bound (101) stays
        // above every set (at most 100), so proving the best takes a very long search.
        let apps: Vec<Candidate> = (1..=24u128)
            .map(|n| {
                let thousands = 2 * (n as i64 % 7 + 2);
                app(n, Decimal::from(thousands), thousands * 1_000, &[])
            })
            .collect();
        let (comp, ranking) = setup(vec![], apps);
        let mut config = FundingConfig::exact(dollars(101_000));
        config.mode = FundingMode::Exact { max_nodes: 50 };
        let r = draw(&comp, &ranking, &config).unwrap();
        assert_eq!(r.optimality, Optimality::NotProven);
        assert_eq!(r.lines[0].optimality, Optimality::NotProven);
        assert_eq!(r.nodes, 50, "the search stops at its budget");
        assert!(r.awarded <= dollars(101_000));
        // It still returns a set at least as good as rank order's.
        let ro = draw(&comp, &ranking, &FundingConfig::rank_order(dollars(101_000))).unwrap();
        assert!(r.total_score(&ranking) >= ro.total_score(&ranking));
        assert_eq!(r.total_score(&ranking), dec!(100));
    }

    #[test]
    fn bad_configurations_are_refused() {
        let (comp, ranking) = setup(
            vec![consideration(
                "s",
                Mechanism::SeparateFundingLine {
                    amount: dollars(60_000),
                },
            )],
            vec![app(1, dec!(1), 10, &[])],
        );
        assert!(matches!(
            draw(&comp, &ranking, &FundingConfig::rank_order(dollars(50_000))),
            Err(FundingError::SeparateLinesExceedFunds { .. })
        ));
        let mut config = FundingConfig::rank_order(dollars(100_000));
        config.caps = vec![Cap {
            consideration: "nope".into(),
            max_total: dollars(1),
        }];
        assert!(matches!(
            draw(&comp, &ranking, &config),
            Err(FundingError::UnknownCap { .. })
        ));
        config.caps = vec![];
        config.max_award = Some(Money::ZERO);
        assert_eq!(draw(&comp, &ranking, &config), Err(FundingError::NonPositiveMaxAward));
        let other = Competition::new(vec![], vec![], seed(0)).unwrap();
        let empty = other.rank(&other.declared_scenario()).unwrap();
        assert!(matches!(
            draw(&comp, &empty, &FundingConfig::rank_order(dollars(1))),
            Err(FundingError::RankingMismatch { .. })
        ));
    }

    // ---- Brute force and properties ----

    /// A small random case: considerations "a" (set-aside), "s" (separate line), "c" (bonus
    /// points, with a cap), each switched on or off by the case.
    #[derive(Debug, Clone)]
    struct Case {
        apps: Vec<(i64, i64, u8)>, // (merit, thousands of dollars, bits of a/s/c met)
        available: i64,            // thousands
        set_aside: Option<i64>,
        separate: Option<i64>,
        cap: Option<i64>,
        bonus: i64,
        stay_unspent: bool,
    }

    fn build(case: &Case) -> (Competition, Ranking, FundingConfig) {
        let considerations = vec![
            consideration(
                "a",
                Mechanism::SetAside {
                    amount: dollars(case.set_aside.unwrap_or(0) * 1_000),
                },
            ),
            consideration(
                "s",
                Mechanism::SeparateFundingLine {
                    amount: dollars(case.separate.unwrap_or(0) * 1_000),
                },
            ),
            consideration(
                "c",
                Mechanism::BonusPoints {
                    points: Decimal::from(case.bonus),
                },
            ),
        ];
        let apps = case
            .apps
            .iter()
            .enumerate()
            .map(|(k, &(merit, thousands, bits))| {
                let meets: Vec<&str> = ["a", "s", "c"]
                    .iter()
                    .enumerate()
                    .filter(|(b, _)| bits & (1 << b) != 0)
                    .map(|(_, k)| *k)
                    .collect();
                app(k as u128 + 1, Decimal::from(merit), thousands * 1_000, &meets)
            })
            .collect();
        let comp = Competition::new(considerations, apps, seed(9)).unwrap();
        let mut scenario: Scenario = comp.declared_scenario();
        if case.set_aside.is_none() {
            scenario.set("a", None).unwrap();
        }
        if case.separate.is_none() {
            scenario.set("s", None).unwrap();
        }
        let ranking = comp.rank(&scenario).unwrap();
        let mut config = FundingConfig::rank_order(dollars(case.available * 1_000));
        if let Some(cap) = case.cap {
            config.caps = vec![Cap {
                consideration: "c".into(),
                max_total: dollars(cap * 1_000),
            }];
        }
        if case.stay_unspent {
            config.unspent_separate_funds = UnspentSeparateFunds::StayUnspent;
        }
        (comp, ranking, config)
    }

    /// The best subset of `items` (rank order) by enumeration: total score, then the set
    /// holding the first application (down the ranking) that only one of them holds.
    #[allow(clippy::too_many_arguments)]
    fn brute_best(
        comp: &Competition,
        ranking: &Ranking,
        items: &[usize],
        capacity: i64,
        cap: Option<(usize, i64)>,
        floor: Option<(usize, i64)>,
    ) -> Vec<usize> {
        let mut best: Option<(Decimal, u32)> = None;
        for set in 0u32..(1 << items.len()) {
            let chosen: Vec<usize> = (0..items.len())
                .filter(|k| set & (1 << k) != 0)
                .map(|k| items[k])
                .collect();
            let cost: i64 = chosen.iter().map(|&i| comp.amount_cents(i)).sum();
            let to = |c: usize| -> i64 {
                chosen
                    .iter()
                    .filter(|&&i| comp.meets(i, c))
                    .map(|&i| comp.amount_cents(i))
                    .sum()
            };
            if cost > capacity
                || cap.is_some_and(|(c, left)| to(c) > left)
                || floor.is_some_and(|(c, need)| to(c) < need)
            {
                continue;
            }
            let score: Decimal = chosen.iter().map(|&i| ranking.final_score(i)).sum();
            let better = match best {
                None => true,
                Some((s, b)) => {
                    // Items are in rank order, so the lowest differing bit is the first
                    // application down the ranking in only one set.
                    let differ = set ^ b;
                    score > s || (score == s && differ != 0 && set & (differ & differ.wrapping_neg()) != 0)
                }
            };
            if better {
                best = Some((score, set));
            }
        }
        let set = best.expect("the empty set always fits").1;
        (0..items.len())
            .filter(|k| set & (1 << k) != 0)
            .map(|k| items[k])
            .collect()
    }

    /// Exact mode by enumeration, following the documented sequence: the separate line among
    /// its applications, unspent funds back (or not), then the general line with the set-aside
    /// needing what a rank-order walk from there would reach (up to its floor).
    fn brute_exact(comp: &Competition, ranking: &Ranking, config: &FundingConfig, case: &Case) -> Vec<u128> {
        let order: Vec<usize> = ranking.order().collect();
        let (a, s, c) = (0usize, 1usize, 2usize);
        let mut funded = vec![false; comp.len()];
        let mut to_a = 0i64;
        let mut to_c = 0i64;
        let cap_c = config.caps.first().map(|cap| cap.max_total.cents());
        let mut general = config.available.cents();
        let give = |i: usize, funded: &mut Vec<bool>, to_a: &mut i64, to_c: &mut i64| {
            funded[i] = true;
            if comp.meets(i, a) {
                *to_a += comp.amount_cents(i);
            }
            if comp.meets(i, c) {
                *to_c += comp.amount_cents(i);
            }
        };
        if let Some(pot) = case.separate {
            let pot = pot * 100_000;
            general -= pot;
            let items: Vec<usize> = order.iter().copied().filter(|&i| comp.meets(i, s)).collect();
            let chosen = brute_best(comp, ranking, &items, pot, cap_c.map(|cap| (c, cap - to_c)), None);
            let spent: i64 = chosen.iter().map(|&i| comp.amount_cents(i)).sum();
            for i in chosen {
                give(i, &mut funded, &mut to_a, &mut to_c);
            }
            if !case.stay_unspent {
                general += pot - spent;
            }
        }
        let items: Vec<usize> = order.iter().copied().filter(|&i| !funded[i]).collect();
        let mut floor = None;
        if let Some(f) = case.set_aside {
            let f = f * 100_000;
            // The rank-order walk from here: set-aside first, then everyone.
            let (mut left, mut wa, mut wc) = (general, to_a, to_c);
            let mut wf = funded.clone();
            let fits = |i: usize, left: i64, wc: i64| {
                comp.amount_cents(i) <= left
                    && (!comp.meets(i, c) || cap_c.is_none_or(|cap| wc + comp.amount_cents(i) <= cap))
            };
            for pass in 0..2 {
                for &i in &order {
                    if pass == 0 && wa >= f {
                        break;
                    }
                    if wf[i] || (pass == 0 && !comp.meets(i, a)) || !fits(i, left, wc) {
                        continue;
                    }
                    wf[i] = true;
                    left -= comp.amount_cents(i);
                    if comp.meets(i, a) {
                        wa += comp.amount_cents(i);
                    }
                    if comp.meets(i, c) {
                        wc += comp.amount_cents(i);
                    }
                }
            }
            let need = f.min(wa) - to_a;
            if need > 0 {
                floor = Some((a, need));
            }
        }
        let chosen = brute_best(comp, ranking, &items, general, cap_c.map(|cap| (c, cap - to_c)), floor);
        for i in chosen {
            give(i, &mut funded, &mut to_a, &mut to_c);
        }
        order
            .iter()
            .filter(|&&i| funded[i])
            .map(|&i| comp.id(i).as_u128())
            .collect()
    }

    fn case_strategy(max_apps: usize) -> impl Strategy<Value = Case> {
        (
            prop::collection::vec((0i64..20, 1i64..12, 0u8..8), 1..=max_apps),
            0i64..60,
            prop::option::of(0i64..40),
            prop::option::of(0i64..30),
            prop::option::of(0i64..40),
            0i64..6,
            any::<bool>(),
        )
            .prop_map(
                |(apps, available, set_aside, separate, cap, bonus, stay_unspent)| Case {
                    available: available.max(separate.unwrap_or(0)),
                    apps,
                    set_aside,
                    separate,
                    cap,
                    bonus,
                    stay_unspent,
                },
            )
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

        /// Exact mode agrees with enumerating every subset, ties included (small integer
        /// merits make equal totals common).
        #[test]
        fn exact_mode_matches_brute_force(case in case_strategy(10)) {
            let (comp, ranking, mut config) = build(&case);
            config.mode = FundingMode::Exact { max_nodes: DEFAULT_MAX_NODES };
            let r = draw(&comp, &ranking, &config).unwrap();
            prop_assert_eq!(r.optimality, Optimality::Proven);
            prop_assert_eq!(
                funded_numbers(&r, &ranking, &comp),
                brute_exact(&comp, &ranking, &config, &case)
            );
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

        /// In both modes: never more than available, each line within its funds, caps kept,
        /// amounts and totals consistent.
        #[test]
        fn never_funds_more_than_available(case in case_strategy(30), exact in any::<bool>()) {
            let (comp, ranking, mut config) = build(&case);
            if exact {
                config.mode = FundingMode::Exact { max_nodes: 20_000 };
            }
            let r = draw(&comp, &ranking, &config).unwrap();
            let awarded: i64 = r.outcomes.iter().map(|o| o.amount.cents()).sum();
            prop_assert_eq!(awarded, r.awarded.cents());
            prop_assert!(r.awarded <= config.available);
            prop_assert_eq!(r.funds_left, config.available - r.awarded);
            for line in &r.lines {
                prop_assert!(line.awarded.cents() <= line.pot.cents() + line.received.cents());
                prop_assert!(!line.left.is_negative());
                let in_line: i64 = r
                    .outcomes
                    .iter()
                    .filter(|o| o.line == Some(line.line))
                    .map(|o| o.amount.cents())
                    .sum();
                prop_assert_eq!(in_line, line.awarded.cents());
            }
            for cap in &r.caps {
                prop_assert!(cap.awarded <= cap.cap);
            }
            for (i, o) in r.outcomes.iter().enumerate() {
                prop_assert_eq!(o.is_funded(), o.reason.is_funded());
                if o.is_funded() {
                    prop_assert_eq!(o.amount, comp.award_amount(i));
                }
            }
        }

        /// Rank order: when the set-aside is not reached, no unfunded application meeting it
        /// could still have been funded; and when all its applications fit in the general
        /// line together, it is reached (or all of them are funded).
        #[test]
        fn set_aside_is_met_when_enough_meeting_applications_fit(mut case in case_strategy(30)) {
            case.separate = None;
            case.cap = None;
            let (comp, ranking, config) = build(&case);
            let r = draw(&comp, &ranking, &config).unwrap();
            if let Some(outcome) = r.set_asides.first() {
                let meeting: Vec<usize> = (0..comp.len()).filter(|&i| comp.meets(i, 0)).collect();
                let left = r.lines[0].left.cents();
                if !outcome.met {
                    for &i in &meeting {
                        prop_assert!(r.is_funded(i) || comp.amount_cents(i) > left);
                    }
                }
                let all: i64 = meeting.iter().map(|&i| comp.amount_cents(i)).sum();
                if all <= config.available.cents() {
                    prop_assert!(outcome.met || meeting.iter().all(|&i| r.is_funded(i)));
                }
            }
        }

        /// Rank order with no set-aside, separate line or cap: going down the ranking, an
        /// application is funded exactly when its award fits in what the ones above it left.
        #[test]
        fn rank_order_is_the_ranking_with_skips(mut case in case_strategy(30)) {
            case.separate = None;
            case.set_aside = None;
            case.cap = None;
            let (comp, ranking, config) = build(&case);
            let r = draw(&comp, &ranking, &config).unwrap();
            let mut left = config.available.cents();
            let mut last_funded = None;
            for (p, i) in ranking.order().enumerate() {
                let fits = comp.amount_cents(i) <= left;
                prop_assert_eq!(r.is_funded(i), fits);
                if fits {
                    left -= comp.amount_cents(i);
                    last_funded = Some(p);
                }
            }
            for (p, i) in ranking.order().enumerate() {
                let skipped = matches!(r.outcomes[i].reason, Reason::Skipped { .. });
                let below = matches!(r.outcomes[i].reason, Reason::BelowFundingLine { .. });
                if !r.is_funded(i) {
                    prop_assert_eq!(skipped, last_funded.is_some_and(|l| p < l));
                    prop_assert_eq!(below, !skipped);
                }
            }
        }

        /// The same inputs always give the same result.
        #[test]
        fn draws_are_deterministic(case in case_strategy(20), exact in any::<bool>()) {
            let (comp, ranking, mut config) = build(&case);
            if exact {
                config.mode = FundingMode::Exact { max_nodes: 20_000 };
            }
            let a = draw(&comp, &ranking, &config).unwrap();
            let mut b = FundingResult::default();
            draw_into(&comp, &ranking, &config, &mut b).unwrap();
            draw_into(&comp, &ranking, &config, &mut b).unwrap();
            prop_assert_eq!(a, b);
        }
    }
}
