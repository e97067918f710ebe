//! An employer identification number.

use super::{InvalidValue, string_value};

/// An IRS employer identification number, kept as `NN-NNNNNNN`. Nine digits with no dash, or
/// with spaces, are accepted and normalised.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Ein(String);

string_value!(Ein);

impl Ein {
    pub fn parse(s: &str) -> Result<Self, InvalidValue> {
        let s = s.trim();
        let digits: String = s.chars().filter(|c| !c.is_whitespace()).collect();
        let bare: Option<&str> = if digits.len() == 10 && digits.as_bytes()[2] == b'-' {
            None
        } else if digits.len() == 9 {
            Some(&digits)
        } else {
            return Err(Self::wrong());
        };
        let nine: String = match bare {
            Some(d) => d.to_string(),
            None => format!("{}{}", &digits[..2], &digits[3..]),
        };
        if nine.len() != 9 || !nine.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Self::wrong());
        }
        Ok(Ein(format!("{}-{}", &nine[..2], &nine[2..])))
    }

    fn wrong() -> InvalidValue {
        InvalidValue::new("an EIN is nine digits written like 12-3456789")
    }
}

#[cfg(test)]
mod tests {
    use super::Ein;

    #[test]
    fn accepts_both_forms_and_normalises() {
        assert_eq!(Ein::parse("12-3456789").unwrap().as_str(), "12-3456789");
        assert_eq!(Ein::parse(" 123456789 ").unwrap().as_str(), "12-3456789");
        assert_eq!(Ein::parse("12 3456789").unwrap().as_str(), "12-3456789");
    }

    #[test]
    fn refuses_other_shapes() {
        for bad in [
            "",
            "1234567",
            "1234567890",
            "123-456789",
            "12-345678a",
            "ab-cdefghi",
            "12--456789",
            "١٢٣٤٥٦٧٨٩",
        ] {
            let err = Ein::parse(bad).unwrap_err();
            assert!(err.0.contains("12-3456789"), "{bad:?}");
        }
    }
}
