//! The `granary` gateway: configuration, the command line, and the axum application that
//! serves the HTML pages and the JSON API over the domain crates.

pub mod app;
pub mod auth;
pub mod cli;
pub mod config;
pub mod csrf;
pub mod error;
pub mod routes;
pub mod seed;
pub mod session;
pub mod state;
pub mod view_models;
pub mod views;

pub use app::router;
pub use state::AppState;
