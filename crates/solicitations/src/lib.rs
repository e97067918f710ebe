//! Solicitations: what a program office publishes to invite applications.
//!
//! The model (program areas, eligibility, funding, key dates, rubric, priority
//! considerations, required documents, questions), its validation at each lifecycle step
//! (draft -> forecasted -> open -> closed -> archived), amendments kept as numbered versions,
//! attachments, and public search. Every state change is written to the audit log.

mod entity;
pub mod error;
pub mod lifecycle;
pub mod model;
pub mod search;
pub mod service;
pub mod validate;

pub use error::SolicitationError;
pub use lifecycle::{Status, Transition};
pub use model::*;
pub use search::{Page, Range, SearchQuery, SortField, SortOrder, search};
pub use service::*;
