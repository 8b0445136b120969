//! Data keys wrapped under a tenant key-encryption key.

use std::fmt;

use aes_gcm::aead::AeadInPlace;
use aes_gcm::{Nonce, Tag};

use crate::error::CryptoError;
use crate::keys::{Binding, DataKey, KEY_LEN, NONCE_LEN, Secret, TAG_LEN, put_field, take_field};

/// Algorithm name recorded in every [`WrappedKey`] produced by this version.
pub const WRAP_ALG: &str = "A256GCM-KW";

const WRAP_AAD_DOMAIN: &[u8] = b"liasse-wrap-v1";
const WRAPPED_LEN: usize = NONCE_LEN + KEY_LEN + TAG_LEN;
/// Magic of [`WrappedKey::to_bytes`], versioned so the column encoding can evolve.
const ENCODING_MAGIC: &[u8; 4] = b"LWK1";

/// A [`DataKey`] encrypted with AES-256-GCM under a tenant's key-encryption key.
///
/// The associated data is `b"liasse-wrap-v1" || binding.to_bytes() || key_id`, so a wrapped key
/// copied onto another document, version or tenant, or relabelled with another key id, does not
/// unwrap. `alg` and `key_id` are kept in clear so that algorithms and master keys can change.
#[derive(Clone, PartialEq, Eq)]
pub struct WrappedKey {
    /// Wrapping algorithm, [`WRAP_ALG`] for everything this version writes.
    pub alg: String,
    /// Master key version used, `"v{N}"`.
    pub key_id: String,
    /// `nonce (12) || ciphertext (32) || tag (16)`.
    pub bytes: Vec<u8>,
}

impl fmt::Debug for WrappedKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WrappedKey")
            .field("alg", &self.alg)
            .field("key_id", &self.key_id)
            .field("bytes", &format_args!("{} bytes", self.bytes.len()))
            .finish()
    }
}

impl WrappedKey {
    /// Self-describing encoding for one database column:
    /// `b"LWK1" || len32(alg) || alg || len32(key_id) || key_id || bytes`.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(
            ENCODING_MAGIC.len() + 8 + self.alg.len() + self.key_id.len() + self.bytes.len(),
        );
        out.extend_from_slice(ENCODING_MAGIC);
        put_field(&mut out, self.alg.as_bytes());
        put_field(&mut out, self.key_id.as_bytes());
        out.extend_from_slice(&self.bytes);
        out
    }

    /// Parses [`WrappedKey::to_bytes`]. Only the encoding is checked here; whether the
    /// algorithm is supported and the ciphertext authentic is decided when unwrapping.
    pub fn from_bytes(b: &[u8]) -> Result<Self, CryptoError> {
        let bad = |what: &str| CryptoError::Format(format!("wrapped key: {what}"));
        let rest = b
            .strip_prefix(ENCODING_MAGIC.as_slice())
            .ok_or_else(|| bad("bad magic"))?;
        let (alg, rest) = take_field(rest).ok_or_else(|| bad("truncated algorithm"))?;
        let (key_id, rest) = take_field(rest).ok_or_else(|| bad("truncated key id"))?;
        let alg = std::str::from_utf8(alg).map_err(|_| bad("algorithm is not UTF-8"))?;
        let key_id = std::str::from_utf8(key_id).map_err(|_| bad("key id is not UTF-8"))?;
        Ok(Self {
            alg: alg.to_owned(),
            key_id: key_id.to_owned(),
            bytes: rest.to_vec(),
        })
    }
}

fn wrap_aad(binding: &Binding<'_>, key_id: &str) -> Vec<u8> {
    // The key id is last and the binding is length-prefixed, so the concatenation is
    // unambiguous without a prefix on the key id.
    let mut aad = WRAP_AAD_DOMAIN.to_vec();
    aad.extend_from_slice(&binding.to_bytes());
    aad.extend_from_slice(key_id.as_bytes());
    aad
}

pub(crate) fn wrap_with(
    kek: &Secret,
    key_id: &str,
    key: &DataKey,
    binding: &Binding<'_>,
) -> Result<WrappedKey, CryptoError> {
    let nonce = crate::keys::random_nonce();
    let aad = wrap_aad(binding, key_id);
    let mut bytes = Vec::with_capacity(WRAPPED_LEN);
    bytes.extend_from_slice(&nonce);
    // Encrypting in place in the output buffer leaves no clear copy of the key behind.
    bytes.extend_from_slice(key.0.as_bytes());
    let tag = kek
        .cipher()
        .encrypt_in_place_detached(Nonce::from_slice(&nonce), &aad, &mut bytes[NONCE_LEN..])
        .map_err(|_| CryptoError::Format("key wrapping failed".into()))?;
    bytes.extend_from_slice(&tag);
    Ok(WrappedKey {
        alg: WRAP_ALG.to_owned(),
        key_id: key_id.to_owned(),
        bytes,
    })
}

pub(crate) fn unwrap_with(
    kek: &Secret,
    wrapped: &WrappedKey,
    binding: &Binding<'_>,
) -> Result<DataKey, CryptoError> {
    if wrapped.alg != WRAP_ALG {
        return Err(CryptoError::Format(format!(
            "unsupported key wrapping algorithm {:?}",
            wrapped.alg
        )));
    }
    if wrapped.bytes.len() != WRAPPED_LEN {
        return Err(CryptoError::Decrypt);
    }
    let (nonce, rest) = wrapped.bytes.split_at(NONCE_LEN);
    let (ct, tag) = rest.split_at(KEY_LEN);
    let aad = wrap_aad(binding, &wrapped.key_id);
    let mut key = Secret::zeroed();
    key.as_mut().copy_from_slice(ct);
    kek.cipher()
        .decrypt_in_place_detached(
            Nonce::from_slice(nonce),
            &aad,
            key.as_mut(),
            Tag::from_slice(tag),
        )
        .map_err(|_| CryptoError::Decrypt)?;
    Ok(DataKey(key))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    #[test]
    fn encoding_round_trips() {
        let w = WrappedKey {
            alg: WRAP_ALG.into(),
            key_id: "v12".into(),
            bytes: (0u8..60).collect(),
        };
        let enc = w.to_bytes();
        assert_eq!(enc.len(), 4 + 4 + 10 + 4 + 3 + 60);
        assert_eq!(WrappedKey::from_bytes(&enc).unwrap(), w);
    }

    #[test]
    fn encoding_rejects_garbage() {
        let enc = WrappedKey {
            alg: WRAP_ALG.into(),
            key_id: "v1".into(),
            bytes: vec![1; 60],
        }
        .to_bytes();
        assert!(WrappedKey::from_bytes(b"").is_err());
        assert!(WrappedKey::from_bytes(b"XWK1").is_err());
        // Cut inside the length-prefixed fields.
        for cut in 0..(4 + 4 + 10 + 4 + 2) {
            assert!(
                matches!(
                    WrappedKey::from_bytes(&enc[..cut]),
                    Err(CryptoError::Format(_))
                ),
                "cut {cut}"
            );
        }
    }

    #[test]
    fn debug_shows_length_only() {
        let w = WrappedKey {
            alg: WRAP_ALG.into(),
            key_id: "v1".into(),
            bytes: vec![0xab; 60],
        };
        assert!(!format!("{w:?}").contains("171"));
        assert!(format!("{w:?}").contains("60 bytes"));
    }
}
