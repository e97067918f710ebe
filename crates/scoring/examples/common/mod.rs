//! What the scale examples (and the benchmark that runs them) share: a fixed pseudo-random
//! sequence, a priority consideration to build competitions from, and reading and printing
//! the process's memory and times. Each example includes it with
//! `#[path = "common/mod.rs"] mod common;`, so it is compiled into every one of them, and not
//! every example uses every piece.
#![allow(dead_code)]

use std::time::Duration;

use granary_solicitations::model::{Establishment, Mechanism, PriorityConsideration};

/// SplitMix64: a small, fixed pseudo-random sequence, so every run uses the same data.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A whole number below `n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// A whole number from `low` to `high`, both included.
    pub fn between(&mut self, low: i64, high: i64) -> i64 {
        low + (self.next() % (high - low + 1) as u64) as i64
    }

    /// True `percent` times in a hundred.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

/// A self-attested priority consideration with the given mechanism.
pub fn consideration(key: &str, name: &str, mechanism: Mechanism) -> PriorityConsideration {
    PriorityConsideration {
        key: key.to_string(),
        name: name.to_string(),
        description: String::new(),
        established_by: Establishment::SelfAttested {
            statement: name.to_string(),
        },
        mechanism,
    }
}

/// A figure of /proc/self/status in KiB (`VmHWM:` the peak resident memory so far, `VmRSS:`
/// the current), or None where there is no such file.
pub fn status_kib(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Peak resident memory so far, in KiB (0 where unknown).
pub fn peak_kib() -> u64 {
    status_kib("VmHWM:").unwrap_or(0)
}

pub fn mib(kib: u64) -> String {
    format!("{}.{} MiB", kib / 1024, (kib % 1024) * 10 / 1024)
}

pub fn ms(d: Duration) -> String {
    let us = d.as_micros();
    format!("{}.{:03} ms", us / 1000, us % 1000)
}
