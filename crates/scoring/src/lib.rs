//! Scoring: how submitted applications become funding decisions. Reviewers are assigned
//! optimally and never to an application they are conflicted with; they score merit against
//! the published rubric; calibration is optional and shown beside the raw result; priority
//! considerations enter afterwards by the mechanism the solicitation declared; the funding line
//! is drawn by a documented rule ending in a seeded lottery; and every outcome can be explained
//! step by step and recomputed exactly from its decision record.
//!
//! The algorithms in [`algo`] are pure (no database, no clock, no randomness beyond a
//! recorded seed) and tested on their own; the other modules keep scoring's records.

pub mod algo;
pub mod assign;
pub mod conflicts;
pub mod decisions;
mod entity;
pub mod error;
pub mod model;
pub mod pipeline;
pub mod pool;
pub mod reviews;
pub mod subjects;
pub mod whatif;

pub use error::{Result, ScoringError};
pub use model::*;
