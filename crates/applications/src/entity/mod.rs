//! The application tables.

pub mod application;
pub mod document;
pub mod extension;
pub mod organization;
pub mod submission;
pub mod version;
