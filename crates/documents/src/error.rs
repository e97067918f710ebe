//! The one error type of the document store.

/// What can go wrong when storing or reading a document.
///
/// Messages are meant for people and logs: they never carry credentials.
#[derive(Debug, thiserror::Error)]
pub enum DocumentError {
    /// No document is stored under this key.
    #[error("document {key} not found")]
    NotFound { key: String },

    /// The body is larger than the store accepts; nothing was stored.
    #[error("document is larger than the limit of {limit} bytes")]
    TooLarge { limit: u64 },

    /// The key is not a valid document key (or cannot be used in this store).
    #[error("invalid document key {key:?}: {reason}")]
    InvalidKey { key: String, reason: &'static str },

    /// The store could not be reached or failed (I/O, network, S3 service errors,
    /// invalid settings, or a failing body stream).
    #[error("document store unavailable: {reason}")]
    Unavailable { reason: String },
}

impl DocumentError {
    /// An [`DocumentError::Unavailable`] with the given human-readable reason.
    pub fn unavailable(reason: impl Into<String>) -> Self {
        Self::Unavailable { reason: reason.into() }
    }

    /// True for [`DocumentError::NotFound`].
    pub fn is_not_found(&self) -> bool {
        matches!(self, Self::NotFound { .. })
    }

    /// True for [`DocumentError::TooLarge`].
    pub fn is_too_large(&self) -> bool {
        matches!(self, Self::TooLarge { .. })
    }

    /// True for [`DocumentError::Unavailable`].
    pub fn is_unavailable(&self) -> bool {
        matches!(self, Self::Unavailable { .. })
    }

    pub(crate) fn io(context: impl std::fmt::Display, err: &std::io::Error) -> Self {
        Self::unavailable(format!("{context}: {err}"))
    }

    /// The error for a failing body stream during `put`.
    pub(crate) fn body(err: &std::io::Error) -> Self {
        Self::unavailable(format!("reading the document body failed: {err}"))
    }
}
