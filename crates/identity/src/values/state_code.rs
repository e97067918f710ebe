//! A US state, territory or DC postal code.

use super::{InvalidValue, string_value};

/// The postal codes Granary accepts: the 50 states, the District of Columbia, the five
/// inhabited territories, and the three freely associated states that receive US grants.
const CODES: [&str; 59] = [
    "AL", "AK", "AZ", "AR", "CA", "CO", "CT", "DE", "FL", "GA", "HI", "ID", "IL", "IN", "IA", "KS", "KY", "LA", "ME",
    "MD", "MA", "MI", "MN", "MS", "MO", "MT", "NE", "NV", "NH", "NJ", "NM", "NY", "NC", "ND", "OH", "OK", "OR", "PA",
    "RI", "SC", "SD", "TN", "TX", "UT", "VT", "VA", "WA", "WV", "WI", "WY", "DC", "AS", "GU", "MP", "PR", "VI", "FM",
    "MH", "PW",
];

/// A two-letter US postal code of a state, territory or DC (`DC`, `MD`, `PR`). Lower-case
/// input is accepted and upper-cased.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct StateCode(String);

string_value!(StateCode);

impl StateCode {
    pub fn parse(s: &str) -> Result<Self, InvalidValue> {
        let s = s.trim().to_ascii_uppercase();
        if s.len() != 2 || !s.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(InvalidValue::new("use the two-letter postal code, like DC or MD"));
        }
        if !CODES.contains(&s.as_str()) {
            return Err(InvalidValue::new(format!(
                "{s} is not a US state, territory or DC postal code"
            )));
        }
        Ok(StateCode(s))
    }
}

#[cfg(test)]
mod tests {
    use super::{CODES, StateCode};

    #[test]
    fn known_codes_only() {
        assert_eq!(StateCode::parse(" dc ").unwrap().as_str(), "DC");
        assert_eq!(StateCode::parse("PR").unwrap().as_str(), "PR");
        assert!(StateCode::parse("XX").unwrap_err().0.contains("not a US state"));
        assert!(StateCode::parse("D").unwrap_err().0.contains("two-letter"));
        assert!(StateCode::parse("D1").unwrap_err().0.contains("two-letter"));
        assert!(StateCode::parse("Maryland").unwrap_err().0.contains("two-letter"));
        let mut sorted = CODES.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), CODES.len(), "no duplicates");
    }
}
