//! Applications: what an organization sends in answer to a solicitation. An eligibility
//! pre-check anyone can run; one draft per organization and solicitation, saved with a
//! version so concurrent edits conflict instead of overwriting; a budget in the federal
//! categories with exact indirect-cost rules; documents; and submission, checked against the
//! deadline inside the submitting transaction, leaving an immutable snapshot with its own
//! SHA-256 digest and a tracking number.

pub mod budget;
pub mod completeness;
pub mod csv;
pub mod eligibility;
mod entity;
pub mod error;
pub mod merge;
pub mod model;
pub mod sample;
pub mod service;

pub use error::ApplicationError;
pub use model::*;
pub use service::*;
