//! The server secret (`PARLEY_SERVER_SECRET`): what the host's backend presents to the server
//! API, and the HMAC-SHA256 key of user tokens and webhook signatures. Held once, compared in
//! constant time, never printed (its `Debug` says only that one is set). Depends on nothing
//! else in the server.

use std::fmt;
use std::sync::Arc;

use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use thiserror::Error;

/// Shortest secret accepted: 32 characters (a random one of that length is far beyond guessing).
pub const MIN_SECRET_CHARS: usize = 32;

#[derive(Debug, Error)]
#[error("the server secret must be at least {MIN_SECRET_CHARS} characters long")]
pub struct WeakSecret;

/// The server secret. Cheap to clone.
#[derive(Clone)]
pub struct ServerSecret(Arc<str>);

impl ServerSecret {
    pub fn new(secret: impl Into<String>) -> Result<Self, WeakSecret> {
        let secret = secret.into();
        if secret.chars().count() < MIN_SECRET_CHARS {
            return Err(WeakSecret);
        }
        Ok(Self(secret.into()))
    }

    /// Whether `presented` is the secret. Both sides are hashed first, so the comparison takes
    /// the same time whatever the lengths and contents (nothing about the secret leaks).
    pub fn matches(&self, presented: &str) -> bool {
        let presented = Sha256::digest(presented.as_bytes());
        let secret = Sha256::digest(self.0.as_bytes());
        presented.as_slice().ct_eq(secret.as_slice()).into()
    }

    /// HMAC-SHA256 of `data` keyed with the secret.
    pub fn sign(&self, data: &[u8]) -> Vec<u8> {
        let mut mac = self.mac();
        mac.update(data);
        mac.finalize().into_bytes().to_vec()
    }

    /// Whether `tag` is the HMAC-SHA256 of `data` (compared in constant time).
    pub fn verify(&self, data: &[u8], tag: &[u8]) -> bool {
        let mut mac = self.mac();
        mac.update(data);
        mac.verify_slice(tag).is_ok()
    }

    fn mac(&self) -> Hmac<Sha256> {
        // cannot fail: HMAC takes keys of any length.
        <Hmac<Sha256> as KeyInit>::new_from_slice(self.0.as_bytes())
            .unwrap_or_else(|_| unreachable!("HMAC accepts keys of any length"))
    }
}

impl fmt::Debug for ServerSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ServerSecret(…)")
    }
}

/// Lower-case hex of `bytes` (webhook signatures).
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut out, b| {
            // cannot fail: writing to a String.
            let _ = write!(out, "{b:02x}");
            out
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "0123456789abcdef0123456789abcdef";

    #[test]
    fn short_secrets_are_refused() {
        assert!(ServerSecret::new("too short").is_err());
        assert!(ServerSecret::new(SECRET).is_ok());
    }

    #[test]
    fn only_the_secret_matches() {
        let Ok(secret) = ServerSecret::new(SECRET) else {
            panic!("a long secret is accepted");
        };
        assert!(secret.matches(SECRET));
        assert!(!secret.matches(""));
        assert!(!secret.matches(&SECRET[1..]));
        assert!(!secret.matches(&format!("{SECRET}x")));
        assert_eq!(format!("{secret:?}"), "ServerSecret(…)");
    }

    #[test]
    fn signatures_are_hmac_sha256() {
        let Ok(secret) = ServerSecret::new(SECRET) else {
            panic!("a long secret is accepted");
        };
        let tag = secret.sign(b"what do ya want for nothing?");
        // Python: hmac.new(SECRET, b"what do ya want for nothing?", hashlib.sha256).hexdigest()
        assert_eq!(
            hex(&tag),
            "137e6557c3c13a1ca5dc7e52a389a0f86be8cb4db4ae61c62396058b00acacd0"
        );
        assert!(secret.verify(b"what do ya want for nothing?", &tag));
        assert!(!secret.verify(b"what do ya want for nothing!", &tag));
        assert_eq!(hex(&[0, 0xab, 0x10]), "00ab10");
    }
}
