//! Random tokens and how they are stored. A token is shown to its holder once; the database
//! keeps only its SHA-256, so a copy of the database does not let anyone sign in.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

use crate::error::{IdentityError, Result};

/// `N` bytes from the operating system's secure random source.
pub(crate) fn random_bytes<const N: usize>() -> Result<[u8; N]> {
    let mut buf = [0u8; N];
    getrandom::fill(&mut buf).map_err(|e| IdentityError::Crypto(format!("no secure random numbers: {e}")))?;
    Ok(buf)
}

/// 32 random bytes as URL-safe text (43 characters): for session cookies and emailed links.
pub(crate) fn new_token() -> Result<String> {
    Ok(URL_SAFE_NO_PAD.encode(random_bytes::<32>()?))
}

/// `len` random URL-safe characters (`A-Z a-z 0-9 - _`), each carrying 6 bits.
pub(crate) fn random_text(len: usize) -> Result<String> {
    // 3 bytes make 4 characters; take enough and cut.
    let mut out = String::with_capacity(len + 4);
    while out.len() < len {
        out.push_str(&URL_SAFE_NO_PAD.encode(random_bytes::<30>()?));
    }
    out.truncate(len);
    Ok(out)
}

/// The stored form of a token: SHA-256, lower-case hex. Tokens carry 256 bits (API tokens
/// 240), so a fast hash is enough; no salt is needed to look one up.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_url_safe_random_and_hashed() {
        let a = new_token().unwrap();
        let b = new_token().unwrap();
        assert_eq!(a.len(), 43);
        assert_ne!(a, b);
        assert!(a.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_'));
        let h = token_hash(&a);
        assert_eq!(h.len(), 64);
        assert_ne!(h, a);
        assert_eq!(h, token_hash(&a));
        let t = random_text(40).unwrap();
        assert_eq!(t.len(), 40);
        assert!(t.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_'));
    }
}
