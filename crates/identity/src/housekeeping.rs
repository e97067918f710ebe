//! Clearing out what has expired: sessions, one-time tokens, lapsed invitations, old sign-in
//! attempts, and delivered emails (whose bodies hold links). Run it now and then (a gateway
//! can on a timer); nothing depends on it for correctness, since every check also looks at
//! the times.

use chrono::{DateTime, Duration, Utc};
use granary_core::Actor;
use granary_core::audit::{self, AuditEvent};
use granary_core::db::begin_write;
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, TransactionSession, TransactionTrait,
};
use serde::Serialize;

use crate::entity::{email_outbox, invitation, one_time_token, session, sign_in_attempt};
use crate::error::Result;
use crate::outbox::MAX_ATTEMPTS;
use crate::sessions::SESSION_IDLE_TIMEOUT;

/// How long sign-in attempts are kept (well past the throttling window, for investigations).
pub const KEEP_SIGN_IN_ATTEMPTS: Duration = Duration::days(30);
/// How long a delivered email is kept.
pub const KEEP_SENT_EMAILS: Duration = Duration::days(7);
/// How long an email that could not be delivered is kept.
pub const KEEP_UNDELIVERABLE_EMAILS: Duration = Duration::days(30);

/// How many rows of each kind were removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Purged {
    pub sessions: u64,
    pub one_time_tokens: u64,
    pub invitations: u64,
    pub sign_in_attempts: u64,
    pub emails: u64,
}

impl Purged {
    pub fn total(&self) -> u64 {
        self.sessions + self.one_time_tokens + self.invitations + self.sign_in_attempts + self.emails
    }
}

/// Removes what has expired as of `now`, in one transaction, auditing the counts.
pub async fn purge_expired<C>(db: &C, now: DateTime<Utc>) -> Result<Purged>
where
    C: ConnectionTrait + TransactionTrait,
{
    let txn = begin_write(db).await?;
    let sessions = session::Entity::delete_many()
        .filter(
            Condition::any()
                .add(session::Column::ExpiresAt.lte(now))
                .add(session::Column::LastSeenAt.lte(now - SESSION_IDLE_TIMEOUT)),
        )
        .exec(&txn)
        .await?
        .rows_affected;
    let one_time_tokens = one_time_token::Entity::delete_many()
        .filter(
            Condition::any()
                .add(one_time_token::Column::ExpiresAt.lte(now))
                .add(one_time_token::Column::UsedAt.is_not_null()),
        )
        .exec(&txn)
        .await?
        .rows_affected;
    let invitations = invitation::Entity::delete_many()
        .filter(invitation::Column::AcceptedAt.is_null())
        .filter(invitation::Column::ExpiresAt.lte(now))
        .exec(&txn)
        .await?
        .rows_affected;
    let sign_in_attempts = sign_in_attempt::Entity::delete_many()
        .filter(sign_in_attempt::Column::At.lte(now - KEEP_SIGN_IN_ATTEMPTS))
        .exec(&txn)
        .await?
        .rows_affected;
    let emails = email_outbox::Entity::delete_many()
        .filter(
            Condition::any()
                .add(email_outbox::Column::SentAt.lte(now - KEEP_SENT_EMAILS))
                .add(
                    Condition::all()
                        .add(email_outbox::Column::SentAt.is_null())
                        .add(email_outbox::Column::Attempts.gte(MAX_ATTEMPTS))
                        .add(email_outbox::Column::CreatedAt.lte(now - KEEP_UNDELIVERABLE_EMAILS)),
                ),
        )
        .exec(&txn)
        .await?
        .rows_affected;
    let purged = Purged {
        sessions,
        one_time_tokens,
        invitations,
        sign_in_attempts,
        emails,
    };
    if purged.total() > 0 {
        audit::record(
            &txn,
            &Actor::System,
            AuditEvent::new("identity.purged", "identity", "expired").after(&purged),
            now,
        )
        .await?;
    }
    txn.commit().await?;
    Ok(purged)
}
