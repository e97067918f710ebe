//! Sending email: a `MailSender` trait with a file sender (each message written to a folder,
//! for development and tests) and an SMTP sender, and `deliver_pending`, which sends what the
//! outbox holds. Nothing here logs a message body: bodies hold sign-in and reset links.

mod file;
mod smtp;

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, TransactionTrait};

pub use file::FileSender;
pub use smtp::{Secret, SmtpSender};

use crate::error::Result;
use crate::outbox;

/// Why an email could not be sent.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("the recipient or sender address is not usable: {0}")]
    Address(String),
    #[error("the message could not be built: {0}")]
    Message(String),
    #[error("writing the message failed: {0}")]
    Io(#[from] std::io::Error),
    #[error("the mail server refused or failed: {0}")]
    Smtp(String),
}

/// Something that delivers plain-text email.
#[async_trait::async_trait]
pub trait MailSender: Send + Sync {
    async fn send(&self, to: &str, subject: &str, body: &str) -> std::result::Result<(), MailError>;
}

/// Sends every email that is due, one at a time, marking each sent or failed. Returns how
/// many were sent.
pub async fn deliver_pending<C>(db: &C, sender: &dyn MailSender, now: DateTime<Utc>) -> Result<usize>
where
    C: ConnectionTrait + TransactionTrait,
{
    let mut sent = 0;
    for email in outbox::pending_emails(db, 100, now).await? {
        if !outbox::claim_email(db, email.id, now).await? {
            continue;
        }
        match sender.send(&email.to, &email.subject, &email.body_text).await {
            Ok(()) => {
                outbox::mark_sent(db, email.id, now).await?;
                sent += 1;
            }
            Err(e) => {
                tracing::warn!(email = %email.id, to = %email.to, error = %e, "email delivery failed; will retry");
                outbox::mark_failed(db, email.id, &e.to_string(), now).await?;
            }
        }
    }
    Ok(sent)
}

/// Refuses header text that could smuggle in other headers.
pub(crate) fn one_line(field: &str, s: &str) -> std::result::Result<(), MailError> {
    if s.contains(['\r', '\n']) {
        return Err(MailError::Message(format!("the {field} must be one line")));
    }
    Ok(())
}
