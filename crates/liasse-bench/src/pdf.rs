//! Valid PDFs of any size: a catalog, one page and one large content stream of harmless
//! drawing operators (no names, no markup, nothing the upload inspection would flag).
//!
//! Every file carries a 16-hex-digit tag in a comment near its start, so files of the same size
//! differ (different SHA-256) while their layout and offsets stay the same.

use std::io::Write;

/// The repeated content-stream line: draws a line, 18 bytes.
const FILLER: &[u8] = b"0 0 m 100 100 l S\n";
/// Where the tag sits in every generated file (after the header lines).
const TAG_OFFSET: usize = HEADER.len() + 4;
const HEADER: &str = "%PDF-1.7\n%\u{e2}\u{e3}\u{cf}\u{d3}\n";

fn objects_before_stream(tag: u64) -> (Vec<u8>, Vec<usize>) {
    let mut out = Vec::new();
    out.extend_from_slice(HEADER.as_bytes());
    out.extend_from_slice(format!("%ID {tag:016x}\n").as_bytes());
    let mut offsets = Vec::new();
    for body in [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>",
    ] {
        offsets.push(out.len());
        let n = offsets.len();
        out.extend_from_slice(format!("{n} 0 obj\n{body}\nendobj\n").as_bytes());
    }
    (out, offsets)
}

struct Layout {
    head: Vec<u8>,
    stream_len: usize,
    tail: Vec<u8>,
}

impl Layout {
    fn total(&self) -> usize {
        self.head.len() + self.stream_len + self.tail.len()
    }
}

fn layout(stream_len: usize, tag: u64) -> Layout {
    let (mut head, mut offsets) = objects_before_stream(tag);
    offsets.push(head.len());
    head.extend_from_slice(format!("4 0 obj\n<< /Length {stream_len} >>\nstream\n").as_bytes());
    let after_stream = head.len() + stream_len;
    let mut tail = Vec::new();
    tail.extend_from_slice(b"\nendstream\nendobj\n");
    let xref_at = after_stream + tail.len();
    tail.extend_from_slice(b"xref\n0 5\n0000000000 65535 f \n");
    for o in &offsets {
        tail.extend_from_slice(format!("{o:010} 00000 n \n").as_bytes());
    }
    tail.extend_from_slice(
        format!("trailer\n<< /Size 5 /Root 1 0 R >>\nstartxref\n{xref_at}\n%%EOF\n").as_bytes(),
    );
    Layout {
        head,
        stream_len,
        tail,
    }
}

/// The layout of a file of exactly `size` bytes (or the smallest valid file when `size` is
/// smaller than that).
fn layout_for(size: usize, tag: u64) -> Layout {
    let mut l = layout(0, tag);
    // The overhead grows with the digits of the lengths and offsets: a few passes settle it.
    for _ in 0..4 {
        let overhead = l.total() - l.stream_len;
        l = layout(size.saturating_sub(overhead), tag);
    }
    l
}

fn fill(buf: &mut Vec<u8>, mut n: usize, phase: &mut usize) {
    while n > 0 {
        let from = *phase % FILLER.len();
        let take = (FILLER.len() - from).min(n);
        buf.extend_from_slice(&FILLER[from..from + take]);
        *phase += take;
        n -= take;
    }
}

/// A whole PDF in memory.
pub fn bytes(size: usize, tag: u64) -> Vec<u8> {
    let l = layout_for(size, tag);
    let mut out = Vec::with_capacity(l.total());
    out.extend_from_slice(&l.head);
    let mut phase = 0;
    fill(&mut out, l.stream_len, &mut phase);
    out.extend_from_slice(&l.tail);
    out
}

/// Rewrites the tag of a file made by [`bytes`] (same layout, different content).
pub fn retag(pdf: &mut [u8], tag: u64) {
    let hex = format!("{tag:016x}");
    if let Some(slot) = pdf.get_mut(TAG_OFFSET..TAG_OFFSET + 16) {
        slot.copy_from_slice(hex.as_bytes());
    }
}

/// Writes a PDF of exactly `size` bytes to `path`, a MiB at a time; returns the size and a
/// checksum of the content (see [`Checksum`]).
pub fn write_file(path: &std::path::Path, size: u64, tag: u64) -> std::io::Result<(u64, u64)> {
    let size = usize::try_from(size).map_err(std::io::Error::other)?;
    let l = layout_for(size, tag);
    let mut f = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(path)?);
    let mut sum = Checksum::default();
    f.write_all(&l.head)?;
    sum.update(&l.head);
    let mut left = l.stream_len;
    let mut phase = 0;
    let mut chunk = Vec::with_capacity(1 << 20);
    while left > 0 {
        chunk.clear();
        let n = left.min(1 << 20);
        fill(&mut chunk, n, &mut phase);
        f.write_all(&chunk)?;
        sum.update(&chunk);
        left -= n;
    }
    f.write_all(&l.tail)?;
    sum.update(&l.tail);
    f.flush()?;
    Ok((l.total() as u64, sum.value()))
}

/// An order-sensitive checksum of the content (CRC-32, computed with carry-less
/// multiplication where the CPU has it), enough to tell that a download returned the bytes that
/// were uploaded. It runs at several GB/s: a byte-at-a-time checksum (FNV-1a, about 0.5 GB/s
/// on the reference machine) capped the download figure below what the server sends.
#[derive(Clone, Default)]
pub struct Checksum(crc32fast::Hasher);

impl Checksum {
    pub fn update(&mut self, data: &[u8]) {
        self.0.update(data);
    }

    pub fn value(&self) -> u64 {
        u64::from(self.0.clone().finalize())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_sizes_and_valid_offsets() {
        for size in [1_000usize, 204_800, 1 << 20, 3_333_333] {
            let pdf = bytes(size, 7);
            assert_eq!(pdf.len(), size);
            let text = String::from_utf8_lossy(&pdf);
            let startxref: usize = text
                .rsplit("startxref\n")
                .next()
                .and_then(|s| s.lines().next())
                .and_then(|s| s.parse().ok())
                .unwrap_or(0);
            assert!(pdf[startxref..].starts_with(b"xref\n"));
            for (n, line) in text[startxref..].lines().skip(3).take(4).enumerate() {
                let off: usize = line[..10].parse().unwrap_or(0);
                assert!(pdf[off..].starts_with(format!("{} 0 obj", n + 1).as_bytes()));
            }
        }
    }

    #[test]
    fn retag_keeps_the_layout() {
        let mut a = bytes(10_000, 1);
        let b = bytes(10_000, 2);
        assert_ne!(a, b);
        retag(&mut a, 2);
        assert_eq!(a, b);
    }

    #[test]
    fn file_matches_memory() {
        let dir = std::env::temp_dir().join(format!("liasse-bench-pdf-{}", std::process::id()));
        let (n, sum) = write_file(&dir, 2_500_000, 9).unwrap_or((0, 0));
        let mem = bytes(2_500_000, 9);
        let mut c = Checksum::default();
        c.update(&mem);
        assert_eq!(n, 2_500_000);
        assert_eq!(sum, c.value());
        assert_eq!(std::fs::read(&dir).unwrap_or_default(), mem);
        let _ = std::fs::remove_file(&dir);
    }
}
