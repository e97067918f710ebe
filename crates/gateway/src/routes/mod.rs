//! The gateway's routes: public pages, the JSON API, the CommonGrants protocol, health.

pub mod account;
pub mod api;
pub mod applications;
pub mod apply;
pub mod authoring;
pub mod common_grants;
pub mod health;
pub mod manage;
pub mod orgs;
pub mod package;
pub mod pages;
pub mod review_office;
pub mod reviewing;
pub mod search_params;
