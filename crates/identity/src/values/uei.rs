//! A unique entity identifier (SAM.gov).

use super::{InvalidValue, string_value};

/// A SAM.gov unique entity identifier: 12 characters, capital letters and digits, not
/// starting with 0 and without the letters O and I (which read like 0 and 1). Lower-case
/// input is accepted and upper-cased.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Uei(String);

string_value!(Uei);

impl Uei {
    pub fn parse(s: &str) -> Result<Self, InvalidValue> {
        let s = s.trim().to_ascii_uppercase();
        if s.chars().count() != 12 {
            return Err(InvalidValue::new(
                "a UEI has 12 letters and digits, like J7M9HPTGJ1S9; find yours on SAM.gov",
            ));
        }
        if !s.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()) {
            return Err(InvalidValue::new("a UEI has only letters and digits"));
        }
        if s.starts_with('0') {
            return Err(InvalidValue::new("a UEI never starts with 0"));
        }
        if s.contains(['O', 'I']) {
            return Err(InvalidValue::new(
                "a UEI never contains the letters O or I; check for the digits 0 and 1",
            ));
        }
        Ok(Uei(s))
    }
}

#[cfg(test)]
mod tests {
    use super::Uei;

    #[test]
    fn accepts_and_uppercases() {
        assert_eq!(Uei::parse(" j7m9hptgj1s9 ").unwrap().as_str(), "J7M9HPTGJ1S9");
    }

    #[test]
    fn refuses_bad_ones() {
        for (bad, says) in [
            ("J7M9HPTGJ1S", "12"),
            ("J7M9HPTGJ1S99", "12"),
            ("J7M9-PTGJ1S9", "letters and digits"),
            ("07M9HPTGJ1S9", "starts with 0"),
            ("J7M9HOTGJ1S9", "O or I"),
            ("J7M9HITGJ1S9", "O or I"),
        ] {
            let err = Uei::parse(bad).unwrap_err();
            assert!(err.0.contains(says), "{bad:?}: {err}");
        }
    }
}
