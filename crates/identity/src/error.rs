//! What can go wrong with accounts, organizations and credentials, in the words of the people
//! who use them.

use std::sync::LazyLock;

use granary_core::ValidationErrors;
use granary_core::error::{Classify, ErrorKind, FieldError};

#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    /// One or more fields are wrong; each is named.
    #[error("not valid: {0}")]
    Invalid(ValidationErrors),
    /// Another account already uses this email address.
    #[error("an account with this email address already exists")]
    DuplicateEmail,
    /// Another organization of the same kind already has this name.
    #[error("an organization of this kind named {0:?} already exists")]
    DuplicateOrganization(String),
    /// The user is already a member of the organization.
    #[error("this person is already a member of the organization")]
    AlreadyMember,
    /// Unknown email, wrong password or disabled account: deliberately the same error, so
    /// sign-in never tells whether an account exists.
    #[error("the email address or password is not right")]
    InvalidCredentials,
    /// Too many failed sign-ins for this address or from this network address.
    #[error("too many failed sign-in attempts; try again in {retry_after_seconds} seconds")]
    Throttled { retry_after_seconds: u64 },
    #[error("no {what} {id}")]
    NotFound { what: &'static str, id: String },
    /// The change would leave an organization without an owner.
    #[error("an organization needs at least one owner; make someone else an owner first")]
    LastOwner,
    /// A link or token that is unknown, used, expired, or for something else.
    #[error("this link is not valid any more; ask for a new one")]
    InvalidToken,
    /// An invitation sent to one address, accepted by an account with another.
    #[error("this invitation was sent to another email address; sign in with that address")]
    InvitationForAnotherEmail,
    #[error("database error: {0}")]
    Database(#[from] sea_orm::DbErr),
    #[error("stored identity data is unreadable: {0}")]
    Corrupt(String),
    /// Password hashing or the system's random numbers failed.
    #[error("a cryptographic operation failed: {0}")]
    Crypto(String),
}

impl IdentityError {
    /// A validation error about one field.
    pub fn field(field: &str, message: impl Into<String>) -> Self {
        let mut v = ValidationErrors::new();
        v.add(field, message);
        IdentityError::Invalid(v)
    }

    pub(crate) fn not_found(what: &'static str, id: impl ToString) -> Self {
        IdentityError::NotFound {
            what,
            id: id.to_string(),
        }
    }
}

fn one(field: &str, message: &str) -> Vec<FieldError> {
    vec![FieldError {
        field: field.to_string(),
        message: message.to_string(),
    }]
}

static DUPLICATE_EMAIL: LazyLock<Vec<FieldError>> = LazyLock::new(|| {
    one(
        "email",
        "an account with this email address already exists; sign in or reset the password",
    )
});
static DUPLICATE_ORGANIZATION: LazyLock<Vec<FieldError>> =
    LazyLock::new(|| one("name", "another organization of this kind already has this name"));
static INVALID_TOKEN: LazyLock<Vec<FieldError>> =
    LazyLock::new(|| one("token", "this link is not valid any more; ask for a new one"));

impl Classify for IdentityError {
    /// `Throttled` is a `Conflict`: the account (or network address) is in a state that
    /// refuses the request for now. The gateway should send `Retry-After` with
    /// `retry_after_seconds` (and may prefer 429 by matching the variant).
    /// `InvalidCredentials` and `InvitationForAnotherEmail` are `Forbidden`.
    fn kind(&self) -> ErrorKind {
        match self {
            IdentityError::Invalid(_) | IdentityError::InvalidToken => ErrorKind::Validation,
            IdentityError::DuplicateEmail
            | IdentityError::DuplicateOrganization(_)
            | IdentityError::AlreadyMember
            | IdentityError::LastOwner
            | IdentityError::Throttled { .. } => ErrorKind::Conflict,
            IdentityError::InvalidCredentials | IdentityError::InvitationForAnotherEmail => ErrorKind::Forbidden,
            IdentityError::NotFound { .. } => ErrorKind::NotFound,
            IdentityError::Database(e) if granary_core::error::is_constraint_violation(e) => ErrorKind::Conflict,
            IdentityError::Database(_) | IdentityError::Corrupt(_) | IdentityError::Crypto(_) => ErrorKind::Internal,
        }
    }

    fn field_errors(&self) -> &[FieldError] {
        match self {
            IdentityError::Invalid(v) => &v.0,
            IdentityError::DuplicateEmail => &DUPLICATE_EMAIL,
            IdentityError::DuplicateOrganization(_) => &DUPLICATE_ORGANIZATION,
            IdentityError::InvalidToken => &INVALID_TOKEN,
            _ => &[],
        }
    }
}

impl From<ValidationErrors> for IdentityError {
    fn from(v: ValidationErrors) -> Self {
        IdentityError::Invalid(v)
    }
}

pub(crate) type Result<T> = std::result::Result<T, IdentityError>;
