//! Sensitivity at scale: 50,000 applications with random merit scores (40.00 to 100.00) and
//! requests ($5,000 to $150,000), three priority considerations (5 bonus points met by about
//! 30%, a 1.1 multiplier met by about 20%, a $20,000,000 set-aside), $500,000,000 available,
//! rank-order funding. Runs the full analysis, as `analyse` does: the intervals of each
//! bonus-points and multiplier weight over the range the service studies it over (bonus points
//! from 0 to twice the declared points, at least 10: [0, 10]; a multiplier from 1 to twice the
//! declared increase, at least 1.5: [1, 1.5]), every application's flip margin, and each
//! consideration switched off. Prints each part's time, the totals and the peak memory.
//!
//! Run with: `cargo run --release -p granary-scoring --example sensitivity_scale`
//! (an optional first argument changes the number of applications). The benchmark
//! (`cargo bench -p granary-scoring --bench scoring`) runs it with 50,000 through [`run`].
#![allow(clippy::print_stdout)]

#[path = "common/mod.rs"]
mod common;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use granary_core::Money;
use granary_scoring::algo::funding::FundingConfig;
use granary_scoring::algo::lottery::LotterySeed;
use granary_scoring::algo::ranking::{Candidate, Competition};
use granary_scoring::algo::sensitivity::{MarginBasis, flip_margins, switched_off, weight_intervals};
use granary_scoring::whatif;
use granary_solicitations::model::Mechanism;
use rust_decimal::Decimal;
use uuid::Uuid;

use common::{Rng, consideration, mib, ms, peak_kib};

/// One timed step: what, how long, and whether it counts toward the benchmark's target (all
/// of them: together they are the full analysis).
pub type Step = (String, Duration, bool);

/// Runs the full analysis with 50,000 applications, printing the figures. Returns the steps
/// timed.
pub fn run() -> Vec<Step> {
    run_with(50_000)
}

/// As [`run`] with `n` applications.
pub fn run_with(n: usize) -> Vec<Step> {
    let considerations = vec![
        consideration(
            "youth",
            "Serves young people",
            Mechanism::BonusPoints {
                points: Decimal::from(5),
            },
        ),
        consideration(
            "tribal",
            "Tribal organization",
            Mechanism::Multiplier {
                factor: Decimal::new(11, 1),
            },
        ),
        consideration(
            "rural",
            "Rural service area",
            Mechanism::SetAside {
                amount: Money::from_dollars(20_000_000).expect("amount"),
            },
        ),
    ];
    let mut rng = Rng(20_270_401);
    let candidates: Vec<Candidate> = (0..n)
        .map(|k| {
            let mut meets = BTreeSet::new();
            if rng.chance(30) {
                meets.insert("youth".to_string());
            }
            if rng.chance(20) {
                meets.insert("tribal".to_string());
            }
            if rng.chance(15) {
                meets.insert("rural".to_string());
            }
            Candidate {
                id: Uuid::from_u128(0x0199_0000_0000_7000_8000_0000_0000_0000 + k as u128),
                merit: Decimal::new(rng.between(4_000, 10_000), 2),
                requested: Money::from_dollars(rng.between(5_000, 150_000)).expect("amount"),
                recommended: None,
                meets,
            }
        })
        .collect();
    let comp = Competition::new(considerations, candidates, LotterySeed::from_bytes([7; 32])).expect("valid");
    let available = Money::from_dollars(500_000_000).expect("amount");
    let config = FundingConfig::rank_order(available);
    let scenario = comp.declared_scenario();
    println!("{n} applications, {available} available, rank order");
    let total = Instant::now();

    let mut studies = Vec::new();
    let mut steps = Vec::new();
    let weights: Vec<(String, (Decimal, Decimal))> = comp
        .considerations()
        .iter()
        .filter_map(|c| whatif::default_range(&c.mechanism).map(|range| (c.key.clone(), range)))
        .collect();
    for (key, range) in &weights {
        let (key, range) = (key.as_str(), *range);
        let t = Instant::now();
        let result = weight_intervals(&comp, &scenario, &config, key, range);
        let mut step = format!("intervals of “{key}” over [{}, {}]", range.0, range.1);
        if let Err(e) = &result {
            step.push_str(&format!(": NOT COMPUTED ({e})"));
        }
        steps.push((step, t.elapsed(), true));
        match result {
            Ok(s) => {
                println!(
                    "intervals of “{key}” over [{}, {}]: {} intervals, {} candidate breakpoints, {} funding lines drawn, {}",
                    range.0,
                    range.1,
                    s.intervals.len(),
                    s.candidates,
                    s.draws,
                    ms(t.elapsed())
                );
                let moved: usize = s.changes.iter().map(|c| c.entering.len() + c.leaving.len()).sum();
                println!("  applications entering or leaving at the breakpoints, in all: {moved}");
                studies.push(s);
            }
            Err(e) => println!("intervals of “{key}”: not computed: {e} ({})", ms(t.elapsed())),
        }
    }

    let t = Instant::now();
    let margins = flip_margins(&comp, &scenario, &config, &studies).expect("margins");
    steps.push(("flip margins".to_owned(), t.elapsed(), true));
    let with_margin = margins.iter().filter(|m| m.margin.is_some()).count();
    let never = margins.iter().filter(|m| m.basis == MarginBasis::NeverFlips).count();
    let set_aside = margins
        .iter()
        .filter(|m| matches!(m.basis, MarginBasis::SetAside { .. }))
        .count();
    println!(
        "flip margins: {} applications, {with_margin} with a margin, {never} that never flip, {set_aside} funded from the set-aside, {}",
        margins.len(),
        ms(t.elapsed())
    );

    let t = Instant::now();
    let off = switched_off(&comp, &scenario, &config).expect("switched off");
    steps.push(("each consideration switched off".to_owned(), t.elapsed(), true));
    println!("switched off: {}", ms(t.elapsed()));
    for o in &off {
        println!(
            "  without “{}”: {} lose funding ({}), {} gain ({}); to applications meeting it: {} -> {}",
            o.consideration,
            o.losing.len(),
            o.money_lost,
            o.gaining.len(),
            o.money_gained,
            o.meeting_awarded_before,
            o.meeting_awarded_after
        );
    }
    println!("total: {}; peak memory: {}", ms(total.elapsed()), mib(peak_kib()));
    steps
}

#[allow(dead_code, reason = "the benchmark includes this file as a module and calls `run`")]
fn main() {
    let n: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(50_000);
    run_with(n);
}
