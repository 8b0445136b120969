//! Segmented AEAD for document content: the STREAM construction of Hoang, Reyhanitabar,
//! Rogaway and Vizár over AES-256-GCM.
//!
//! Layout: a 16-byte header `b"LSE1" || alg (1) || segment size (u32 BE) || nonce prefix (7)`,
//! then segments of [`SEGMENT_SIZE`] plaintext bytes plus a 16-byte tag. The nonce of segment
//! `i` is `prefix || i (u32 BE) || last`, where `last` is 1 only for the final segment, and every
//! segment's associated data is `header || binding`. Because position and finality are
//! authenticated, reordering, dropping, duplicating or truncating segments is detected; because
//! there is always a final segment (empty if the plaintext is a multiple of the segment size),
//! a cut exactly at a segment boundary is detected too.
//!
//! The random prefix is 56 bits: each data key protects one document version, so the number of
//! streams per key is tiny and prefix collisions are not a concern.
//!
//! The segments are sealed and opened with `ring`'s AES-256-GCM (the same algorithm as the
//! `aes-gcm` crate used for the small values, about three times faster on content: assembly
//! with AES-NI, carry-less multiplication and AVX). An authentication failure wipes the
//! decrypted bytes before returning, so unverified plaintext is never handed out.

use std::fmt;

use rand::RngCore;
use rand::rngs::OsRng;
use ring::aead::{Aad, LessSafeKey, Nonce, Tag};
use zeroize::Zeroizing;

use crate::error::CryptoError;
use crate::keys::{Binding, DataKey, NONCE_LEN, TAG_LEN};

/// Plaintext bytes per segment.
pub const SEGMENT_SIZE: usize = 64 * 1024;
/// Length of the blob header.
pub const HEADER_LEN: usize = 16;

const MAGIC: &[u8; 4] = b"LSE1";
const ALG_AES256GCM_STREAM: u8 = 1;
const PREFIX_LEN: usize = 7;
pub(crate) const SEALED_SEGMENT: usize = SEGMENT_SIZE + TAG_LEN;
const SEGMENT_SIZE_BYTES: [u8; 4] = (SEGMENT_SIZE as u32).to_be_bytes();

/// Per-stream AEAD state shared by both directions (and the seekable reader).
pub(crate) struct SegmentCipher {
    /// `None` only if the key was refused, which a 32-byte key never is; every use then fails.
    cipher: Option<LessSafeKey>,
    prefix: [u8; PREFIX_LEN],
    aad: Vec<u8>,
    /// Wider than the nonce field so that running past the last usable index is an error
    /// instead of a silent wrap to a reused nonce.
    counter: u64,
}

impl SegmentCipher {
    fn nonce(&self, last: bool) -> Result<[u8; NONCE_LEN], CryptoError> {
        let counter = u32::try_from(self.counter).map_err(|_| {
            CryptoError::Format("stream too long: segment counter exhausted".into())
        })?;
        let mut nonce = [0u8; NONCE_LEN];
        nonce[..PREFIX_LEN].copy_from_slice(&self.prefix);
        nonce[PREFIX_LEN..PREFIX_LEN + 4].copy_from_slice(&counter.to_be_bytes());
        nonce[NONCE_LEN - 1] = u8::from(last);
        Ok(nonce)
    }

    fn key(&self) -> Result<&LessSafeKey, CryptoError> {
        self.cipher
            .as_ref()
            .ok_or_else(|| CryptoError::Format("segment key unavailable".into()))
    }

    /// Appends the sealed segment for `plaintext` to `out`.
    fn seal_into(
        &mut self,
        out: &mut Vec<u8>,
        plaintext: &[u8],
        last: bool,
    ) -> Result<(), CryptoError> {
        let nonce = self.nonce(last)?;
        let key = self.key()?;
        let start = out.len();
        out.extend_from_slice(plaintext);
        let tag = key
            .seal_in_place_separate_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(self.aad.as_slice()),
                &mut out[start..],
            )
            .map_err(|_| {
                out.truncate(start);
                CryptoError::Format("segment encryption failed".into())
            })?;
        out.extend_from_slice(tag.as_ref());
        self.counter += 1;
        Ok(())
    }

    /// Opens segment `index` wherever it sits in the blob (the seekable reader's access).
    pub(crate) fn open_at(
        &mut self,
        index: u64,
        out: &mut Vec<u8>,
        sealed: &[u8],
        last: bool,
    ) -> Result<(), CryptoError> {
        self.counter = index;
        self.open_into(out, sealed, last)
    }

    /// Appends the verified plaintext of `sealed` to `out`; on failure `out` is left unchanged.
    fn open_into(
        &mut self,
        out: &mut Vec<u8>,
        sealed: &[u8],
        last: bool,
    ) -> Result<(), CryptoError> {
        if sealed.len() < TAG_LEN {
            return Err(CryptoError::Decrypt);
        }
        let nonce = self.nonce(last)?;
        let key = self.key()?;
        let (ct, tag) = sealed.split_at(sealed.len() - TAG_LEN);
        let tag = Tag::try_from(tag).map_err(|_| CryptoError::Decrypt)?;
        let start = out.len();
        out.extend_from_slice(ct);
        // On a failed check ring zeroes the bytes it decrypted before returning the error.
        if key
            .open_in_place_separate_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(self.aad.as_slice()),
                tag,
                &mut out[start..],
                0..,
            )
            .is_err()
        {
            out.truncate(start);
            return Err(CryptoError::Decrypt);
        }
        self.counter += 1;
        Ok(())
    }
}

fn segment_aad(header: &[u8], binding: &Binding<'_>) -> Vec<u8> {
    let mut aad = header.to_vec();
    aad.extend_from_slice(&binding.to_bytes());
    aad
}

/// Exact size of the blob (header and all segments) for `plaintext_len` bytes of plaintext.
/// Saturates for lengths far beyond what the format can carry.
pub fn ciphertext_len(plaintext_len: u64) -> u64 {
    const SEG: u64 = SEGMENT_SIZE as u64;
    let full = plaintext_len / SEG;
    let rest = plaintext_len % SEG;
    full.saturating_mul(SEG + TAG_LEN as u64)
        .saturating_add(rest)
        .saturating_add((HEADER_LEN + TAG_LEN) as u64)
}

/// Streaming encryptor. Holds at most one segment of plaintext, whatever the total size.
pub struct Encryptor {
    seg: SegmentCipher,
    header: [u8; HEADER_LEN],
    /// Pending plaintext, allocated once at full segment size so it never reallocates (which
    /// would leave unwiped copies behind).
    buf: Zeroizing<Vec<u8>>,
    poisoned: bool,
}

impl fmt::Debug for Encryptor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Encryptor")
            .field("segments", &self.seg.counter)
            .field("buffered", &self.buf.len())
            .finish_non_exhaustive()
    }
}

impl Encryptor {
    pub fn new(key: &DataKey, binding: &Binding<'_>) -> Self {
        let mut prefix = [0u8; PREFIX_LEN];
        OsRng.fill_bytes(&mut prefix);
        let mut header = [0u8; HEADER_LEN];
        header[..4].copy_from_slice(MAGIC);
        header[4] = ALG_AES256GCM_STREAM;
        header[5..9].copy_from_slice(&SEGMENT_SIZE_BYTES);
        header[9..].copy_from_slice(&prefix);
        Self {
            seg: SegmentCipher {
                cipher: key.segment_key(),
                prefix,
                aad: segment_aad(&header, binding),
                counter: 0,
            },
            header,
            buf: Zeroizing::new(Vec::with_capacity(SEGMENT_SIZE)),
            poisoned: false,
        }
    }

    /// The blob header; write it before any segment.
    pub fn header(&self) -> [u8; HEADER_LEN] {
        self.header
    }

    /// Encrypts every segment that `plaintext` completes and returns their ciphertext; the
    /// remainder is buffered until the next call or [`Encryptor::finish`].
    pub fn push(&mut self, plaintext: &[u8]) -> Result<Vec<u8>, CryptoError> {
        if self.poisoned {
            return Err(CryptoError::Format("encryptor used after an error".into()));
        }
        let mut out = Vec::new();
        let result = self.push_inner(plaintext, &mut out);
        self.poisoned = result.is_err();
        result.map(|()| out)
    }

    /// Like [`Encryptor::push`], appending the ciphertext to the caller's buffer (reused
    /// across calls by the spool, so that a busy upload does not allocate per chunk).
    pub fn push_into(&mut self, plaintext: &[u8], out: &mut Vec<u8>) -> Result<(), CryptoError> {
        if self.poisoned {
            return Err(CryptoError::Format("encryptor used after an error".into()));
        }
        let result = self.push_inner(plaintext, out);
        self.poisoned = result.is_err();
        result
    }

    /// Bytes of plaintext held back, waiting for their segment to fill.
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    fn push_inner(&mut self, plaintext: &[u8], out: &mut Vec<u8>) -> Result<(), CryptoError> {
        let segments = (self.buf.len() + plaintext.len()) / SEGMENT_SIZE;
        out.reserve(segments * SEALED_SEGMENT);
        let mut input = plaintext;
        if !self.buf.is_empty() {
            let take = (SEGMENT_SIZE - self.buf.len()).min(input.len());
            let (head, rest) = input.split_at(take);
            self.buf.extend_from_slice(head);
            input = rest;
            if self.buf.len() == SEGMENT_SIZE {
                self.seg.seal_into(out, &self.buf, false)?;
                self.buf.clear();
            }
        }
        // Whole segments go straight from the caller's slice to the output, without a copy
        // through the buffer.
        while input.len() >= SEGMENT_SIZE {
            let (segment, rest) = input.split_at(SEGMENT_SIZE);
            self.seg.seal_into(out, segment, false)?;
            input = rest;
        }
        self.buf.extend_from_slice(input);
        Ok(())
    }

    /// Encrypts the final segment (possibly empty) and returns its ciphertext.
    pub fn finish(mut self) -> Result<Vec<u8>, CryptoError> {
        if self.poisoned {
            return Err(CryptoError::Format("encryptor used after an error".into()));
        }
        let mut out = Vec::with_capacity(self.buf.len() + TAG_LEN);
        self.seg.seal_into(&mut out, &self.buf, true)?;
        Ok(out)
    }
}

/// Streaming decryptor. Accepts the blob in chunks of any size, header included, and returns
/// only verified plaintext. It holds back one sealed segment, because a full segment can only
/// be known not to be the final one when a further byte (or [`Decryptor::finish`]) arrives.
pub struct Decryptor {
    seg: SegmentCipher,
    binding: Vec<u8>,
    header: Vec<u8>,
    /// Held-back ciphertext; never longer than one sealed segment.
    buf: Vec<u8>,
    poisoned: bool,
}

impl fmt::Debug for Decryptor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Decryptor")
            .field("segments", &self.seg.counter)
            .field("buffered", &self.buf.len())
            .finish_non_exhaustive()
    }
}

impl Decryptor {
    pub fn new(key: &DataKey, binding: &Binding<'_>) -> Self {
        Self {
            seg: SegmentCipher {
                cipher: key.segment_key(),
                prefix: [0; PREFIX_LEN],
                aad: Vec::new(),
                counter: 0,
            },
            binding: binding.to_bytes(),
            header: Vec::with_capacity(HEADER_LEN),
            buf: Vec::with_capacity(SEALED_SEGMENT),
            poisoned: false,
        }
    }

    /// Consumes the next chunk of the blob and returns the plaintext of the segments it
    /// verified. After an error the decryptor refuses any further input.
    pub fn push(&mut self, ciphertext: &[u8]) -> Result<Vec<u8>, CryptoError> {
        if self.poisoned {
            return Err(CryptoError::Decrypt);
        }
        // Plaintext already verified in this call is wiped if a later segment fails, so
        // nothing from a rejected chunk lingers in freed memory.
        let mut out = Zeroizing::new(Vec::new());
        match self.push_inner(ciphertext, &mut out) {
            Ok(()) => Ok(std::mem::take(&mut *out)),
            Err(e) => {
                self.poisoned = true;
                Err(e)
            }
        }
    }

    fn push_inner(&mut self, ciphertext: &[u8], out: &mut Vec<u8>) -> Result<(), CryptoError> {
        let mut input = ciphertext;
        if self.header.len() < HEADER_LEN {
            let take = (HEADER_LEN - self.header.len()).min(input.len());
            let (head, rest) = input.split_at(take);
            self.header.extend_from_slice(head);
            input = rest;
            if self.header.len() < HEADER_LEN {
                return Ok(());
            }
            self.start_body()?;
        }
        out.reserve((self.buf.len() + input.len()) / SEALED_SEGMENT * SEGMENT_SIZE);
        while !input.is_empty() {
            if self.buf.len() == SEALED_SEGMENT {
                // More bytes follow, so the held-back segment is not the final one.
                self.seg.open_into(out, &self.buf, false)?;
                self.buf.clear();
            }
            if self.buf.is_empty() && input.len() > SEALED_SEGMENT {
                let (segment, rest) = input.split_at(SEALED_SEGMENT);
                self.seg.open_into(out, segment, false)?;
                input = rest;
                continue;
            }
            let take = (SEALED_SEGMENT - self.buf.len()).min(input.len());
            let (head, rest) = input.split_at(take);
            self.buf.extend_from_slice(head);
            input = rest;
        }
        Ok(())
    }

    fn start_body(&mut self) -> Result<(), CryptoError> {
        check_header(&self.header)?;
        self.seg.prefix.copy_from_slice(&self.header[9..]);
        let mut aad = self.header.clone();
        aad.extend_from_slice(&self.binding);
        self.seg.aad = aad;
        Ok(())
    }

    /// Verifies and decrypts the final segment. Fails if the blob was truncated (including
    /// exactly at a segment boundary), extended, or ends without a segment marked final.
    pub fn finish(mut self) -> Result<Vec<u8>, CryptoError> {
        if self.poisoned || self.header.len() < HEADER_LEN {
            return Err(CryptoError::Decrypt);
        }
        let mut out = Vec::with_capacity(self.buf.len());
        self.seg.open_into(&mut out, &self.buf, true)?;
        Ok(out)
    }
}

fn check_header(header: &[u8]) -> Result<(), CryptoError> {
    if header.len() != HEADER_LEN || &header[..4] != MAGIC {
        return Err(CryptoError::Format("not a Liasse encrypted blob".into()));
    }
    if header[4] != ALG_AES256GCM_STREAM {
        return Err(CryptoError::Format(format!(
            "unsupported stream algorithm {}",
            header[4]
        )));
    }
    if header[5..9] != SEGMENT_SIZE_BYTES {
        return Err(CryptoError::Format("unsupported segment size".into()));
    }
    Ok(())
}

/// The segment cipher of a blob whose header is `header` (checked), for random access.
pub(crate) fn cipher_for(
    key: &DataKey,
    binding: &Binding<'_>,
    header: &[u8],
) -> Result<SegmentCipher, CryptoError> {
    check_header(header)?;
    let mut prefix = [0u8; PREFIX_LEN];
    prefix.copy_from_slice(&header[9..]);
    Ok(SegmentCipher {
        cipher: key.segment_key(),
        prefix,
        aad: segment_aad(header, binding),
        counter: 0,
    })
}

/// Encrypts a whole plaintext held in memory.
pub fn encrypt_to_vec(
    key: &DataKey,
    binding: &Binding<'_>,
    plaintext: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    let capacity = usize::try_from(ciphertext_len(plaintext.len() as u64)).unwrap_or(0);
    let mut enc = Encryptor::new(key, binding);
    let mut blob = Vec::with_capacity(capacity);
    blob.extend_from_slice(&enc.header());
    blob.extend_from_slice(&enc.push(plaintext)?);
    blob.extend_from_slice(&enc.finish()?);
    Ok(blob)
}

/// Decrypts a whole blob held in memory.
pub fn decrypt_to_vec(
    key: &DataKey,
    binding: &Binding<'_>,
    blob: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    let mut dec = Decryptor::new(key, binding);
    let mut plaintext = dec.push(blob)?;
    let tail = dec.finish()?;
    plaintext.extend_from_slice(&tail);
    Ok(plaintext)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    const B: Binding<'static> = Binding {
        tenant: "t",
        document: "d",
        version: "v",
    };

    #[test]
    fn encryptor_counter_exhaustion_is_an_error() {
        let key = DataKey::generate();
        let mut enc = Encryptor::new(&key, &B);
        enc.seg.counter = u64::from(u32::MAX);
        // Index u32::MAX is still usable...
        let seg = enc.push(&vec![7u8; SEGMENT_SIZE]).unwrap();
        assert_eq!(seg.len(), SEALED_SEGMENT);
        // ...but nothing after it, not even the final segment.
        assert!(matches!(enc.finish(), Err(CryptoError::Format(_))));

        let mut enc = Encryptor::new(&key, &B);
        enc.seg.counter = u64::from(u32::MAX) + 1;
        assert!(enc.push(&vec![0u8; SEGMENT_SIZE]).is_err());
        // Poisoned after the error.
        assert!(enc.push(b"").is_err());
    }

    #[test]
    fn decryptor_counter_exhaustion_is_an_error() {
        let key = DataKey::generate();
        let blob = encrypt_to_vec(&key, &B, &vec![1u8; 2 * SEGMENT_SIZE]).unwrap();
        let mut dec = Decryptor::new(&key, &B);
        dec.push(&blob[..HEADER_LEN]).unwrap();
        dec.seg.counter = u64::from(u32::MAX) + 1;
        assert!(dec.push(&blob[HEADER_LEN..]).is_err());
    }

    #[test]
    fn nonce_layout() {
        let key = DataKey::generate();
        let mut enc = Encryptor::new(&key, &B);
        enc.seg.counter = 0x0102_0304;
        let n = enc.seg.nonce(true).unwrap();
        assert_eq!(&n[..7], &enc.header()[9..]);
        assert_eq!(&n[7..], &[1, 2, 3, 4, 1]);
        assert_eq!(enc.seg.nonce(false).unwrap()[11], 0);
    }

    #[test]
    fn buffers_stay_bounded() {
        let key = DataKey::generate();
        let mut enc = Encryptor::new(&key, &B);
        let mut dec = Decryptor::new(&key, &B);
        dec.push(&enc.header()).unwrap();
        let chunk = vec![3u8; 10_007];
        let mut total = 0usize;
        for _ in 0..40 {
            let ct = enc.push(&chunk).unwrap();
            assert!(enc.buf.len() < SEGMENT_SIZE);
            assert_eq!(enc.buf.capacity(), SEGMENT_SIZE);
            for piece in ct.chunks(9_973) {
                total += dec.push(piece).unwrap().len();
                assert!(dec.buf.len() <= SEALED_SEGMENT);
                assert_eq!(dec.buf.capacity(), SEALED_SEGMENT);
            }
        }
        total += dec.push(&enc.finish().unwrap()).unwrap().len();
        total += dec.finish().unwrap().len();
        assert_eq!(total, 40 * chunk.len());
    }

    #[test]
    fn ciphertext_len_small_cases() {
        let s = SEGMENT_SIZE as u64;
        assert_eq!(ciphertext_len(0), 32);
        assert_eq!(ciphertext_len(1), 33);
        assert_eq!(ciphertext_len(s), 16 + (s + 16) + 16);
        assert_eq!(ciphertext_len(u64::MAX), u64::MAX);
    }
}
