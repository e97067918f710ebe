//! Password hashing: argon2id with the OWASP-recommended parameters (19 MiB, 2 passes, one
//! lane), always on tokio's blocking pool so a sign-in never stalls the async runtime.

use std::sync::OnceLock;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

use crate::Password;
use crate::error::{IdentityError, Result};
use crate::secret::random_bytes;

fn argon2() -> Argon2<'static> {
    Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::default())
}

fn hash_blocking(password: &str) -> Result<String> {
    let salt = SaltString::encode_b64(&random_bytes::<16>()?).map_err(|e| IdentityError::Crypto(e.to_string()))?;
    argon2()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| IdentityError::Crypto(e.to_string()))
}

fn verify_blocking(password: &str, phc: &str) -> Result<bool> {
    let parsed = PasswordHash::new(phc).map_err(|e| IdentityError::Corrupt(format!("password hash: {e}")))?;
    match argon2().verify_password(password.as_bytes(), &parsed) {
        Ok(()) => Ok(true),
        Err(argon2::password_hash::Error::Password) => Ok(false),
        Err(e) => Err(IdentityError::Crypto(e.to_string())),
    }
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| IdentityError::Crypto(format!("hashing task failed: {e}")))?
}

/// The argon2id PHC string of a new password (`$argon2id$v=19$m=19456,t=2,p=1$...`).
pub(crate) async fn hash_password(password: &Password) -> Result<String> {
    let text = password.expose().to_string();
    blocking(move || hash_blocking(&text)).await
}

/// Whether a password matches a stored hash. The parameters come from the hash itself, so
/// hashes made with older parameters still verify.
pub(crate) async fn verify_password(password: &str, phc: &str) -> Result<bool> {
    let (text, phc) = (password.to_string(), phc.to_string());
    blocking(move || verify_blocking(&text, &phc)).await
}

/// Does the same work as checking a real password, for sign-ins naming no account, so the
/// time taken does not tell whether an account exists.
pub(crate) async fn verify_against_dummy(password: &str) -> Result<()> {
    static DUMMY: OnceLock<String> = OnceLock::new();
    let text = password.to_string();
    blocking(move || {
        let phc = match DUMMY.get() {
            Some(h) => h.clone(),
            None => {
                let h = hash_blocking("granary: no such account, dummy password")?;
                DUMMY.get_or_init(|| h).clone()
            }
        };
        verify_blocking(&text, &phc).map(|_| ())
    })
    .await
}
