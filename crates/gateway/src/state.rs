//! What every request handler shares: the database pool, the document store, the page
//! templates and the clock. The gateway keeps no other state, so several can run behind a
//! load balancer on one database and one store.

use std::sync::Arc;

use granary_core::time::SharedClock;
use granary_documents::DocumentStore;
use sea_orm::DatabaseConnection;

use crate::views::Views;

#[derive(Clone)]
pub struct AppState {
    pub db: DatabaseConnection,
    pub store: Arc<dyn DocumentStore>,
    pub views: Arc<Views>,
    pub clock: SharedClock,
    pub public_url: String,
    pub max_body_bytes: usize,
    /// Report the authorization policy's verdict in a response header, for tests only.
    pub expose_policy_verdict: bool,
    /// Where email goes: SMTP when configured, otherwise files in the data folder.
    pub mailer: Arc<dyn granary_identity::mail::MailSender>,
    /// Wakes the server's mail loop when email is queued. Without one (in tests), each queued
    /// email is delivered by a task of its own.
    pub postman: Option<Arc<tokio::sync::Notify>>,
}

impl AppState {
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.clock.now()
    }
}
