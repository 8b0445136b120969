//! Random strings for `state`, `nonce` and the PKCE verifier.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use rand::rngs::OsRng;

/// 32 bytes from the operating system, url-safe base64: 43 characters, above the 32 the
/// providers require, and a valid PKCE verifier (RFC 7636: 43 to 128 unreserved characters).
pub(crate) fn token() -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}
