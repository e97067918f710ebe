//! Granary's document store: grant application documents and solicitation attachments.
//!
//! Everything goes through the [`DocumentStore`] trait, which streams bodies in and out
//! (nothing holds a whole document in memory), checks a size limit while writing, and
//! records each object's size, SHA-256 and content type. Two backends implement it:
//!
//! - [`LocalStore`] (the default): files under a root directory, written atomically.
//! - [`S3Store`]: any S3-compatible service, through `aws-sdk-s3`.
//!
//! Keys are validated [`DocumentKey`]s: relative, `/`-separated, plain ASCII segments.

mod error;
pub mod format;
mod hashing;
mod key;
mod local;
mod s3;
mod store;
#[cfg(feature = "testing")]
pub mod testing;

pub use error::DocumentError;
pub use key::DocumentKey;
pub use local::LocalStore;
pub use s3::{S3Settings, S3Store};
pub use store::{ByteReader, DocumentStore, ObjectMeta};
