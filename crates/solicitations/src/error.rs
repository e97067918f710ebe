//! What can go wrong with a solicitation, in the words of the people who use it.

use granary_core::error::{Classify, ErrorKind, FieldError};
use granary_core::{ValidationErrors, id::SolicitationId};

use crate::Status;

#[derive(Debug, thiserror::Error)]
pub enum SolicitationError {
    #[error("no solicitation {0}")]
    NotFound(String),
    #[error("no program office {0}")]
    OfficeNotFound(String),
    #[error("the solicitation is not valid: {0}")]
    Invalid(ValidationErrors),
    #[error("a solicitation cannot go from {from} to {to}")]
    IllegalTransition { from: Status, to: Status },
    #[error("a {status} solicitation cannot be {action}")]
    NotEditable { status: Status, action: &'static str },
    #[error("another solicitation already uses the number {0}")]
    DuplicateNumber(String),
    #[error("solicitation {id} was changed by someone else (now at version {current}); reload and try again")]
    StaleVersion { id: SolicitationId, current: i32 },
    #[error("no attachment {0} on this solicitation")]
    AttachmentNotFound(String),
    #[error("database error: {0}")]
    Database(#[from] sea_orm::DbErr),
    #[error("stored solicitation data is unreadable: {0}")]
    Corrupt(String),
}

impl SolicitationError {
    /// A validation error about one field.
    pub fn field(field: &str, message: impl Into<String>) -> Self {
        let mut v = ValidationErrors::new();
        v.add(field, message);
        SolicitationError::Invalid(v)
    }
}

impl Classify for SolicitationError {
    fn kind(&self) -> ErrorKind {
        match self {
            SolicitationError::NotFound(_)
            | SolicitationError::OfficeNotFound(_)
            | SolicitationError::AttachmentNotFound(_) => ErrorKind::NotFound,
            SolicitationError::Invalid(_) => ErrorKind::Validation,
            SolicitationError::IllegalTransition { .. }
            | SolicitationError::NotEditable { .. }
            | SolicitationError::DuplicateNumber(_)
            | SolicitationError::StaleVersion { .. } => ErrorKind::Conflict,
            SolicitationError::Database(e) if granary_core::error::is_constraint_violation(e) => ErrorKind::Conflict,
            SolicitationError::Database(_) | SolicitationError::Corrupt(_) => ErrorKind::Internal,
        }
    }

    fn field_errors(&self) -> &[FieldError] {
        match self {
            SolicitationError::Invalid(v) => &v.0,
            _ => &[],
        }
    }
}

impl From<ValidationErrors> for SolicitationError {
    fn from(v: ValidationErrors) -> Self {
        SolicitationError::Invalid(v)
    }
}
