//! The single error type of the crate.

/// Errors of key handling and encryption.
///
/// Authentication failures are deliberately collapsed into [`CryptoError::Decrypt`] so that
/// callers (and logs) cannot learn *why* a ciphertext was rejected.
#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    /// Any authentication failure: tampered, truncated, reordered or extended ciphertext, wrong
    /// key, wrong binding.
    #[error("decryption failed")]
    Decrypt,
    /// A wrapped key names a master key version that the key ring does not hold.
    #[error("unknown key id {0:?}")]
    UnknownKey(String),
    /// The key file (or a key given by environment or secret file) is unusable, or a key ring
    /// operation was refused. Messages never contain key material.
    #[error("key file: {0}")]
    KeyFile(String),
    /// Data that is not in a format this crate understands (bad magic, unsupported algorithm,
    /// malformed encoding), or a limit of the format was reached.
    #[error("format: {0}")]
    Format(String),
    /// I/O error while reading or writing the key file.
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
}
