//! The error kinds every domain crate maps its own errors into. The gateway turns each kind
//! into an HTTP status once: not found 404, forbidden 403, validation 422 with the fields,
//! conflict 409, unavailable 503, anything else 500.

use serde::Serialize;

/// What sort of failure an error is, independent of which crate raised it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    NotFound,
    Forbidden,
    Validation,
    Conflict,
    TooLarge,
    Unavailable,
    Internal,
}

/// Implemented by every domain error so the gateway can map it without knowing its crate.
pub trait Classify {
    fn kind(&self) -> ErrorKind;
    /// The field-level problems, for validation errors.
    fn field_errors(&self) -> &[FieldError] {
        &[]
    }
}

/// One problem with one input field, in words a user can act on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    /// The field's name as the form or JSON body spells it (`funding.award_ceiling`).
    pub field: String,
    pub message: String,
}

/// A set of field problems gathered while validating one input, so a form can show them all
/// at once rather than one per round trip.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct ValidationErrors(pub Vec<FieldError>);

impl ValidationErrors {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.push(FieldError {
            field: field.into(),
            message: message.into(),
        });
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    /// `Ok(())` when nothing was added, else the gathered errors.
    pub fn into_result(self) -> Result<(), ValidationErrors> {
        if self.0.is_empty() { Ok(()) } else { Err(self) }
    }
    pub fn for_field(&self, field: &str) -> Option<&str> {
        message_for(&self.0, field)
    }
}

impl std::fmt::Display for ValidationErrors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let parts: Vec<String> = self.0.iter().map(|e| format!("{}: {}", e.field, e.message)).collect();
        f.write_str(&parts.join("; "))
    }
}

impl std::error::Error for ValidationErrors {}

/// The message for one field among a list of field problems.
pub fn message_for<'a>(errors: &'a [FieldError], field: &str) -> Option<&'a str> {
    errors.iter().find(|e| e.field == field).map(|e| e.message.as_str())
}

/// Whether a database error is a uniqueness or foreign-key violation caused by the input (a
/// conflict the user can fix) rather than a fault.
pub fn is_constraint_violation(err: &sea_orm::DbErr) -> bool {
    matches!(
        err.sql_err(),
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) | Some(sea_orm::SqlErr::ForeignKeyConstraintViolation(_))
    )
}
