//! Time-based one-time passwords (RFC 6238) for the staff's second factor.
//!
//! HMAC-SHA1, 30-second steps, 6 digits: what every authenticator application reads from an
//! `otpauth://` URI without asking. A code is accepted one step before or after the current one
//! (clocks drift); the step that matched is returned so that the caller stores it and refuses
//! the same step, or an earlier one, next time (a code is single use).

use ring::rand::{SecureRandom, SystemRandom};
use totp_rs::{Algorithm, Secret, TOTP};
use zeroize::Zeroizing;

use crate::CryptoError;

/// Seconds per step (RFC 6238's default, and the only one applications agree on).
pub const STEP_SECONDS: u64 = 30;
/// Digits of a code.
pub const DIGITS: usize = 6;
/// Bytes of a new secret: 160 bits, RFC 4226's recommended length for HMAC-SHA1.
pub const SECRET_LEN: usize = 20;

/// A TOTP shared secret. Never printed: `Debug` shows only that it is there.
#[derive(Clone)]
pub struct TotpSecret(Zeroizing<Vec<u8>>);

impl std::fmt::Debug for TotpSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TotpSecret(..)")
    }
}

impl TotpSecret {
    /// A new random secret from the operating system's generator.
    pub fn generate() -> Result<Self, CryptoError> {
        let mut bytes = Zeroizing::new(vec![0u8; SECRET_LEN]);
        SystemRandom::new()
            .fill(&mut bytes)
            .map_err(|_| CryptoError::KeyFile("random generator unavailable".into()))?;
        Ok(Self(bytes))
    }

    /// The secret from its raw bytes (as stored, encrypted, by the caller).
    pub fn from_bytes(bytes: &[u8]) -> Self {
        Self(Zeroizing::new(bytes.to_vec()))
    }

    /// The secret from its base32 form (upper or lower case, padding and spaces ignored).
    pub fn from_base32(text: &str) -> Result<Self, CryptoError> {
        let normal: String = text
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '=' && *c != '-')
            .map(|c| c.to_ascii_uppercase())
            .collect();
        match Secret::Encoded(normal).to_bytes() {
            Ok(bytes) if !bytes.is_empty() => Ok(Self(Zeroizing::new(bytes))),
            _ => Err(CryptoError::Format("TOTP secret is not base32".into())),
        }
    }

    /// The raw bytes, for the caller to store encrypted.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The base32 form (no padding) that users type when they cannot scan the QR code.
    pub fn to_base32(&self) -> String {
        Secret::Raw(self.0.to_vec()).to_encoded().to_string()
    }

    /// The generator of RFC 6238 codes. `new_unchecked`: the length rule of `TOTP::new`
    /// (128 bits at least) is ours to keep at generation, and the names only matter to the URI.
    fn totp(&self, issuer: Option<&str>, account: &str) -> TOTP {
        TOTP::new_unchecked(
            Algorithm::SHA1,
            DIGITS,
            1,
            STEP_SECONDS,
            self.0.to_vec(),
            issuer.map(str::to_string),
            account.to_string(),
        )
    }

    /// The `otpauth://totp/` URI an authenticator application enrols from (shown as a QR code;
    /// SHA-1, 6 digits and 30 s are the defaults, so the URI leaves them out).
    /// `issuer` names the service (the tenant), `account` the user (their login). A colon
    /// separates the two in the URI's label, so neither may carry one.
    pub fn otpauth_uri(&self, issuer: &str, account: &str) -> String {
        let issuer = issuer.replace(':', " ");
        let account = account.replace(':', " ");
        self.totp(Some(&issuer), &account).get_url()
    }

    /// The code of one step.
    pub fn code_at_step(&self, step: u64) -> String {
        self.totp(None, "")
            .generate(step.saturating_mul(STEP_SECONDS))
    }

    /// The code for a Unix time (seconds).
    pub fn code_at(&self, unix_seconds: u64) -> String {
        self.code_at_step(unix_seconds / STEP_SECONDS)
    }

    /// Checks a typed code at `unix_seconds`, one step of drift either way, and returns the step
    /// that matched. Steps at or before `last_used_step` are refused, so a code seen over a
    /// shoulder cannot be used again. Comparison is constant time.
    pub fn verify(
        &self,
        code: &str,
        unix_seconds: u64,
        last_used_step: Option<u64>,
    ) -> Option<u64> {
        let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
        if code.len() != DIGITS || !code.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let now = unix_seconds / STEP_SECONDS;
        let mut matched = None;
        for step in [now.saturating_sub(1), now, now.saturating_add(1)] {
            if last_used_step.is_some_and(|last| step <= last) {
                continue;
            }
            let expected = self.code_at_step(step);
            if bool::from(subtle::ConstantTimeEq::ct_eq(
                expected.as_bytes(),
                code.as_bytes(),
            )) {
                matched.get_or_insert(step);
            }
        }
        matched
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    /// RFC 6238 appendix B, SHA-1 rows, keeping the last 6 of the 8 digits.
    #[test]
    fn rfc_6238_vectors() {
        let secret = TotpSecret::from_bytes(b"12345678901234567890");
        for (time, code) in [
            (59, "287082"),
            (1_111_111_109, "081804"),
            (1_111_111_111, "050471"),
            (1_234_567_890, "005924"),
            (2_000_000_000, "279037"),
            (20_000_000_000, "353130"),
        ] {
            assert_eq!(secret.code_at(time), code, "at {time}");
        }
    }

    #[test]
    fn verify_accepts_one_step_of_drift_and_refuses_reuse() {
        let secret = TotpSecret::from_bytes(b"12345678901234567890");
        let now = 1_111_111_111;
        let step = now / STEP_SECONDS;
        assert_eq!(secret.verify("050471", now, None), Some(step));
        let previous = secret.code_at_step(step - 1);
        assert_eq!(secret.verify(&previous, now, None), Some(step - 1));
        let next = secret.code_at_step(step + 1);
        assert_eq!(secret.verify(&next, now, None), Some(step + 1));
        assert_eq!(
            secret.verify(&secret.code_at_step(step + 2), now, None),
            None
        );
        // Reuse of the same step, or of an earlier one, is refused.
        assert_eq!(secret.verify("050471", now, Some(step)), None);
        assert_eq!(secret.verify(&previous, now, Some(step - 1)), None);
        assert_eq!(secret.verify("05047", now, None), None);
        assert_eq!(secret.verify("05047a", now, None), None);
        assert_eq!(secret.verify("050 471", now, None), Some(step));
    }

    #[test]
    fn base32_round_trips_and_matches_rfc_4648() {
        assert_eq!(TotpSecret::from_bytes(b"foobar").to_base32(), "MZXW6YTBOI");
        assert_eq!(
            TotpSecret::from_base32("MZXW6YTBOI======")
                .unwrap()
                .as_bytes(),
            b"foobar"
        );
        let secret = TotpSecret::generate().unwrap();
        let again = TotpSecret::from_base32(&secret.to_base32().to_lowercase()).unwrap();
        assert_eq!(secret.as_bytes(), again.as_bytes());
        assert!(TotpSecret::from_base32("not base32!").is_err());
        assert_eq!(format!("{secret:?}"), "TotpSecret(..)");
    }

    #[test]
    fn otpauth_uri_names_issuer_account_and_parameters() {
        let secret = TotpSecret::from_bytes(b"foobar");
        assert_eq!(
            secret.otpauth_uri("Mairie de Blois", "agent@blois.fr"),
            "otpauth://totp/Mairie%20de%20Blois:agent%40blois.fr?secret=MZXW6YTBOI&issuer=Mairie%20de%20Blois"
        );
    }
}
