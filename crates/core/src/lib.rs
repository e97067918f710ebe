//! Granary's shared vocabulary, used by every domain crate and the gateway.
//!
//! Nothing here knows about HTTP or templates: ids, exact money, deadlines shown in a
//! solicitation's time zone, who is acting, the error kinds every crate maps into, the
//! hash-chained audit log, and how a database connection is opened.

pub mod actor;
pub mod audit;
pub mod db;
pub mod document_record;
pub mod error;
pub mod id;
pub mod money;
pub mod policy;
#[cfg(feature = "testing")]
pub mod testing;
pub mod time;

pub use actor::Actor;
pub use error::{ErrorKind, FieldError, ValidationErrors};
pub use money::Money;
