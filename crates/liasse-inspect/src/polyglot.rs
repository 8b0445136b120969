//! Checks for files that are valid in more than one format.
//!
//! A polyglot is refused because another program (a PDF reader, a browser guessing the type,
//! an archive tool, an antivirus that stops at the first format) may see a different file
//! than the one inspected here.

use crate::bytes::{find, find_ignore_ascii_case};
use crate::{Format, Refusal};

/// Markup that makes a browser sniff a file as HTML or SVG. Browsers look at the first bytes
/// only, so the search is limited to the first KiB.
const MARKUP_MARKERS: [&[u8]; 7] = [
    b"<html",
    b"<script",
    b"<svg",
    b"<body",
    b"<iframe",
    b"<!doctype html",
    b"<?php",
];
const MARKUP_WINDOW: usize = 1024;

/// End-of-central-directory record of a ZIP archive. Archive tools look for it from the end
/// of the file (it may be followed by a comment of up to 65 535 bytes), whatever comes first.
const ZIP_EOCD: &[u8] = b"PK\x05\x06";
pub(crate) const ZIP_EOCD_WINDOW: usize = 22 + 65_535;

/// Bytes tolerated after the end of an image or PDF: some writers add a few.
pub(crate) const SMALL_TAIL: usize = 16;

/// Checks shared by every format, done before any parsing.
pub(crate) fn check_common(buf: &[u8], format: Format) -> Result<(), Refusal> {
    let tail_start = buf.len().saturating_sub(ZIP_EOCD_WINDOW);
    check_head_and_tail(buf, buf.get(tail_start..).unwrap_or_default())?;
    // PDF readers find a header anywhere in the first KiB and some anywhere at all.
    if format != Format::Pdf && find(buf, crate::format::PDF_MAGIC).is_some() {
        return Err(Refusal::Polyglot);
    }
    Ok(())
}

/// The checks that only need the start of a file (at least [`MARKUP_WINDOW`] bytes, or all of
/// it) and its last [`ZIP_EOCD_WINDOW`] bytes.
pub(crate) fn check_head_and_tail(head: &[u8], tail: &[u8]) -> Result<(), Refusal> {
    let head = head.get(..MARKUP_WINDOW).unwrap_or(head);
    if MARKUP_MARKERS
        .iter()
        .any(|marker| find_ignore_ascii_case(head, marker).is_some())
    {
        return Err(Refusal::Polyglot);
    }
    if find(tail, ZIP_EOCD).is_some() {
        return Err(Refusal::Polyglot);
    }
    Ok(())
}

/// Padding some writers leave after the end of a file.
pub(crate) fn is_padding(b: u8) -> bool {
    matches!(b, 0 | 0xFF | b' ' | b'\t' | b'\r' | b'\n' | 0x0C)
}

/// Whether bytes found after the end of a file are harmless: padding, or a handful of bytes.
pub(crate) fn tail_is_insignificant(tail: &[u8]) -> bool {
    let significant = tail.iter().filter(|&&b| !is_padding(b)).count();
    significant == 0 || tail.len() <= SMALL_TAIL
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_or_padding_tails_are_insignificant() {
        assert!(tail_is_insignificant(b""));
        assert!(tail_is_insignificant(&[0; 4096]));
        assert!(tail_is_insignificant(b"0123456789abcdef"));
        assert!(!tail_is_insignificant(b"0123456789abcdefg"));
    }
}
