//! Keyed fingerprints of content.
//!
//! A plain SHA-256 of a document kept in the database would let whoever holds a dump test
//! whether a citizen holds a known file (hash the file, look the value up). What is stored
//! instead is `HMAC-SHA256(digest key, SHA-256(plaintext))`, where the digest key is derived
//! with HKDF from the version's own data key. So:
//! - the value says nothing without the key ring (the data key is only stored wrapped);
//! - two tenants, and even two documents of one tenant, give different values for the same
//!   file, so a dump does not show who holds the same file as whom;
//! - `liasse keys rotate` re-wraps the data key without changing it, so digests survive
//!   rotation and the retirement of old master keys;
//! - deleting a document destroys its data key, and with it any meaning of its digest.
//!
//! Because the MAC runs over the SHA-256 rather than the content, a row written with a plain
//! SHA-256 converts to its keyed value without decrypting the content.

use hkdf::Hkdf;
use hkdf::hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::keys::{DataKey, Secret};

/// Marks a keyed digest; a value without it is a plain SHA-256 left by an older release.
pub const DIGEST_PREFIX: &str = "hmac-sha256:";

const DIGEST_SALT: &[u8] = b"liasse-digest-v1";
const DIGEST_INFO: &[u8] = b"content-sha256";

/// Whether a stored fingerprint is already keyed.
pub fn is_keyed(stored: &str) -> bool {
    stored.starts_with(DIGEST_PREFIX)
}

/// Computes keyed digests under the key derived from one data key. Made before the data key
/// is handed to a decryptor, so that the content can be checked once it has been read.
pub struct Digester(Secret);

impl Digester {
    /// `hmac-sha256:<hex>` of a 32-byte SHA-256 of the plaintext.
    pub fn of_sha256(&self, sha256: &[u8]) -> String {
        // HMAC accepts keys of any length: this never fails for a 32-byte key.
        let Ok(mut mac) = <Hmac<Sha256> as Mac>::new_from_slice(self.0.as_bytes()) else {
            return String::new();
        };
        mac.update(sha256);
        format!(
            "{DIGEST_PREFIX}{}",
            hex::encode(mac.finalize().into_bytes())
        )
    }

    /// Converts a plain SHA-256 in hex (the old stored form); `None` if it is not one.
    pub fn of_sha256_hex(&self, sha256_hex: &str) -> Option<String> {
        let raw = hex::decode(sha256_hex).ok().filter(|b| b.len() == 32)?;
        Some(self.of_sha256(&raw))
    }

    /// Compares a stored digest with the SHA-256 of what was just read, in constant time.
    pub fn matches(&self, stored: &str, sha256: &[u8]) -> bool {
        use subtle::ConstantTimeEq;
        let actual = self.of_sha256(sha256);
        actual.len() == stored.len() && bool::from(actual.as_bytes().ct_eq(stored.as_bytes()))
    }
}

impl DataKey {
    /// The digester of content encrypted under this key.
    pub fn digester(&self) -> Digester {
        let hk = Hkdf::<Sha256>::new(Some(DIGEST_SALT), self.0.as_bytes());
        let mut key = Secret::zeroed();
        // 32 bytes is far below HKDF-SHA256's limit of 8160: expansion cannot fail.
        let _ = hk.expand(DIGEST_INFO, key.as_mut());
        Digester(key)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn keyed_digests_depend_on_the_key_and_convert_from_hex() {
        use sha2::Digest;
        let sum = Sha256::digest(b"a known file");
        let a = DataKey::generate().digester();
        let b = DataKey::generate().digester();
        let da = a.of_sha256(&sum);
        assert!(is_keyed(&da));
        assert_eq!(da.len(), DIGEST_PREFIX.len() + 64);
        assert_ne!(da, b.of_sha256(&sum));
        assert!(!da.contains(&hex::encode(sum)));
        assert_eq!(a.of_sha256_hex(&hex::encode(sum)).unwrap(), da);
        assert!(a.matches(&da, &sum));
        assert!(!b.matches(&da, &sum));
        assert!(!a.matches(&da, &Sha256::digest(b"another file")));
        assert_eq!(a.of_sha256_hex("not hex"), None);
        assert_eq!(a.of_sha256_hex("00"), None);
    }
}
