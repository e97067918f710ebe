//! The solicitation tables.

pub mod attachment;
pub mod office;
pub mod solicitation;
pub mod version;
