//! Behaviour of the public API: round trips, and rejection of every kind of tampering.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::os::unix::fs::PermissionsExt;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use liasse_crypto::{
    Binding, CryptoError, DataKey, Decryptor, Encryptor, HEADER_LEN, KeyRing, SEGMENT_SIZE,
    WRAP_ALG, WrappedKey, ciphertext_len, decrypt_to_vec, encrypt_to_vec, open, seal,
};
use proptest::prelude::*;
use rand::rngs::StdRng;
use rand::{RngCore, SeedableRng};

const SEG: usize = SEGMENT_SIZE;
const SEALED: usize = SEGMENT_SIZE + 16;

fn binding() -> Binding<'static> {
    Binding::new("tenant-1", "doc-1", "ver-1")
}

fn data(len: usize, seed: u64) -> Vec<u8> {
    let mut v = vec![0u8; len];
    StdRng::seed_from_u64(seed).fill_bytes(&mut v);
    v
}

/// Splits `input` into consecutive pieces whose lengths cycle through `sizes`.
fn pieces<'a>(input: &'a [u8], sizes: &[usize]) -> Vec<&'a [u8]> {
    let mut out = Vec::new();
    let mut rest = input;
    let mut i = 0;
    while !rest.is_empty() {
        let n = sizes[i % sizes.len()].clamp(1, rest.len());
        let (head, tail) = rest.split_at(n);
        out.push(head);
        rest = tail;
        i += 1;
    }
    out
}

fn encrypt_chunked(key: &DataKey, b: &Binding, pt: &[u8], sizes: &[usize]) -> Vec<u8> {
    let mut enc = Encryptor::new(key, b);
    let mut blob = enc.header().to_vec();
    for piece in pieces(pt, sizes) {
        blob.extend(enc.push(piece).unwrap());
    }
    blob.extend(enc.finish().unwrap());
    blob
}

fn decrypt_chunked(
    key: &DataKey,
    b: &Binding,
    blob: &[u8],
    sizes: &[usize],
) -> Result<Vec<u8>, CryptoError> {
    let mut dec = Decryptor::new(key, b);
    let mut pt = Vec::new();
    for piece in pieces(blob, sizes) {
        pt.extend(dec.push(piece)?);
    }
    pt.extend(dec.finish()?);
    Ok(pt)
}

// ---------------------------------------------------------------- stream round trips

#[test]
fn stream_round_trips_at_edge_sizes() {
    let key = DataKey::generate();
    let b = binding();
    for len in [0, 1, SEG - 1, SEG, SEG + 1, 2 * SEG, 3 * SEG, 3 * SEG + 5] {
        let pt = data(len, len as u64);
        let blob = encrypt_to_vec(&key, &b, &pt).unwrap();
        assert_eq!(blob.len() as u64, ciphertext_len(len as u64), "len {len}");
        assert_eq!(decrypt_to_vec(&key, &b, &blob).unwrap(), pt, "len {len}");
        // Same result when both sides go one segment-ish at a time.
        let chunked = encrypt_chunked(&key, &b, &pt, &[SEG]);
        assert_eq!(chunked.len(), blob.len());
        assert_eq!(decrypt_chunked(&key, &b, &chunked, &[SEALED]).unwrap(), pt);
    }
}

#[test]
fn exact_multiple_ends_with_empty_final_segment() {
    let key = DataKey::generate();
    let b = binding();
    let blob = encrypt_to_vec(&key, &b, &data(2 * SEG, 1)).unwrap();
    assert_eq!(blob.len(), HEADER_LEN + 2 * SEALED + 16);
    let empty = encrypt_to_vec(&key, &b, b"").unwrap();
    assert_eq!(empty.len(), HEADER_LEN + 16);
}

#[test]
fn decryptor_accepts_one_byte_at_a_time() {
    let key = DataKey::generate();
    let b = binding();
    let pt = data(SEG + 300, 9);
    let blob = encrypt_to_vec(&key, &b, &pt).unwrap();
    assert_eq!(decrypt_chunked(&key, &b, &blob, &[1]).unwrap(), pt);
}

#[test]
fn encryption_is_randomized() {
    let key = DataKey::generate();
    let b = binding();
    let a = encrypt_to_vec(&key, &b, b"same").unwrap();
    let c = encrypt_to_vec(&key, &b, b"same").unwrap();
    assert_ne!(a, c);
}

/// The blob format is the documented one: anyone with the key and this description can read it.
#[test]
fn stream_format_matches_documented_construction() {
    let key_bytes = [7u8; 32];
    let ring = KeyRing::from_base64_key(&STANDARD.encode(key_bytes)).unwrap();
    let b = binding();
    let dk = DataKey::generate();
    // Obtain the raw data key through the documented wrap construction.
    let w = ring.wrap(&dk, &b).unwrap();
    let raw = unwrap_by_hand(&key_bytes, "tenant-1", &w, &b);

    let pt = data(SEG + 10, 3);
    let blob = encrypt_to_vec(&dk, &b, &pt).unwrap();
    let header = &blob[..16];
    assert_eq!(&header[..4], b"LSE1");
    assert_eq!(header[4], 1);
    assert_eq!(&header[5..9], &(SEG as u32).to_be_bytes());
    let mut aad = header.to_vec();
    aad.extend(b.to_bytes());
    let cipher = Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(&raw));
    let nonce = |i: u32, last: u8| {
        let mut n = header[9..].to_vec();
        n.extend(i.to_be_bytes());
        n.push(last);
        n
    };
    let seg0 = cipher
        .decrypt(
            Nonce::from_slice(&nonce(0, 0)),
            Payload {
                msg: &blob[16..16 + SEALED],
                aad: &aad,
            },
        )
        .unwrap();
    let seg1 = cipher
        .decrypt(
            Nonce::from_slice(&nonce(1, 1)),
            Payload {
                msg: &blob[16 + SEALED..],
                aad: &aad,
            },
        )
        .unwrap();
    assert_eq!([seg0, seg1].concat(), pt);
}

fn unwrap_by_hand(master: &[u8; 32], tenant: &str, w: &WrappedKey, b: &Binding) -> Vec<u8> {
    let hk = hkdf::Hkdf::<sha2::Sha256>::new(Some(b"liasse-kek-v1"), master);
    let mut kek = [0u8; 32];
    hk.expand(tenant.as_bytes(), &mut kek).unwrap();
    let mut aad = b"liasse-wrap-v1".to_vec();
    aad.extend(b.to_bytes());
    aad.extend(w.key_id.as_bytes());
    Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(&kek))
        .decrypt(
            Nonce::from_slice(&w.bytes[..12]),
            Payload {
                msg: &w.bytes[12..],
                aad: &aad,
            },
        )
        .unwrap()
}

// ---------------------------------------------------------------- stream tampering

fn three_and_a_bit() -> (DataKey, Vec<u8>, Vec<u8>) {
    let key = DataKey::generate();
    let pt = data(3 * SEG + 100, 42);
    let blob = encrypt_to_vec(&key, &binding(), &pt).unwrap();
    (key, pt, blob)
}

#[test]
fn truncation_at_segment_boundaries_fails() {
    let (key, _, blob) = three_and_a_bit();
    let b = binding();
    let mut cuts = vec![
        0,
        1,
        HEADER_LEN - 1,
        HEADER_LEN,
        HEADER_LEN + 1,
        blob.len() - 1,
    ];
    for i in 1..=3 {
        let boundary = HEADER_LEN + i * SEALED;
        cuts.extend([boundary - 1, boundary, boundary + 1]);
    }
    for cut in cuts {
        assert!(
            decrypt_to_vec(&key, &b, &blob[..cut]).is_err(),
            "cut at {cut}"
        );
        assert!(
            decrypt_chunked(&key, &b, &blob[..cut], &[4096]).is_err(),
            "cut at {cut}"
        );
    }
}

#[test]
fn dropping_empty_final_segment_fails() {
    let key = DataKey::generate();
    let b = binding();
    let blob = encrypt_to_vec(&key, &b, &data(2 * SEG, 5)).unwrap();
    let without_final = &blob[..blob.len() - 16];
    assert!(matches!(
        decrypt_to_vec(&key, &b, without_final),
        Err(CryptoError::Decrypt)
    ));
}

#[test]
fn appended_bytes_fail() {
    let (key, _, blob) = three_and_a_bit();
    let b = binding();
    let mut one_more = blob.clone();
    one_more.push(0);
    assert!(decrypt_to_vec(&key, &b, &one_more).is_err());

    // A whole extra segment, even a validly formed one from another stream with the same key.
    let other = encrypt_to_vec(&key, &b, &data(SEG + 1, 6)).unwrap();
    let mut extra = blob.clone();
    extra.extend_from_slice(&other[HEADER_LEN..HEADER_LEN + SEALED]);
    assert!(decrypt_to_vec(&key, &b, &extra).is_err());
    let mut garbage = blob.clone();
    garbage.extend(data(SEALED, 7));
    assert!(decrypt_to_vec(&key, &b, &garbage).is_err());

    // Also when the original ends with an empty final segment.
    let exact = encrypt_to_vec(&key, &b, &data(SEG, 8)).unwrap();
    let mut exact_plus = exact.clone();
    exact_plus.extend(data(16, 9));
    assert!(decrypt_to_vec(&key, &b, &exact_plus).is_err());
}

#[test]
fn swapped_segments_fail() {
    let (key, _, blob) = three_and_a_bit();
    let b = binding();
    let seg = |i: usize| HEADER_LEN + i * SEALED..HEADER_LEN + (i + 1) * SEALED;
    let mut swapped = blob.clone();
    swapped[seg(0)].copy_from_slice(&blob[seg(1)]);
    swapped[seg(1)].copy_from_slice(&blob[seg(0)]);
    assert!(decrypt_to_vec(&key, &b, &swapped).is_err());

    // A full segment duplicated in place of another.
    let mut duplicated = blob.clone();
    duplicated[seg(2)].copy_from_slice(&blob[seg(1)]);
    assert!(decrypt_to_vec(&key, &b, &duplicated).is_err());

    // Segments spliced from another stream under the same key.
    let other = encrypt_to_vec(&key, &b, &data(3 * SEG + 100, 43)).unwrap();
    let mut spliced = blob.clone();
    spliced[seg(1)].copy_from_slice(&other[seg(1)]);
    assert!(decrypt_to_vec(&key, &b, &spliced).is_err());
}

#[test]
fn wrong_binding_or_key_fails() {
    let key = DataKey::generate();
    let b = binding();
    let blob = encrypt_to_vec(&key, &b, &data(SEG + 7, 11)).unwrap();
    for wrong in [
        Binding::new("tenant-2", "doc-1", "ver-1"),
        Binding::new("tenant-1", "doc-2", "ver-1"),
        Binding::new("tenant-1", "doc-1", "ver-2"),
        Binding::new("tenant-1doc-1", "", "ver-1"),
    ] {
        assert!(matches!(
            decrypt_to_vec(&key, &wrong, &blob),
            Err(CryptoError::Decrypt)
        ));
    }
    assert!(matches!(
        decrypt_to_vec(&DataKey::generate(), &b, &blob),
        Err(CryptoError::Decrypt)
    ));
}

#[test]
fn not_a_blob_is_a_format_error() {
    let key = DataKey::generate();
    let b = binding();
    let mut blob = encrypt_to_vec(&key, &b, b"x").unwrap();
    blob[0] = b'X';
    assert!(matches!(
        decrypt_to_vec(&key, &b, &blob),
        Err(CryptoError::Format(_))
    ));
}

#[test]
fn decryptor_refuses_input_after_an_error() {
    let (key, _, mut blob) = three_and_a_bit();
    let b = binding();
    blob[HEADER_LEN + 5] ^= 1;
    let mut dec = Decryptor::new(&key, &b);
    assert!(dec.push(&blob[..HEADER_LEN + SEALED + 1]).is_err());
    assert!(dec.push(&blob[HEADER_LEN + SEALED + 1..]).is_err());
    assert!(dec.finish().is_err());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn stream_round_trips_with_random_chunking(
        len in 0usize..(4 * SEG),
        seed in any::<u64>(),
        enc_sizes in prop::collection::vec(1usize..(2 * SEG + 40), 1..6),
        dec_sizes in prop::collection::vec(1usize..(2 * SEG + 40), 1..6),
    ) {
        let key = DataKey::generate();
        let b = binding();
        let pt = data(len, seed);
        let blob = encrypt_chunked(&key, &b, &pt, &enc_sizes);
        prop_assert_eq!(blob.len() as u64, ciphertext_len(len as u64));
        prop_assert_eq!(decrypt_chunked(&key, &b, &blob, &dec_sizes).unwrap(), pt);
    }

    #[test]
    fn any_flipped_bit_fails(pos in any::<prop::sample::Index>(), bit in 0u8..8) {
        let (key, blob) = flip_fixture();
        let mut tampered = blob.to_vec();
        let i = pos.index(blob.len());
        tampered[i] ^= 1 << bit;
        prop_assert!(decrypt_to_vec(key, &binding(), &tampered).is_err(), "flip at {}", i);
    }

    #[test]
    fn any_truncation_fails(pos in any::<prop::sample::Index>(), chunk in 1usize..(SEALED + 20)) {
        let (key, blob) = flip_fixture();
        let cut = pos.index(blob.len());
        prop_assert!(decrypt_chunked(key, &binding(), &blob[..cut], &[chunk]).is_err(), "cut at {}", cut);
    }
}

/// One blob shared by the tampering properties so they do not re-encrypt for every case.
fn flip_fixture() -> (&'static DataKey, &'static [u8]) {
    use std::sync::OnceLock;
    static FIXTURE: OnceLock<(DataKey, Vec<u8>)> = OnceLock::new();
    let (key, blob) = FIXTURE.get_or_init(|| {
        let key = DataKey::generate();
        let blob = encrypt_to_vec(&key, &binding(), &data(2 * SEG + 100, 77)).unwrap();
        (key, blob)
    });
    (key, blob)
}

// ---------------------------------------------------------------- seal

#[test]
fn seal_round_trips_and_rejects_tampering() {
    let key = DataKey::generate();
    let b = binding();
    for pt in [&b""[..], b"x", "Carte d'identit\u{e9}.pdf".as_bytes()] {
        let sealed = seal(&key, &b, pt).unwrap();
        assert_eq!(sealed.len(), 12 + pt.len() + 16);
        assert_eq!(open(&key, &b, &sealed).unwrap(), pt);
        for i in 0..sealed.len() {
            let mut t = sealed.clone();
            t[i] ^= 0x80;
            assert!(matches!(open(&key, &b, &t), Err(CryptoError::Decrypt)));
        }
        for cut in 0..sealed.len() {
            assert!(open(&key, &b, &sealed[..cut]).is_err());
        }
        assert!(open(&key, &Binding::new("tenant-1", "doc-1", "ver-2"), &sealed).is_err());
        assert!(open(&DataKey::generate(), &b, &sealed).is_err());
    }
    assert_ne!(seal(&key, &b, b"a").unwrap(), seal(&key, &b, b"a").unwrap());
}

// ---------------------------------------------------------------- wrap / key ring

#[test]
fn wrap_round_trips() {
    let ring = KeyRing::generate();
    let b = binding();
    let key = DataKey::generate();
    let w = ring.wrap(&key, &b).unwrap();
    assert_eq!(w.alg, WRAP_ALG);
    assert_eq!(w.key_id, "v1");
    assert_eq!(w.bytes.len(), 60);
    assert_eq!(ring.unwrap(&w, &b).unwrap(), key);
    let decoded = WrappedKey::from_bytes(&w.to_bytes()).unwrap();
    assert_eq!(decoded, w);
    assert_eq!(ring.unwrap(&decoded, &b).unwrap(), key);
}

#[test]
fn wrap_format_matches_documented_construction() {
    let master = [9u8; 32];
    let ring = KeyRing::from_base64_key(&STANDARD.encode(master)).unwrap();
    let b = binding();
    let key = DataKey::generate();
    let w = ring.wrap(&key, &b).unwrap();
    let raw = unwrap_by_hand(&master, b.tenant, &w, &b);
    // The hand-unwrapped bytes are the key: they decrypt what the key sealed.
    let sealed = seal(&key, &b, b"hello").unwrap();
    let mut aad = b"liasse-meta-v1".to_vec();
    aad.extend(b.to_bytes());
    let opened = Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(&raw))
        .decrypt(
            Nonce::from_slice(&sealed[..12]),
            Payload {
                msg: &sealed[12..],
                aad: &aad,
            },
        )
        .unwrap();
    assert_eq!(opened, b"hello");
}

#[test]
fn unwrap_with_wrong_binding_fails() {
    let ring = KeyRing::generate();
    let b = binding();
    let w = ring.wrap(&DataKey::generate(), &b).unwrap();
    for wrong in [
        Binding::new("tenant-1", "doc-2", "ver-1"),
        Binding::new("tenant-1", "doc-1", "ver-2"),
        Binding::new("tenant-1", "doc-1ver-1", ""),
    ] {
        assert!(matches!(ring.unwrap(&w, &wrong), Err(CryptoError::Decrypt)));
    }
}

#[test]
fn unwrap_with_wrong_tenant_fails() {
    let ring = KeyRing::generate();
    let w = ring.wrap(&DataKey::generate(), &binding()).unwrap();
    let other_tenant = Binding::new("tenant-2", "doc-1", "ver-1");
    assert!(matches!(
        ring.unwrap(&w, &other_tenant),
        Err(CryptoError::Decrypt)
    ));
    // And under another key ring altogether.
    assert!(matches!(
        KeyRing::generate().unwrap(&w, &binding()),
        Err(CryptoError::Decrypt)
    ));
}

#[test]
fn unwrap_with_flipped_bit_fails() {
    let ring = KeyRing::generate();
    let b = binding();
    let w = ring.wrap(&DataKey::generate(), &b).unwrap();
    for i in 0..w.bytes.len() {
        for bit in 0..8 {
            let mut t = w.clone();
            t.bytes[i] ^= 1 << bit;
            assert!(matches!(ring.unwrap(&t, &b), Err(CryptoError::Decrypt)));
        }
    }
    let mut short = w.clone();
    short.bytes.pop();
    assert!(ring.unwrap(&short, &b).is_err());
    let mut relabelled = w.clone();
    relabelled.alg = "A128GCM-KW".into();
    assert!(matches!(
        ring.unwrap(&relabelled, &b),
        Err(CryptoError::Format(_))
    ));
}

#[test]
fn relabelled_key_id_fails() {
    let mut ring = KeyRing::generate();
    ring.rotate();
    let b = binding();
    let w = ring.wrap(&DataKey::generate(), &b).unwrap();
    let mut t = w.clone();
    t.key_id = "v1".into();
    assert!(matches!(ring.unwrap(&t, &b), Err(CryptoError::Decrypt)));
    t.key_id = "v7".into();
    assert!(matches!(ring.unwrap(&t, &b), Err(CryptoError::UnknownKey(id)) if id == "v7"));
    t.key_id = "nonsense".into();
    assert!(matches!(
        ring.unwrap(&t, &b),
        Err(CryptoError::UnknownKey(_))
    ));
}

#[test]
fn rewrap_after_rotate_and_remove() {
    let mut ring = KeyRing::generate();
    let b = binding();
    let k1 = DataKey::generate();
    let k2 = DataKey::generate();
    let w1 = ring.wrap(&k1, &b).unwrap();
    let w2 = ring.wrap(&k2, &b).unwrap();

    assert_eq!(ring.rotate(), "v2");
    assert_eq!(ring.current_id(), "v2");
    assert_eq!(ring.ids(), ["v1", "v2"]);
    // Old wrapped keys still unwrap until the old master key is removed.
    assert_eq!(ring.unwrap(&w2, &b).unwrap(), k2);

    let r1 = ring.rewrap(&w1, &b).unwrap();
    assert_eq!(r1.key_id, "v2");
    assert_eq!(ring.unwrap(&r1, &b).unwrap(), k1);
    // Rewrapping checks the binding too.
    assert!(
        ring.rewrap(&w2, &Binding::new("tenant-2", "doc-1", "ver-1"))
            .is_err()
    );

    assert!(matches!(ring.remove("v2"), Err(CryptoError::KeyFile(_))));
    ring.remove("v1").unwrap();
    assert_eq!(ring.ids(), ["v2"]);
    assert_eq!(ring.unwrap(&r1, &b).unwrap(), k1);
    assert!(matches!(ring.unwrap(&w2, &b), Err(CryptoError::UnknownKey(id)) if id == "v1"));
    assert!(matches!(ring.remove("v1"), Err(CryptoError::UnknownKey(_))));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn encoded_wrapped_key_with_flipped_bit_never_unwraps(
        pos in any::<prop::sample::Index>(),
        bit in 0u8..8,
    ) {
        let (ring, enc) = wrap_fixture();
        let mut t = enc.to_vec();
        let i = pos.index(t.len());
        t[i] ^= 1 << bit;
        let result = WrappedKey::from_bytes(&t).and_then(|w| ring.unwrap(&w, &binding()));
        prop_assert!(result.is_err(), "flip at {}", i);
    }
}

fn wrap_fixture() -> (&'static KeyRing, &'static [u8]) {
    use std::sync::OnceLock;
    static FIXTURE: OnceLock<(KeyRing, Vec<u8>)> = OnceLock::new();
    let (ring, enc) = FIXTURE.get_or_init(|| {
        let ring = KeyRing::generate();
        let enc = ring
            .wrap(&DataKey::generate(), &binding())
            .unwrap()
            .to_bytes();
        (ring, enc)
    });
    (ring, enc)
}

// ---------------------------------------------------------------- key file

fn file_keys(path: &std::path::Path) -> Vec<String> {
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    json["keys"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn key_file_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("keys.json");
    let mut ring = KeyRing::generate();
    let b = binding();
    let k = DataKey::generate();
    let w1 = ring.wrap(&k, &b).unwrap();
    ring.rotate();
    let w2 = ring.wrap(&k, &b).unwrap();
    ring.save(&path).unwrap();

    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    assert_eq!(json["format"], 1);
    assert_eq!(json["current"], 2);
    assert_eq!(file_keys(&path).len(), 2);

    let loaded = KeyRing::load(&path).unwrap();
    assert_eq!(loaded.current_id(), "v2");
    assert_eq!(loaded.ids(), ["v1", "v2"]);
    assert_eq!(loaded.unwrap(&w1, &b).unwrap(), k);
    assert_eq!(loaded.unwrap(&w2, &b).unwrap(), k);

    // Saving over an existing file replaces it; no temporary files are left behind.
    ring.rotate();
    ring.save(&path).unwrap();
    assert_eq!(KeyRing::load(&path).unwrap().current_id(), "v3");
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["keys.json"]);
}

#[test]
fn key_file_mode_is_0600() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("keys.json");
    KeyRing::generate().save(&path).unwrap();
    assert_eq!(
        std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
        0o600
    );

    // Replacing a file that had wider permissions does not inherit them.
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    KeyRing::generate().save(&path).unwrap();
    assert_eq!(
        std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
        0o600
    );

    let created = dir.path().join("new").join("keys.json");
    KeyRing::load_or_create(&created).unwrap();
    assert_eq!(
        std::fs::metadata(&created).unwrap().permissions().mode() & 0o777,
        0o600
    );
}

#[test]
fn load_or_create_creates_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("data").join("secrets").join("keys.json");
    let (ring, created) = KeyRing::load_or_create(&path).unwrap();
    assert!(created);
    assert_eq!(ring.ids(), ["v1"]);
    let b = binding();
    let k = DataKey::generate();
    let w = ring.wrap(&k, &b).unwrap();

    let (again, created) = KeyRing::load_or_create(&path).unwrap();
    assert!(!created);
    assert_eq!(again.unwrap(&w, &b).unwrap(), k);
    let names: Vec<_> = std::fs::read_dir(path.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["keys.json"]);
}

#[test]
fn load_or_create_does_not_hide_errors() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("keys.json");
    std::fs::write(&path, b"{not json").unwrap();
    assert!(matches!(
        KeyRing::load_or_create(&path),
        Err(CryptoError::KeyFile(_))
    ));
    // The broken file is left alone rather than replaced by a fresh key.
    assert_eq!(std::fs::read(&path).unwrap(), b"{not json");
}

#[test]
fn missing_key_file_is_not_found() {
    let dir = tempfile::tempdir().unwrap();
    match KeyRing::load(&dir.path().join("absent.json")) {
        Err(CryptoError::Io(e)) => assert_eq!(e.kind(), std::io::ErrorKind::NotFound),
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn invalid_key_files_are_rejected_without_leaking_keys() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("keys.json");
    let good = STANDARD.encode([5u8; 32]);
    let short = STANDARD.encode([5u8; 31]);
    let cases = [
        format!(r#"{{"format":2,"current":1,"keys":{{"1":"{good}"}}}}"#),
        format!(r#"{{"format":1,"current":2,"keys":{{"1":"{good}"}}}}"#),
        format!(r#"{{"format":1,"current":1,"keys":{{"1":"{short}"}}}}"#),
        format!(r#"{{"format":1,"current":1,"keys":{{"1":"{good}!"}}}}"#),
        format!(r#"{{"format":1,"current":1,"keys":{{"01":"{good}"}}}}"#),
        format!(r#"{{"format":1,"current":0,"keys":{{"0":"{good}"}}}}"#),
        format!(r#"{{"format":1,"current":"{good}","keys":{{"1":"{good}"}}}}"#),
        format!(r#"{{"format":1,"current":1,"keys":["{good}"]}}"#),
        format!(r#"{{"format":1,"current":1,"keys":{{"1":{{"k":"{good}"}}}}}}"#),
    ];
    for case in cases {
        std::fs::write(&path, &case).unwrap();
        let err = KeyRing::load(&path).unwrap_err();
        assert!(matches!(err, CryptoError::KeyFile(_)), "{case}: {err:?}");
        let msg = err.to_string();
        assert!(!msg.contains(&good) && !msg.contains(&short), "{msg}");
        assert!(!msg.contains(&good[..20]), "{msg}");
    }
}

#[test]
fn from_base64_key_accepts_secret_file_contents() {
    let raw = [3u8; 32];
    let b = binding();
    let k = DataKey::generate();
    let a = KeyRing::from_base64_key(&format!("{}\n", STANDARD.encode(raw))).unwrap();
    assert_eq!(a.ids(), ["v1"]);
    assert_eq!(a.current_id(), "v1");
    let w = a.wrap(&k, &b).unwrap();
    let unpadded = STANDARD.encode(raw).trim_end_matches('=').to_owned();
    let c = KeyRing::from_base64_key(&unpadded).unwrap();
    assert_eq!(c.unwrap(&w, &b).unwrap(), k);

    for bad in [
        "",
        "not base64!",
        &STANDARD.encode([3u8; 16]),
        &STANDARD.encode([3u8; 33]),
    ] {
        let err = KeyRing::from_base64_key(bad).unwrap_err();
        assert!(matches!(err, CryptoError::KeyFile(_)));
        assert!(bad.is_empty() || !err.to_string().contains(bad));
    }
}

#[test]
fn debug_output_contains_no_key_material() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("keys.json");
    let mut ring = KeyRing::generate();
    ring.rotate();
    ring.save(&path).unwrap();
    let dbg = format!("{ring:?} {ring:#?}");
    assert!(dbg.contains("v2"));
    for key in file_keys(&path) {
        assert!(!dbg.contains(&key), "{dbg}");
        assert!(!dbg.contains(key.trim_end_matches('=')), "{dbg}");
        let raw = STANDARD.decode(&key).unwrap();
        assert!(!dbg.contains(&hex::encode(&raw)));
        assert!(!dbg.contains(&format!("{raw:?}")));
    }

    let known = STANDARD.encode([0x5au8; 32]);
    let ring = KeyRing::from_base64_key(&known).unwrap();
    let dbg = format!("{ring:?}");
    assert!(!dbg.contains(&known) && !dbg.contains("90, 90"), "{dbg}");

    assert_eq!(format!("{:?}", DataKey::generate()), "DataKey(..)");
}
