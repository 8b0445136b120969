//! Envelope encryption for Liasse.
//!
//! Every document version gets its own random [`DataKey`]. Content is encrypted with the
//! segmented AEAD in [`stream`], small confidential metadata with [`mod@seal`], and the data key is
//! stored only wrapped ([`WrappedKey`]) under a per-tenant key-encryption key derived from the
//! master keys of a [`KeyRing`]. The key ring lives outside the database, so a stolen dump or
//! bucket alone reveals nothing, and destroying a wrapped key shreds the content it protects.

pub mod digest;
pub mod error;
pub mod keyring;
pub mod keys;
pub mod pairwise;
pub mod recovery;
pub mod seal;
pub mod seek;
pub mod stream;
pub mod totp;
pub mod wrap;

pub use digest::{DIGEST_PREFIX, Digester};
pub use error::CryptoError;
pub use keyring::KeyRing;
pub use keys::{Binding, DataKey};
pub use pairwise::PairwiseKey;
pub use seal::{open, seal};
pub use seek::DecryptingReader;
pub use stream::{
    Decryptor, Encryptor, HEADER_LEN, SEGMENT_SIZE, ciphertext_len, decrypt_to_vec, encrypt_to_vec,
};
pub use totp::TotpSecret;
pub use wrap::{WRAP_ALG, WrappedKey};
