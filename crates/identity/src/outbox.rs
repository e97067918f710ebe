//! The email outbox. A service that sends email (an invitation, a reset link) writes it here
//! in its own transaction, so the email exists exactly when the change does; a sender
//! delivers it afterwards (`mail::deliver_pending`). A failed delivery is retried with
//! growing pauses (1, 2, 4, ... minutes, at most 6 hours apart), up to `MAX_ATTEMPTS` times.
//! Bodies often hold sign-in links: they are never logged or audited.

use chrono::{DateTime, Duration, Utc};
use granary_core::Actor;
use granary_core::audit::{self, AuditEvent};
use granary_core::db::{begin_write, execute_alone};
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, QueryTrait,
    TransactionSession, TransactionTrait,
};

use crate::entity::email_outbox;
use crate::error::{IdentityError, Result};
use crate::ids::EmailId;
use crate::{EmailAddress, stamp};

/// Deliveries tried before an email is given up on.
pub const MAX_ATTEMPTS: i32 = 10;
/// How long a sender that took an email has to deliver it before another may try.
pub const CLAIM_LEASE: Duration = Duration::minutes(5);

/// An email in the outbox. Its `Debug` leaves out the body.
#[derive(Clone, PartialEq, Eq)]
pub struct OutboxEmail {
    pub id: EmailId,
    pub to: String,
    pub subject: String,
    pub body_text: String,
    pub created_at: DateTime<Utc>,
    pub next_attempt_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
    pub attempts: i32,
    pub last_error: Option<String>,
}

impl std::fmt::Debug for OutboxEmail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OutboxEmail")
            .field("id", &self.id)
            .field("to", &self.to)
            .field("subject", &self.subject)
            .field("body_text", &"[redacted]")
            .field("sent_at", &self.sent_at)
            .field("attempts", &self.attempts)
            .field("last_error", &self.last_error)
            .finish()
    }
}

fn to_email(m: email_outbox::Model) -> OutboxEmail {
    OutboxEmail {
        id: EmailId(m.id),
        to: m.to_address,
        subject: m.subject,
        body_text: m.body_text,
        created_at: m.created_at,
        next_attempt_at: m.next_attempt_at,
        sent_at: m.sent_at,
        attempts: m.attempts,
        last_error: m.last_error,
    }
}

/// Puts an email in the outbox. The subject is one line of at most 300 characters.
pub async fn enqueue_email<C>(
    db: &C,
    to: &EmailAddress,
    subject: &str,
    body_text: &str,
    now: DateTime<Utc>,
) -> Result<EmailId>
where
    C: ConnectionTrait + TransactionTrait,
{
    let subject = subject.trim();
    if subject.is_empty() || subject.chars().count() > 300 || subject.chars().any(char::is_control) {
        return Err(IdentityError::field(
            "subject",
            "an email subject is one line of 1 to 300 characters",
        ));
    }
    let now = stamp(now);
    let id = EmailId::new();
    let txn = begin_write(db).await?;
    email_outbox::ActiveModel {
        id: Set(id.as_uuid()),
        to_address: Set(to.as_str().to_string()),
        subject: Set(subject.to_string()),
        body_text: Set(body_text.to_string()),
        created_at: Set(now),
        next_attempt_at: Set(now),
        sent_at: Set(None),
        attempts: Set(0),
        last_error: Set(None),
    }
    .insert(&txn)
    .await?;
    audit::record(
        &txn,
        &Actor::System,
        AuditEvent::new("email.queued", "email", id).after(&serde_json::json!({ "to": to, "subject": subject })),
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(id)
}

/// Emails due to be sent now, oldest first.
pub async fn pending_emails<C: ConnectionTrait>(db: &C, limit: u64, now: DateTime<Utc>) -> Result<Vec<OutboxEmail>> {
    Ok(email_outbox::Entity::find()
        .filter(email_outbox::Column::SentAt.is_null())
        .filter(email_outbox::Column::Attempts.lt(MAX_ATTEMPTS))
        .filter(email_outbox::Column::NextAttemptAt.lte(now))
        .order_by_asc(email_outbox::Column::CreatedAt)
        .limit(limit.clamp(1, 1000))
        .all(db)
        .await?
        .into_iter()
        .map(to_email)
        .collect())
}

/// One email by id.
pub async fn get_email<C: ConnectionTrait>(db: &C, id: EmailId) -> Result<OutboxEmail> {
    email_outbox::Entity::find_by_id(id.as_uuid())
        .one(db)
        .await?
        .map(to_email)
        .ok_or_else(|| IdentityError::not_found("email", id))
}

/// Takes a due email for delivery, so another gateway's sender does not send it too. Returns
/// false when someone else took it or it was sent meanwhile.
pub async fn claim_email<C>(db: &C, id: EmailId, now: DateTime<Utc>) -> Result<bool>
where
    C: ConnectionTrait + TransactionTrait,
{
    let claim = email_outbox::Entity::update_many()
        .col_expr(
            email_outbox::Column::NextAttemptAt,
            Expr::value(stamp(now + CLAIM_LEASE)),
        )
        .filter(email_outbox::Column::Id.eq(id.as_uuid()))
        .filter(email_outbox::Column::SentAt.is_null())
        .filter(email_outbox::Column::NextAttemptAt.lte(now))
        .build(db.get_database_backend());
    Ok(execute_alone(db, claim).await?.rows_affected() == 1)
}

/// Records that an email was delivered.
pub async fn mark_sent<C>(db: &C, id: EmailId, now: DateTime<Utc>) -> Result<()>
where
    C: ConnectionTrait + TransactionTrait,
{
    let sent = email_outbox::Entity::update_many()
        .col_expr(email_outbox::Column::SentAt, Expr::value(Some(stamp(now))))
        .col_expr(
            email_outbox::Column::Attempts,
            Expr::col(email_outbox::Column::Attempts).add(1),
        )
        .col_expr(email_outbox::Column::LastError, Expr::value(Option::<String>::None))
        .filter(email_outbox::Column::Id.eq(id.as_uuid()))
        .build(db.get_database_backend());
    execute_alone(db, sent).await?;
    Ok(())
}

/// Records a failed delivery and when to try again.
pub async fn mark_failed<C>(db: &C, id: EmailId, error: &str, now: DateTime<Utc>) -> Result<()>
where
    C: ConnectionTrait + TransactionTrait,
{
    let row = email_outbox::Entity::find_by_id(id.as_uuid())
        .one(db)
        .await?
        .ok_or_else(|| IdentityError::not_found("email", id))?;
    let attempts = row.attempts + 1;
    let pause = Duration::minutes(1i64 << attempts.clamp(1, 10).saturating_sub(1)).min(Duration::hours(6));
    let error: String = error.chars().take(2000).collect();
    let failed = email_outbox::Entity::update_many()
        .col_expr(email_outbox::Column::Attempts, Expr::value(attempts))
        .col_expr(email_outbox::Column::LastError, Expr::value(Some(error)))
        .col_expr(email_outbox::Column::NextAttemptAt, Expr::value(stamp(now + pause)))
        .filter(email_outbox::Column::Id.eq(id.as_uuid()))
        .build(db.get_database_backend());
    execute_alone(db, failed).await?;
    Ok(())
}
