//! What can go wrong with an application, in the words of the people who use it.

use chrono::{DateTime, Utc};
use granary_core::ValidationErrors;
use granary_core::error::{Classify, ErrorKind, FieldError};
use granary_solicitations::SolicitationError;

use crate::model::{Application, ApplicationStatus};

#[derive(Debug, thiserror::Error)]
pub enum ApplicationError {
    #[error("no application {0}")]
    NotFound(String),
    #[error("no submission {0}")]
    SubmissionNotFound(String),
    #[error("no document {0} on this application")]
    DocumentNotFound(String),
    #[error("this solicitation is not accepting applications ({0})")]
    NotAccepting(String),
    #[error("this application is {status}; withdraw it to make changes")]
    NotEditable { status: ApplicationStatus },
    #[error("this application is {status}, so it cannot be {action}")]
    WrongStatus {
        status: ApplicationStatus,
        action: &'static str,
    },
    /// Someone saved the draft after the version this save started from.
    #[error("someone else saved this application (now version {}) after you opened it", current.version)]
    VersionConflict {
        current: Box<Application>,
        /// The version the save started from, when it is still kept: the base of a
        /// three-way merge.
        base: Option<Box<crate::model::ApplicationContent>>,
    },
    #[error("the application is not complete: {0}")]
    Incomplete(ValidationErrors),
    #[error("the deadline was {shown}; submissions are no longer accepted")]
    DeadlinePassed { deadline: DateTime<Utc>, shown: String },
    #[error("{0}")]
    Invalid(ValidationErrors),
    #[error(transparent)]
    Solicitation(#[from] SolicitationError),
    #[error("database error: {0}")]
    Database(#[from] sea_orm::DbErr),
    #[error("stored application data is unreadable: {0}")]
    Corrupt(String),
}

impl ApplicationError {
    /// A validation error about one field.
    pub fn field(field: &str, message: impl Into<String>) -> Self {
        let mut v = ValidationErrors::new();
        v.add(field, message);
        ApplicationError::Invalid(v)
    }
}

impl Classify for ApplicationError {
    fn kind(&self) -> ErrorKind {
        match self {
            ApplicationError::NotFound(_)
            | ApplicationError::SubmissionNotFound(_)
            | ApplicationError::DocumentNotFound(_) => ErrorKind::NotFound,
            ApplicationError::Invalid(_) | ApplicationError::Incomplete(_) => ErrorKind::Validation,
            ApplicationError::NotAccepting(_)
            | ApplicationError::NotEditable { .. }
            | ApplicationError::WrongStatus { .. }
            | ApplicationError::VersionConflict { .. }
            | ApplicationError::DeadlinePassed { .. } => ErrorKind::Conflict,
            ApplicationError::Solicitation(e) => e.kind(),
            ApplicationError::Database(e) if granary_core::error::is_constraint_violation(e) => ErrorKind::Conflict,
            ApplicationError::Database(_) | ApplicationError::Corrupt(_) => ErrorKind::Internal,
        }
    }

    fn field_errors(&self) -> &[FieldError] {
        match self {
            ApplicationError::Invalid(v) | ApplicationError::Incomplete(v) => &v.0,
            ApplicationError::Solicitation(e) => e.field_errors(),
            _ => &[],
        }
    }
}

pub type Result<T> = std::result::Result<T, ApplicationError>;
