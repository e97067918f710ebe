//! Parse-don't-validate value types for identity data. Each constructor trims what a person
//! typed, normalises it (case, punctuation) and refuses anything malformed with a message the
//! person can act on; a value that exists is valid.

mod county_fips;
mod ein;
mod email;
mod password;
mod state_code;
mod uei;

pub use county_fips::CountyFips;
pub use ein::Ein;
pub use email::EmailAddress;
pub use password::Password;
pub use state_code::StateCode;
pub use uei::Uei;

/// Why a text is not a valid value, in words for the person who typed it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidValue(pub String);

impl InvalidValue {
    pub(crate) fn new(message: impl Into<String>) -> Self {
        InvalidValue(message.into())
    }
}

/// Implements `Display`, `FromStr`, `AsRef<str>`, and string (de)serialisation through
/// `parse`, for a value type that wraps a normalised `String`.
macro_rules! string_value {
    ($name:ident) => {
        impl $name {
            /// The normalised text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl std::str::FromStr for $name {
            type Err = $crate::values::InvalidValue;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(s)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.0)
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                Self::parse(&s).map_err(serde::de::Error::custom)
            }
        }
    };
}
pub(crate) use string_value;
