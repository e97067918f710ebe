//! The pure algorithms of scoring, each in its own file, free of storage and HTTP.

pub mod aggregate;
pub mod assignment;
pub mod calibration;
pub mod funding;
pub mod lottery;
pub mod priority;
pub mod ranking;
pub mod sensitivity;
