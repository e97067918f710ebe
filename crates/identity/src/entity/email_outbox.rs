//! The `email_outbox` table: emails written in a transaction, sent after it commits.

use sea_orm::entity::prelude::*;

#[derive(Clone, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "email_outbox")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub to_address: String,
    pub subject: String,
    /// May hold a sign-in or reset link: never logged.
    pub body_text: String,
    pub created_at: DateTimeUtc,
    /// When a sender may next try (claims and retry back-off move it forward).
    pub next_attempt_at: DateTimeUtc,
    pub sent_at: Option<DateTimeUtc>,
    pub attempts: i32,
    pub last_error: Option<String>,
}

impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmailOutbox")
            .field("id", &self.id)
            .field("to_address", &self.to_address)
            .field("subject", &self.subject)
            .field("body_text", &"[redacted]")
            .field("sent_at", &self.sent_at)
            .field("attempts", &self.attempts)
            .finish()
    }
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
