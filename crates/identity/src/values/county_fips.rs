//! A county FIPS code.

use super::{InvalidValue, string_value};

/// A county's five-digit FIPS code (two digits of state, three of county), such as `11001`
/// for the District of Columbia. Used for priority considerations derived from county lists.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CountyFips(String);

string_value!(CountyFips);

impl CountyFips {
    pub fn parse(s: &str) -> Result<Self, InvalidValue> {
        let s = s.trim();
        if s.len() != 5 || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(InvalidValue::new("a county FIPS code is five digits, like 11001"));
        }
        Ok(CountyFips(s.to_string()))
    }

    /// The two-digit state part.
    pub fn state_part(&self) -> &str {
        &self.0[..2]
    }
}

#[cfg(test)]
mod tests {
    use super::CountyFips;

    #[test]
    fn five_digits() {
        let c = CountyFips::parse(" 11001 ").unwrap();
        assert_eq!((c.as_str(), c.state_part()), ("11001", "11"));
        for bad in ["", "1100", "110011", "1100a", "11 01", "١١٠٠١"] {
            assert!(CountyFips::parse(bad).unwrap_err().0.contains("five digits"), "{bad:?}");
        }
    }
}
