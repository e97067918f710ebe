//! A sender that writes each message to a folder as an `.eml` file, for development and
//! tests: open the file to follow a link.

use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::Utc;
use tokio::io::AsyncWriteExt;

use super::{MailError, MailSender, one_line};

/// Writes each message to `<dir>/<timestamp>-<id>.eml` (the folder is made if missing; files
/// are readable by their owner only) and logs only who it is for, its subject and the file.
#[derive(Debug, Clone)]
pub struct FileSender {
    dir: PathBuf,
    from: String,
}

impl FileSender {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        FileSender {
            dir: dir.into(),
            from: "Granary <granary@localhost>".to_string(),
        }
    }

    /// The folder messages are written to.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

/// A header value, RFC 2047-encoded when it is not plain ASCII.
fn header_text(s: &str) -> String {
    if s.is_ascii() {
        s.to_string()
    } else {
        format!("=?utf-8?B?{}?=", STANDARD.encode(s.as_bytes()))
    }
}

#[async_trait::async_trait]
impl MailSender for FileSender {
    async fn send(&self, to: &str, subject: &str, body: &str) -> Result<(), MailError> {
        one_line("recipient", to)?;
        one_line("subject", subject)?;
        let now = Utc::now();
        let id = uuid::Uuid::now_v7().simple().to_string();
        let name = format!("{}-{id}.eml", now.format("%Y%m%dT%H%M%S%.6fZ"));
        let message = format!(
            "From: {}\r\nTo: {to}\r\nSubject: {}\r\nDate: {}\r\nMessage-ID: <{id}@granary.localhost>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n{}\r\n",
            self.from,
            header_text(subject),
            now.to_rfc2822(),
            body.replace("\r\n", "\n").replace('\n', "\r\n"),
        );
        tokio::fs::create_dir_all(&self.dir).await?;
        let path = self.dir.join(&name);
        let tmp = self.dir.join(format!(".{name}.tmp"));
        let mut opts = tokio::fs::OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        opts.mode(0o600);
        let mut file = opts.open(&tmp).await?;
        file.write_all(message.as_bytes()).await?;
        file.sync_all().await?;
        drop(file);
        tokio::fs::rename(&tmp, &path).await?;
        tracing::info!("email queued for {to}: {subject} (written to {})", path.display());
        Ok(())
    }
}
