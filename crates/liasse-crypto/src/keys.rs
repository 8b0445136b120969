//! Secret key material and the associated-data binding.

use std::fmt;

use aes_gcm::aead::KeyInit;
use aes_gcm::{Aes256Gcm, Key};
use rand::RngCore;
use rand::rngs::OsRng;
use subtle::ConstantTimeEq;
use zeroize::Zeroize;

pub(crate) const KEY_LEN: usize = 32;
pub(crate) const NONCE_LEN: usize = 12;
pub(crate) const TAG_LEN: usize = 16;

/// 32 secret bytes, boxed so that moving the owner never leaves stray copies on the stack,
/// and wiped when dropped.
pub(crate) struct Secret(Box<[u8; KEY_LEN]>);

impl Secret {
    pub(crate) fn zeroed() -> Self {
        Self(Box::new([0u8; KEY_LEN]))
    }

    pub(crate) fn random() -> Self {
        let mut s = Self::zeroed();
        // OsRng only fails if the kernel cannot provide entropy, which on the supported
        // platforms means the process cannot do anything safely anyway.
        OsRng.fill_bytes(s.0.as_mut_slice());
        s
    }

    pub(crate) fn from_slice(bytes: &[u8]) -> Option<Self> {
        if bytes.len() != KEY_LEN {
            return None;
        }
        let mut s = Self::zeroed();
        s.0.copy_from_slice(bytes);
        Some(s)
    }

    pub(crate) fn as_bytes(&self) -> &[u8; KEY_LEN] {
        &self.0
    }

    pub(crate) fn as_mut(&mut self) -> &mut [u8; KEY_LEN] {
        &mut self.0
    }

    pub(crate) fn cipher(&self) -> Aes256Gcm {
        Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(self.0.as_slice()))
    }
}

impl Drop for Secret {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

pub(crate) fn random_nonce() -> [u8; NONCE_LEN] {
    let mut n = [0u8; NONCE_LEN];
    OsRng.fill_bytes(&mut n);
    n
}

/// The random 256-bit key of one document version.
///
/// It never leaves this crate in clear: it is stored wrapped ([`crate::KeyRing::wrap`]) and
/// used through [`crate::Encryptor`], [`crate::Decryptor`], [`crate::seal()`] and
/// [`crate::open()`]. It is deliberately not `Clone`, so that each copy is a visible decision.
pub struct DataKey(pub(crate) Secret);

impl DataKey {
    /// A fresh key from the operating system's random number generator.
    pub fn generate() -> Self {
        Self(Secret::random())
    }

    pub(crate) fn cipher(&self) -> Aes256Gcm {
        self.0.cipher()
    }

    /// The same key for `ring`'s AES-256-GCM, which seals and opens content segments.
    /// `None` never happens for a 32-byte key.
    pub(crate) fn segment_key(&self) -> Option<ring::aead::LessSafeKey> {
        ring::aead::UnboundKey::new(&ring::aead::AES_256_GCM, self.0.as_bytes())
            .ok()
            .map(ring::aead::LessSafeKey::new)
    }
}

impl fmt::Debug for DataKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DataKey(..)")
    }
}

impl PartialEq for DataKey {
    // Constant time, so that comparing keys cannot become a timing oracle.
    fn eq(&self, other: &Self) -> bool {
        self.0.as_bytes().ct_eq(other.0.as_bytes()).into()
    }
}

impl Eq for DataKey {}

/// Associated data that binds a wrapped key, a blob or a sealed value to its owner, so that a
/// ciphertext moved to another tenant, document or version fails to decrypt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Binding<'a> {
    pub tenant: &'a str,
    pub document: &'a str,
    pub version: &'a str,
}

impl<'a> Binding<'a> {
    pub fn new(tenant: &'a str, document: &'a str, version: &'a str) -> Self {
        Self {
            tenant,
            document,
            version,
        }
    }
}

impl Binding<'_> {
    /// Canonical encoding: each field prefixed by its length (u32 big-endian), so that no two
    /// different bindings share an encoding (`("ab", "c")` differs from `("a", "bc")`).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out =
            Vec::with_capacity(12 + self.tenant.len() + self.document.len() + self.version.len());
        put_field(&mut out, self.tenant.as_bytes());
        put_field(&mut out, self.document.as_bytes());
        put_field(&mut out, self.version.as_bytes());
        out
    }
}

/// Appends `field` with a u32 big-endian length prefix.
pub(crate) fn put_field(out: &mut Vec<u8>, field: &[u8]) {
    // Identifiers are short; a field of 4 GiB or more cannot occur in practice, and saturating
    // keeps this infallible while every byte of the field is still covered.
    let len = u32::try_from(field.len()).unwrap_or(u32::MAX);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(field);
}

/// Reads a field written by [`put_field`], returning it and the remaining input.
pub(crate) fn take_field(input: &[u8]) -> Option<(&[u8], &[u8])> {
    let (len, rest) = input.split_first_chunk::<4>()?;
    let len = usize::try_from(u32::from_be_bytes(*len)).ok()?;
    if rest.len() < len {
        return None;
    }
    Some(rest.split_at(len))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use base64::Engine;
    use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};

    #[test]
    fn binding_encoding_is_unambiguous() {
        let a = Binding::new("ab", "c", "");
        let b = Binding::new("a", "bc", "");
        let c = Binding::new("a", "b", "c");
        assert_ne!(a.to_bytes(), b.to_bytes());
        assert_ne!(b.to_bytes(), c.to_bytes());
        assert_eq!(
            Binding::new("t", "d", "v").to_bytes(),
            [
                &[0, 0, 0, 1][..],
                b"t",
                &[0, 0, 0, 1],
                b"d",
                &[0, 0, 0, 1],
                b"v"
            ]
            .concat()
        );
    }

    #[test]
    fn take_field_reads_put_field() {
        let mut buf = Vec::new();
        put_field(&mut buf, b"hello");
        put_field(&mut buf, b"");
        let (a, rest) = take_field(&buf).unwrap();
        let (b, rest) = take_field(rest).unwrap();
        assert_eq!((a, b, rest), (&b"hello"[..], &b""[..], &b""[..]));
        assert!(take_field(&[0, 0, 0, 2, 1]).is_none());
        assert!(take_field(&[0, 0]).is_none());
    }

    #[test]
    fn data_key_debug_reveals_nothing() {
        let key = DataKey::generate();
        let dbg = format!("{key:?} {key:#?}");
        assert_eq!(format!("{key:?}"), "DataKey(..)");
        let bytes = key.0.as_bytes();
        assert!(!dbg.contains(&STANDARD.encode(bytes)));
        assert!(!dbg.contains(&URL_SAFE_NO_PAD.encode(bytes)));
        assert!(!dbg.contains(&hex::encode(bytes)));
    }

    #[test]
    fn generated_keys_differ_and_compare() {
        let a = DataKey::generate();
        let b = DataKey::generate();
        assert_ne!(a, b);
        let a2 = DataKey(Secret::from_slice(a.0.as_bytes()).unwrap());
        assert_eq!(a, a2);
        assert!(Secret::from_slice(&[0u8; 31]).is_none());
    }
}
