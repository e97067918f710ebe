//! A sender that hands each message to an SMTP server (lettre, rustls with ring).

use std::time::Duration;

use lettre::message::Mailbox;
use lettre::message::header::ContentType;
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use super::{MailError, MailSender, one_line};

/// A secret (an SMTP password) that never prints: its `Debug` shows `[redacted]`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Secret(s.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl From<String> for Secret {
    fn from(s: String) -> Self {
        Secret(s)
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[redacted]")
    }
}

/// Sends through an SMTP server: with `starttls`, the connection is upgraded to TLS before
/// anything else is said (and refused if the server cannot); without it, the connection
/// stays plain, which suits only a relay on the same machine or network.
#[derive(Clone)]
pub struct SmtpSender {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    host: String,
    port: u16,
}

impl std::fmt::Debug for SmtpSender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpSender")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("from", &self.from.to_string())
            .finish_non_exhaustive()
    }
}

impl SmtpSender {
    /// A sender for `host:port`, signing in with `username` and `password` when both are
    /// given, sending as `from` (`Granary <grants@example.org>` or a bare address).
    pub fn new(
        host: &str,
        port: u16,
        username: Option<String>,
        password: Option<Secret>,
        from: &str,
        starttls: bool,
    ) -> Result<Self, MailError> {
        let from: Mailbox = from
            .parse()
            .map_err(|e| MailError::Address(format!("sender {from:?}: {e}")))?;
        let mut builder = if starttls {
            AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(host).map_err(|e| MailError::Smtp(e.to_string()))?
        } else {
            AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
        };
        builder = builder.port(port).timeout(Some(Duration::from_secs(30)));
        if let (Some(user), Some(password)) = (username, password) {
            builder = builder.credentials(Credentials::new(user, password.0));
        }
        Ok(SmtpSender {
            transport: builder.build(),
            from,
            host: host.to_string(),
            port,
        })
    }
}

#[async_trait::async_trait]
impl MailSender for SmtpSender {
    async fn send(&self, to: &str, subject: &str, body: &str) -> Result<(), MailError> {
        one_line("recipient", to)?;
        one_line("subject", subject)?;
        let to_box: Mailbox = to
            .parse()
            .map_err(|e| MailError::Address(format!("recipient {to:?}: {e}")))?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to_box)
            .subject(subject)
            .header(ContentType::TEXT_PLAIN)
            .body(body.to_string())
            .map_err(|e| MailError::Message(e.to_string()))?;
        self.transport
            .send(message)
            .await
            .map_err(|e| MailError::Smtp(e.to_string()))?;
        tracing::info!("email sent to {to}: {subject} (via {}:{})", self.host, self.port);
        Ok(())
    }
}
