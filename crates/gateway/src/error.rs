//! The one place where errors become responses. Each kind maps once: not found 404,
//! forbidden 403, validation 422 with the fields, conflict 409, too large 413, unavailable
//! 503, anything else 500 (logged with the request id, shown without internals). API paths
//! answer with the CommonGrants error body `{status, message, errors}`; pages with an HTML
//! page.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use granary_core::error::{Classify, ErrorKind, FieldError};
use granary_documents::DocumentError;
use granary_solicitations::SolicitationError;
use serde::Serialize;

/// An error on its way to becoming a response.
#[derive(Debug)]
pub struct AppError {
    pub status: StatusCode,
    pub message: String,
    pub fields: Vec<FieldError>,
    /// For 500s: what is logged (never shown).
    pub internal: Option<String>,
}

impl AppError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        AppError {
            status,
            message: message.into(),
            fields: Vec::new(),
            internal: None,
        }
    }

    pub fn not_found(what: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, what)
    }

    /// The action needs a signed-in user (pages redirect to the sign-in page).
    pub fn sign_in_required() -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "Please sign in to continue.")
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    /// A request whose fields are wrong, each with its reason.
    pub fn invalid(status: StatusCode, fields: Vec<FieldError>) -> Self {
        let message = if fields.len() == 1 {
            format!("{}: {}", fields[0].field, fields[0].message)
        } else {
            format!("{} fields need attention", fields.len())
        };
        AppError {
            status,
            message,
            fields,
            internal: None,
        }
    }

    pub fn internal(detail: impl Into<String>) -> Self {
        AppError {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            message: "Something went wrong on our side. Nothing you did caused it; please try again.".into(),
            fields: Vec::new(),
            internal: Some(detail.into()),
        }
    }

    pub(crate) fn from_kind(kind: ErrorKind, message: String, fields: &[FieldError]) -> Self {
        let status = match kind {
            ErrorKind::NotFound => StatusCode::NOT_FOUND,
            ErrorKind::Forbidden => StatusCode::FORBIDDEN,
            ErrorKind::Validation => StatusCode::UNPROCESSABLE_ENTITY,
            ErrorKind::Conflict => StatusCode::CONFLICT,
            ErrorKind::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ErrorKind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            ErrorKind::Internal => return AppError::internal(message),
        };
        if kind == ErrorKind::Validation && !fields.is_empty() {
            return AppError::invalid(status, fields.to_vec());
        }
        AppError::new(status, message)
    }
}

impl From<SolicitationError> for AppError {
    fn from(e: SolicitationError) -> Self {
        AppError::from_kind(e.kind(), e.to_string(), e.field_errors())
    }
}

impl From<granary_identity::IdentityError> for AppError {
    fn from(e: granary_identity::IdentityError) -> Self {
        AppError::from_kind(e.kind(), e.to_string(), e.field_errors())
    }
}

impl From<DocumentError> for AppError {
    fn from(e: DocumentError) -> Self {
        match &e {
            DocumentError::NotFound { .. } => AppError::not_found("that document is not in the store"),
            DocumentError::TooLarge { limit } => AppError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("the file is larger than the limit of {limit} bytes"),
            ),
            DocumentError::InvalidKey { .. } => AppError::internal(e.to_string()),
            DocumentError::Unavailable { .. } => {
                let mut a = AppError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "The document store is not reachable right now; please try again shortly.",
                );
                a.internal = Some(e.to_string());
                a
            }
        }
    }
}

impl From<sea_orm::DbErr> for AppError {
    fn from(e: sea_orm::DbErr) -> Self {
        if granary_core::error::is_constraint_violation(&e) {
            return AppError::new(StatusCode::CONFLICT, "that conflicts with existing data");
        }
        AppError::internal(e.to_string())
    }
}

/// The JSON error body, as the CommonGrants protocol defines it.
#[derive(Serialize)]
pub struct ErrorBody<'a> {
    pub status: u16,
    pub message: &'a str,
    pub errors: Vec<serde_json::Value>,
}

/// Marks a response as failed, so the error layer can render it for the right audience.
#[derive(Clone)]
pub struct RenderedError {
    pub status: StatusCode,
    pub message: String,
    pub fields: Vec<FieldError>,
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        if let Some(detail) = &self.internal {
            tracing::error!(status = self.status.as_u16(), detail = %detail, "request failed");
        }
        // The body is produced by the `render_errors` middleware, which knows whether the
        // request wanted JSON or a page; this response only carries the error.
        let mut resp = self.status.into_response();
        resp.extensions_mut().insert(RenderedError {
            status: self.status,
            message: self.message,
            fields: self.fields,
        });
        resp
    }
}

pub type AppResult<T> = Result<T, AppError>;
