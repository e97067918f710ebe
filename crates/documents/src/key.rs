//! Validated document keys.

use std::fmt;
use std::str::FromStr;

use crate::DocumentError;

/// A validated document key: relative, `/`-separated segments.
///
/// Rules: 1 to [`DocumentKey::MAX_LEN`] bytes; each segment non-empty, made only of ASCII
/// letters, digits, `.`, `_` and `-`, and neither `.` nor `..`. So there is no leading or
/// trailing `/`, no `//`, no backslash and no control or non-ASCII byte. A valid key is
/// a safe relative path on every backend.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct DocumentKey(String);

impl DocumentKey {
    /// The longest key accepted, in bytes.
    pub const MAX_LEN: usize = 512;

    /// Validates `key`, or says why it is not a document key.
    pub fn parse(key: &str) -> Result<Self, DocumentError> {
        match validate(key) {
            Ok(()) => Ok(Self(key.to_owned())),
            Err(reason) => Err(DocumentError::InvalidKey {
                key: key.to_owned(),
                reason,
            }),
        }
    }

    /// The key as a string.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The key's `/`-separated segments.
    pub fn segments(&self) -> impl Iterator<Item = &str> {
        self.0.split('/')
    }
}

fn validate(key: &str) -> Result<(), &'static str> {
    if key.is_empty() {
        return Err("key is empty");
    }
    if key.len() > DocumentKey::MAX_LEN {
        return Err("key is longer than 512 bytes");
    }
    if let Some(byte) = key.bytes().find(|b| !b.is_ascii() || b.is_ascii_control()) {
        return Err(if byte.is_ascii() {
            "key contains a control character"
        } else {
            "key contains a non-ASCII character"
        });
    }
    if key.contains('\\') {
        return Err("key contains a backslash");
    }
    if key.starts_with('/') {
        return Err("key starts with '/'");
    }
    if key.ends_with('/') {
        return Err("key ends with '/'");
    }
    if key.contains("//") {
        return Err("key contains an empty segment ('//')");
    }
    for segment in key.split('/') {
        if segment == "." || segment == ".." {
            return Err("key contains a '.' or '..' segment");
        }
        if !segment
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
        {
            return Err("key segment contains a character other than A-Z, a-z, 0-9, '.', '_', '-'");
        }
    }
    Ok(())
}

impl fmt::Display for DocumentKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for DocumentKey {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl FromStr for DocumentKey {
    type Err = DocumentError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl TryFrom<String> for DocumentKey {
    type Error = DocumentError;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        match validate(&value) {
            Ok(()) => Ok(Self(value)),
            Err(reason) => Err(DocumentError::InvalidKey { key: value, reason }),
        }
    }
}

impl From<DocumentKey> for String {
    fn from(key: DocumentKey) -> Self {
        key.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reason(key: &str) -> &'static str {
        match DocumentKey::parse(key) {
            Err(DocumentError::InvalidKey { key: k, reason }) => {
                assert_eq!(k, key);
                reason
            }
            other => panic!("expected InvalidKey for {key:?}, got {other:?}"),
        }
    }

    #[test]
    fn accepts_valid_keys() {
        for key in [
            "a",
            "report.pdf",
            "applications/0192f0c4-aaaa/budget_v2.xlsx",
            "solicitations/42/attachments/RFP-2025.final.docx",
            "...",
            ".hidden",
            "a..b/c-d_e.F9",
            "x/y/z/w/v",
        ] {
            let parsed = DocumentKey::parse(key).unwrap_or_else(|e| panic!("{key:?}: {e}"));
            assert_eq!(parsed.as_str(), key);
            assert_eq!(parsed.to_string(), key);
            assert_eq!(key.parse::<DocumentKey>().unwrap(), parsed);
        }
        let longest = "a".repeat(DocumentKey::MAX_LEN);
        assert!(DocumentKey::parse(&longest).is_ok());
        let segmented = format!("{}/b", "a".repeat(DocumentKey::MAX_LEN - 2));
        assert!(DocumentKey::parse(&segmented).is_ok());
    }

    #[test]
    fn rejects_empty_and_too_long() {
        assert_eq!(reason(""), "key is empty");
        assert_eq!(
            reason(&"a".repeat(DocumentKey::MAX_LEN + 1)),
            "key is longer than 512 bytes"
        );
    }

    #[test]
    fn rejects_bad_slashes() {
        assert_eq!(reason("/a"), "key starts with '/'");
        assert_eq!(reason("/"), "key starts with '/'");
        assert_eq!(reason("a/"), "key ends with '/'");
        assert_eq!(reason("a//b"), "key contains an empty segment ('//')");
        assert_eq!(reason("a\\b"), "key contains a backslash");
        assert_eq!(reason("..\\etc"), "key contains a backslash");
    }

    #[test]
    fn rejects_dot_segments() {
        for key in [".", "..", "../etc/passwd", "a/../b", "a/.", "a/./b", "a/.."] {
            assert_eq!(reason(key), "key contains a '.' or '..' segment", "{key:?}");
        }
    }

    #[test]
    fn rejects_control_and_non_ascii() {
        assert_eq!(reason("a\0b"), "key contains a control character");
        assert_eq!(reason("a\nb"), "key contains a control character");
        assert_eq!(reason("a\u{7f}"), "key contains a control character");
        assert_eq!(reason("résumé.pdf"), "key contains a non-ASCII character");
        assert_eq!(reason("a\u{2215}b"), "key contains a non-ASCII character");
    }

    #[test]
    fn rejects_other_characters() {
        for key in [
            "a b", "a:b", "a*b", "a?b", "a%2Fb", "a+b", "a~b", "C:", "a\"b", "a#b", "a=b",
        ] {
            assert_eq!(
                reason(key),
                "key segment contains a character other than A-Z, a-z, 0-9, '.', '_', '-'",
                "{key:?}"
            );
        }
    }

    #[test]
    fn serde_validates() {
        let key: DocumentKey = serde_json::from_str("\"a/b.pdf\"").unwrap();
        assert_eq!(key.as_str(), "a/b.pdf");
        assert_eq!(serde_json::to_string(&key).unwrap(), "\"a/b.pdf\"");
        assert!(serde_json::from_str::<DocumentKey>("\"../x\"").is_err());
    }

    #[test]
    fn segments_split_on_slash() {
        let key = DocumentKey::parse("a/b/c.txt").unwrap();
        assert_eq!(key.segments().collect::<Vec<_>>(), ["a", "b", "c.txt"]);
    }
}
