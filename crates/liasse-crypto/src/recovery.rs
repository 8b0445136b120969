//! Single-use recovery codes for the second factor.
//!
//! Shown once at enrolment, then only their SHA-256 is kept: a code is high-entropy (80 bits), so
//! a plain hash is enough and a stolen table reveals none. Using a code removes its hash.

use ring::rand::{SecureRandom, SystemRandom};
use sha2::{Digest, Sha256};

use crate::CryptoError;

/// Characters of a code: no 0/O, 1/I/L, so codes read aloud or copied by hand survive.
const ALPHABET: &[u8; 32] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ-";
/// Characters per code (16 from a 31-letter alphabet, about 79 bits), shown in groups of four.
const CODE_LEN: usize = 16;

/// Codes shown once to the user, and the hashes the caller stores in their place.
#[derive(Debug)]
pub struct RecoveryCodes {
    /// What the user writes down, as `ABCD-EFGH-JKMN-PQRS`.
    pub codes: Vec<String>,
    /// Hex SHA-256 of each code's normalised form, in the same order.
    pub hashes: Vec<String>,
}

/// Generates `count` new codes.
pub fn generate(count: usize) -> Result<RecoveryCodes, CryptoError> {
    let rng = SystemRandom::new();
    let mut codes = Vec::with_capacity(count);
    for _ in 0..count {
        let mut code = String::with_capacity(CODE_LEN + CODE_LEN / 4);
        let mut produced = 0;
        while produced < CODE_LEN {
            let mut byte = [0u8; 1];
            rng.fill(&mut byte)
                .map_err(|_| CryptoError::KeyFile("random generator unavailable".into()))?;
            // 31 letters (the '-' is not one): keep the low 5 bits below 31, uniformly.
            let index = usize::from(byte[0] & 31);
            if index >= 31 {
                continue;
            }
            if produced > 0 && produced % 4 == 0 {
                code.push('-');
            }
            code.push(char::from(ALPHABET[index]));
            produced += 1;
        }
        codes.push(code);
    }
    let hashes = codes.iter().map(|code| hash(code)).collect();
    Ok(RecoveryCodes { codes, hashes })
}

/// The stored form of a typed code: case, dashes and spaces do not matter.
pub fn hash(code: &str) -> String {
    let normal: String = code
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .collect();
    hex::encode(Sha256::digest(normal.as_bytes()))
}

/// Finds a typed code among the stored hashes and returns its index, for the caller to delete
/// that hash (the code is then spent). `None` when it matches none.
pub fn find(code: &str, stored: &[String]) -> Option<usize> {
    let typed = hash(code);
    stored.iter().position(|h| {
        bool::from(subtle::ConstantTimeEq::ct_eq(
            h.as_bytes(),
            typed.as_bytes(),
        ))
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    #[test]
    fn codes_are_distinct_well_formed_and_found_by_hash() {
        let set = generate(10).unwrap();
        assert_eq!(set.codes.len(), 10);
        assert_eq!(set.hashes.len(), 10);
        for code in &set.codes {
            assert_eq!(code.len(), 19, "{code}");
            assert_eq!(code.matches('-').count(), 3);
        }
        let mut unique = set.codes.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), 10);
        let third = set.codes[2].to_lowercase().replace('-', " ");
        assert_eq!(find(&third, &set.hashes), Some(2));
        assert_eq!(find("AAAA-BBBB-CCCC-DDDD", &set.hashes), None);
        // Only hashes are stored: no code appears in them.
        assert!(set.hashes.iter().all(|h| !set.codes.contains(h)));
    }

    #[test]
    fn a_spent_code_is_no_longer_found() {
        let set = generate(3).unwrap();
        let mut stored = set.hashes.clone();
        let index = find(&set.codes[1], &stored).unwrap();
        stored.remove(index);
        assert_eq!(find(&set.codes[1], &stored), None);
        assert!(find(&set.codes[0], &stored).is_some());
    }
}
