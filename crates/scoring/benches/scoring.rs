//! Scoring at the sizes, in one run:
//!
//! * (a) reviewer assignment: 50,000 applications × 3 reviewers over 2,000 reviewers
//!   (target: under 10 s);
//! * (b) aggregation, both calibrations, the ranking and the funding line for 50,000
//!   applications (target: under 1 s together);
//! * (c) the full sensitivity analysis for 50,000 applications: the intervals of each
//!   bonus-points and multiplier weight, every flip margin, each consideration switched off
//!   (target: under 5 s).
//!
//! Each part runs the examples that measure it (included here as modules, through their
//! `run`), which print their own figures; after each part come its steps' times, the total of
//! the steps the target is about, and memory. Memory is the process's resident set from
//! `/proc/self/status`: its peak during the part (the peak, VmHWM, is reset at the start of each
//! part where the kernel allows it, so that it is the part's own), how far that is above the
//! resident set at the start of the part, and the peak of the whole process so far, which is
//! cumulative. A summary table closes the run.
//!
//! Run with `cargo bench -p granary-scoring --bench scoring`. Other builds running at the same
//! time make the times vary from run to run.

#![allow(clippy::print_stdout, reason = "a benchmark prints its figures")]
#![allow(
    clippy::duplicate_mod,
    reason = "each example includes the shared helpers in examples/common so it also runs on its own"
)]

use std::time::{Duration, Instant};

use common::{mib, status_kib};

#[path = "../examples/aggregate_scale.rs"]
mod aggregate_scale;
#[path = "../examples/assignment_scale.rs"]
mod assignment_scale;
#[path = "../examples/common/mod.rs"]
mod common;
#[path = "../examples/funding_scale.rs"]
mod funding_scale;
#[path = "../examples/sensitivity_scale.rs"]
mod sensitivity_scale;

/// One timed step: what, how long, and whether it counts toward the part's target.
type Step = (String, Duration, bool);

/// Sets the peak resident set (VmHWM) back to the current one; false where the kernel does
/// not allow it (then the peak is the process's since it started).
fn reset_peak() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

fn secs(d: Duration) -> String {
    let ms = d.as_millis();
    format!("{}.{:03} s", ms / 1000, ms % 1000)
}

/// What one part measured.
struct Part {
    label: &'static str,
    target: Duration,
    counted: Duration,
    failed: Option<String>,
    /// Resident set at the start, peak during the part, and the process's peak so far (KiB).
    start_kib: Option<u64>,
    peak_kib: Option<u64>,
    process_peak_kib: Option<u64>,
    peak_is_the_parts: bool,
}

/// Runs one part: `body` runs the examples and returns their steps.
fn part(
    label: &'static str,
    title: &str,
    target: Duration,
    process_peak: &mut Option<u64>,
    body: impl FnOnce() -> Result<Vec<Step>, String>,
) -> Part {
    println!("\n=== {title} (target: under {} s) ===\n", target.as_secs());
    *process_peak = (*process_peak).max(status_kib("VmHWM:"));
    let peak_is_the_parts = reset_peak();
    let start_kib = status_kib("VmRSS:");
    let started = Instant::now();
    let result = body();
    let wall = started.elapsed();
    let peak_kib = status_kib("VmHWM:");
    *process_peak = (*process_peak).max(peak_kib);
    let steps = result.as_ref().map(Vec::as_slice).unwrap_or_default();
    let counted: Duration = steps.iter().filter(|s| s.2).map(|s| s.1).sum();
    println!("\n  {:<66} {:>10}", "step", "time");
    for (what, time, counts) in steps {
        println!("  {:<66} {:>10}{}", what, secs(*time), if *counts { " *" } else { "" });
    }
    let failed = match &result {
        Err(e) => Some(e.clone()),
        Ok(steps) => steps.iter().find(|s| s.0.contains("NOT COMPUTED")).map(|s| s.0.clone()),
    };
    let verdict = match &failed {
        Some(_) => "FAILED",
        None if counted < target => "within target",
        None => "OVER TARGET",
    };
    println!(
        "  {:<66} {:>10}   (target {} s: {verdict}; the part took {} in all, with building its data)",
        "total of the steps marked *",
        secs(counted),
        target.as_secs(),
        secs(wall)
    );
    if let Some(e) = &failed {
        println!("  failed: {e}");
    }
    match (start_kib, peak_kib) {
        (Some(start), Some(peak)) if peak_is_the_parts => println!(
            "  memory: resident {} at the start, peak {} during the part ({} above the start); process peak so far {} (cumulative)",
            mib(start),
            mib(peak),
            mib(peak.saturating_sub(start)),
            mib(process_peak.unwrap_or(peak))
        ),
        (Some(start), Some(peak)) => println!(
            "  memory: resident {} at the start, {} at the end; process peak so far (VmHWM, cumulative) {}",
            mib(start),
            status_kib("VmRSS:").map_or("unknown".to_owned(), mib),
            mib(peak)
        ),
        _ => println!("  memory: not reported by this system"),
    }
    Part {
        label,
        target,
        counted,
        failed,
        start_kib,
        peak_kib,
        process_peak_kib: *process_peak,
        peak_is_the_parts,
    }
}

fn main() {
    // `cargo bench` passes `--bench` (and any filter); this runs everything regardless.
    let mut process_peak = status_kib("VmHWM:");
    let parts = [
        part(
            "(a) assignment, 50,000 × 3 over 2,000",
            "(a) Reviewer assignment: 50,000 applications × 3 reviewers over 2,000 reviewers",
            Duration::from_secs(10),
            &mut process_peak,
            assignment_scale::run,
        ),
        part(
            "(b) aggregate, calibrate ×2, rank, fund",
            "(b) Aggregation, both calibrations, ranking and funding line: 50,000 applications",
            Duration::from_secs(1),
            &mut process_peak,
            || {
                let mut steps = aggregate_scale::run();
                println!();
                steps.extend(funding_scale::run());
                Ok(steps)
            },
        ),
        part(
            "(c) sensitivity analysis, 50,000",
            "(c) Full sensitivity analysis: 50,000 applications",
            Duration::from_secs(5),
            &mut process_peak,
            || Ok(sensitivity_scale::run()),
        ),
    ];

    println!("\n=== Summary ===\n");
    println!(
        "  {:<40} {:>10} {:>8}  {:<13} {:>12} {:>12} {:>13}",
        "part", "time (*)", "target", "result", "peak in part", "above start", "process peak"
    );
    for p in &parts {
        let result = match (&p.failed, p.counted < p.target) {
            (Some(_), _) => "FAILED",
            (None, true) => "ok",
            (None, false) => "OVER TARGET",
        };
        let (peak, above) = match (p.start_kib, p.peak_kib) {
            (Some(start), Some(peak)) if p.peak_is_the_parts => (mib(peak), mib(peak.saturating_sub(start))),
            (_, Some(peak)) => (format!("{} (c)", mib(peak)), "-".to_owned()),
            _ => ("-".to_owned(), "-".to_owned()),
        };
        println!(
            "  {:<40} {:>10} {:>8}  {:<13} {:>12} {:>12} {:>13}",
            p.label,
            secs(p.counted),
            format!("{} s", p.target.as_secs()),
            result,
            peak,
            above,
            p.process_peak_kib.map_or("-".to_owned(), mib)
        );
    }
    println!("\n  time (*): the steps marked * in the part, which the target is about (building the data and");
    println!("  extra measurements are shown above but not counted). Memory is the resident set (RSS):");
    println!("  \"peak in part\" is VmHWM reset at the start of the part, \"above start\" how far it rose over");
    println!("  the RSS the part started with, and \"process peak\" the whole process's peak so far, which is");
    println!("  cumulative (a part's peak includes what earlier parts still hold; memory they freed but the");
    println!("  allocator kept is reused, so a part may rise little above its start). \"(c)\": the kernel did");
    println!("  not allow resetting the peak, so it is the cumulative one.");
    if parts.iter().any(|p| p.failed.is_some()) {
        std::process::exit(1);
    }
}
