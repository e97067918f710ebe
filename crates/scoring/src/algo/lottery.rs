//! The seeded lottery that ends every tie the published rules leave open.
//!
//! How it works, in the words an applicant reads:
//!
//! 1. Before the ranking is drawn, the program office draws a *seed*: 32 random bytes from
//!    the operating system's random number generator. The seed is recorded (as 64 hexadecimal
//!    digits) in the decision record, so anyone can re-run the lottery and get the same result.
//! 2. Each application's *lottery key* is the SHA-256 hash of the seed followed by the 16 bytes
//!    of the application's id (its UUID in the usual byte order).
//! 3. Between two applications the rules cannot otherwise separate, the one with the lower
//!    key (comparing the 32 bytes of the hash as one big number) ranks first.
//!
//! Nobody can choose a key: the application id exists before the seed is drawn, and the hash
//! of a fresh random seed cannot be predicted or steered. The same seed and ids always give
//! the same keys, so the result can be checked afterwards.
//!
//! This module does not draw the seed itself (the algorithms here use no randomness of their
//! own); the caller draws it, for example with `getrandom::fill`, and stores it.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// How many bytes a seed holds.
pub const SEED_BYTES: usize = 32;

/// The recorded random seed of one lottery: 32 bytes, written as 64 hexadecimal digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct LotterySeed([u8; SEED_BYTES]);

/// Why a text is not a lottery seed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SeedError {
    #[error("a lottery seed is 64 hexadecimal digits (32 bytes); this one has {found} characters")]
    WrongLength { found: usize },
    #[error("a lottery seed may contain only the digits 0-9 and the letters a-f")]
    NotHex,
}

impl LotterySeed {
    /// A seed from its 32 bytes (as drawn from the operating system).
    pub const fn from_bytes(bytes: [u8; SEED_BYTES]) -> Self {
        LotterySeed(bytes)
    }

    pub fn as_bytes(&self) -> &[u8; SEED_BYTES] {
        &self.0
    }

    /// Reads the 64 hexadecimal digits of a recorded seed (upper or lower case; surrounding
    /// spaces are ignored).
    pub fn from_hex(text: &str) -> Result<Self, SeedError> {
        let text = text.trim();
        if text.len() != 2 * SEED_BYTES {
            return Err(SeedError::WrongLength {
                found: text.chars().count(),
            });
        }
        let mut bytes = [0u8; SEED_BYTES];
        hex::decode_to_slice(text, &mut bytes).map_err(|_| SeedError::NotHex)?;
        Ok(LotterySeed(bytes))
    }

    /// The seed as 64 lower-case hexadecimal digits, as recorded.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// The lottery key of one application: SHA-256(seed || the 16 bytes of its id).
    pub fn key(&self, application: Uuid) -> LotteryKey {
        let mut hasher = Sha256::new();
        hasher.update(self.0);
        hasher.update(application.as_bytes());
        LotteryKey(hasher.finalize().into())
    }
}

impl fmt::Display for LotterySeed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

/// The seed is public once the lottery is drawn, so it prints in full.
impl fmt::Debug for LotterySeed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "LotterySeed({})", self.to_hex())
    }
}

impl FromStr for LotterySeed {
    type Err = SeedError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        LotterySeed::from_hex(s)
    }
}

impl Serialize for LotterySeed {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_hex())
    }
}

impl<'de> Deserialize<'de> for LotterySeed {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        LotterySeed::from_hex(&text).map_err(serde::de::Error::custom)
    }
}

/// One application's lottery key. Keys compare as 256-bit numbers: the lower key wins.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LotteryKey([u8; 32]);

impl LotteryKey {
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// All 64 hexadecimal digits, as recorded.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// The first 12 hexadecimal digits, enough to show in an explanation.
    pub fn short(&self) -> String {
        hex::encode(&self.0[..6])
    }
}

impl fmt::Display for LotteryKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for LotteryKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "LotteryKey({})", self.to_hex())
    }
}

impl Serialize for LotteryKey {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_hex())
    }
}

impl<'de> Deserialize<'de> for LotteryKey {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        let mut bytes = [0u8; 32];
        hex::decode_to_slice(text.trim(), &mut bytes).map_err(serde::de::Error::custom)?;
        Ok(LotteryKey(bytes))
    }
}

/// The lottery on its own: the applications in the order the lottery puts them (lowest key
/// first), each with its key. Two equal ids get equal keys and keep their given order.
pub fn draw_order(seed: &LotterySeed, applications: &[Uuid]) -> Vec<(Uuid, LotteryKey)> {
    let mut keyed: Vec<(Uuid, LotteryKey)> = applications.iter().map(|id| (*id, seed.key(*id))).collect();
    keyed.sort_by_key(|k| k.1);
    keyed
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seed(byte: u8) -> LotterySeed {
        LotterySeed::from_bytes([byte; SEED_BYTES])
    }

    #[test]
    fn key_is_sha256_of_seed_then_uuid_bytes() {
        // Computed independently with coreutils:
        //   printf '%064d' 0 | xxd -r -p > in; printf '%032x' 1 | xxd -r -p >> in; sha256sum in
        // i.e. SHA-256 of 32 zero bytes followed by the 16 bytes of
        // 00000000-0000-0000-0000-000000000001.
        let key = seed(0).key(Uuid::from_u128(1));
        assert_eq!(key.to_hex(), EXPECTED_ZERO_SEED_ID_1);
        assert_eq!(key.short(), &EXPECTED_ZERO_SEED_ID_1[..12]);
    }

    const EXPECTED_ZERO_SEED_ID_1: &str = "86f77354f38f799c3e3d853dec927db2d921a6d80cc206b01b9d0cf485324fce";

    #[test]
    fn seed_hex_round_trips_and_rejects_bad_text() {
        let s = LotterySeed::from_bytes(core::array::from_fn(|i| i as u8));
        let text = s.to_hex();
        assert_eq!(text, "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");
        assert_eq!(LotterySeed::from_hex(&text).unwrap(), s);
        assert_eq!(
            LotterySeed::from_hex(&format!("  {}  ", text.to_uppercase())).unwrap(),
            s
        );
        assert_eq!(text.parse::<LotterySeed>().unwrap(), s);
        assert_eq!(LotterySeed::from_hex("abc"), Err(SeedError::WrongLength { found: 3 }));
        let not_hex = format!("{}zz", &text[..62]);
        assert_eq!(LotterySeed::from_hex(&not_hex), Err(SeedError::NotHex));
        let json = serde_json::to_string(&s).unwrap();
        assert_eq!(json, format!("\"{text}\""));
        assert_eq!(serde_json::from_str::<LotterySeed>(&json).unwrap(), s);
        assert!(serde_json::from_str::<LotterySeed>("\"00\"").is_err());
    }

    #[test]
    fn same_seed_same_order_and_other_seeds_differ() {
        let ids: Vec<Uuid> = (1..=20u128).map(Uuid::from_u128).collect();
        let a = draw_order(&seed(7), &ids);
        let b = draw_order(&seed(7), &ids);
        assert_eq!(a, b);
        // Keys ascend.
        assert!(a.windows(2).all(|w| w[0].1 < w[1].1));
        // With 20 applications, two seeds giving the same order would be a 1 in 20! event;
        // among three other seeds at least one order differs.
        let differs = [8u8, 9, 10].iter().any(|b| {
            draw_order(&seed(*b), &ids)
                .iter()
                .map(|x| x.0)
                .ne(a.iter().map(|x| x.0))
        });
        assert!(differs);
        // The order does not depend on the order the ids were given in.
        let mut reversed = ids.clone();
        reversed.reverse();
        assert_eq!(draw_order(&seed(7), &reversed), a);
    }
}
