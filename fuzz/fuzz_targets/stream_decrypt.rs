//! Decryption of stored segments: `liasse_crypto::Decryptor` with a fixed key and binding, fed
//! in chunks of arbitrary sizes. Two kinds of input:
//!
//! - raw bytes: never a panic, never plaintext (nobody can forge a segment's tag);
//! - a genuine blob of an arbitrary plaintext (up to three segments), then tampered with
//!   (bit flips, truncation, extension, segments swapped or dropped): the untouched blob
//!   decrypts to its plaintext, any change is refused, and whatever was released before the
//!   refusal is a prefix of the true plaintext (only authenticated segments are released).
#![no_main]

use std::sync::OnceLock;

use arbitrary::Arbitrary;
use liasse_crypto::{Binding, DataKey, Decryptor, Encryptor, KeyRing, SEGMENT_SIZE, WrappedKey};
use libfuzzer_sys::fuzz_target;

/// A fixed master key and a data key wrapped under it once (`fuzz-only-key-never-for-real-use`):
/// unwrapping gives the same data key in every run.
const MASTER_KEY: &str = "ZnV6ei1vbmx5LWtleS1uZXZlci1mb3ItcmVhbC11c2U=";
const WRAPPED: &str = "4c574b310000000a4132353647434d2d4b570000000276317e5786dc6f28ac638d87b56543dc0ed17ac5c7e17a9a1411ce18a99330882af0ca7929f795a0291406df9b488c66d6a2e1437f8b07c0931a75ee802c";
const BINDING: Binding<'static> = Binding {
    tenant: "fuzz-tenant",
    document: "fuzz-document",
    version: "fuzz-version",
};

fn key() -> &'static DataKey {
    static KEY: OnceLock<DataKey> = OnceLock::new();
    KEY.get_or_init(|| {
        let ring = KeyRing::from_base64_key(MASTER_KEY).expect("fixed master key");
        let bytes = (0..WRAPPED.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&WRAPPED[i..i + 2], 16).expect("hex"))
            .collect::<Vec<u8>>();
        let wrapped = WrappedKey::from_bytes(&bytes).expect("fixed wrapped key");
        ring.unwrap(&wrapped, &BINDING)
            .expect("unwrap the fixed key")
    })
}

#[derive(Arbitrary, Debug)]
enum Tamper {
    Flip { at: u32, mask: u8 },
    Truncate { to: u32 },
    Extend { bytes: Vec<u8> },
    Insert { at: u32, bytes: Vec<u8> },
    SwapSegments { a: u8, b: u8 },
    DropSegment { index: u8 },
    OtherBinding,
}

#[derive(Arbitrary, Debug)]
enum Input {
    Raw {
        chunks: Vec<u16>,
        bytes: Vec<u8>,
    },
    Genuine {
        seed: Vec<u8>,
        len: u32,
        chunks: Vec<u32>,
        tamper: Vec<Tamper>,
    },
}

/// Decrypts `blob` in chunks of the given sizes (cycled); returns the plaintext released
/// before any error and the final outcome.
fn decrypt(blob: &[u8], chunks: &[usize], binding: &Binding<'_>) -> (Vec<u8>, bool) {
    let mut dec = Decryptor::new(key(), binding);
    let mut released = Vec::new();
    let mut rest = blob;
    let mut i = 0;
    while !rest.is_empty() {
        let size = chunks
            .get(i % chunks.len().max(1))
            .copied()
            .unwrap_or(rest.len());
        let size = size.clamp(1, rest.len());
        let (chunk, tail) = rest.split_at(size);
        rest = tail;
        i += 1;
        match dec.push(chunk) {
            Ok(out) => released.extend_from_slice(&out),
            Err(_) => {
                // A poisoned decryptor refuses everything afterwards.
                assert!(dec.push(b"x").is_err());
                return (released, false);
            }
        }
    }
    match dec.finish() {
        Ok(out) => {
            released.extend_from_slice(&out);
            (released, true)
        }
        Err(_) => (released, false),
    }
}

const SEALED: usize = SEGMENT_SIZE + 16;
const HEADER: usize = liasse_crypto::HEADER_LEN;

fuzz_target!(|input: Input| {
    match input {
        Input::Raw { chunks, bytes } => {
            let chunks: Vec<usize> = chunks.into_iter().map(usize::from).collect();
            let (released, ok) = decrypt(&bytes, &chunks, &BINDING);
            assert!(!ok && released.is_empty(), "random bytes decrypted");
        }
        Input::Genuine {
            seed,
            len,
            chunks,
            tamper,
        } => {
            // Mostly small, often right around one or two segment boundaries (where a blob
            // truncated at a boundary must still be refused), sometimes up to three segments.
            let x = (len >> 2) as usize;
            let len = match len % 4 {
                0 => x % 300,
                1 => (SEGMENT_SIZE - 16) + x % 32,
                2 => (2 * SEGMENT_SIZE - 16) + x % 32,
                _ => x % (3 * SEGMENT_SIZE + 300),
            };
            let plaintext: Vec<u8> = if seed.is_empty() {
                vec![0; len]
            } else {
                seed.iter().copied().cycle().take(len).collect()
            };
            let mut enc = Encryptor::new(key(), &BINDING);
            let mut blob = enc.header().to_vec();
            blob.extend_from_slice(&enc.push(&plaintext).expect("encrypt"));
            blob.extend_from_slice(&enc.finish().expect("finish"));
            let original = blob.clone();
            let mut binding = BINDING;
            for t in tamper.into_iter().take(4) {
                match t {
                    Tamper::Flip { at, mask } => {
                        if !blob.is_empty() {
                            let at = at as usize % blob.len();
                            blob[at] ^= mask;
                        }
                    }
                    Tamper::Truncate { to } => blob.truncate(to as usize % (blob.len() + 1)),
                    Tamper::Extend { bytes } => blob.extend_from_slice(&bytes),
                    Tamper::Insert { at, bytes } => {
                        let at = at as usize % (blob.len() + 1);
                        blob.splice(at..at, bytes);
                    }
                    Tamper::SwapSegments { a, b } => {
                        let n = blob.len().saturating_sub(HEADER) / SEALED;
                        if n >= 2 {
                            let (a, b) = (a as usize % n, b as usize % n);
                            if a != b {
                                let (a, b) = (a.min(b), a.max(b));
                                let sa = HEADER + a * SEALED;
                                let sb = HEADER + b * SEALED;
                                let seg_a = blob[sa..sa + SEALED].to_vec();
                                let seg_b = blob[sb..sb + SEALED].to_vec();
                                blob[sa..sa + SEALED].copy_from_slice(&seg_b);
                                blob[sb..sb + SEALED].copy_from_slice(&seg_a);
                            }
                        }
                    }
                    Tamper::DropSegment { index } => {
                        let n = blob.len().saturating_sub(HEADER) / SEALED;
                        if n >= 1 {
                            let s = HEADER + (index as usize % n) * SEALED;
                            blob.drain(s..s + SEALED);
                        }
                    }
                    Tamper::OtherBinding => {
                        binding = Binding {
                            tenant: "fuzz-tenant",
                            document: "fuzz-document",
                            version: "another-version",
                        };
                    }
                }
            }
            let chunks: Vec<usize> = chunks
                .into_iter()
                .map(|c| c as usize % (3 * SEALED))
                .collect();
            let (released, ok) = decrypt(&blob, &chunks, &binding);
            assert!(
                plaintext.starts_with(&released),
                "released bytes that are not the plaintext"
            );
            if blob == original && binding == BINDING {
                assert!(ok, "a genuine blob did not decrypt");
                assert_eq!(released, plaintext);
            } else {
                assert!(!ok, "a tampered blob decrypted");
            }
        }
    }
});
