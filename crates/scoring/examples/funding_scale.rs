//! The ranking and funding line at scale: 50,000 applications with random merit scores
//! (40.00 to 100.00) and requests ($5,000 to $150,000), three priority considerations
//! (5 bonus points, a 1.1 multiplier, a $20,000,000 set-aside) and $500,000,000 available.
//! Prints the time of each step and the process's peak memory.
//!
//! Run with: `cargo run --release -p granary-scoring --example funding_scale`
//! (an optional first argument changes the number of applications). The benchmark
//! (`cargo bench -p granary-scoring --bench scoring`) runs it with 50,000 through [`run`].
#![allow(clippy::print_stdout)]

#[path = "common/mod.rs"]
mod common;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use granary_core::Money;
use granary_scoring::algo::funding::{FundingConfig, FundingMode, FundingResult, Optimality, draw, draw_into};
use granary_scoring::algo::lottery::LotterySeed;
use granary_scoring::algo::ranking::{Candidate, Competition, Ranking};
use granary_solicitations::model::Mechanism;
use rust_decimal::Decimal;
use uuid::Uuid;

use common::{Rng, consideration, mib, ms, peak_kib};

fn summary(label: &str, comp: &Competition, ranking: &Ranking, r: &FundingResult) {
    let funded = r.funded().count();
    println!(
        "  {label}: {funded} funded, {} awarded, {} left, total final score {}",
        r.awarded,
        r.funds_left,
        r.total_score(ranking).normalize()
    );
    for s in &r.set_asides {
        println!(
            "    set-aside “{}”: floor {}, reached {} ({})",
            comp.consideration_name(s.consideration),
            s.floor,
            s.reached,
            if s.met { "met" } else { "not met" }
        );
    }
    for c in &r.considerations {
        println!(
            "    “{}”: {} meeting, {} funded, {} awarded",
            comp.consideration_name(c.consideration),
            c.meeting,
            c.funded,
            c.awarded
        );
    }
}

/// One timed step: what, how long, and whether it counts toward the benchmark's target
/// (preparing the competition, ranking and the rank-order funding line).
pub type Step = (String, Duration, bool);

/// Runs with 50,000 applications, printing the figures. Returns the steps timed.
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
            if rng.chance(10) {
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
    let seed = LotterySeed::from_bytes([7; 32]);
    let available = Money::from_dollars(500_000_000).expect("amount");
    println!(
        "{n} applications, {available} available, lottery seed {}",
        seed.to_hex()
    );
    println!("  peak memory after generating the data: {}", mib(peak_kib()));

    let t = Instant::now();
    let comp = Competition::new(considerations, candidates, seed).expect("valid competition");
    let t_prepare = t.elapsed();

    let t = Instant::now();
    let scenario = comp.declared_scenario();
    let ranking = comp.rank(&scenario).expect("ranked");
    let t_rank = t.elapsed();

    let t = Instant::now();
    let rank_order = draw(&comp, &ranking, &FundingConfig::rank_order(available)).expect("drawn");
    let t_rank_order = t.elapsed();
    println!("rank order");
    println!(
        "  prepare (checks, lottery keys): {}; rank: {}; funding line: {}; rank + funding line: {}",
        ms(t_prepare),
        ms(t_rank),
        ms(t_rank_order),
        ms(t_rank + t_rank_order)
    );
    summary("rank order", &comp, &ranking, &rank_order);
    println!(
        "  peak memory after ranking and the rank-order line: {}",
        mib(peak_kib())
    );

    // A sensitivity-style re-run: change the bonus, re-rank into the same buffers, redraw.
    let mut changed = scenario.clone();
    changed
        .set(
            "youth",
            Some(Mechanism::BonusPoints {
                points: Decimal::from(3),
            }),
        )
        .expect("valid");
    let mut again = ranking.clone();
    let mut result = rank_order.clone();
    let t = Instant::now();
    comp.rank_into(&changed, &mut again).expect("ranked");
    draw_into(&comp, &again, &FundingConfig::rank_order(available), &mut result).expect("drawn");
    let t_rerun = t.elapsed();
    let changed_status = (0..comp.len())
        .filter(|&i| result.is_funded(i) != rank_order.is_funded(i))
        .count();
    println!(
        "  re-rank with 3 bonus points instead of 5 and redraw, reusing buffers: {} ({changed_status} applications change funding status)",
        ms(t_rerun)
    );

    println!("exact");
    let t = Instant::now();
    let exact = draw(
        &comp,
        &ranking,
        &FundingConfig {
            mode: FundingMode::Exact {
                max_nodes: granary_scoring::algo::funding::DEFAULT_MAX_NODES,
            },
            ..FundingConfig::rank_order(available)
        },
    )
    .expect("drawn");
    let t_exact = t.elapsed();
    println!(
        "  exact funding line: {} ({} search nodes, {})",
        ms(t_exact),
        exact.nodes,
        match exact.optimality {
            Optimality::Proven => "proven optimal",
            Optimality::NotProven => "NOT proven optimal: node budget reached",
            Optimality::NotApplicable => "-",
        }
    );
    summary("exact", &comp, &ranking, &exact);
    let both = (0..comp.len())
        .filter(|&i| exact.is_funded(i) && rank_order.is_funded(i))
        .count();
    println!(
        "  {} funded in both modes; exact total score minus rank order's: {}",
        both,
        (exact.total_score(&ranking) - rank_order.total_score(&ranking)).normalize()
    );
    println!("  peak memory at the end: {}", mib(peak_kib()));
    vec![
        (
            "prepare the competition (checks, lottery keys)".to_owned(),
            t_prepare,
            true,
        ),
        ("rank".to_owned(), t_rank, true),
        ("funding line, rank order".to_owned(), t_rank_order, true),
        (
            "re-rank with another bonus and redraw, reusing buffers".to_owned(),
            t_rerun,
            false,
        ),
        ("funding line, exact (branch and bound)".to_owned(), t_exact, false),
    ]
}

#[allow(dead_code, reason = "the benchmark includes this file as a module and calls `run`")]
fn main() {
    let n: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(50_000);
    run_with(n);
}
