//! The identity tables, as sea-orm entities. Only the service modules use them; callers see
//! the domain types, which carry no password or token hashes.

pub mod api_token;
pub mod email_outbox;
pub mod invitation;
pub mod membership;
pub mod one_time_token;
pub mod organization;
pub mod session;
pub mod sign_in_attempt;
pub mod user;
