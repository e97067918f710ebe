//! The scoring tables, and the columns of other crates' tables that scoring reads.

pub mod application;
pub mod conflict;
pub mod decision;
pub mod membership;
pub mod organization;
pub mod outcome;
pub mod pool_member;
pub mod review;
pub mod settings;
pub mod submission;
pub mod user;
