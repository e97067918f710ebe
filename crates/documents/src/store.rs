//! The document store trait and the metadata it returns.

use std::pin::Pin;

use crate::{DocumentError, DocumentKey};

/// A streaming body: what `put` reads from and what `get` returns.
pub type ByteReader = Pin<Box<dyn tokio::io::AsyncRead + Send>>;

/// What the store knows about one stored document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectMeta {
    pub key: DocumentKey,
    /// Size in bytes.
    pub size: u64,
    /// SHA-256 of the content, lowercase hex. Empty only for an S3 object that was not
    /// written through this crate (and so carries no `sha256` metadata).
    pub sha256: String,
    /// As given to `put`. (An S3 service may report its own default, such as
    /// `binary/octet-stream`, for a document stored without one.)
    pub content_type: Option<String>,
}

/// A place to keep documents. Implemented by [`crate::LocalStore`] and [`crate::S3Store`].
#[async_trait::async_trait]
pub trait DocumentStore: Send + Sync + 'static {
    /// Streams `body` into the store under `key` (replacing any existing object), never
    /// holding the whole body in memory; computes size and SHA-256 on the way; refuses
    /// bodies over [`DocumentStore::max_size`] with [`DocumentError::TooLarge`]. When `put`
    /// fails (too large, a failing `body`, which gives [`DocumentError::Unavailable`], or
    /// a store error) nothing partial is visible: a new key stays missing and an existing
    /// document stays as it was.
    async fn put(
        &self,
        key: &DocumentKey,
        body: ByteReader,
        content_type: Option<&str>,
    ) -> Result<ObjectMeta, DocumentError>;

    /// The document's metadata and a streaming reader of its content.
    async fn get(&self, key: &DocumentKey) -> Result<(ObjectMeta, ByteReader), DocumentError>;

    /// The document's metadata.
    async fn head(&self, key: &DocumentKey) -> Result<ObjectMeta, DocumentError>;

    /// Removes the document; deleting a missing key is `Ok`.
    async fn delete(&self, key: &DocumentKey) -> Result<(), DocumentError>;

    /// A cheap reachability check for health endpoints.
    async fn check(&self) -> Result<(), DocumentError>;

    /// The largest body `put` accepts, in bytes.
    fn max_size(&self) -> u64;

    /// A human-readable description of the store (never includes secrets).
    fn describe(&self) -> String;
}
