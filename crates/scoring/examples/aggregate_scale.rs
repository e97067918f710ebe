//! Aggregation and calibration at scale: 50,000 applications with 3 reviews each, over 2,000
//! reviewers, on a 4-criterion rubric worth 40/30/20/10 points. Every application has a true
//! quality and every reviewer a bias (up to 10% of the points either way); scores are quality
//! plus bias plus noise, in half points. Times checking the reviews, aggregation, each
//! calibration method and a plain sort with a funding line, prints peak memory, and counts how
//! many of the truly best 10% each method would fund.
//!
//! Run with `cargo run --release -p granary-scoring --example aggregate_scale [seed]`. The
//! benchmark (`cargo bench -p granary-scoring --bench scoring`) runs seed 1 through [`run`].

#![allow(clippy::print_stdout, reason = "an example prints its figures")]

#[path = "common/mod.rs"]
mod common;

use std::cmp::Reverse;
use std::time::{Duration, Instant};

use granary_scoring::algo::aggregate::{DisagreementThresholds, Review, ReviewSet, Rubric, aggregate};
use granary_scoring::algo::calibration::{
    BiasModelSettings, CalibratedApplication, StandardizationSettings, fit_reviewer_bias, standardize,
};
use rust_decimal::Decimal;

use common::Rng;

const APPLICATIONS: usize = 50_000;
const REVIEWERS: usize = 2_000;
const REVIEWS_EACH: usize = 3;
const POINTS: [i64; 4] = [40, 30, 20, 10];
/// The funding line is drawn under the best tenth.
const FUNDED: usize = APPLICATIONS / 10;

/// True quality per application and bias per reviewer, in thousandths of the points.
struct World {
    quality: Vec<i64>,
    reviews: Vec<Review>,
}

fn build(seed: u64) -> World {
    let mut rng = Rng(seed);
    let quality: Vec<i64> = (0..APPLICATIONS).map(|_| rng.between(300, 950)).collect();
    let bias: Vec<i64> = (0..REVIEWERS).map(|_| rng.between(-100, 100)).collect();
    let mut reviews = Vec::with_capacity(APPLICATIONS * REVIEWS_EACH);
    for (application, &q) in quality.iter().enumerate() {
        let mut chosen = [usize::MAX; REVIEWS_EACH];
        for slot in 0..REVIEWS_EACH {
            let reviewer = loop {
                let candidate = usize::try_from(rng.between(0, REVIEWERS as i64 - 1)).unwrap();
                if !chosen.contains(&candidate) {
                    break candidate;
                }
            };
            chosen[slot] = reviewer;
            let scores = POINTS
                .iter()
                .map(|&points| {
                    let share = (q + bias[reviewer] + rng.between(-60, 60)).clamp(0, 1000);
                    // Half points: round(share/1000 * points * 2), in whole numbers.
                    let halves = (share * points * 2 + 500) / 1000;
                    Decimal::new(halves * 5, 1)
                })
                .collect();
            reviews.push(Review {
                application,
                reviewer,
                scores,
            });
        }
    }
    World { quality, reviews }
}

fn peak_memory() -> String {
    common::status_kib("VmHWM:").map_or_else(|| "unknown".to_owned(), common::mib)
}

/// Application numbers from best to worst, ties to the lower number.
fn ranked(merits: &[Decimal]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..merits.len()).collect();
    order.sort_unstable_by_key(|&application| (Reverse(merits[application]), application));
    order
}

/// How many of the applications above the funding line are also among the truly best.
fn truly_best_funded(order: &[usize], truly_best: &[bool]) -> usize {
    order[..FUNDED]
        .iter()
        .filter(|&&application| truly_best[application])
        .count()
}

fn calibrated(applications: &[CalibratedApplication]) -> Vec<Decimal> {
    applications
        .iter()
        .map(|a| a.merit.as_ref().map_or(Decimal::ZERO, |m| m.calibrated))
        .collect()
}

/// One timed step: what, how long, and whether it counts toward the benchmark's target
/// (aggregation and calibration; the plain sort only stands in for the ranking).
pub type Step = (String, Duration, bool);

/// Builds the reviews of seed 1 and times checking them, aggregation and both calibrations,
/// printing the figures. Returns the steps timed.
pub fn run() -> Vec<Step> {
    run_with(1, false)
}

/// As [`run`] for `seed`; with `explain`, also prints how the harshest reviewer and one of
/// their applications were calibrated, and one application flagged for discussion.
pub fn run_with(seed: u64, explain: bool) -> Vec<Step> {
    let start = Instant::now();
    let world = build(seed);
    println!(
        "seed {seed}: {} applications x {REVIEWS_EACH} reviews over {REVIEWERS} reviewers, rubric 40/30/20/10, \
         built in {:.1?}",
        APPLICATIONS,
        start.elapsed()
    );
    println!("peak memory after building the reviews: {}", peak_memory());

    let rubric = Rubric::new(POINTS.iter().map(|&p| Decimal::from(p)).collect()).expect("valid rubric");
    let start = Instant::now();
    let reviews = ReviewSet::new(rubric, APPLICATIONS, REVIEWERS, world.reviews).expect("valid reviews");
    let checking = start.elapsed();

    let start = Instant::now();
    let aggregation = aggregate(&reviews, &DisagreementThresholds::default());
    let aggregating = start.elapsed();
    let flagged = aggregation.needing_discussion().count();
    println!(
        "check and order {} reviews: {checking:.1?}; aggregate: {aggregating:.1?}; {flagged} applications flagged \
         for discussion; peak memory {}",
        reviews.len(),
        peak_memory()
    );

    let start = Instant::now();
    let standardized = standardize(&reviews, &StandardizationSettings::default()).expect("standardization");
    let standardizing = start.elapsed();
    println!(
        "method 1 (standardize, 3 imaginary reviews): {standardizing:.1?}; pool mean {}, spread {}; peak memory {}",
        standardized.pool_mean,
        standardized.pool_sd,
        peak_memory()
    );

    let start = Instant::now();
    let model = fit_reviewer_bias(&reviews, &BiasModelSettings::default()).expect("bias fit");
    let fitting = start.elapsed();
    println!(
        "method 2 (reviewer bias, 3 imaginary reviews): {fitting:.1?} in {} conjugate-gradient steps; peak memory {}",
        model.iterations,
        peak_memory()
    );

    let raw: Vec<Decimal> = aggregation
        .applications
        .iter()
        .map(|a| a.merit.as_ref().map_or(Decimal::ZERO, |m| m.merit))
        .collect();
    let method1 = calibrated(&standardized.applications);
    let method2 = calibrated(&model.applications);
    let start = Instant::now();
    let order = ranked(&method1);
    let line = order[FUNDED - 1];
    let sorting = start.elapsed();
    println!(
        "sort 50,000 merits and draw the line under the best {FUNDED} (stand-in for ranking): {sorting:.1?}; \
         last funded application {line} at {}",
        method1[line]
    );
    println!(
        "aggregate + method 1 + sort: {:.1?}; aggregate + method 2 + sort: {:.1?}",
        aggregating + standardizing + sorting,
        aggregating + fitting + sorting
    );

    let true_order = {
        let mut order: Vec<usize> = (0..APPLICATIONS).collect();
        order.sort_unstable_by_key(|&application| (Reverse(world.quality[application]), application));
        order
    };
    let mut truly_best = vec![false; APPLICATIONS];
    for &application in &true_order[..FUNDED] {
        truly_best[application] = true;
    }
    println!(
        "of the truly best {FUNDED}, funded by raw merit: {}, by method 1: {}, by method 2: {}",
        truly_best_funded(&ranked(&raw), &truly_best),
        truly_best_funded(&order, &truly_best),
        truly_best_funded(&ranked(&method2), &truly_best),
    );

    if explain {
        let harshest = model
            .reviewers
            .iter()
            .min_by_key(|r| (r.bias, r.reviewer))
            .expect("reviewers");
        println!(
            "\n{}",
            standardized.explain_reviewer(harshest.reviewer).unwrap_or_default()
        );
        println!("{}", model.explain_reviewer(harshest.reviewer).unwrap_or_default());
        if let Some(application) = standardized.applications.iter().find(|a| {
            a.merit
                .as_ref()
                .is_some_and(|m| m.reviews.iter().any(|r| r.reviewer == harshest.reviewer))
        }) {
            println!(
                "{}",
                standardized
                    .explain_application(application.application)
                    .unwrap_or_default()
            );
            println!(
                "{}",
                model.explain_application(application.application).unwrap_or_default()
            );
        }
        if let Some(flagged) = aggregation.needing_discussion().next() {
            let reasons = &flagged
                .merit
                .as_ref()
                .expect("flagged means reviewed")
                .disagreement
                .reasons;
            println!("application {} needs discussion: {}", flagged.application, reasons[0]);
        }
        println!();
    }
    println!("peak memory (VmHWM): {}", peak_memory());
    vec![
        (format!("check and order {} reviews", reviews.len()), checking, true),
        ("aggregate".to_owned(), aggregating, true),
        ("calibrate, method 1 (standardize)".to_owned(), standardizing, true),
        ("calibrate, method 2 (reviewer bias)".to_owned(), fitting, true),
        ("plain sort of calibrated merit (stand-in)".to_owned(), sorting, false),
    ]
}

#[allow(dead_code, reason = "the benchmark includes this file as a module and calls `run`")]
fn main() {
    let seed = std::env::args().nth(1).and_then(|arg| arg.parse().ok()).unwrap_or(1);
    run_with(seed, true);
}
