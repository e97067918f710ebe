//! What can go wrong in scoring, in the words of the people who review and decide.

use granary_core::ValidationErrors;
use granary_core::error::{Classify, ErrorKind, FieldError};

#[derive(Debug, thiserror::Error)]
pub enum ScoringError {
    #[error("no {0}")]
    NotFound(String),
    #[error("{0}")]
    Invalid(ValidationErrors),
    /// The request is sound but the current state does not allow it.
    #[error("{0}")]
    Conflict(String),
    /// Someone saved the review after the version this save started from.
    #[error("this review was saved elsewhere (now version {current}) after you opened it")]
    VersionConflict { current: i32 },
    /// The reviewer declared or was found to have a conflict of interest with the application.
    #[error("you have a conflict of interest with this application, so you cannot see or review it")]
    Conflicted,
    #[error("the assignment cannot be made: {0}")]
    Infeasible(String),
    #[error(transparent)]
    Application(#[from] granary_applications::ApplicationError),
    #[error(transparent)]
    Solicitation(#[from] granary_solicitations::SolicitationError),
    #[error("database error: {0}")]
    Database(#[from] sea_orm::DbErr),
    #[error("stored scoring data is unreadable: {0}")]
    Corrupt(String),
}

impl ScoringError {
    /// A validation error about one field.
    pub fn field(field: &str, message: impl Into<String>) -> Self {
        let mut v = ValidationErrors::new();
        v.add(field, message);
        ScoringError::Invalid(v)
    }
}

impl Classify for ScoringError {
    fn kind(&self) -> ErrorKind {
        match self {
            ScoringError::NotFound(_) => ErrorKind::NotFound,
            ScoringError::Invalid(_) => ErrorKind::Validation,
            ScoringError::Conflict(_) | ScoringError::VersionConflict { .. } | ScoringError::Infeasible(_) => {
                ErrorKind::Conflict
            }
            ScoringError::Conflicted => ErrorKind::Forbidden,
            ScoringError::Application(e) => e.kind(),
            ScoringError::Solicitation(e) => e.kind(),
            ScoringError::Database(e) if granary_core::error::is_constraint_violation(e) => ErrorKind::Conflict,
            ScoringError::Database(_) | ScoringError::Corrupt(_) => ErrorKind::Internal,
        }
    }

    fn field_errors(&self) -> &[FieldError] {
        match self {
            ScoringError::Invalid(v) => &v.0,
            ScoringError::Application(e) => e.field_errors(),
            ScoringError::Solicitation(e) => e.field_errors(),
            _ => &[],
        }
    }
}

pub type Result<T> = std::result::Result<T, ScoringError>;
