//! Reviewer assignment at scale: 50,000 applications needing 3 reviewers each, over 2,000
//! reviewers with loads between 60 and 90, 12 program areas and about 0.5% random conflicts.
//! Solves it optimally, checks the optimality certificate against all 100 million pairs, and
//! prints the figures.
//!
//! Run with `cargo run --release -p granary-scoring --example assignment_scale -- [seed
//! [applications [reviewers [conflicts per thousand pairs [warm start 1/0 [uncovered-area weight
//! [load-balance weight]]]]]]]` (defaults 2024 50000 2000 5 1 10 1). The benchmark
//! (`cargo bench -p granary-scoring --bench scoring`) runs it with the defaults through [`run`].

#![allow(clippy::print_stdout, reason = "an example prints its figures")]

#[path = "common/mod.rs"]
mod common;

use std::time::{Duration, Instant};

use granary_scoring::algo::assignment::{
    ApplicationNeeds, AssignmentProblem, AssignmentWeights, ProgramAreas, ReviewPair, ReviewerCapacity, SolveOptions,
    solve_with, verify_optimal,
};

use common::Rng;

const REVIEWERS_NEEDED: u32 = 3;
const AREAS: u64 = 12;
const MIN_LOAD: u32 = 60;
const MAX_LOAD: u32 = 90;

/// One to three distinct program areas out of twelve.
fn areas(rng: &mut Rng) -> ProgramAreas {
    let count = 1 + rng.below(3) as u32;
    let mut bits = 0u64;
    while bits.count_ones() < count {
        bits |= 1 << rng.below(AREAS);
    }
    ProgramAreas::from_bits(bits)
}

fn build(seed: u64, applications: usize, reviewers: usize, conflicts_per_thousand: u64) -> AssignmentProblem {
    let mut rng = Rng(seed);
    let (n, m) = (applications, reviewers);
    let applications = (0..n)
        .map(|_| ApplicationNeeds {
            reviewers_needed: REVIEWERS_NEEDED,
            areas: areas(&mut rng),
        })
        .collect();
    let reviewers = (0..m)
        .map(|_| ReviewerCapacity {
            expertise: areas(&mut rng),
            min_load: MIN_LOAD,
            max_load: MAX_LOAD,
        })
        .collect();
    let mut conflicts = Vec::new();
    for application in 0..n {
        for reviewer in 0..m {
            if rng.below(1_000) < conflicts_per_thousand {
                conflicts.push(ReviewPair { application, reviewer });
            }
        }
    }
    AssignmentProblem {
        applications,
        reviewers,
        conflicts,
        pinned: Vec::new(),
        excluded: Vec::new(),
        weights: AssignmentWeights::default(),
    }
}

/// Peak resident memory of this process in MiB (VmHWM), if the system reports it.
fn peak_memory_mib() -> Option<u64> {
    common::status_kib("VmHWM:").map(|kib| kib / 1024)
}

fn seconds(d: Duration) -> String {
    let ms = d.as_millis();
    format!("{}.{:03} s", ms / 1000, ms % 1000)
}

/// The problem to solve; the defaults are the sizes.
pub struct Settings {
    pub seed: u64,
    pub applications: usize,
    pub reviewers: usize,
    pub conflicts_per_thousand: u64,
    pub warm_start: bool,
    pub weights: AssignmentWeights,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            seed: 2024,
            applications: 50_000,
            reviewers: 2_000,
            conflicts_per_thousand: 5,
            warm_start: true,
            weights: AssignmentWeights::default(),
        }
    }
}

/// One timed step: what, how long, and whether it is the assignment the target is about.
pub type Step = (String, Duration, bool);

/// Builds and solves the default problem and checks the certificate, printing the figures.
/// Returns the steps timed, or what went wrong.
pub fn run() -> Result<Vec<Step>, String> {
    run_with(&Settings::default())
}

pub fn run_with(settings: &Settings) -> Result<Vec<Step>, String> {
    let &Settings {
        seed,
        applications,
        reviewers,
        conflicts_per_thousand,
        warm_start,
        weights,
    } = settings;
    let options = SolveOptions {
        warm_start,
        ..SolveOptions::default()
    };
    let started = Instant::now();
    let mut problem = build(seed, applications, reviewers, conflicts_per_thousand);
    problem.weights = weights;
    let built = started.elapsed();
    let needed: u64 = problem.applications.iter().map(|a| u64::from(a.reviewers_needed)).sum();
    println!(
        "problem (seed {seed}): {applications} applications x {REVIEWERS_NEEDED} reviewers over {reviewers} reviewers"
    );
    println!(
        "  {} pairs, {} conflicts, {needed} reviews, loads {MIN_LOAD}..={MAX_LOAD}, {AREAS} program areas, weights {} per uncovered area and {} for balance (built in {})",
        applications * reviewers,
        problem.conflicts.len(),
        problem.weights.uncovered_area,
        problem.weights.load_balance,
        seconds(built)
    );

    let started = Instant::now();
    let report = solve_with(&problem, &options).map_err(|e| format!("no plan: {e}"))?;
    let solve_time = started.elapsed();
    let stats = report.stats;
    println!(
        "solve time: {} (includes the solver's own optimality check)",
        seconds(solve_time)
    );
    println!(
        "  warm start from classes: {}; candidate pairs {} (of which {} added by pricing or feasibility), feasibility rounds {}, pricing rounds {}",
        if stats.warm_start { "yes" } else { "no" },
        stats.candidate_pairs,
        stats.pairs_added,
        stats.feasibility_rounds,
        stats.pricing_rounds
    );

    let started = Instant::now();
    let check = verify_optimal(&problem, &report.assignment, &report.certificate);
    let check_time = started.elapsed();
    println!(
        "optimality check over all {} pairs: {} ({})",
        applications * reviewers,
        match &check {
            Ok(()) => "passed".to_owned(),
            Err(e) => format!("FAILED: {e}"),
        },
        seconds(check_time)
    );

    let plan = &report.assignment;
    println!(
        "total cost {} = expertise {} + balance {}",
        plan.cost.total(),
        plan.cost.expertise,
        plan.cost.balance
    );
    let mut by_uncovered = [0u64; 4];
    for (a, list) in plan.reviewers.iter().enumerate() {
        for &r in list {
            let uncovered = problem.applications[a]
                .areas
                .uncovered_by(problem.reviewers[r].expertise);
            by_uncovered[(uncovered as usize).min(3)] += 1;
        }
    }
    println!(
        "  reviews by uncovered areas: 0: {}, 1: {}, 2: {}, 3: {}",
        by_uncovered[0], by_uncovered[1], by_uncovered[2], by_uncovered[3]
    );
    let min = plan.loads.iter().min().copied().unwrap_or(0);
    let max = plan.loads.iter().max().copied().unwrap_or(0);
    let total: u64 = plan.loads.iter().map(|&l| u64::from(l)).sum();
    let hundredths = total * 100 / plan.loads.len().max(1) as u64;
    println!(
        "load: min {min}, max {max}, mean {}.{:02}",
        hundredths / 100,
        hundredths % 100
    );
    match peak_memory_mib() {
        Some(mib) => println!("peak memory (VmHWM): {mib} MiB"),
        None => println!("peak memory: not reported by this system"),
    }
    check.map_err(|e| format!("the optimality check failed: {e}"))?;
    Ok(vec![
        ("build the problem".to_owned(), built, false),
        (
            "solve (with the solver's own optimality check)".to_owned(),
            solve_time,
            true,
        ),
        (
            format!("check the certificate over all {} pairs", applications * reviewers),
            check_time,
            false,
        ),
    ])
}

#[allow(dead_code, reason = "the benchmark includes this file as a module and calls `run`")]
fn main() {
    let arg = |i: usize, default: u64| std::env::args().nth(i).and_then(|s| s.parse().ok()).unwrap_or(default);
    let defaults = Settings::default();
    let settings = Settings {
        seed: arg(1, defaults.seed),
        applications: arg(2, defaults.applications as u64) as usize,
        reviewers: arg(3, defaults.reviewers as u64) as usize,
        conflicts_per_thousand: arg(4, defaults.conflicts_per_thousand),
        warm_start: arg(5, 1) == 1,
        weights: AssignmentWeights {
            uncovered_area: arg(6, defaults.weights.uncovered_area as u64) as i64,
            load_balance: arg(7, defaults.weights.load_balance as u64) as i64,
        },
    };
    if let Err(e) = run_with(&settings) {
        println!("{e}");
        std::process::exit(1);
    }
}
