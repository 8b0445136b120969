//! Random access to the plaintext of a blob in the [`crate::stream`] format, over any
//! `Read + Seek` source of its ciphertext (a spool file, a local blob).
//!
//! Whatever needs the clear bytes of an upload after it arrived (the inspector, which looks at
//! a PDF's end first; the antivirus; page assembly) reads them through this reader instead of
//! a plaintext copy: the segment that holds the position is read, authenticated and decrypted
//! into one buffer, wiped when it is replaced or dropped, so at most one segment is in clear.
//!
//! The blob's length alone fixes its layout (every segment but the last is full, the last is
//! shorter than a full one), so the plaintext length is known before anything is decrypted. A
//! truncated or extended blob either has an impossible length or fails the final segment's
//! tag, which is checked whenever a read reaches the end.

use std::io::{self, Read, Seek, SeekFrom};

use zeroize::Zeroizing;

use crate::error::CryptoError;
use crate::keys::{Binding, DataKey, TAG_LEN};
use crate::stream::{HEADER_LEN, SEALED_SEGMENT, SEGMENT_SIZE, SegmentCipher, cipher_for};

const SEG: u64 = SEGMENT_SIZE as u64;
const SEALED: u64 = SEALED_SEGMENT as u64;

/// A decrypting, seekable view of a blob's plaintext.
pub struct DecryptingReader<R> {
    inner: R,
    cipher: SegmentCipher,
    /// Index of the final segment (every segment before it is full).
    last: u64,
    /// Sealed length of the final segment (its tag included).
    last_sealed: usize,
    /// Plaintext length.
    len: u64,
    pos: u64,
    /// The segment whose plaintext `plain` holds.
    loaded: Option<u64>,
    last_verified: bool,
    plain: Zeroizing<Vec<u8>>,
    sealed: Vec<u8>,
}

fn invalid(e: CryptoError) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, e)
}

impl<R: Read + Seek> DecryptingReader<R> {
    /// Opens the blob: reads its header and derives the layout from its length. Fails on a
    /// foreign header or an impossible length; segments are authenticated as they are read.
    pub fn new(key: &DataKey, binding: &Binding<'_>, mut inner: R) -> io::Result<Self> {
        let blob_len = inner.seek(SeekFrom::End(0))?;
        let body = blob_len
            .checked_sub(HEADER_LEN as u64)
            .ok_or_else(|| invalid(CryptoError::Decrypt))?;
        let last = body / SEALED;
        let last_sealed = body % SEALED;
        if last_sealed < TAG_LEN as u64 {
            return Err(invalid(CryptoError::Decrypt));
        }
        let mut header = [0u8; HEADER_LEN];
        inner.seek(SeekFrom::Start(0))?;
        inner.read_exact(&mut header)?;
        let cipher = cipher_for(key, binding, &header).map_err(invalid)?;
        Ok(Self {
            inner,
            cipher,
            last,
            last_sealed: usize::try_from(last_sealed).map_err(|_| invalid(CryptoError::Decrypt))?,
            len: last * SEG + last_sealed - TAG_LEN as u64,
            pos: 0,
            loaded: None,
            last_verified: false,
            plain: Zeroizing::new(Vec::with_capacity(SEGMENT_SIZE)),
            sealed: Vec::with_capacity(SEALED_SEGMENT),
        })
    }

    /// The plaintext length.
    pub fn len(&self) -> u64 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Gives back the ciphertext source.
    pub fn into_inner(self) -> R {
        self.inner
    }

    /// Reads, authenticates and decrypts segment `index` into `plain`.
    fn load(&mut self, index: u64) -> io::Result<()> {
        if self.loaded == Some(index) {
            return Ok(());
        }
        self.loaded = None;
        self.plain.clear();
        let is_last = index == self.last;
        let sealed_len = if is_last {
            self.last_sealed
        } else {
            SEALED_SEGMENT
        };
        self.inner
            .seek(SeekFrom::Start(HEADER_LEN as u64 + index * SEALED))?;
        self.sealed.resize(sealed_len, 0);
        self.inner.read_exact(&mut self.sealed)?;
        self.cipher
            .open_at(index, &mut self.plain, &self.sealed, is_last)
            .map_err(invalid)?;
        self.loaded = Some(index);
        self.last_verified |= is_last;
        Ok(())
    }
}

impl<R: Read + Seek> Read for DecryptingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let mut done = 0;
        while done < buf.len() && self.pos < self.len {
            let index = self.pos / SEG;
            self.load(index)?;
            // `pos - index * SEG` is below one segment, so it fits.
            let offset = (self.pos - index * SEG) as usize;
            let n = (self.plain.len() - offset).min(buf.len() - done);
            buf[done..done + n].copy_from_slice(&self.plain[offset..offset + n]);
            done += n;
            self.pos += n as u64;
        }
        // The end is only the end once the final segment, the one marked as such, is verified.
        if self.pos >= self.len && !self.last_verified {
            self.load(self.last)?;
        }
        Ok(done)
    }
}

impl<R: Read + Seek> Seek for DecryptingReader<R> {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let target = match to {
            SeekFrom::Start(n) => Some(n),
            SeekFrom::End(d) => self.len.checked_add_signed(d),
            SeekFrom::Current(d) => self.pos.checked_add_signed(d),
        };
        let target = target
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "seek before the start"))?;
        self.pos = target;
        Ok(target)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use std::io::Cursor;

    use super::*;
    use crate::stream::encrypt_to_vec;

    const B: Binding<'static> = Binding {
        tenant: "t",
        document: "d",
        version: "v",
    };

    fn plaintext(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i * 31 % 251) as u8).collect()
    }

    fn reader(key: &DataKey, blob: Vec<u8>) -> io::Result<DecryptingReader<Cursor<Vec<u8>>>> {
        DecryptingReader::new(key, &B, Cursor::new(blob))
    }

    #[test]
    fn reads_back_every_size() {
        for len in [
            0,
            1,
            SEGMENT_SIZE - 1,
            SEGMENT_SIZE,
            SEGMENT_SIZE + 1,
            3 * SEGMENT_SIZE + 5,
        ] {
            let key = DataKey::generate();
            let clear = plaintext(len);
            let mut r = reader(&key, encrypt_to_vec(&key, &B, &clear).unwrap()).unwrap();
            assert_eq!(r.len(), len as u64);
            let mut back = Vec::new();
            r.read_to_end(&mut back).unwrap();
            assert_eq!(back, clear, "size {len}");
            assert!(r.last_verified);
        }
    }

    #[test]
    fn seeks_anywhere() {
        let key = DataKey::generate();
        let clear = plaintext(3 * SEGMENT_SIZE + 777);
        let mut r = reader(&key, encrypt_to_vec(&key, &B, &clear).unwrap()).unwrap();
        // The inspector's way: the end of the file first, then the start, then the middle.
        let mut tail = [0u8; 1024];
        r.seek(SeekFrom::End(-1024)).unwrap();
        r.read_exact(&mut tail).unwrap();
        assert_eq!(&tail[..], &clear[clear.len() - 1024..]);
        for start in [
            0usize,
            5,
            SEGMENT_SIZE - 3,
            2 * SEGMENT_SIZE,
            3 * SEGMENT_SIZE + 700,
        ] {
            let mut piece = vec![0u8; 100.min(clear.len() - start)];
            r.seek(SeekFrom::Start(start as u64)).unwrap();
            r.read_exact(&mut piece).unwrap();
            assert_eq!(piece, &clear[start..start + piece.len()], "at {start}");
        }
        r.seek(SeekFrom::Current(-50)).unwrap();
        assert!(
            r.seek(SeekFrom::Current(-(clear.len() as i64) - 10))
                .is_err()
        );
        // Past the end reads nothing.
        r.seek(SeekFrom::Start(clear.len() as u64 + 10)).unwrap();
        assert_eq!(r.read(&mut tail).unwrap(), 0);
    }

    #[test]
    fn holds_one_segment_in_clear() {
        let key = DataKey::generate();
        let clear = plaintext(4 * SEGMENT_SIZE);
        let mut r = reader(&key, encrypt_to_vec(&key, &B, &clear).unwrap()).unwrap();
        let mut sink = vec![0u8; 3 * SEGMENT_SIZE];
        r.read_exact(&mut sink).unwrap();
        assert!(r.plain.len() <= SEGMENT_SIZE);
        assert_eq!(r.plain.capacity(), SEGMENT_SIZE);
    }

    #[test]
    fn tampering_is_detected() {
        let key = DataKey::generate();
        let clear = plaintext(2 * SEGMENT_SIZE + 10);
        let blob = encrypt_to_vec(&key, &B, &clear).unwrap();

        let mut flipped = blob.clone();
        flipped[HEADER_LEN + SEGMENT_SIZE + 100] ^= 1;
        let mut r = reader(&key, flipped).unwrap();
        let mut buf = vec![0u8; 100];
        r.read_exact(&mut buf).unwrap();
        r.seek(SeekFrom::Start(SEG + 50)).unwrap();
        assert_eq!(
            r.read(&mut buf).unwrap_err().kind(),
            io::ErrorKind::InvalidData
        );

        // Cut: the last segment is no longer the one marked final.
        let cut = blob[..HEADER_LEN + SEALED_SEGMENT + 20].to_vec();
        let mut r = reader(&key, cut).unwrap();
        assert!(r.read_to_end(&mut Vec::new()).is_err());
        // Cut inside a tag: an impossible length.
        assert!(reader(&key, blob[..HEADER_LEN + 5].to_vec()).is_err());
        assert!(reader(&key, blob[..3].to_vec()).is_err());

        // Another binding, another key.
        let other = Binding { version: "w", ..B };
        let mut r = DecryptingReader::new(&key, &other, Cursor::new(blob.clone())).unwrap();
        assert!(r.read(&mut buf).is_err());
        let mut r = reader(&DataKey::generate(), blob).unwrap();
        assert!(r.read(&mut buf).is_err());
    }

    #[test]
    fn a_dropped_final_empty_segment_is_detected() {
        let key = DataKey::generate();
        let clear = plaintext(2 * SEGMENT_SIZE);
        let blob = encrypt_to_vec(&key, &B, &clear).unwrap();
        // Dropping the empty final segment leaves a length of whole segments: impossible.
        assert!(reader(&key, blob[..blob.len() - TAG_LEN].to_vec()).is_err());
        let mut r = reader(&key, blob).unwrap();
        r.seek(SeekFrom::End(0)).unwrap();
        assert_eq!(r.read(&mut [0u8; 4]).unwrap(), 0);
        assert!(r.last_verified);
    }
}
