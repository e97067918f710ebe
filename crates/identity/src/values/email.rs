//! An email address, the key of a user account.

use super::{InvalidValue, string_value};

/// An email address, trimmed and lower-cased, so `Ana@Example.org` and `ana@example.org` are
/// the same account. Checks the shape people get wrong (one `@`, a local part, a domain with a
/// dot, no spaces, at most 254 characters); whether the mailbox exists is for the
/// verification email to find out.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EmailAddress(String);

string_value!(EmailAddress);

impl EmailAddress {
    /// The longest address SMTP can carry.
    pub const MAX_LEN: usize = 254;

    pub fn parse(s: &str) -> Result<Self, InvalidValue> {
        let s = s.trim();
        if s.is_empty() {
            return Err(InvalidValue::new("enter an email address"));
        }
        if s.chars().count() > Self::MAX_LEN {
            return Err(InvalidValue::new(format!(
                "an email address has at most {} characters",
                Self::MAX_LEN
            )));
        }
        if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(InvalidValue::new("an email address cannot contain spaces"));
        }
        let mut parts = s.split('@');
        let (Some(local), Some(domain), None) = (parts.next(), parts.next(), parts.next()) else {
            return Err(InvalidValue::new(
                "an email address has exactly one @, like name@example.org",
            ));
        };
        if local.is_empty() {
            return Err(InvalidValue::new("put your name before the @, like name@example.org"));
        }
        if local.chars().count() > 64 {
            return Err(InvalidValue::new("the part before the @ has at most 64 characters"));
        }
        let labels: Vec<&str> = domain.split('.').collect();
        if labels.len() < 2 || labels.iter().any(|l| l.is_empty()) {
            return Err(InvalidValue::new(
                "the part after the @ must be a domain such as example.org",
            ));
        }
        if labels.iter().any(|l| l.starts_with('-') || l.ends_with('-'))
            || domain.chars().any(|c| !(c.is_alphanumeric() || c == '-' || c == '.'))
        {
            return Err(InvalidValue::new(
                "the part after the @ must be a domain such as example.org",
            ));
        }
        Ok(EmailAddress(s.to_lowercase()))
    }

    /// The part after the `@`.
    pub fn domain(&self) -> &str {
        self.0.rsplit('@').next().unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::EmailAddress;

    #[test]
    fn trims_and_lowercases() {
        let e = EmailAddress::parse("  Ana.Lopez@Example.ORG ").unwrap();
        assert_eq!(e.as_str(), "ana.lopez@example.org");
        assert_eq!(e, EmailAddress::parse("ana.lopez@example.org").unwrap());
        assert_eq!(e.domain(), "example.org");
    }

    #[test]
    fn refuses_malformed_addresses_with_a_reason() {
        for (input, says) in [
            ("", "enter an email"),
            ("ana", "exactly one @"),
            ("ana@@example.org", "exactly one @"),
            ("a@b@example.org", "exactly one @"),
            ("@example.org", "before the @"),
            ("ana@example", "domain"),
            ("ana@.example.org", "domain"),
            ("ana@example..org", "domain"),
            ("ana@exa mple.org", "spaces"),
            ("ana lopez@example.org", "spaces"),
            ("ana@exa_mple.org", "domain"),
        ] {
            let err = EmailAddress::parse(input).unwrap_err();
            assert!(err.0.contains(says), "{input:?}: {err}");
        }
        let long = format!("{}@example.org", "a".repeat(250));
        assert!(EmailAddress::parse(&long).unwrap_err().0.contains("254"));
        let long_local = format!("{}@example.org", "a".repeat(65));
        assert!(EmailAddress::parse(&long_local).unwrap_err().0.contains("64"));
    }

    #[test]
    fn serde_parses() {
        let e: EmailAddress = serde_json::from_str("\"X@Y.ORG\"").unwrap();
        assert_eq!(serde_json::to_string(&e).unwrap(), "\"x@y.org\"");
        assert!(serde_json::from_str::<EmailAddress>("\"nope\"").is_err());
    }
}
