//! A new password, as chosen by a person.

use super::InvalidValue;

/// A password someone chose: 12 to 256 characters, not one character repeated. Its `Debug`
/// prints `[redacted]` and it has no `Display`, so it cannot end up in a log or the audit log
/// by accident; `expose` hands out the text for hashing.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl Password {
    pub const MIN_CHARS: usize = 12;
    pub const MAX_CHARS: usize = 256;

    /// Checks a new password. Nothing is trimmed: spaces are part of a passphrase.
    pub fn new(s: impl Into<String>) -> Result<Self, InvalidValue> {
        let s = s.into();
        let n = s.chars().count();
        if n < Self::MIN_CHARS {
            return Err(InvalidValue::new(format!(
                "use at least {} characters; a few ordinary words in a row make a good one",
                Self::MIN_CHARS
            )));
        }
        if n > Self::MAX_CHARS {
            return Err(InvalidValue::new(format!("use at most {} characters", Self::MAX_CHARS)));
        }
        let mut chars = s.chars();
        let first = chars.next();
        if chars.all(|c| Some(c) == first) {
            return Err(InvalidValue::new("a password cannot be one character repeated"));
        }
        Ok(Password(s))
    }

    /// The text, for hashing. Never log or store it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[redacted]")
    }
}

impl std::str::FromStr for Password {
    type Err = InvalidValue;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Password::new(s)
    }
}

#[cfg(test)]
mod tests {
    use super::Password;

    #[test]
    fn length_and_repetition() {
        assert!(Password::new("correct horse battery").is_ok());
        assert!(Password::new("  twelve  ch ").is_ok(), "spaces count");
        assert!(Password::new("short").unwrap_err().0.contains("12"));
        assert!(Password::new("x".repeat(257)).unwrap_err().0.contains("256"));
        assert!(Password::new("x".repeat(256)).is_err(), "one character repeated");
        assert!(Password::new("aaaaaaaaaaaaaaaa").unwrap_err().0.contains("repeated"));
        // Counted in characters, not bytes.
        assert!(Password::new("ééééééé").is_err());
        assert!(Password::new("éééééééééééa").is_ok());
    }

    #[test]
    fn debug_hides_the_text() {
        let p = Password::new("correct horse battery").unwrap();
        assert_eq!(format!("{p:?}"), "[redacted]");
        assert_eq!(format!("{:?}", Some(p.clone())), "Some([redacted])");
        assert_eq!(p.expose(), "correct horse battery");
    }
}
