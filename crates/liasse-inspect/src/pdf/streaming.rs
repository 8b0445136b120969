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

/// What a byte is to the tokenizer, looked up in a table: the inner loops run on every byte.
const SPACE: u8 = 0;
const NUMERIC: u8 = 1;
const REGULAR: u8 = 2;
/// `%`, `/`, `(`, `<`: delimiters that start something.
const OPENER: u8 = 3;

const CLASSES: [u8; 256] = {
    let mut table = [REGULAR; 256];
    let mut b = 0;
    while b < 256 {
        table[b] = match b as u8 {
            b' ' | b'\t' | b'\n' | b'\r' | b'\0' | 0x0C => SPACE,
            // One-byte tokens: nothing to remember after them, like spaces.
            b'[' | b']' | b'{' | b'}' | b')' | b'>' => SPACE,
            b'%' | b'/' | b'(' | b'<' => OPENER,
            b'0'..=b'9' | b'+' | b'-' | b'.' => NUMERIC,
            _ => REGULAR,
        };
        b += 1;
    }
    table
};

fn class(b: u8) -> u8 {
    CLASSES[usize::from(b)]
}

/// Length of the run at the start of `bytes` whose bytes satisfy `keep`.
fn run_of(bytes: &[u8], keep: impl Fn(u8) -> bool) -> usize {
    bytes.iter().position(|&c| !keep(c)).unwrap_or(bytes.len())
}

fn hex(b: u8) -> Option<u8> {
    char::from(b)
        .to_digit(16)
        .and_then(|d| u8::try_from(d).ok())
}

/// The file itself: names and the streams that may hold objects.
struct FileSink<'a> {
    findings: &'a mut Findings,
    /// Bytes that inflating may still produce, over the whole file.
    inflate_left: &'a mut u64,
    /// What the dictionary before a stream said about it (as in the small-file scan).
    object_stream: bool,
    metadata: bool,
    /// A predictor or a filter other than Flate: the inflated bytes would not be the objects.
    unusual_coding: bool,
    stream: Option<StreamScan>,
}

impl Sink for FileSink<'_> {
    fn name(&mut self, name: &[u8]) {
        match name {
            b"ObjStm" | b"First" => self.object_stream = true,
            b"Metadata" | b"XML" => self.metadata = true,
            b"DecodeParms" | b"Predictor" | b"ASCIIHexDecode" | b"ASCII85Decode" | b"LZWDecode"
            | b"RunLengthDecode" | b"AHx" | b"A85" | b"LZW" | b"RL" | b"Fl" => {
                self.unusual_coding = true
            }
            _ => {}
        }
        self.findings.note_name(name);
    }

    fn keyword(&mut self, keyword: &[u8]) {
        if keyword == b"obj" || keyword == b"endobj" {
            self.object_stream = false;
            self.metadata = false;
            self.unusual_coding = false;
        }
    }

    fn stream_start(&mut self) -> Result<(), Refusal> {
        // Objects this pass could not read would go unchecked: refuse them. Writers compress
        // object streams with plain Flate.
        if self.object_stream && self.unusual_coding {
            return Err(MALFORMED);
        }
        self.stream = Some(StreamScan::Deciding {
            head: Vec::new(),
            object_stream: self.object_stream,
            metadata: self.metadata,
        });
        Ok(())
    }

    fn stream_data(&mut self, data: &[u8]) -> Result<(), Refusal> {
        match self.stream.as_mut() {
            Some(stream) => stream.feed(data, self.findings, self.inflate_left),
            None => Ok(()),
        }
    }

    fn stream_end(&mut self) -> Result<(), Refusal> {
        match self.stream.take() {
            Some(stream) => stream.finish(self.findings, self.inflate_left),
            None => Ok(()),
        }
    }
}

/// Inside a stream: names only; nested stream data is skipped, as in the small-file scan.
struct ContentSink<'a>(&'a mut Findings);

impl Sink for ContentSink<'_> {
    fn name(&mut self, name: &[u8]) {
        self.0.note_name(name);
    }
    fn keyword(&mut self, _: &[u8]) {}
    fn stream_start(&mut self) -> Result<(), Refusal> {
        Ok(())
    }
    fn stream_data(&mut self, _: &[u8]) -> Result<(), Refusal> {
        Ok(())
    }
    fn stream_end(&mut self) -> Result<(), Refusal> {
        Ok(())
    }
}

/// One stream of the file, scanned as it is read.
enum StreamScan {
    /// Collecting the first bytes, to see what the stream holds.
    Deciding {
        head: Vec<u8>,
        object_stream: bool,
        metadata: bool,
    },
    /// Image, font, XMP metadata: not PDF syntax.
    Skip,
    Raw(Scanner),
    /// Zlib data; the decompressor is gone once the data has ended.
    Inflate(Option<Box<Decompress>>, Scanner),
}

impl StreamScan {
    fn feed(
        &mut self,
        data: &[u8],
        findings: &mut Findings,
        inflate_left: &mut u64,
    ) -> Result<(), Refusal> {
        match self {
            StreamScan::Deciding {
                head,
                object_stream,
                metadata,
            } => {
                head.extend_from_slice(data);
                if head.len() >= HEAD {
                    let head = std::mem::take(head);
                    *self = StreamScan::decide(&head, *object_stream, *metadata);
                    self.feed(&head, findings, inflate_left)?;
                }
                Ok(())
            }
            StreamScan::Skip => Ok(()),
            StreamScan::Raw(scanner) => scanner.feed(data, &mut ContentSink(findings)),
            StreamScan::Inflate(z, scanner) => {
                inflate_into(z, data, scanner, findings, inflate_left)
            }
        }
    }

    fn finish(mut self, findings: &mut Findings, inflate_left: &mut u64) -> Result<(), Refusal> {
        if let StreamScan::Deciding {
            head,
            object_stream,
            metadata,
        } = &mut self
        {
            let head = std::mem::take(head);
            self = StreamScan::decide(&head, *object_stream, *metadata);
            self.feed(&head, findings, inflate_left)?;
        }
        match self {
            StreamScan::Raw(mut scanner) | StreamScan::Inflate(_, mut scanner) => {
                scanner.finish(&mut ContentSink(findings))
            }
            _ => Ok(()),
        }
    }

    /// The same decision as the small-file scan, on the first bytes of the stream.
    fn decide(head: &[u8], object_stream: bool, metadata: bool) -> StreamScan {
        // XMP metadata is XML whose text may legitimately read "HTML/JS".
        if metadata && !object_stream {
            return StreamScan::Skip;
        }
        if looks_like_zlib(head) {
            let sample = inflate_prefix(head, SAMPLE);
            if object_stream || holds_pdf_syntax(&sample) {
                return StreamScan::Inflate(
                    Some(Box::new(Decompress::new(true))),
                    Scanner::default(),
                );
            }
            return StreamScan::Skip;
        }
        let sample = head.get(..SAMPLE).unwrap_or(head);
        if object_stream || holds_pdf_syntax(sample) {
            StreamScan::Raw(Scanner::default())
        } else {
            StreamScan::Skip
        }
    }
}

/// Inflate `input` and scan what comes out, without keeping it. Corrupt data ends the stream
/// (what was inflated before the error counts) and so does the end of the zlib data: what
/// follows is ignored, as in the small-file scan.
fn inflate_into(
    inflater: &mut Option<Box<Decompress>>,
    mut input: &[u8],
    scanner: &mut Scanner,
    findings: &mut Findings,
    inflate_left: &mut u64,
) -> Result<(), Refusal> {
    let mut out = [0u8; 16 * 1024];
    while let Some(z) = inflater.as_mut() {
        let (before_in, before_out) = (z.total_in(), z.total_out());
        let status = z.decompress(input, &mut out, FlushDecompress::None);
        let consumed = usize::try_from(z.total_in() - before_in).unwrap_or(usize::MAX);
        let produced = usize::try_from(z.total_out() - before_out).unwrap_or(usize::MAX);
        *inflate_left = inflate_left.checked_sub(produced as u64).ok_or(MALFORMED)?;
        scanner.feed(
            out.get(..produced).unwrap_or_default(),
            &mut ContentSink(findings),
        )?;
        input = input.get(consumed..).unwrap_or_default();
        match status {
            Ok(Status::StreamEnd) | Err(_) => *inflater = None,
            Ok(_) if consumed == 0 && produced == 0 => break,
            Ok(_) => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    /// Records what the scanner reports, as the small-file lexer's tokens would.
    #[derive(Default, Debug, PartialEq)]
    struct Record(Vec<String>, Vec<u8>);

    impl Sink for Record {
        fn name(&mut self, name: &[u8]) {
            self.0.push(format!("/{}", name.escape_ascii()));
        }
        fn keyword(&mut self, keyword: &[u8]) {
            self.0.push(keyword.escape_ascii().to_string());
        }
        fn stream_start(&mut self) -> Result<(), Refusal> {
            self.0.push("<data>".into());
            Ok(())
        }
        fn stream_data(&mut self, data: &[u8]) -> Result<(), Refusal> {
            self.1.extend_from_slice(data);
            Ok(())
        }
        fn stream_end(&mut self) -> Result<(), Refusal> {
            if !self.1.is_empty() {
                self.0.push(format!("data:{}", self.1.escape_ascii()));
                self.1.clear();
            }
            self.0.push("</data>".into());
            Ok(())
        }
    }

    fn scan_in_pieces(input: &[u8], piece: usize) -> Vec<String> {
        let mut scanner = Scanner::default();
        let mut record = Record::default();
        for part in input.chunks(piece.max(1)) {
            scanner.feed(part, &mut record).unwrap();
        }
        scanner.finish(&mut record).unwrap();
        record.0
    }

    #[test]
    fn tokenizes_names_keywords_and_streams_whatever_the_pieces() {
        let input = b"1 0 obj<</S/J#61vaScript/A#2/B#4/C#(x\\)/JS)>>stream\r\nab/JS end(endstream endobj %c/JS\n/Z";
        let whole = scan_in_pieces(input, input.len());
        assert_eq!(
            whole,
            [
                "obj",
                "/S",
                "/JavaScript",
                "/A#2",
                "/B#4",
                "/C#",
                "stream",
                "<data>",
                "data:ab/JS end(",
                "</data>",
                "endstream",
                "endobj",
                "/Z"
            ]
        );
        for piece in 1..input.len() {
            assert_eq!(scan_in_pieces(input, piece), whole, "pieces of {piece}");
        }
    }

    /// What the small-file scan sees in `input`, in the recorder's terms.
    fn scan_with_lexer(input: &[u8]) -> Vec<String> {
        use crate::pdf::lexer::{Lexer, Token, data_after_stream_keyword};
        let mut record = Record::default();
        let mut lx = Lexer::new(input, 0);
        while let Some(token) = lx.next_token() {
            match token {
                Token::Name(name) if name.len() <= MAX_TOKEN => record.name(&name),
                Token::Keyword(keyword) if keyword.len() <= MAX_TOKEN => {
                    record.keyword(keyword);
                    if keyword != b"stream" {
                        continue;
                    }
                    let Some(start) = data_after_stream_keyword(input, lx.pos()) else {
                        continue;
                    };
                    let end =
                        crate::bytes::find_from(input, ENDSTREAM, start).unwrap_or(input.len());
                    record.stream_start().unwrap();
                    if end > start {
                        record.stream_data(&input[start..end]).unwrap();
                    }
                    record.stream_end().unwrap();
                    lx.set_pos(end);
                }
                _ => {}
            }
        }
        record.0
    }

    proptest::proptest! {
        #[test]
        fn sees_what_the_small_file_scan_sees(
            parts in proptest::collection::vec(
                proptest::prop_oneof![
                    proptest::strategy::Just(b"/JS".to_vec()),
                    proptest::strategy::Just(b"/J#61vaScript".to_vec()),
                    proptest::strategy::Just(b"#4".to_vec()),
                    proptest::strategy::Just(b"stream".to_vec()),
                    proptest::strategy::Just(b"endstream".to_vec()),
                    proptest::strategy::Just(b"obj".to_vec()),
                    proptest::strategy::Just(b"<<".to_vec()),
                    proptest::strategy::Just(b">>".to_vec()),
                    proptest::strategy::Just(b"(".to_vec()),
                    proptest::strategy::Just(b")".to_vec()),
                    proptest::strategy::Just(b"\\".to_vec()),
                    proptest::strategy::Just(b"%".to_vec()),
                    proptest::strategy::Just(b"\r".to_vec()),
                    proptest::strategy::Just(b"\n".to_vec()),
                    proptest::collection::vec(proptest::num::u8::ANY, 0..6),
                ],
                0..40,
            ),
            piece in 1usize..20,
        ) {
            let input: Vec<u8> = parts.concat();
            proptest::prop_assert_eq!(scan_in_pieces(&input, piece), scan_with_lexer(&input));
        }
    }

    fn inspect(body: &[u8]) -> Result<u32, Refusal> {
        let mut pdf = b"%PDF-1.7\n1 0 obj <</Type/Page>> endobj\n".to_vec();
        pdf.extend_from_slice(body);
        pdf.extend_from_slice(b"\nstartxref\n0\n%%EOF\n");
        let len = pdf.len() as u64;
        inspect_pdf_file(&mut std::io::Cursor::new(pdf), len, &Limits::default())
    }

    fn zlib(data: &[u8]) -> Vec<u8> {
        use std::io::Write;
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
        z.write_all(data).unwrap();
        z.finish().unwrap()
    }

    #[test]
    fn object_streams_are_inflated_and_read() {
        let objects = zlib(b"2 0 <</S/JavaScript/JS(x)>>");
        let mut body = b"3 0 obj <</Type/ObjStm/N 1/First 4/Filter/FlateDecode>>stream\n".to_vec();
        body.extend_from_slice(&objects);
        body.extend_from_slice(b"\nendstream endobj");
        assert_eq!(inspect(&body), Err(Refusal::PdfJavascript));
        assert_eq!(inspect(b""), Ok(1));
    }

    #[test]
    fn object_streams_this_pass_cannot_read_are_refused() {
        let mut body =
            b"3 0 obj <</N 1/First 4/Filter/FlateDecode/DecodeParms<</Predictor 12/Columns 5>>>>stream\n"
                .to_vec();
        body.extend_from_slice(&zlib(b"\x02abcde"));
        body.extend_from_slice(b"\nendstream endobj");
        assert_eq!(inspect(&body), Err(Refusal::PdfMalformed));
        // The same coding on an image is none of this pass's business.
        let body = b"3 0 obj <</Subtype/Image/DecodeParms<</Predictor 12>>>>stream\n\x00\x01\nendstream endobj";
        assert_eq!(inspect(body), Ok(1));
    }

    #[test]
    fn stream_keyword_without_end_of_line_is_not_a_stream() {
        assert_eq!(scan_in_pieces(b"stream /X", 3), ["stream", "/X"]);
        assert_eq!(
            scan_in_pieces(b"stream \rxendstream", 2),
            ["stream", "<data>", "data:x", "</data>", "endstream"]
        );
    }
}
