//! What the scanner's events feed: the file's structure checks, a content stream's checks, and the decompression of a stream as it is read.

use super::*;

/// The file itself: names and the streams that may hold objects.
pub(super) struct FileSink<'a> {
    pub(super) findings: &'a mut Findings,
    /// Bytes that inflating may still produce, over the whole file.
    pub(super) inflate_left: &'a mut u64,
    /// What the dictionary before a stream said about it (as in the small-file scan).
    pub(super) object_stream: bool,
    pub(super) metadata: bool,
    /// A predictor or a filter other than Flate: the inflated bytes would not be the objects.
    pub(super) unusual_coding: bool,
    pub(super) stream: Option<StreamScan>,
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
pub(super) struct ContentSink<'a>(&'a mut Findings);

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
pub(super) enum StreamScan {
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
    pub(super) fn feed(
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

    pub(super) fn finish(
        mut self,
        findings: &mut Findings,
        inflate_left: &mut u64,
    ) -> Result<(), Refusal> {
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
    pub(super) fn decide(head: &[u8], object_stream: bool, metadata: bool) -> StreamScan {
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
pub(super) fn inflate_into(
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
