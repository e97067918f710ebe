//! US dollars, exact. Amounts are whole cents held in a `Decimal`; arithmetic never goes
//! through floating point, and any step that could produce fractions of a cent rounds
//! explicitly. In the database an amount is an integer number of cents (`BIGINT`), which is
//! exact on SQLite and PostgreSQL alike.

use std::fmt;
use std::iter::Sum;
use std::ops::{Add, Sub};
use std::str::FromStr;

use rust_decimal::prelude::ToPrimitive;
use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An amount of US dollars, exact to the cent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Money(Decimal);

/// Why a text or number is not an amount of money.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("is not an amount of dollars (expected something like 125000 or 1,250.50)")]
    NotANumber,
    #[error("has fractions of a cent; amounts are exact to the cent")]
    FractionOfCent,
    #[error("is too large")]
    TooLarge,
}

impl Money {
    pub const ZERO: Money = Money(Decimal::ZERO);
    /// The largest amount Granary handles: a trillion dollars, far above any grant.
    const MAX_CENTS: i64 = 100_000_000_000_000;

    /// An amount from whole cents.
    pub fn from_cents(cents: i64) -> Result<Self, MoneyError> {
        if cents.checked_abs().is_none_or(|c| c > Self::MAX_CENTS) {
            return Err(MoneyError::TooLarge);
        }
        Ok(Money(Decimal::new(cents, 2)))
    }

    /// An amount from whole dollars.
    pub fn from_dollars(dollars: i64) -> Result<Self, MoneyError> {
        dollars
            .checked_mul(100)
            .ok_or(MoneyError::TooLarge)
            .and_then(Self::from_cents)
    }

    /// An exact decimal amount; refuses fractions of a cent rather than rounding silently.
    pub fn from_decimal(d: Decimal) -> Result<Self, MoneyError> {
        let normalized = d.normalize();
        if normalized.scale() > 2 {
            return Err(MoneyError::FractionOfCent);
        }
        let cents = normalized
            .checked_mul(Decimal::ONE_HUNDRED)
            .and_then(|c| c.to_i64())
            .ok_or(MoneyError::TooLarge)?;
        Self::from_cents(cents)
    }

    /// A decimal rounded to the cent, half away from zero (the usual rule for currency).
    pub fn round_from(d: Decimal) -> Result<Self, MoneyError> {
        Self::from_decimal(d.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero))
    }

    /// The amount in whole cents, as stored in the database.
    pub fn cents(&self) -> i64 {
        // Every Money has at most two decimal places and |cents| <= MAX_CENTS, so this is exact.
        (self.0 * Decimal::ONE_HUNDRED).to_i64().unwrap_or_default()
    }

    pub fn as_decimal(&self) -> Decimal {
        self.0
    }

    pub fn is_zero(&self) -> bool {
        self.0.is_zero()
    }

    pub fn is_negative(&self) -> bool {
        self.0.is_sign_negative() && !self.0.is_zero()
    }

    pub fn checked_add(self, other: Money) -> Option<Money> {
        self.cents()
            .checked_add(other.cents())
            .and_then(|c| Money::from_cents(c).ok())
    }

    /// The plain decimal string with two places, as the CommonGrants protocol and the API use:
    /// `"1250.50"`.
    pub fn to_amount_string(&self) -> String {
        let mut d = self.0;
        d.rescale(2);
        d.to_string()
    }

    /// A human display: `$1,250.50`, or `$125,000` for whole dollars.
    pub fn display(&self) -> String {
        let cents = self.cents();
        let negative = cents < 0;
        let abs = cents.unsigned_abs();
        let dollars = abs / 100;
        let rem = abs % 100;
        let digits = dollars.to_string();
        let mut grouped = String::with_capacity(digits.len() + digits.len() / 3);
        for (i, ch) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                grouped.push(',');
            }
            grouped.push(ch);
        }
        let sign = if negative { "-" } else { "" };
        if rem == 0 {
            format!("{sign}${grouped}")
        } else {
            format!("{sign}${grouped}.{rem:02}")
        }
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.display())
    }
}

impl FromStr for Money {
    type Err = MoneyError;

    /// Accepts `125000`, `125000.5`, `$125,000.50` and surrounding spaces.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let cleaned: String = s
            .trim()
            .trim_start_matches('$')
            .chars()
            .filter(|c| *c != ',' && *c != '_')
            .collect();
        if cleaned.is_empty()
            || !cleaned
                .chars()
                .enumerate()
                .all(|(i, c)| c.is_ascii_digit() || c == '.' || (i == 0 && c == '-'))
        {
            return Err(MoneyError::NotANumber);
        }
        let d = Decimal::from_str(&cleaned).map_err(|_| MoneyError::NotANumber)?;
        Money::from_decimal(d)
    }
}

impl Add for Money {
    type Output = Money;
    /// Panics only beyond a trillion dollars; use `checked_add` for untrusted sums.
    fn add(self, rhs: Money) -> Money {
        self.checked_add(rhs).expect("money sum beyond the supported range")
    }
}

impl Sub for Money {
    type Output = Money;
    fn sub(self, rhs: Money) -> Money {
        Money::from_cents(self.cents() - rhs.cents()).expect("money difference beyond the supported range")
    }
}

impl Sum for Money {
    fn sum<I: Iterator<Item = Money>>(iter: I) -> Money {
        iter.fold(Money::ZERO, |a, b| a + b)
    }
}

impl Serialize for Money {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_amount_string())
    }
}

impl<'de> Deserialize<'de> for Money {
    /// Accepts a decimal string (`"1250.50"`) or a JSON number written with at most two
    /// decimals; numbers are read through their decimal text, never through `f64` arithmetic.
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Text(String),
            Int(i64),
            Number(serde_json::Number),
        }
        let text = match Raw::deserialize(d)? {
            Raw::Text(s) => s,
            Raw::Int(i) => i.to_string(),
            Raw::Number(n) => n.to_string(),
        };
        text.parse::<Money>()
            .map_err(|e| serde::de::Error::custom(format!("amount {text:?} {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn tenths_add_exactly() {
        let a: Money = "0.10".parse().unwrap();
        let b: Money = "0.20".parse().unwrap();
        assert_eq!((a + b).to_amount_string(), "0.30");
        assert_eq!((a + b).cents(), 30);
    }

    #[test]
    fn parses_human_amounts() {
        assert_eq!("$1,250.5".parse::<Money>().unwrap().cents(), 125_050);
        assert_eq!(" 125000 ".parse::<Money>().unwrap().cents(), 12_500_000);
        assert_eq!("-3.01".parse::<Money>().unwrap().cents(), -301);
    }

    #[test]
    fn rejects_bad_amounts() {
        assert_eq!("1.005".parse::<Money>(), Err(MoneyError::FractionOfCent));
        assert_eq!("abc".parse::<Money>(), Err(MoneyError::NotANumber));
        assert_eq!("".parse::<Money>(), Err(MoneyError::NotANumber));
        assert_eq!("1e5".parse::<Money>(), Err(MoneyError::NotANumber));
        assert_eq!("99999999999999999".parse::<Money>(), Err(MoneyError::TooLarge));
        // The largest decimals are refused, not a panic.
        assert_eq!(
            "79228162514264337593543950335".parse::<Money>(),
            Err(MoneyError::TooLarge)
        );
        assert_eq!(Money::from_decimal(Decimal::MAX), Err(MoneyError::TooLarge));
        assert_eq!(Money::round_from(Decimal::MIN), Err(MoneyError::TooLarge));
    }

    #[test]
    fn trailing_zeros_are_not_fractions_of_a_cent() {
        assert_eq!(Money::from_decimal(dec!(12.5000)).unwrap().cents(), 1250);
    }

    #[test]
    fn rounds_explicitly() {
        assert_eq!(Money::round_from(dec!(10.005)).unwrap().cents(), 1001);
        assert_eq!(Money::round_from(dec!(-10.005)).unwrap().cents(), -1001);
    }

    #[test]
    fn displays_for_people() {
        assert_eq!(Money::from_cents(125_000_000).unwrap().display(), "$1,250,000");
        assert_eq!(Money::from_cents(5).unwrap().display(), "$0.05");
        assert_eq!(Money::from_cents(-123_456).unwrap().display(), "-$1,234.56");
    }

    #[test]
    fn serde_uses_decimal_strings() {
        let m: Money = serde_json::from_str("\"1250.50\"").unwrap();
        assert_eq!(serde_json::to_string(&m).unwrap(), "\"1250.50\"");
        let n: Money = serde_json::from_str("0.1").unwrap();
        assert_eq!(n.cents(), 10);
        assert!(serde_json::from_str::<Money>("0.001").is_err());
    }
}
