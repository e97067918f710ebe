//! Sensitivity: how much the funded set depends on the priority considerations.
//!
//! Three questions, each answered by re-running the real ranking ([`Competition::rank_into`])
//! and the real funding line ([`funding::draw_into`]), never by a separate approximation:
//!
//! 1. **Weight intervals** ([`weight_intervals`]). For a consideration given as bonus points
//!    or a multiplier, let its weight `w` (the points, or the factor) run over a range. Every
//!    final score is a straight line in `w`: with bonus points,
//!    `final = (final without this consideration) + w` for the applications meeting it and
//!    unchanged for the others; with a multiplier,
//!    `final = merit × (the other factors met) × w + (bonus points met)` for those meeting it.
//!    The ranking can only change where two of these lines cross (or, when a tie-break
//!    consideration is in force, where two lines are exactly a tie-break band apart, since
//!    that is where band membership changes). Those weights are the *candidate breakpoints*;
//!    they are computed exactly from the lines. The funded set is then drawn at every
//!    candidate breakpoint and at one weight strictly between each two neighbouring ones, and
//!    neighbouring pieces with the same funded set are merged. In rank-order funding the
//!    ranking, and so the funded set, cannot change strictly between two neighbouring
//!    candidates, so the intervals are exact. In exact funding the best set can also change
//!    where the total scores of two sets are equal; between the samples of every piece whose
//!    funded set differs from a neighbour's, that weight is computed from the two sets' total
//!    scores and drawn too, until no such weight lies strictly between them.
//!
//!    **Boundaries.** The result is a list of intervals that together cover the whole range,
//!    in order, without overlap. Each interval says whether its start and its end belong to
//!    it (`includes_start`, `includes_end`). At a breakpoint, two applications' final scores
//!    are exactly equal, and the ranking's tie rules (higher merit, then smaller award, then
//!    the lottery) decide their order, so the breakpoint belongs to whichever side has the
//!    funded set that is drawn at exactly that weight; when that set differs from both sides
//!    (several ties at one weight, settled differently), the breakpoint is an interval of its
//!    own, from `w` to `w`. For a multiplier a crossing can fall at a weight that is not a
//!    terminating decimal (such as 1.1333…); it is then shown rounded to 28 decimal places
//!    and marked inexact (`start_exact`/`end_exact`), and which side it belongs to is the one
//!    drawn at the rounded weight.
//!
//! 2. **Flip margins** ([`flip_margins`]). At the declared scenario, how much an
//!    application's final score would have to change, everyone else's score staying as it is,
//!    for its funded status to flip: down for a funded application, up for one not funded.
//!    In rank-order funding the line is walked again with the application moved, exactly:
//!    for one not funded, the money left when the walk reaches each place is known, so the
//!    lowest place with enough money left (and room under any cap) is found; for one funded
//!    in the general line, the walk is re-run without it from its place down, and the first
//!    application after which too little money would be left for it gives the margin. The
//!    margin is the difference between its final score and that other application's score:
//!    reaching exactly that score ties with it, and the tie rules then decide, so the status
//!    certainly flips once the change is larger than the margin. Applications funded from a
//!    set-aside or a separate funding line, applications above the per-award maximum, and
//!    every application in exact funding get no margin (see [`MarginBasis`]): their status
//!    depends on more than one walk, and the switched-off comparison answers for them.
//!    For each weight studied, [`flip_margins`] also gives the nearest weight below and above
//!    the declared one, within the range studied, at which the application's status differs
//!    from its status at the declared weight.
//!
//! 3. **Switched off** ([`switched_off`]). For each consideration in force, the funded set
//!    with that consideration switched off (`Scenario::set(key, None)`), and the difference:
//!    which applications lose funding, which gain it, and the money that moves.

use granary_core::Money;
use granary_solicitations::model::Mechanism;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::funding::{self, FundingConfig, FundingError, FundingMode, FundingResult, Reason};
use super::ranking::{Competition, Ranking, RankingError, Scenario};

/// The most candidate breakpoints [`weight_intervals`] will draw before giving up.
pub const DEFAULT_MAX_CANDIDATES: usize = 2_000_000;

/// Why a sensitivity analysis could not be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SensitivityError {
    #[error(transparent)]
    Ranking(#[from] RankingError),
    #[error(transparent)]
    Funding(#[from] FundingError),
    #[error("there is no priority consideration with the key “{key}”")]
    NoSuchConsideration { key: String },
    #[error("“{key}” is not in force as bonus points or a multiplier, so it has no weight to vary")]
    NotAWeight { key: String },
    #[error("the weight range {low} to {high} is not valid: {problem}")]
    BadRange {
        low: Decimal,
        high: Decimal,
        problem: String,
    },
    #[error(
        "the weight range has {found} possible breakpoints, more than the limit of {limit}; study a narrower range"
    )]
    TooManyCandidates { found: usize, limit: usize },
    #[error("a final score is too large to compute exactly")]
    Overflow,
}

/// Which kind of weight is studied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WeightKind {
    BonusPoints,
    Multiplier,
}

/// One row of the interval table: a range of weights over which the funded set is the same.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WeightInterval {
    pub start: Decimal,
    pub end: Decimal,
    /// Whether the weight `start` itself has this funded set.
    pub includes_start: bool,
    /// Whether the weight `end` itself has this funded set.
    pub includes_end: bool,
    /// False when `start` is a crossing that is not a terminating decimal, shown rounded.
    pub start_exact: bool,
    pub end_exact: bool,
    /// Whether the declared weight lies in this interval.
    pub contains_declared: bool,
    /// Applications funded.
    pub funded: u32,
    /// Total awarded.
    pub awarded: Money,
    /// Applications meeting the studied consideration that are funded.
    pub funded_meeting: u32,
    /// Money awarded to applications meeting the studied consideration.
    pub awarded_to_meeting: Money,
}

/// What changes where one interval ends and the next begins.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WeightChange {
    /// The weight where it changes (the end of the interval before, the start of the next).
    pub at: Decimal,
    pub exact: bool,
    /// Funded in the next interval, not in the one before.
    pub entering: Vec<Uuid>,
    /// Funded in the interval before, not in the next.
    pub leaving: Vec<Uuid>,
    /// Awards of the entering applications, less those of the leaving ones.
    pub money_moved: Money,
}

/// Data for a step plot: one step per interval.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WeightPlot {
    /// Interval boundaries, from the low end of the range to the high end
    /// (`intervals + 1` values; a one-point interval repeats its weight).
    pub boundaries: Vec<Decimal>,
    /// Applications funded in each interval.
    pub funded: Vec<u32>,
    /// Money to applications meeting the consideration, in each interval.
    pub awarded_to_meeting: Vec<Money>,
}

/// The intervals of one consideration's weight.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WeightStudy {
    pub consideration: String,
    pub kind: WeightKind,
    /// The weight in force in the base scenario.
    pub declared: Decimal,
    pub low: Decimal,
    pub high: Decimal,
    /// Applications meeting the consideration.
    pub meeting: u32,
    pub intervals: Vec<WeightInterval>,
    /// `changes[k]` is between `intervals[k]` and `intervals[k + 1]`.
    pub changes: Vec<WeightChange>,
    pub plot: WeightPlot,
    /// Candidate breakpoints found (crossings strictly inside the range).
    pub candidates: u64,
    /// Funding lines drawn.
    pub draws: u64,
    /// Per application (index order): the nearest weight below and above the declared one,
    /// within the range, at which its status differs from its status at the declared weight.
    /// The weight given is the boundary of the interval where the status first differs; the
    /// table says whether that boundary itself belongs to it. Empty when the declared weight
    /// is outside the range.
    #[serde(skip)]
    pub flips: Vec<(Option<Decimal>, Option<Decimal>)>,
}

/// A straight line `a + s × w` for each application's final score.
struct Lines {
    a: Vec<Decimal>,
    s: Vec<Decimal>,
}

/// The studied consideration, resolved.
struct Study<'a> {
    comp: &'a Competition,
    base: &'a Scenario,
    config: &'a FundingConfig,
    key: String,
    index: usize,
    kind: WeightKind,
    declared: Decimal,
}

impl Study<'_> {
    fn mechanism(&self, w: Decimal) -> Mechanism {
        match self.kind {
            WeightKind::BonusPoints => Mechanism::BonusPoints { points: w },
            WeightKind::Multiplier => Mechanism::Multiplier { factor: w },
        }
    }
}

fn resolve<'a>(
    comp: &'a Competition,
    base: &'a Scenario,
    config: &'a FundingConfig,
    key: &str,
) -> Result<Study<'a>, SensitivityError> {
    let index = comp
        .consideration_index(key)
        .ok_or_else(|| SensitivityError::NoSuchConsideration { key: key.to_string() })?;
    let (kind, declared) = match base.mechanism(index) {
        Some(Mechanism::BonusPoints { points }) => (WeightKind::BonusPoints, *points),
        Some(Mechanism::Multiplier { factor }) => (WeightKind::Multiplier, *factor),
        _ => return Err(SensitivityError::NotAWeight { key: key.to_string() }),
    };
    Ok(Study {
        comp,
        base,
        config,
        key: key.to_string(),
        index,
        kind,
        declared,
    })
}

/// Each application's final score as a line in the weight.
fn lines(study: &Study) -> Result<Lines, SensitivityError> {
    let comp = study.comp;
    let mut off = study.base.clone();
    off.set(&study.key, None)?;
    let without = comp.rank(&off)?;
    let n = comp.len();
    let mut a = Vec::with_capacity(n);
    let mut s = Vec::with_capacity(n);
    for i in 0..n {
        let f = without.final_score(i);
        if !comp.meets(i, study.index) {
            a.push(f);
            s.push(Decimal::ZERO);
            continue;
        }
        match study.kind {
            WeightKind::BonusPoints => {
                a.push(f);
                s.push(Decimal::ONE);
            }
            WeightKind::Multiplier => {
                // merit × the other factors met, in declared order (as the ranking does).
                let mut slope = comp.merit(i);
                for c in 0..comp.considerations().len() {
                    if c == study.index || !comp.meets(i, c) {
                        continue;
                    }
                    if let Some(Mechanism::Multiplier { factor }) = study.base.mechanism(c) {
                        slope = slope.checked_mul(*factor).ok_or(SensitivityError::Overflow)?;
                    }
                }
                a.push(f.checked_sub(slope).ok_or(SensitivityError::Overflow)?);
                s.push(slope);
            }
        }
    }
    Ok(Lines { a, s })
}

/// The weights strictly inside (low, high) where two lines cross, or (with tie-break bands
/// of the given widths) are exactly a band apart; `exact` is false for a rounded division.
fn candidates(
    lines: &Lines,
    widths: &[Decimal],
    low: Decimal,
    high: Decimal,
    limit: usize,
) -> Result<Vec<(Decimal, bool)>, SensitivityError> {
    let n = lines.a.len();
    // (value at low, value at high, application, shift index; 0 = no shift).
    let mut shifts = vec![Decimal::ZERO];
    shifts.extend(widths.iter().copied().filter(|t| !t.is_zero()));
    let mut elems: Vec<(Decimal, Decimal, u32, u8)> = Vec::with_capacity(n * shifts.len());
    for i in 0..n {
        for (k, t) in shifts.iter().enumerate() {
            let at = |w: Decimal| -> Result<Decimal, SensitivityError> {
                lines.s[i]
                    .checked_mul(w)
                    .and_then(|x| x.checked_add(lines.a[i]))
                    .and_then(|x| x.checked_add(*t))
                    .ok_or(SensitivityError::Overflow)
            };
            elems.push((at(low)?, at(high)?, i as u32, k as u8));
        }
    }
    elems.sort_unstable_by(|x, y| x.0.cmp(&y.0).then(x.1.cmp(&y.1)));
    let mut out: Vec<(Decimal, bool)> = Vec::new();
    // Insertion sort by the value at `high`: every move is a pair whose order differs
    // strictly between the two ends, so their lines cross strictly inside.
    for j in 1..elems.len() {
        let x = elems[j];
        let mut k = j;
        while k > 0 && elems[k - 1].1 > x.1 {
            let y = elems[k - 1];
            elems[k] = y;
            k -= 1;
            let useful = x.2 != y.2 && (x.3 == 0 || y.3 == 0);
            if useful {
                // x.a + x.s w + tx = y.a + y.s w + ty
                let (i, j2) = (x.2 as usize, y.2 as usize);
                let num = lines.a[j2] + shifts[y.3 as usize] - lines.a[i] - shifts[x.3 as usize];
                let den = lines.s[i] - lines.s[j2];
                if !den.is_zero() {
                    let w = num.checked_div(den).ok_or(SensitivityError::Overflow)?;
                    let exact = divides_exactly(num, den, w);
                    if w > low && w < high {
                        out.push((w, exact));
                        if out.len() > limit {
                            return Err(SensitivityError::TooManyCandidates {
                                found: out.len(),
                                limit,
                            });
                        }
                    }
                }
            }
        }
        elems[k] = x;
    }
    out.sort_unstable_by(|x, y| x.0.cmp(&y.0).then(y.1.cmp(&x.1)));
    out.dedup_by(|later, earlier| later.0 == earlier.0);
    Ok(out)
}

/// Whether `quotient`, computed as `num / den`, is the exact quotient: the fraction must be a
/// terminating decimal, and `quotient` must hold all its digits.
fn divides_exactly(num: Decimal, den: Decimal, quotient: Decimal) -> bool {
    if quotient.normalize().scale() >= 28 {
        return false;
    }
    // num / den = (N / 10^p) / (D / 10^q): terminating iff D / gcd(N, D) has no prime factor
    // but 2 and 5.
    let (n, d) = (num.mantissa().unsigned_abs(), den.mantissa().unsigned_abs());
    if d == 0 {
        return false;
    }
    let (mut a, mut b) = (n, d);
    while b != 0 {
        (a, b) = (b, a % b);
    }
    let mut rest = d / a;
    for p in [2u128, 5] {
        while rest % p == 0 {
            rest /= p;
        }
    }
    rest == 1 && quotient.checked_mul(den) == Some(num)
}

/// A weight strictly between `a` and `b` (a < b) with as few decimal places as possible.
fn simple_between(a: Decimal, b: Decimal) -> Decimal {
    let mid = (a + b) / Decimal::TWO;
    for dp in 0..=28 {
        let r = mid.round_dp(dp);
        if r > a && r < b {
            return r;
        }
    }
    mid
}

/// The funded set at one weight, and its totals.
#[derive(Debug, Clone, PartialEq, Eq)]
struct State {
    bits: Vec<u64>,
    funded: u32,
    awarded: i64,
    funded_meeting: u32,
    awarded_meeting: i64,
}

impl State {
    fn has(&self, i: usize) -> bool {
        self.bits[i / 64] >> (i % 64) & 1 == 1
    }
}

struct Evaluator<'a> {
    study: &'a Study<'a>,
    scenario: Scenario,
    ranking: Ranking,
    result: FundingResult,
    draws: u64,
}

impl<'a> Evaluator<'a> {
    fn new(study: &'a Study<'a>) -> Self {
        Evaluator {
            study,
            scenario: study.base.clone(),
            ranking: Ranking::default(),
            result: FundingResult::default(),
            draws: 0,
        }
    }

    fn at(&mut self, w: Decimal) -> Result<State, SensitivityError> {
        let s = self.study;
        self.scenario.set(&s.key, Some(s.mechanism(w)))?;
        s.comp.rank_into(&self.scenario, &mut self.ranking)?;
        funding::draw_into(s.comp, &self.ranking, s.config, &mut self.result)?;
        self.draws += 1;
        Ok(state_of(s.comp, &self.result, Some(s.index)))
    }
}

fn state_of(comp: &Competition, result: &FundingResult, meeting: Option<usize>) -> State {
    let n = comp.len();
    let mut st = State {
        bits: vec![0; n.div_ceil(64)],
        funded: 0,
        awarded: 0,
        funded_meeting: 0,
        awarded_meeting: 0,
    };
    for (i, o) in result.outcomes.iter().enumerate() {
        if o.is_funded() {
            st.bits[i / 64] |= 1 << (i % 64);
            st.funded += 1;
            st.awarded += o.amount.cents();
            if meeting.is_some_and(|c| comp.meets(i, c)) {
                st.funded_meeting += 1;
                st.awarded_meeting += o.amount.cents();
            }
        }
    }
    st
}

fn money(cents: i64) -> Money {
    Money::from_cents(cents).unwrap_or_default()
}

/// One piece of the range: a single weight, or the open stretch between two (merged pieces
/// may hold several).
#[derive(Debug, Clone)]
struct Piece {
    start: Decimal,
    end: Decimal,
    start_exact: bool,
    end_exact: bool,
    /// Whether the weight `start` belongs to it (it begins with a single-weight piece).
    includes_start: bool,
    includes_end: bool,
    /// The weight drawn for an open piece (for a point, the point).
    sample: Decimal,
    state: usize,
}

impl Piece {
    fn point(w: Decimal, exact: bool, state: usize) -> Piece {
        Piece {
            start: w,
            end: w,
            start_exact: exact,
            end_exact: exact,
            includes_start: true,
            includes_end: true,
            sample: w,
            state,
        }
    }

    fn open(start: (Decimal, bool), end: (Decimal, bool), sample: Decimal, state: usize) -> Piece {
        Piece {
            start: start.0,
            end: end.0,
            start_exact: start.1,
            end_exact: end.1,
            includes_start: false,
            includes_end: false,
            sample,
            state,
        }
    }
}

/// Keeps one copy of each distinct funded set.
#[derive(Default)]
struct States {
    list: Vec<State>,
    /// Per state: (sum of line intercepts, sum of slopes) of its funded applications.
    totals: Vec<Option<(Decimal, Decimal)>>,
}

impl States {
    fn intern(&mut self, st: State) -> usize {
        if let Some(k) = self.list.iter().rposition(|s| *s == st) {
            return k;
        }
        self.list.push(st);
        self.totals.push(None);
        self.list.len() - 1
    }

    fn totals(&mut self, k: usize, lines: &Lines) -> (Decimal, Decimal) {
        if let Some(t) = self.totals[k] {
            return t;
        }
        let st = &self.list[k];
        let (mut a, mut s) = (Decimal::ZERO, Decimal::ZERO);
        for i in 0..lines.a.len() {
            if st.has(i) {
                a += lines.a[i];
                s += lines.s[i];
            }
        }
        self.totals[k] = Some((a, s));
        (a, s)
    }
}

/// Exact funding: the best set can change where two sets' total scores are equal, not only
/// where two applications' scores cross. While an open piece's set differs from the set at
/// one of its ends, the weight where the two totals are equal is computed; when it lies
/// strictly between that end and the piece's sample, it is drawn and the piece split there.
fn refine_exact(
    pieces: &mut Vec<Piece>,
    states: &mut States,
    eval: &mut Evaluator,
    lines: &Lines,
) -> Result<(), SensitivityError> {
    let mut budget = 10_000usize;
    let mut k = 0;
    while k < pieces.len() {
        let p = pieces[k].clone();
        if p.includes_start || budget == 0 {
            k += 1;
            continue;
        }
        let mut split = None;
        for (nb, lo, hi) in [(k.wrapping_sub(1), p.start, p.sample), (k + 1, p.sample, p.end)] {
            let Some(other) = pieces.get(nb) else { continue };
            if other.state == p.state {
                continue;
            }
            let (a1, s1) = states.totals(p.state, lines);
            let (a2, s2) = states.totals(other.state, lines);
            if s1 == s2 {
                continue;
            }
            let Some(w) = (a2 - a1).checked_div(s1 - s2) else {
                continue;
            };
            if w > lo && w < hi {
                split = Some((w, divides_exactly(a2 - a1, s1 - s2, w)));
                break;
            }
        }
        let Some((w, exact)) = split else {
            k += 1;
            continue;
        };
        budget -= 1;
        let left_sample = simple_between(p.start, w);
        let right_sample = simple_between(w, p.end);
        let sl = states.intern(eval.at(left_sample)?);
        let sw = states.intern(eval.at(w)?);
        let sr = states.intern(eval.at(right_sample)?);
        pieces.splice(
            k..=k,
            [
                Piece::open((p.start, p.start_exact), (w, exact), left_sample, sl),
                Piece::point(w, exact, sw),
                Piece::open((w, exact), (p.end, p.end_exact), right_sample, sr),
            ],
        );
        // Look again at the new left piece.
    }
    Ok(())
}

/// The intervals of `key`'s weight over `range` (both ends included), starting from `base`
/// (whose mechanism for `key` must be bonus points or a multiplier). Bonus points start at 0
/// or more, a multiplier at 1 or more. See the module documentation for the exact rules.
pub fn weight_intervals(
    competition: &Competition,
    base: &Scenario,
    config: &FundingConfig,
    key: &str,
    range: (Decimal, Decimal),
) -> Result<WeightStudy, SensitivityError> {
    weight_intervals_with_limit(competition, base, config, key, range, DEFAULT_MAX_CANDIDATES)
}

/// [`weight_intervals`] refusing ranges with more than `limit` candidate breakpoints.
pub fn weight_intervals_with_limit(
    competition: &Competition,
    base: &Scenario,
    config: &FundingConfig,
    key: &str,
    range: (Decimal, Decimal),
    limit: usize,
) -> Result<WeightStudy, SensitivityError> {
    let study = resolve(competition, base, config, key)?;
    let (low, high) = range;
    let bad = |problem: &str| SensitivityError::BadRange {
        low,
        high,
        problem: problem.to_string(),
    };
    if low > high {
        return Err(bad("the low end is above the high end"));
    }
    match study.kind {
        WeightKind::BonusPoints if low < Decimal::ZERO => {
            return Err(bad("bonus points cannot be below zero"));
        }
        WeightKind::Multiplier if low < Decimal::ONE => return Err(bad("a multiplier cannot be below 1")),
        _ => {}
    }
    let lines = lines(&study)?;
    let widths: Vec<Decimal> = (0..competition.considerations().len())
        .filter_map(|c| match base.mechanism(c) {
            Some(Mechanism::TieBreak { band }) => Some(*band),
            _ => None,
        })
        .collect();
    let cands = if low < high {
        candidates(&lines, &widths, low, high, limit)?
    } else {
        Vec::new()
    };
    let mut points: Vec<(Decimal, bool)> = vec![(low, true)];
    points.extend(cands.iter().copied());
    if high > low {
        points.push((high, true));
    }
    let exact_mode = matches!(config.mode, FundingMode::Exact { .. });

    let mut eval = Evaluator::new(&study);
    let mut states = States::default();
    let mut pieces: Vec<Piece> = Vec::with_capacity(points.len() * 2);
    for k in 0..points.len() {
        let (w, ex) = points[k];
        let id = states.intern(eval.at(w)?);
        pieces.push(Piece::point(w, ex, id));
        if let Some(&(next, nex)) = points.get(k + 1) {
            let sample = simple_between(w, next);
            let id = states.intern(eval.at(sample)?);
            pieces.push(Piece::open((w, ex), (next, nex), sample, id));
        }
    }
    if exact_mode {
        refine_exact(&mut pieces, &mut states, &mut eval, &lines)?;
    }

    // Merge neighbouring pieces with the same funded set.
    let mut merged: Vec<Piece> = Vec::new();
    for p in pieces {
        match merged.last_mut() {
            Some(last) if last.state == p.state => {
                last.end = p.end;
                last.end_exact = p.end_exact;
                last.includes_end = p.includes_end;
            }
            _ => merged.push(p),
        }
    }
    let n = competition.len();
    let meeting = (0..n).filter(|&i| competition.meets(i, study.index)).count() as u32;
    let declared = study.declared;
    let mut intervals = Vec::with_capacity(merged.len());
    for p in &merged {
        let contains_declared = (p.start < declared || (p.start == declared && p.includes_start))
            && (declared < p.end || (declared == p.end && p.includes_end));
        let st = &states.list[p.state];
        intervals.push(WeightInterval {
            start: p.start,
            end: p.end,
            includes_start: p.includes_start,
            includes_end: p.includes_end,
            start_exact: p.start_exact,
            end_exact: p.end_exact,
            contains_declared,
            funded: st.funded,
            awarded: money(st.awarded),
            funded_meeting: st.funded_meeting,
            awarded_to_meeting: money(st.awarded_meeting),
        });
    }
    let mut changes = Vec::with_capacity(merged.len().saturating_sub(1));
    let mut diffs: Vec<Vec<usize>> = Vec::with_capacity(merged.len().saturating_sub(1));
    for k in 1..merged.len() {
        let (before, after) = (&states.list[merged[k - 1].state], &states.list[merged[k].state]);
        let mut entering = Vec::new();
        let mut leaving = Vec::new();
        let mut diff_list = Vec::new();
        let mut moved = 0i64;
        for (word, (b, a)) in before.bits.iter().zip(&after.bits).enumerate() {
            let mut diff = b ^ a;
            while diff != 0 {
                let i = word * 64 + diff.trailing_zeros() as usize;
                diff &= diff - 1;
                diff_list.push(i);
                if after.has(i) {
                    entering.push(competition.id(i));
                    moved += competition.award_amount(i).cents();
                } else {
                    leaving.push(competition.id(i));
                    moved -= competition.award_amount(i).cents();
                }
            }
        }
        diffs.push(diff_list);
        changes.push(WeightChange {
            at: merged[k].start,
            exact: merged[k].start_exact,
            entering,
            leaving,
            money_moved: money(moved),
        });
    }
    let mut boundaries: Vec<Decimal> = merged.iter().map(|p| p.start).collect();
    boundaries.push(high);
    let plot = WeightPlot {
        boundaries,
        funded: intervals.iter().map(|i| i.funded).collect(),
        awarded_to_meeting: intervals.iter().map(|i| i.awarded_to_meeting).collect(),
    };
    // Nearest flips: walking outwards from the interval holding the declared weight, the first
    // change an application takes part in is where its status first differs.
    let mut flips = Vec::new();
    if let Some(d) = intervals.iter().position(|i| i.contains_declared) {
        flips = vec![(None, None); n];
        for k in (0..d).rev() {
            for &i in &diffs[k] {
                if flips[i].0.is_none() {
                    flips[i].0 = Some(merged[k].end);
                }
            }
        }
        for k in d..diffs.len() {
            for &i in &diffs[k] {
                if flips[i].1.is_none() {
                    flips[i].1 = Some(merged[k + 1].start);
                }
            }
        }
    }
    Ok(WeightStudy {
        consideration: study.key.clone(),
        kind: study.kind,
        declared,
        low,
        high,
        meeting,
        intervals,
        changes,
        plot,
        candidates: cands.len() as u64,
        draws: eval.draws,
        flips,
    })
}

/// On what a flip margin rests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "basis", rename_all = "snake_case")]
pub enum MarginBasis {
    /// Rank order, general line: computed by walking the line again with the application moved.
    GeneralLine,
    /// Rank order: no change of its score flips it (funded wherever it ranks, or its award
    /// never fits).
    NeverFlips,
    /// Funded from the set-aside of this consideration: not computed.
    SetAside { consideration: usize },
    /// Funded in this consideration's separate funding line: not computed.
    SeparateLine { consideration: usize },
    /// Above the per-award maximum: not funded at any score.
    AboveMaxAward,
    /// Exact funding: not computed (it would take a new search per application).
    ExactMode,
}

/// One application's flip margin, and where its status flips for each weight studied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FlipMargin {
    pub id: Uuid,
    pub funded: bool,
    pub final_score: Decimal,
    /// How many points its final score must fall (funded) or rise (not funded) to reach the
    /// application whose place decides; reaching it exactly ties, and the tie rules decide.
    pub margin: Option<Decimal>,
    pub basis: MarginBasis,
    /// For each weight study given: (consideration, nearest flip below, nearest flip above).
    pub weights: Vec<WeightFlip>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WeightFlip {
    pub consideration: String,
    pub below: Option<Decimal>,
    pub above: Option<Decimal>,
}

/// Flip margins of every application (index order) under `scenario`, with each study's
/// nearest weight flips. See the module documentation.
pub fn flip_margins(
    competition: &Competition,
    scenario: &Scenario,
    config: &FundingConfig,
    studies: &[WeightStudy],
) -> Result<Vec<FlipMargin>, SensitivityError> {
    let ranking = competition.rank(scenario)?;
    let result = funding::draw(competition, &ranking, config)?;
    let n = competition.len();
    let mut margins: Vec<(Option<Decimal>, MarginBasis)> = vec![(None, MarginBasis::ExactMode); n];
    if config.mode == FundingMode::RankOrder {
        rank_order_margins(competition, &ranking, &result, config, &mut margins);
    }
    Ok((0..n)
        .map(|i| FlipMargin {
            id: competition.id(i),
            funded: result.is_funded(i),
            final_score: ranking.final_score(i),
            margin: margins[i].0,
            basis: margins[i].1,
            weights: studies
                .iter()
                .map(|s| {
                    let (below, above) = s.flips.get(i).copied().unwrap_or((None, None));
                    WeightFlip {
                        consideration: s.consideration.clone(),
                        below,
                        above,
                    }
                })
                .collect(),
        })
        .collect())
}

fn rank_order_margins(
    comp: &Competition,
    ranking: &Ranking,
    result: &FundingResult,
    config: &FundingConfig,
    out: &mut [(Option<Decimal>, MarginBasis)],
) {
    let n = comp.len();
    let k = comp.considerations().len();
    let mut caps: Vec<Option<i64>> = vec![None; k];
    for cap in &config.caps {
        if let Some(c) = comp.consideration_index(&cap.consideration) {
            caps[c] = Some(cap.max_total.cents());
        }
    }
    let capped: Vec<usize> = (0..k).filter(|&c| caps[c].is_some()).collect();
    let general = result.lines.first();
    let mut left = general.map_or(0, |l| l.pot.cents() + l.received.cents());
    // Cap totals before the general walk: everything funded outside it.
    let mut cap_used = vec![0i64; capped.len()];
    let mut walks = vec![false; n];
    for i in 0..n {
        let o = &result.outcomes[i];
        match o.reason {
            Reason::FundedFromSetAside { consideration } => {
                out[i] = (None, MarginBasis::SetAside { consideration });
                left -= o.amount.cents();
            }
            Reason::FundedFromSeparateLine { consideration } => {
                out[i] = (None, MarginBasis::SeparateLine { consideration });
            }
            Reason::AboveMaxAward { .. } => out[i] = (None, MarginBasis::AboveMaxAward),
            _ => walks[i] = true,
        }
        if o.is_funded() && !walks[i] {
            for (x, &c) in capped.iter().enumerate() {
                if comp.meets(i, c) {
                    cap_used[x] += o.amount.cents();
                }
            }
        }
    }
    let order: Vec<usize> = ranking.order().collect();
    // Money left and cap totals before each place's turn.
    let mut left_at = Vec::with_capacity(n + 1);
    let mut caps_at: Vec<Vec<i64>> = vec![Vec::with_capacity(n + 1); capped.len()];
    let fits = |i: usize, left: i64, used: &dyn Fn(usize) -> i64| -> bool {
        let a = comp.award_amount(i).cents();
        a <= left
            && capped
                .iter()
                .enumerate()
                .all(|(x, &c)| !comp.meets(i, c) || used(x) + a <= caps[c].unwrap_or(i64::MAX))
    };
    for &i in &order {
        left_at.push(left);
        for (x, v) in caps_at.iter_mut().enumerate() {
            v.push(cap_used[x]);
        }
        if walks[i] && result.is_funded(i) {
            let a = comp.award_amount(i).cents();
            left -= a;
            for (x, &c) in capped.iter().enumerate() {
                if comp.meets(i, c) {
                    cap_used[x] += a;
                }
            }
        }
    }
    for (p, &i) in order.iter().enumerate() {
        if !walks[i] {
            continue;
        }
        let score = ranking.final_score(i);
        if result.is_funded(i) {
            // Walk again without it from its place; the first application after which it would
            // no longer fit is the one it must fall to.
            let mut l = left_at[p];
            let mut used: Vec<i64> = caps_at.iter().map(|v| v[p]).collect();
            let mut found = None;
            for &j in &order[p + 1..] {
                if walks[j] && fits(j, l, &|x| used[x]) {
                    let a = comp.award_amount(j).cents();
                    l -= a;
                    for (x, &c) in capped.iter().enumerate() {
                        if comp.meets(j, c) {
                            used[x] += a;
                        }
                    }
                }
                if !fits(i, l, &|x| used[x]) {
                    found = Some(j);
                    break;
                }
            }
            out[i] = match found {
                Some(j) => (
                    Some((score - ranking.final_score(j)).max(Decimal::ZERO)),
                    MarginBasis::GeneralLine,
                ),
                None => (None, MarginBasis::NeverFlips),
            };
        } else {
            // The lowest place above it where it would fit: money left and cap room only
            // shrink down the ranking, so the places where it fits are a prefix.
            let ok = |q: usize| fits(i, left_at[q], &|x| caps_at[x][q]);
            let (mut lo, mut hi) = (0usize, p); // find the first q in [0, p) that does not fit
            while lo < hi {
                let mid = (lo + hi) / 2;
                if ok(mid) {
                    lo = mid + 1;
                } else {
                    hi = mid;
                }
            }
            out[i] = if lo == 0 {
                (None, MarginBasis::NeverFlips)
            } else {
                // It fits just before the application at place lo − 1.
                let j = order[lo - 1];
                (
                    Some((ranking.final_score(j) - score).max(Decimal::ZERO)),
                    MarginBasis::GeneralLine,
                )
            };
        }
    }
}

/// The funded set with one consideration switched off, against the scenario's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SwitchedOff {
    pub consideration: String,
    /// The mechanism that was switched off.
    pub mechanism: Mechanism,
    pub funded_before: u32,
    pub funded_after: u32,
    /// Funded with it, not without.
    pub losing: Vec<Uuid>,
    /// Funded without it, not with.
    pub gaining: Vec<Uuid>,
    /// Awards of the losing applications.
    pub money_lost: Money,
    /// Awards of the gaining applications.
    pub money_gained: Money,
    /// Money to applications meeting it, with and without it.
    pub meeting_awarded_before: Money,
    pub meeting_awarded_after: Money,
}

/// For each consideration in force in `scenario`, the funded set with it switched off.
pub fn switched_off(
    competition: &Competition,
    scenario: &Scenario,
    config: &FundingConfig,
) -> Result<Vec<SwitchedOff>, SensitivityError> {
    let ranking = competition.rank(scenario)?;
    let result = funding::draw(competition, &ranking, config)?;
    let mut out = Vec::new();
    let mut r2 = Ranking::default();
    let mut f2 = FundingResult::default();
    for c in 0..competition.considerations().len() {
        let Some(mechanism) = scenario.mechanism(c).cloned() else {
            continue;
        };
        let before = state_of(competition, &result, Some(c));
        let key = competition.considerations()[c].key.clone();
        let mut off = scenario.clone();
        off.set(&key, None)?;
        competition.rank_into(&off, &mut r2)?;
        funding::draw_into(competition, &r2, config, &mut f2)?;
        let after = state_of(competition, &f2, Some(c));
        let (mut losing, mut gaining) = (Vec::new(), Vec::new());
        let (mut lost, mut gained) = (0i64, 0i64);
        for i in 0..competition.len() {
            match (before.has(i), after.has(i)) {
                (true, false) => {
                    losing.push(competition.id(i));
                    lost += competition.award_amount(i).cents();
                }
                (false, true) => {
                    gaining.push(competition.id(i));
                    gained += competition.award_amount(i).cents();
                }
                _ => {}
            }
        }
        out.push(SwitchedOff {
            consideration: key,
            mechanism,
            funded_before: before.funded,
            funded_after: after.funded,
            losing,
            gaining,
            money_lost: money(lost),
            money_gained: money(gained),
            meeting_awarded_before: money(before.awarded_meeting),
            meeting_awarded_after: money(after.awarded_meeting),
        });
    }
    Ok(out)
}

/// Everything the sensitivity page shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SensitivityReport {
    pub weights: Vec<WeightStudy>,
    pub margins: Vec<FlipMargin>,
    pub switched_off: Vec<SwitchedOff>,
}

/// The full analysis: the weight intervals of each `(key, range)`, every application's flip
/// margin, and each consideration switched off.
pub fn analyse(
    competition: &Competition,
    scenario: &Scenario,
    config: &FundingConfig,
    weights: &[(&str, (Decimal, Decimal))],
) -> Result<SensitivityReport, SensitivityError> {
    let studies = weights
        .iter()
        .map(|(key, range)| weight_intervals(competition, scenario, config, key, *range))
        .collect::<Result<Vec<_>, _>>()?;
    let margins = flip_margins(competition, scenario, config, &studies)?;
    let switched_off = switched_off(competition, scenario, config)?;
    Ok(SensitivityReport {
        weights: studies,
        margins,
        switched_off,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::algo::funding::{Cap, draw};
    use crate::algo::ranking::tests::{app, consideration, seed};
    use proptest::prelude::*;
    use rust_decimal_macros::dec;

    fn funded_numbers(comp: &Competition, st: &State) -> Vec<u128> {
        let mut v: Vec<u128> = (0..comp.len())
            .filter(|&i| st.has(i))
            .map(|i| comp.id(i).as_u128())
            .collect();
        v.sort();
        v
    }

    fn set_at(comp: &Competition, base: &Scenario, config: &FundingConfig, key: &str, w: Decimal) -> Vec<u128> {
        let study = resolve(comp, base, config, key).unwrap();
        let mut e = Evaluator::new(&study);
        funded_numbers(comp, &e.at(w).unwrap())
    }

    /// The funded set in each interval, rebuilt from the set at the low end and the changes.
    fn interval_sets(
        comp: &Competition,
        base: &Scenario,
        config: &FundingConfig,
        study: &WeightStudy,
    ) -> Vec<Vec<u128>> {
        let mut cur = set_at(comp, base, config, &study.consideration, study.low);
        let mut out = vec![cur.clone()];
        for ch in &study.changes {
            cur.retain(|n| !ch.leaving.iter().any(|u| u.as_u128() == *n));
            cur.extend(ch.entering.iter().map(|u| u.as_u128()));
            cur.sort();
            out.push(cur.clone());
        }
        out
    }

    fn interval_of(study: &WeightStudy, w: Decimal) -> usize {
        study
            .intervals
            .iter()
            .position(|i| {
                (i.start < w || (i.start == w && i.includes_start)) && (w < i.end || (w == i.end && i.includes_end))
            })
            .expect("the intervals cover the range")
    }

    /// Checks a study against direct draws on a dense grid, at every boundary and just beside it.
    fn check_against_grid(comp: &Competition, base: &Scenario, config: &FundingConfig, study: &WeightStudy) {
        let sets = interval_sets(comp, base, config, study);
        // Pieces cover the range in order, without gaps or overlaps.
        assert_eq!(study.intervals.first().unwrap().start, study.low);
        assert_eq!(study.intervals.last().unwrap().end, study.high);
        for w in study.intervals.windows(2) {
            assert_eq!(w[0].end, w[1].start);
            assert!(
                w[0].includes_end != w[1].includes_start,
                "a boundary belongs to exactly one side"
            );
        }
        for (k, i) in study.intervals.iter().enumerate() {
            assert_eq!(i.funded as usize, sets[k].len());
            if k > 0 {
                assert_ne!(sets[k], sets[k - 1], "neighbouring intervals differ");
            }
        }
        let mut grid = Vec::new();
        let steps = 400;
        for s in 0..=steps {
            grid.push(study.low + (study.high - study.low) * Decimal::from(s) / Decimal::from(steps));
        }
        let eps = dec!(0.000001);
        for i in &study.intervals {
            for w in [i.start, i.end, i.start + eps, i.end - eps] {
                if w >= study.low && w <= study.high && (i.start_exact && i.end_exact) {
                    grid.push(w);
                }
            }
        }
        for w in grid {
            let k = interval_of(study, w);
            assert_eq!(
                set_at(comp, base, config, &study.consideration, w),
                sets[k],
                "weight {w}: interval {k} {:?}",
                study.intervals[k]
            );
        }
    }

    #[test]
    fn bonus_points_hand_computed_breakpoints() {
        // "y" gives 5 bonus points. Merit and requests ($10,000 each, $20,000 available, so the
        // two highest final scores are funded):
        //   1: 90      2: 86 y     3: 84 y     4: 87.5
        // Final scores at weight w: 1: 90, 2: 86 + w, 3: 84 + w, 4: 87.5.
        // Over w in [0, 10]:
        //   w < 1.5:        90, 87.5 on top -> {1, 4}
        //   w = 1.5:        2 ties 4 at 87.5; merit 87.5 > 86, so 4 stays ahead -> {1, 4}
        //   1.5 < w < 4:    {1, 2}
        //   w = 4:          2 ties 1 at 90, 1 has the higher merit; 3 is at 88 -> {1, 2}
        //   4 < w < 6:      2 above 1; 3 at 84 + w < 90 -> {2, 1}
        //   w = 6:          3 ties 1 at 90; merit 90 > 84 -> {2, 1}
        //   w > 6:          2, 3 -> {2, 3}
        // (3 also crosses 4 at w = 3.5, which changes nothing funded.)
        let comp = Competition::new(
            vec![consideration("y", Mechanism::BonusPoints { points: dec!(5) })],
            vec![
                app(1, dec!(90), 10_000, &[]),
                app(2, dec!(86), 10_000, &["y"]),
                app(3, dec!(84), 10_000, &["y"]),
                app(4, dec!(87.5), 10_000, &[]),
            ],
            seed(1),
        )
        .unwrap();
        let base = comp.declared_scenario();
        let config = FundingConfig::rank_order(Money::from_dollars(20_000).unwrap());
        let study = weight_intervals(&comp, &base, &config, "y", (dec!(0), dec!(10))).unwrap();
        let rows: Vec<(Decimal, Decimal, bool, bool, u32)> = study
            .intervals
            .iter()
            .map(|i| (i.start, i.end, i.includes_start, i.includes_end, i.funded_meeting))
            .collect();
        assert_eq!(
            rows,
            vec![
                (dec!(0), dec!(1.5), true, true, 0),
                (dec!(1.5), dec!(6), false, true, 1),
                (dec!(6), dec!(10), false, true, 2),
            ]
        );
        assert_eq!(study.changes[0].entering, vec![Uuid::from_u128(2)]);
        assert_eq!(study.changes[0].leaving, vec![Uuid::from_u128(4)]);
        assert_eq!(study.changes[1].entering, vec![Uuid::from_u128(3)]);
        assert_eq!(study.changes[1].leaving, vec![Uuid::from_u128(1)]);
        assert_eq!(study.changes[1].money_moved, Money::ZERO);
        assert!(study.intervals[1].contains_declared);
        assert_eq!(study.plot.boundaries, vec![dec!(0), dec!(1.5), dec!(6), dec!(10)]);
        assert_eq!(study.plot.awarded_to_meeting[2], Money::from_dollars(20_000).unwrap());
        // Crossings strictly inside: 2/4 at 1.5, 3/4 at 3.5, 2/1 at 4, 3/1 at 6.
        assert_eq!(study.candidates, 4);
        // Declared 5: application 1 is funded; it leaves at 6 going up and never going down.
        let i1 = comp.index_of(Uuid::from_u128(1)).unwrap();
        assert_eq!(study.flips[i1], (None, Some(dec!(6))));
        let i4 = comp.index_of(Uuid::from_u128(4)).unwrap();
        assert_eq!(study.flips[i4], (Some(dec!(1.5)), None));
        check_against_grid(&comp, &base, &config, &study);
    }

    #[test]
    fn an_application_exactly_at_a_crossing_goes_by_the_tie_rules() {
        // Same merit on both sides of the crossing, so the smaller award wins the tie.
        //   1: 80, $10,000, meets "y"     2: 82, $5,000
        // Final: 1: 80 + w, 2: 82. They cross at w = 2. Only $10,000: one of them.
        // At w = 2 both are 82, merit 82 > 80, so 2 ranks first and is funded ($5,000), then 1
        // does not fit ($5,000 left). So w = 2 belongs to the left side ({2}).
        let comp = Competition::new(
            vec![consideration("y", Mechanism::BonusPoints { points: dec!(1) })],
            vec![app(1, dec!(80), 10_000, &["y"]), app(2, dec!(82), 5_000, &[])],
            seed(2),
        )
        .unwrap();
        let base = comp.declared_scenario();
        let config = FundingConfig::rank_order(Money::from_dollars(10_000).unwrap());
        let study = weight_intervals(&comp, &base, &config, "y", (dec!(0), dec!(4))).unwrap();
        let rows: Vec<(Decimal, Decimal, bool, bool)> = study
            .intervals
            .iter()
            .map(|i| (i.start, i.end, i.includes_start, i.includes_end))
            .collect();
        assert_eq!(
            rows,
            vec![(dec!(0), dec!(2), true, true), (dec!(2), dec!(4), false, true)]
        );
        check_against_grid(&comp, &base, &config, &study);
    }

    #[test]
    fn edge_cases_zero_width_no_meeting_no_breakpoints() {
        let comp = Competition::new(
            vec![
                consideration("y", Mechanism::BonusPoints { points: dec!(5) }),
                consideration("m", Mechanism::Multiplier { factor: dec!(1.2) }),
            ],
            vec![
                app(1, dec!(90), 10_000, &["y"]),
                app(2, dec!(70), 10_000, &["y"]),
                app(3, dec!(50), 10_000, &[]),
            ],
            seed(3),
        )
        .unwrap();
        let base = comp.declared_scenario();
        let config = FundingConfig::rank_order(Money::from_dollars(10_000).unwrap());
        // Zero width: one interval, one point.
        let s = weight_intervals(&comp, &base, &config, "y", (dec!(3), dec!(3))).unwrap();
        assert_eq!(s.intervals.len(), 1);
        assert_eq!((s.intervals[0].start, s.intervals[0].end), (dec!(3), dec!(3)));
        assert!(s.intervals[0].includes_start && s.intervals[0].includes_end);
        assert!(s.changes.is_empty());
        // Declared 5 is outside [3, 3]: no weight flips are given.
        assert!(s.flips.is_empty());
        // Nobody meets "m": its weight changes nothing.
        let s = weight_intervals(&comp, &base, &config, "m", (dec!(1), dec!(2))).unwrap();
        assert_eq!(s.meeting, 0);
        assert_eq!(s.intervals.len(), 1);
        assert_eq!(s.candidates, 0);
        // 1 stays first whatever "y" is worth over [0, 10] (2 and 3 swap at w = ... never:
        // 70 + w > 50 always): no breakpoints, one interval.
        let s = weight_intervals(&comp, &base, &config, "y", (dec!(0), dec!(10))).unwrap();
        assert_eq!(s.intervals.len(), 1);
        assert_eq!(s.candidates, 0);
        assert_eq!(s.intervals[0].funded, 1);
        // Bad requests are refused.
        assert!(matches!(
            weight_intervals(&comp, &base, &config, "m", (dec!(0.5), dec!(2))),
            Err(SensitivityError::BadRange { .. })
        ));
        assert!(matches!(
            weight_intervals(&comp, &base, &config, "y", (dec!(4), dec!(2))),
            Err(SensitivityError::BadRange { .. })
        ));
        assert!(matches!(
            weight_intervals(&comp, &base, &config, "nope", (dec!(0), dec!(2))),
            Err(SensitivityError::NoSuchConsideration { .. })
        ));
    }

    #[test]
    fn a_multiplier_crossing_that_is_not_a_terminating_decimal_is_marked_inexact() {
        // 1: merit 75 meets "m"; 2: merit 85. 75 w = 85 at w = 17/15 = 1.1333...
        let comp = Competition::new(
            vec![consideration("m", Mechanism::Multiplier { factor: dec!(1.1) })],
            vec![app(1, dec!(75), 10_000, &["m"]), app(2, dec!(85), 10_000, &[])],
            seed(4),
        )
        .unwrap();
        let base = comp.declared_scenario();
        let config = FundingConfig::rank_order(Money::from_dollars(10_000).unwrap());
        let s = weight_intervals(&comp, &base, &config, "m", (dec!(1), dec!(1.3))).unwrap();
        assert_eq!(s.intervals.len(), 2);
        assert!(!s.changes[0].exact);
        assert!((s.changes[0].at - dec!(17) / dec!(15)).abs() < dec!(0.0000000001));
        assert_eq!(s.changes[0].entering, vec![Uuid::from_u128(1)]);
        check_against_grid(&comp, &base, &config, &s);
    }

    #[test]
    fn flip_margins_hand_computed() {
        // No considerations in force that matter; $30,000 available, rank order.
        //   1: 90 $10,000 funded      2: 85 $15,000 funded     3: 80 $10,000 skipped ($5,000 left)
        //   4: 70 $5,000 funded (fits the $5,000 left)
        // 3 (not funded): money left before 1 is $30,000, before 2 $20,000, before 3 $5,000.
        //   It fits before 2 ($20,000 >= $10,000): it must rise to 85, a margin of 5.
        // 1 (funded): walk again without it from its place: 2 funded ($15,000 left... of
        //   $30,000), 1 would still fit after 2 ($15,000 left); 3 funded ($5,000 left): 1 no
        //   longer fits after 3, so it must fall to 80: a margin of 10.
        // 2 (funded): without it, after 3 ($10,000 left) it no longer fits ($15,000): margin 5.
        // 4 (funded): without it nothing changes below; it is funded wherever it ranks.
        let comp = Competition::new(
            vec![consideration("y", Mechanism::BonusPoints { points: dec!(1) })],
            vec![
                app(1, dec!(90), 10_000, &[]),
                app(2, dec!(85), 15_000, &[]),
                app(3, dec!(80), 10_000, &[]),
                app(4, dec!(70), 5_000, &[]),
            ],
            seed(5),
        )
        .unwrap();
        let base = comp.declared_scenario();
        let config = FundingConfig::rank_order(Money::from_dollars(30_000).unwrap());
        let m = flip_margins(&comp, &base, &config, &[]).unwrap();
        let by = |n: u128| m[comp.index_of(Uuid::from_u128(n)).unwrap()].clone();
        assert_eq!((by(1).funded, by(1).margin), (true, Some(dec!(10))));
        assert_eq!((by(2).funded, by(2).margin), (true, Some(dec!(5))));
        assert_eq!((by(3).funded, by(3).margin), (false, Some(dec!(5))));
        assert_eq!((by(4).margin, by(4).basis), (None, MarginBasis::NeverFlips));
        // Exact mode: not computed.
        let m = flip_margins(
            &comp,
            &base,
            &FundingConfig::exact(Money::from_dollars(30_000).unwrap()),
            &[],
        )
        .unwrap();
        assert!(
            m.iter()
                .all(|f| f.basis == MarginBasis::ExactMode && f.margin.is_none())
        );
    }

    #[test]
    fn switched_off_lists_who_loses_and_gains() {
        // "y" 5 bonus points; $20,000; each asks $10,000.
        //   1: 90   2: 84 y (89)   3: 87   -> with y: {1, 2}; without: {1, 3}.
        let comp = Competition::new(
            vec![
                consideration("y", Mechanism::BonusPoints { points: dec!(5) }),
                consideration("t", Mechanism::TieBreak { band: dec!(1) }),
            ],
            vec![
                app(1, dec!(90), 10_000, &[]),
                app(2, dec!(84), 10_000, &["y"]),
                app(3, dec!(87), 10_000, &[]),
            ],
            seed(6),
        )
        .unwrap();
        let base = comp.declared_scenario();
        let config = FundingConfig::rank_order(Money::from_dollars(20_000).unwrap());
        let off = switched_off(&comp, &base, &config).unwrap();
        assert_eq!(off.len(), 2);
        assert_eq!(off[0].consideration, "y");
        assert_eq!(off[0].losing, vec![Uuid::from_u128(2)]);
        assert_eq!(off[0].gaining, vec![Uuid::from_u128(3)]);
        assert_eq!(off[0].money_lost, Money::from_dollars(10_000).unwrap());
        assert_eq!(off[0].meeting_awarded_before, Money::from_dollars(10_000).unwrap());
        assert_eq!(off[0].meeting_awarded_after, Money::ZERO);
        // Nobody meets "t": switching it off changes nothing.
        assert!(off[1].losing.is_empty() && off[1].gaining.is_empty());
        // The report serializes for pages.
        let report = analyse(&comp, &base, &config, &[("y", (dec!(0), dec!(10)))]).unwrap();
        let json = serde_json::to_value(&report).unwrap();
        assert!(json["weights"][0]["intervals"].as_array().unwrap().len() >= 2);
        assert_eq!(json["margins"].as_array().unwrap().len(), 3);
    }

    /// A small random competition: merit with one decimal, requests in thousands.
    fn random_case(n: usize, data: &[(u8, u8, u8)], mechanisms: Vec<(&str, Mechanism)>, seed_byte: u8) -> Competition {
        let keys: Vec<&str> = mechanisms.iter().map(|m| m.0).collect();
        let cands = (0..n)
            .map(|k| {
                let (m, a, bits) = data[k];
                let meets: Vec<&str> = keys
                    .iter()
                    .enumerate()
                    .filter(|(b, _)| bits >> b & 1 == 1)
                    .map(|(_, k)| *k)
                    .collect();
                app(
                    k as u128 + 1,
                    Decimal::new(500 + i64::from(m) * 2, 1),
                    1_000 * (1 + i64::from(a % 8)),
                    &meets,
                )
            })
            .collect();
        Competition::new(
            mechanisms.into_iter().map(|(k, m)| consideration(k, m)).collect(),
            cands,
            seed(seed_byte),
        )
        .unwrap()
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 24, .. ProptestConfig::default() })]

        #[test]
        fn bonus_intervals_match_a_dense_grid(
            data in proptest::collection::vec((0u8..60, any::<u8>(), any::<u8>()), 3..10),
            funds in 3i64..30,
            variant in 0u8..4,
        ) {
            let mut mech = vec![
                ("y", Mechanism::BonusPoints { points: dec!(3) }),
                ("m", Mechanism::Multiplier { factor: dec!(1.1) }),
            ];
            match variant {
                1 => mech.push(("t", Mechanism::TieBreak { band: dec!(1.5) })),
                2 => mech.push(("s", Mechanism::SetAside { amount: Money::from_dollars(6_000).unwrap() })),
                _ => {}
            }
            let comp = random_case(data.len(), &data, mech, 9);
            let base = comp.declared_scenario();
            let mut config = FundingConfig::rank_order(Money::from_dollars(funds * 1_000).unwrap());
            if variant == 3 {
                config.caps.push(Cap { consideration: "y".into(), max_total: Money::from_dollars(9_000).unwrap() });
            }
            let s = weight_intervals(&comp, &base, &config, "y", (dec!(0), dec!(8))).unwrap();
            check_against_grid(&comp, &base, &config, &s);
            let s = weight_intervals(&comp, &base, &config, "m", (dec!(1), dec!(1.6))).unwrap();
            check_against_grid(&comp, &base, &config, &s);
        }

        #[test]
        fn exact_mode_intervals_match_a_dense_grid(
            data in proptest::collection::vec((0u8..60, any::<u8>(), any::<u8>()), 3..8),
            funds in 3i64..25,
        ) {
            let mech = vec![("y", Mechanism::BonusPoints { points: dec!(3) })];
            let comp = random_case(data.len(), &data, mech, 11);
            let base = comp.declared_scenario();
            let config = FundingConfig::exact(Money::from_dollars(funds * 1_000).unwrap());
            let s = weight_intervals(&comp, &base, &config, "y", (dec!(0), dec!(8))).unwrap();
            check_against_grid(&comp, &base, &config, &s);
        }

        #[test]
        fn flip_margins_flip_just_past_the_margin(
            data in proptest::collection::vec((0u8..60, any::<u8>(), any::<u8>()), 2..10),
            funds in 3i64..30,
        ) {
            // Bonus points only, so a change of merit is the same change of final score.
            let mech = vec![("y", Mechanism::BonusPoints { points: dec!(3) })];
            let comp = random_case(data.len(), &data, mech, 13);
            let base = comp.declared_scenario();
            let config = FundingConfig::rank_order(Money::from_dollars(funds * 1_000).unwrap());
            let margins = flip_margins(&comp, &base, &config, &[]).unwrap();
            let status_with = |i: usize, delta: Decimal| {
                let mut c = comp.clone();
                let mut merits: Vec<Decimal> = (0..c.len()).map(|j| c.merit(j)).collect();
                merits[i] += delta;
                c.set_merits(&merits).unwrap();
                draw(&c, &c.rank(&base).unwrap(), &config).unwrap().is_funded(i)
            };
            let eps = dec!(0.01);
            for (i, f) in margins.iter().enumerate() {
                let sign = if f.funded { -Decimal::ONE } else { Decimal::ONE };
                match (f.margin, f.basis) {
                    (Some(m), MarginBasis::GeneralLine) => {
                        prop_assert_eq!(status_with(i, sign * (m + eps)), !f.funded, "app {} margin {}", i, m);
                        if m > eps {
                            prop_assert_eq!(status_with(i, sign * (m - eps)), f.funded, "app {} margin {}", i, m);
                        }
                    }
                    (None, MarginBasis::NeverFlips) => {
                        prop_assert_eq!(status_with(i, sign * dec!(100)), f.funded);
                    }
                    other => prop_assert!(false, "unexpected {:?}", other),
                }
            }
        }
    }
}
