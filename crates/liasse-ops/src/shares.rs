//! `liasse keys export-shares` / `liasse keys recover`: the key ring split with Shamir's
//! secret sharing (GF(256), the `blahaj` crate) into N shares, any K of which rebuild it and
//! fewer than K of which say nothing about it. Print them, give them to K..N people, keep them
//! in separate safes: a lost server then loses no document.
//!
//! A share is one line of printable text:
//!
//! `LIASSE-SHARE-1.<ring>.<K>-<N>.<index>.<key ids>.<current>.<date>.<share in hex>.<check>`
//!
//! where `<ring>` tags the key ring the share was cut from (8 hex digits of a SHA-256 of
//! the ring; it reveals nothing of the keys), and `<check>` is 8 hex digits of a SHA-256 of
//! everything before it, so that a mistyped share is caught before it is combined.

use liasse_crypto::KeyRing;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::error::{OpsError, Result};

const PREFIX: &str = "LIASSE-SHARE-1";

fn ring_tag(secret: &[u8]) -> String {
    let mut h = Sha256::new();
    h.update(b"liasse-share-ring\0");
    h.update(secret);
    hex::encode(&h.finalize()[..4])
}

fn check_of(body: &str) -> String {
    hex::encode(&Sha256::digest(body.as_bytes())[..4])
}

/// A share as read back.
#[derive(Debug)]
struct Parsed {
    ring: String,
    threshold: u8,
    total: u8,
    index: u8,
    keys: String,
    current: String,
    date: String,
    bytes: Zeroizing<Vec<u8>>,
}

/// Splits `ring` into `total` shares, any `threshold` of which rebuild it. `date` is printed
/// in each share (YYYY-MM-DD).
pub fn split(ring: &KeyRing, threshold: u8, total: u8, date: &str) -> Result<Vec<String>> {
    if threshold < 2 || threshold > total {
        return Err(OpsError::refused(
            "bad-threshold",
            format!(
                "the threshold must be at least 2 and at most the number of shares (asked: {threshold} of {total})"
            ),
        ));
    }
    let secret = ring.to_secret_bytes();
    let tag = ring_tag(&secret);
    let keys = ring.ids().join(",");
    let current = ring.current_id();
    let sharks = blahaj::Sharks(threshold);
    let mut out = Vec::with_capacity(total as usize);
    for share in sharks.dealer(&secret).take(total as usize) {
        let bytes = Zeroizing::new(Vec::<u8>::from(&share));
        let index = bytes.first().copied().unwrap_or(0);
        let body = format!(
            "{PREFIX}.{tag}.{threshold}-{total}.{index}.{keys}.{current}.{date}.{}",
            hex::encode(&bytes[..])
        );
        let check = check_of(&body);
        out.push(format!("{body}.{check}"));
    }
    Ok(out)
}

/// The printable page of one share.
pub fn page(share: &str) -> Result<String> {
    let p = parse(share)?;
    Ok(format!(
        "Liasse: part {} de la clé ({} parts, {} suffisent pour la reconstituer)\n\
         Trousseau {}, clés {} (courante {}), découpé le {}\n\
         {share}\n",
        p.index, p.total, p.threshold, p.ring, p.keys, p.current, p.date
    ))
}

fn parse(text: &str) -> Result<Parsed> {
    let text = text.trim();
    let bad = |why: &str| {
        OpsError::refused(
            "bad-share",
            format!("not a Liasse key share ({why}): {}", abbreviate(text)),
        )
    };
    let (body, check) = text.rsplit_once('.').ok_or_else(|| bad("no checksum"))?;
    if !body.starts_with(PREFIX) {
        return Err(bad("it does not start with LIASSE-SHARE-1"));
    }
    if check_of(body) != check.to_ascii_lowercase() {
        return Err(OpsError::refused(
            "wrong-checksum",
            format!(
                "the share's checksum does not match: it was mistyped or damaged: {}",
                abbreviate(text)
            ),
        ));
    }
    let parts: Vec<&str> = body.split('.').collect();
    let [_, ring, kn, index, keys, current, date, hex_share] = parts[..] else {
        return Err(bad("wrong number of fields"));
    };
    let (k, n) = kn.split_once('-').ok_or_else(|| bad("no K-N"))?;
    let bytes = Zeroizing::new(hex::decode(hex_share).map_err(|_| bad("the share is not hex"))?);
    Ok(Parsed {
        ring: ring.into(),
        threshold: k.parse().map_err(|_| bad("bad K"))?,
        total: n.parse().map_err(|_| bad("bad N"))?,
        index: index.parse().map_err(|_| bad("bad index"))?,
        keys: keys.into(),
        current: current.into(),
        date: date.into(),
        bytes,
    })
}

fn abbreviate(text: &str) -> String {
    let short: String = text.chars().take(40).collect();
    if short.len() < text.len() {
        format!("{short}...")
    } else {
        short
    }
}

/// Rebuilds the key ring from shares (lines that are not shares, such as the printed page's
/// captions, are ignored).
pub fn recover(texts: &[String]) -> Result<KeyRing> {
    let mut shares: Vec<Parsed> = Vec::new();
    for t in texts
        .iter()
        .flat_map(|t| t.lines())
        .map(str::trim)
        .filter(|l| l.starts_with(PREFIX))
    {
        let p = parse(t)?;
        if !shares.iter().any(|s| s.index == p.index) {
            shares.push(p);
        }
    }
    let Some(first) = shares.first() else {
        return Err(OpsError::refused(
            "no-shares",
            "no key share given (lines starting with LIASSE-SHARE-1)",
        ));
    };
    if let Some(other) = shares
        .iter()
        .find(|s| s.ring != first.ring || s.threshold != first.threshold || s.total != first.total)
    {
        return Err(OpsError::refused(
            "other-ring",
            format!(
                "share {} belongs to another key ring ({}, {} of {}) than share {} ({}, {} of {}): use shares cut together",
                other.index,
                other.ring,
                other.threshold,
                other.total,
                first.index,
                first.ring,
                first.threshold,
                first.total
            ),
        ));
    }
    if shares.len() < first.threshold as usize {
        return Err(OpsError::refused(
            "too-few-shares",
            format!(
                "{} distinct shares given, {} needed: fewer than the threshold reveal nothing of the key ring",
                shares.len(),
                first.threshold
            ),
        ));
    }
    let parsed: Vec<blahaj::Share> = shares
        .iter()
        .map(|s| blahaj::Share::try_from(&s.bytes[..]))
        .collect::<std::result::Result<_, _>>()
        .map_err(|e| OpsError::refused("bad-share", e.to_string()))?;
    let secret = Zeroizing::new(
        blahaj::Sharks(first.threshold)
            .recover(&parsed)
            .map_err(|e| OpsError::refused("bad-share", e.to_string()))?,
    );
    if ring_tag(&secret) != first.ring {
        return Err(OpsError::refused(
            "other-ring",
            "these shares do not rebuild the key ring they were cut from (shares of different cuts mixed?)",
        ));
    }
    Ok(KeyRing::from_secret_bytes(&secret)?)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use proptest::prelude::*;

    use super::*;

    fn same(a: &KeyRing, b: &KeyRing) -> bool {
        a.to_secret_bytes()[..] == b.to_secret_bytes()[..]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]
        /// Any K of N shares rebuild the ring; K-1 are refused.
        #[test]
        fn any_k_of_n_rebuild_and_k_minus_one_fail(
            (k, n) in (2u8..=10).prop_flat_map(|n| (2u8..=n, Just(n))),
            rotations in 0usize..3,
            seed in any::<u64>(),
        ) {
            let mut ring = KeyRing::generate();
            for _ in 0..rotations {
                ring.rotate();
            }
            let shares = split(&ring, k, n, "2026-12-05").unwrap();
            prop_assert_eq!(shares.len(), n as usize);
            // A pseudo-random choice of K shares.
            let mut order: Vec<usize> = (0..n as usize).collect();
            let mut s = seed;
            for i in (1..order.len()).rev() {
                s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                order.swap(i, (s >> 33) as usize % (i + 1));
            }
            let chosen: Vec<String> = order[..k as usize].iter().map(|&i| shares[i].clone()).collect();
            let back = recover(&chosen).unwrap();
            prop_assert!(same(&ring, &back));
            let fewer = &chosen[..k as usize - 1];
            let err = recover(fewer).unwrap_err();
            prop_assert_eq!(err.code(), Some("too-few-shares"));
        }
    }

    #[test]
    fn another_rings_share_and_a_typo_are_refused() {
        let a = split(&KeyRing::generate(), 2, 3, "2026-12-05").unwrap();
        let b = split(&KeyRing::generate(), 2, 3, "2026-12-05").unwrap();
        let err = recover(&[a[0].clone(), b[1].clone()]).unwrap_err();
        assert_eq!(err.code(), Some("other-ring"), "{err}");
        // One hex digit of the share changed.
        let mut typo = a[1].clone().into_bytes();
        let at = typo.len() - 12;
        typo[at] = if typo[at] == b'0' { b'1' } else { b'0' };
        let err = recover(&[a[0].clone(), String::from_utf8(typo).unwrap()]).unwrap_err();
        assert_eq!(err.code(), Some("wrong-checksum"), "{err}");
        // The printed page recovers as well (its captions are ignored).
        let pages: Vec<String> = a[..2].iter().map(|s| page(s).unwrap()).collect();
        assert!(recover(&pages).is_ok());
    }
}
