//! One-shot AEAD for small confidential metadata (titles, file names, JSON fields).
//!
//! It uses the document version's [`DataKey`] with a random 12-byte nonce. The stream format
//! uses the same key with a 7-byte random prefix and a counter; a collision between the two
//! nonce spaces needs a 96-bit random match per pair, which is negligible for the handful of
//! values sealed under one per-version key. The distinct AAD domain keeps a sealed value from
//! being accepted as anything else.

use aes_gcm::aead::AeadInPlace;
use aes_gcm::{Nonce, Tag};

use crate::error::CryptoError;
use crate::keys::{Binding, DataKey, NONCE_LEN, TAG_LEN, random_nonce};

const META_AAD_DOMAIN: &[u8] = b"liasse-meta-v1";

fn meta_aad(binding: &Binding<'_>) -> Vec<u8> {
    let mut aad = META_AAD_DOMAIN.to_vec();
    aad.extend_from_slice(&binding.to_bytes());
    aad
}

/// Encrypts `plaintext`; the result is `nonce (12) || ciphertext || tag (16)`.
pub fn seal(
    key: &DataKey,
    binding: &Binding<'_>,
    plaintext: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    let nonce = random_nonce();
    let mut out = Vec::with_capacity(NONCE_LEN + plaintext.len() + TAG_LEN);
    out.extend_from_slice(&nonce);
    out.extend_from_slice(plaintext);
    let tag = key
        .cipher()
        .encrypt_in_place_detached(
            Nonce::from_slice(&nonce),
            &meta_aad(binding),
            &mut out[NONCE_LEN..],
        )
        .map_err(|_| CryptoError::Format("value too long to seal".into()))?;
    out.extend_from_slice(&tag);
    Ok(out)
}

/// Decrypts and authenticates a value produced by [`seal`] under the same key and binding.
pub fn open(key: &DataKey, binding: &Binding<'_>, sealed: &[u8]) -> Result<Vec<u8>, CryptoError> {
    if sealed.len() < NONCE_LEN + TAG_LEN {
        return Err(CryptoError::Decrypt);
    }
    let (nonce, rest) = sealed.split_at(NONCE_LEN);
    let (ct, tag) = rest.split_at(rest.len() - TAG_LEN);
    let mut out = ct.to_vec();
    key.cipher()
        .decrypt_in_place_detached(
            Nonce::from_slice(nonce),
            &meta_aad(binding),
            &mut out,
            Tag::from_slice(tag),
        )
        .map_err(|_| CryptoError::Decrypt)?;
    Ok(out)
}
