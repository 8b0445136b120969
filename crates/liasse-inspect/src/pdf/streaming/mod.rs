//! PDFs too large to hold in memory, checked in one pass over the file.
//!
//! lopdf needs the whole file in memory and makes copies of its streams, so above
//! [`Limits::max_in_memory`](crate::Limits) the checks that lopdf makes possible are replaced
//! by what can be done in a single forward pass with bounded memory:
//!
//! - the header (and what precedes it) and the end of the file (`%%EOF`, `startxref`, trailing
//!   data) are checked as for a small file;
//! - every name outside strings and stream data is looked at, `#xx` escapes decoded, as in the
//!   raw scan of small files ([`super::scan`]): `/Encrypt`, `/JS`, `/JavaScript`, `/Launch`,
//!   embedded files are refused;
//! - streams that hold PDF syntax (object streams, anything with `/First`, and textual or
//!   inflated-to-textual streams) are scanned the same way while they are read, inflated on
//!   the fly: nothing is kept, so memory does not grow with the file; the bytes inflated over
//!   the whole file are bounded, so a compression bomb costs bounded time;
//! - the page count is the number of `/Type /Page` objects.
//!
//! What is lost against the small-file path is the structural validation by a full parser
//! (cross-reference table, object graph), which matters for viewers' robustness, not for the
//! active content that the upload policy refuses.

mod classes;
mod sinks;

use classes::*;
use sinks::*;

use std::io::{Read, Seek, SeekFrom};

use flate2::{Decompress, FlushDecompress, Status};

use super::MAX_TRAILING;
use super::lexer::is_regular;
use super::scan::{Findings, SAMPLE, holds_pdf_syntax};
use super::streams::{inflate_prefix, looks_like_zlib};
use crate::bytes::rfind;
use crate::format::pdf_header_offset;
use crate::polyglot::is_padding;
use crate::{Limits, Refusal};

const MALFORMED: Refusal = Refusal::PdfMalformed;

/// Bytes read from the file at a time.
const CHUNK: usize = 1 << 20;

/// How much of the end of the file is searched for `%%EOF` and `startxref`.
const TAIL: usize = 1 << 20;

/// Raw bytes of a stream looked at before deciding whether it holds PDF syntax.
const HEAD: usize = 64 * 1024;

/// Longest name or keyword kept; longer ones cannot be any of the names looked for.
const MAX_TOKEN: usize = 128;

const ENDSTREAM: &[u8] = b"endstream";

/// Check a PDF of `len` bytes read from `file`; returns its page count.
pub(crate) fn inspect_pdf_file<R: Read + Seek>(
    file: &mut R,
    len: u64,
    limits: &Limits,
) -> Result<u32, Refusal> {
    let head = read_at(file, 0, crate::SNIFF_LEN)?;
    let start = pdf_header_offset(&head).ok_or(MALFORMED)?;
    let prefix = head.get(..start).unwrap_or_default();
    if !prefix.is_empty() && infer::get(prefix).is_some() {
        return Err(Refusal::Polyglot);
    }

    let tail_len = usize::try_from(len).map_or(TAIL, |len| len.min(TAIL));
    let tail_start = len.saturating_sub(tail_len as u64);
    let tail = read_at(file, tail_start, tail_len)?;
    // Padding after the end is harmless; a tail that is nothing but padding is not a PDF end.
    let last = tail
        .iter()
        .rposition(|&b| !is_padding(b))
        .ok_or(MALFORMED)?;
    let tail = tail.get(..=last).ok_or(MALFORMED)?;
    let eof = rfind(tail, b"%%EOF").ok_or(MALFORMED)?;
    if tail.len() - (eof + 5) > MAX_TRAILING {
        return Err(Refusal::Polyglot);
    }
    if rfind(tail, b"startxref").is_none() {
        return Err(MALFORMED);
    }
    let end = tail_start + tail.len() as u64;
    let start = start as u64;
    if end <= start {
        return Err(MALFORMED);
    }

    let mut findings = Findings::default();
    let mut inflate_left = len.saturating_mul(8).saturating_add(limits.max_alloc);
    let mut sink = FileSink {
        findings: &mut findings,
        inflate_left: &mut inflate_left,
        object_stream: false,
        metadata: false,
        unusual_coding: false,
        stream: None,
    };
    let mut scanner = Scanner::default();
    file.seek(SeekFrom::Start(start)).map_err(|_| MALFORMED)?;
    let mut reader = file.take(end - start);
    let chunk_len = usize::try_from(end - start).map_or(CHUNK, |n| n.clamp(1, CHUNK));
    let mut chunk = vec![0u8; chunk_len];
    loop {
        let n = match reader.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => return Err(MALFORMED),
        };
        scanner.feed(chunk.get(..n).unwrap_or_default(), &mut sink)?;
    }
    scanner.finish(&mut sink)?;
    findings.verdict()?;
    match findings.pages() {
        0 => Err(MALFORMED),
        pages => Ok(pages),
    }
}

fn read_at<R: Read + Seek>(file: &mut R, at: u64, len: usize) -> Result<Vec<u8>, Refusal> {
    file.seek(SeekFrom::Start(at)).map_err(|_| MALFORMED)?;
    let mut buf = Vec::with_capacity(len);
    file.by_ref()
        .take(len as u64)
        .read_to_end(&mut buf)
        .map_err(|_| MALFORMED)?;
    Ok(buf)
}

/// What the scanner reports.
pub(crate) trait Sink {
    /// A name, `#xx` escapes decoded, without its slash.
    fn name(&mut self, name: &[u8]);
    fn keyword(&mut self, keyword: &[u8]);
    /// The data of a stream starts (after `stream` and its end of line).
    fn stream_start(&mut self) -> Result<(), Refusal>;
    /// Part of a stream's data, in order.
    fn stream_data(&mut self, data: &[u8]) -> Result<(), Refusal>;
    /// `endstream`, or the end of the input, was reached.
    fn stream_end(&mut self) -> Result<(), Refusal>;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum State {
    #[default]
    Space,
    Comment,
    Name,
    /// After `#` in a name.
    NameHash,
    /// After `#` and one hex digit in a name.
    NameHashDigit(u8),
    Number,
    Word,
    Literal {
        depth: usize,
        escaped: bool,
    },
    /// After `<`: a dictionary or a hexadecimal string.
    Less,
    Hex,
    /// After the `stream` keyword: spaces or tabs, then an end of line.
    StreamKeyword,
    /// After `stream` and a carriage return.
    StreamCr,
    /// Inside stream data, `matched` bytes of `endstream` seen.
    StreamData {
        matched: usize,
    },
}

/// A PDF tokenizer fed in pieces of any size, which tokenizes as [`super::lexer::Lexer`]
/// does (the scan of small files) without holding the input: only the current name or
/// keyword is kept.
#[derive(Debug, Default)]
pub(crate) struct Scanner {
    state: State,
    token: Vec<u8>,
    /// The current name or keyword is longer than [`MAX_TOKEN`].
    long: bool,
}

impl Scanner {
    pub(crate) fn feed<S: Sink>(&mut self, input: &[u8], sink: &mut S) -> Result<(), Refusal> {
        let mut at = 0;
        while let Some(&b) = input.get(at) {
            // Runs of bytes that cannot change the state are passed over in tight loops: page
            // content is mostly numbers, operators and spaces.
            let rest = input.get(at..).unwrap_or_default();
            let run = match self.state {
                State::StreamData { matched: 0 } => {
                    let run = run_of(rest, |c| c != b'e');
                    if run > 0 {
                        sink.stream_data(rest.get(..run).unwrap_or_default())?;
                    }
                    run
                }
                State::Space | State::Number => self.space_run(rest, sink),
                State::Comment => run_of(rest, |c| c != b'\r' && c != b'\n'),
                State::Hex => run_of(rest, |c| c != b'>'),
                State::Literal { escaped: false, .. } => {
                    run_of(rest, |c| !matches!(c, b'\\' | b'(' | b')'))
                }
                State::Word => {
                    let run = run_of(rest, |c| matches!(class(c), REGULAR | NUMERIC));
                    self.push_all(rest.get(..run).unwrap_or_default());
                    run
                }
                State::Name => {
                    let run = run_of(rest, |c| c != b'#' && matches!(class(c), REGULAR | NUMERIC));
                    self.push_all(rest.get(..run).unwrap_or_default());
                    run
                }
                _ => 0,
            };
            if run > 0 {
                at += run;
                continue;
            }
            if self.step(b, sink)? {
                at += 1;
            }
        }
        Ok(())
    }

    /// Between tokens: passes over spaces, numbers (which end where the next token starts,
    /// as spaces do), and the words and plain names that end inside `rest`, reporting them.
    /// Returns how far it got; what it leaves (a token cut by the end of `rest`, a string, a
    /// comment…) is for [`Self::step`].
    fn space_run<S: Sink>(&mut self, rest: &[u8], sink: &mut S) -> usize {
        let mut i = 0;
        loop {
            i += run_of(rest.get(i..).unwrap_or_default(), |c| {
                matches!(class(c), SPACE | NUMERIC)
            });
            let (word, skip) = match rest.get(i) {
                Some(&c) if class(c) == REGULAR => (true, 0),
                Some(b'/') => (false, 1),
                _ => return i,
            };
            let from = i + skip;
            let len = run_of(rest.get(from..).unwrap_or_default(), |c| {
                c != b'#' && matches!(class(c), REGULAR | NUMERIC)
            });
            let end = from + len;
            // Cut by the end of the input, or a name with an escape: the slow path.
            let Some(&after) = rest.get(end) else {
                return i;
            };
            if after == b'#' {
                return i;
            }
            let token = rest.get(from..end).unwrap_or_default();
            self.state = State::Space;
            i = end;
            if len > MAX_TOKEN {
                continue;
            }
            if !word {
                sink.name(token);
            } else {
                sink.keyword(token);
                if token == b"stream" {
                    self.state = State::StreamKeyword;
                    return i;
                }
            }
        }
    }

    /// The end of the input: what is pending is reported as if followed by a space.
    pub(crate) fn finish<S: Sink>(&mut self, sink: &mut S) -> Result<(), Refusal> {
        match self.state {
            State::StreamData { matched } => {
                if matched > 0 {
                    sink.stream_data(ENDSTREAM.get(..matched).unwrap_or_default())?;
                }
                sink.stream_end()?;
                self.state = State::Space;
            }
            State::StreamCr => {
                // A carriage return alone ends the line: an empty stream.
                sink.stream_start()?;
                sink.stream_end()?;
                self.state = State::Space;
            }
            _ => {
                self.step(b' ', sink)?;
                // A name cut after `#` or `#x` has just taken the space.
                self.step(b' ', sink)?;
            }
        }
        Ok(())
    }

    fn push_all(&mut self, bytes: &[u8]) {
        let room = MAX_TOKEN.saturating_sub(self.token.len());
        if bytes.len() > room {
            self.long = true;
        }
        self.token
            .extend_from_slice(bytes.get(..room.min(bytes.len())).unwrap_or_default());
    }

    fn push(&mut self, b: u8) {
        if self.token.len() < MAX_TOKEN {
            self.token.push(b);
        } else {
            self.long = true;
        }
    }

    fn start_token(&mut self, state: State) {
        self.token.clear();
        self.long = false;
        self.state = state;
    }

    /// One byte; `false` when the byte ended a token and must be looked at again.
    fn step<S: Sink>(&mut self, b: u8, sink: &mut S) -> Result<bool, Refusal> {
        match self.state {
            State::Space => match b {
                b'%' => self.state = State::Comment,
                b'/' => self.start_token(State::Name),
                b'(' => {
                    self.state = State::Literal {
                        depth: 1,
                        escaped: false,
                    }
                }
                b'<' => self.state = State::Less,
                b'0'..=b'9' | b'+' | b'-' | b'.' => self.state = State::Number,
                // Whitespace, and the one-byte tokens `[ ] { } ) >` (`>>` is two of them).
                _ if !is_regular(b) => {}
                _ => {
                    self.start_token(State::Word);
                    self.push(b);
                }
            },
            State::Comment => {
                if b == b'\r' || b == b'\n' {
                    self.state = State::Space;
                }
            }
            State::Name => {
                if b == b'#' {
                    self.state = State::NameHash;
                } else if is_regular(b) {
                    self.push(b);
                } else {
                    if !self.long {
                        sink.name(&self.token);
                    }
                    self.state = State::Space;
                    return Ok(false);
                }
            }
            State::NameHash => {
                if b.is_ascii_hexdigit() {
                    self.state = State::NameHashDigit(b);
                } else {
                    // Not an escape: the `#` is part of the name.
                    self.push(b'#');
                    self.state = State::Name;
                    return Ok(false);
                }
            }
            State::NameHashDigit(high) => {
                self.state = State::Name;
                match (hex(high), hex(b)) {
                    (Some(h), Some(l)) => self.push((h << 4) | l),
                    _ => {
                        self.push(b'#');
                        self.push(high);
                        return Ok(false);
                    }
                }
            }
            State::Number => {
                if !(b.is_ascii_digit() || matches!(b, b'+' | b'-' | b'.')) {
                    self.state = State::Space;
                    return Ok(false);
                }
            }
            State::Word => {
                if is_regular(b) {
                    self.push(b);
                } else {
                    if !self.long {
                        sink.keyword(&self.token);
                    }
                    self.state = if !self.long && self.token == b"stream" {
                        State::StreamKeyword
                    } else {
                        State::Space
                    };
                    return Ok(false);
                }
            }
            State::Literal { depth, escaped } => {
                self.state = match (escaped, b) {
                    (true, _) => State::Literal {
                        depth,
                        escaped: false,
                    },
                    (false, b'\\') => State::Literal {
                        depth,
                        escaped: true,
                    },
                    (false, b'(') => State::Literal {
                        depth: depth.saturating_add(1),
                        escaped,
                    },
                    (false, b')') if depth <= 1 => State::Space,
                    (false, b')') => State::Literal {
                        depth: depth - 1,
                        escaped,
                    },
                    _ => State::Literal { depth, escaped },
                }
            }
            State::Less => {
                if b == b'<' {
                    self.state = State::Space;
                } else {
                    self.state = State::Hex;
                    return Ok(false);
                }
            }
            State::Hex => {
                if b == b'>' {
                    self.state = State::Space;
                }
            }
            State::StreamKeyword => match b {
                b' ' | b'\t' => {}
                b'\n' => {
                    self.state = State::StreamData { matched: 0 };
                    sink.stream_start()?;
                }
                b'\r' => self.state = State::StreamCr,
                // No end of line: not a stream after all, as in the small-file scan.
                _ => {
                    self.state = State::Space;
                    return Ok(false);
                }
            },
            State::StreamCr => {
                self.state = State::StreamData { matched: 0 };
                sink.stream_start()?;
                if b != b'\n' {
                    return Ok(false);
                }
            }
            State::StreamData { matched } => {
                if ENDSTREAM.get(matched) == Some(&b) {
                    let matched = matched + 1;
                    if matched == ENDSTREAM.len() {
                        sink.stream_end()?;
                        // `endstream` is a keyword; the bytes after it may prolong it.
                        self.start_token(State::Word);
                        self.token.extend_from_slice(ENDSTREAM);
                    } else {
                        self.state = State::StreamData { matched };
                    }
                } else {
                    self.state = State::StreamData { matched: 0 };
                    if matched > 0 {
                        // `endstream` does not overlap itself: the byte may start it again.
                        sink.stream_data(ENDSTREAM.get(..matched).unwrap_or_default())?;
                        return Ok(false);
                    }
                    sink.stream_data(&[b])?;
                }
            }
        }
        Ok(true)
    }
}

#[cfg(test)]
mod tests;
