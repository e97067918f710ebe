//! Running size and SHA-256 of a body, with the size limit enforced as bytes arrive.

use sha2::{Digest, Sha256};

use crate::DocumentError;

/// Feeds every byte of a body through SHA-256 while counting it against a limit.
pub(crate) struct HashingCounter {
    hasher: Sha256,
    size: u64,
    limit: u64,
}

impl HashingCounter {
    pub(crate) fn new(limit: u64) -> Self {
        Self {
            hasher: Sha256::new(),
            size: 0,
            limit,
        }
    }

    /// Accounts for `data`; fails with [`DocumentError::TooLarge`] once the total exceeds
    /// the limit.
    pub(crate) fn update(&mut self, data: &[u8]) -> Result<(), DocumentError> {
        let len = u64::try_from(data.len()).unwrap_or(u64::MAX);
        self.size = self.size.saturating_add(len);
        if self.size > self.limit {
            return Err(DocumentError::TooLarge { limit: self.limit });
        }
        self.hasher.update(data);
        Ok(())
    }

    /// The total size and the lowercase hex SHA-256.
    pub(crate) fn finish(self) -> (u64, String) {
        (self.size, hex::encode(self.hasher.finalize()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_and_counts() {
        let mut counter = HashingCounter::new(100);
        counter.update(b"hello ").unwrap();
        counter.update(b"").unwrap();
        counter.update(b"world").unwrap();
        let (size, sha) = counter.finish();
        assert_eq!(size, 11);
        assert_eq!(sha, "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9");
    }

    #[test]
    fn empty_body_hash() {
        let (size, sha) = HashingCounter::new(0).finish();
        assert_eq!(size, 0);
        assert_eq!(sha, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    }

    #[test]
    fn limit_is_inclusive() {
        let mut counter = HashingCounter::new(4);
        counter.update(b"ab").unwrap();
        counter.update(b"cd").unwrap();
        assert!(matches!(
            counter.update(b"e"),
            Err(DocumentError::TooLarge { limit: 4 })
        ));
    }
}
