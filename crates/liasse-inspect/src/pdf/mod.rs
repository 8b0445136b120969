//! PDF checks.
//!
//! lopdf is not hardened against hostile files: its object parser recurses once per nesting
//! level (a few hundred nested arrays overflow a worker stack and abort the process), it
//! inflates streams without limit, trusts entry counts in cross-reference streams, and parses
//! the object at every listed offset, however often the same bytes are listed. So, in order:
//!
//! 1. the cross-reference data is read here first, with caps ([`xref`]);
//! 2. every object lopdf will parse is read here first with a nesting limit, and the total
//!    amount lopdf will parse is bounded;
//! 3. the raw bytes are scanned for active-content names ([`scan`]);
//! 4. lopdf loads the file, with object streams set aside so it does not inflate them;
//! 5. object streams are inflated here with a cap, checked, and their objects added;
//! 6. every object is walked for active content, and pages are counted.
//!
//! Files too large to hold in memory are checked in one pass instead ([`streaming`]).

mod lexer;
mod scan;
mod streaming;
mod streams;
mod xref;

pub(crate) use streaming::inspect_pdf_file;

use std::panic::{AssertUnwindSafe, catch_unwind};

use lopdf::{Dictionary, Document, Object, ObjectId, ObjectStream, Stream};

use self::lexer::{Indirect, Keep, Lexer, Located, Obj, ReadError, read_indirect, read_object};
use self::scan::Findings;
use self::streams::Coding;
use self::xref::XrefInfo;
use crate::bytes::rfind;
use crate::format::pdf_header_offset;
use crate::polyglot::is_padding;
use crate::{Limits, Refusal};

/// Longest run of bytes accepted after the final `%%EOF`.
const MAX_TRAILING: usize = 1024;
/// Type given to object streams while lopdf loads the file, so it leaves them alone.
const DEFERRED_OBJECT_STREAM: &[u8] = b"LiasseDeferredObjStm";

const MALFORMED: Refusal = Refusal::PdfMalformed;

/// Work allowed on one file.
#[derive(Debug)]
pub(crate) struct Budget {
    /// Bytes lopdf may parse, counting every time the same bytes are parsed again.
    parse_left: u64,
    /// Bytes that may be produced by decompression, over the whole file.
    inflate_left: u64,
}

impl Budget {
    pub(crate) fn new(len: usize, limits: &Limits) -> Self {
        let len = u64::try_from(len).unwrap_or(u64::MAX);
        Budget {
            parse_left: len.saturating_mul(2).saturating_add(1 << 20),
            inflate_left: limits.max_alloc / 2,
        }
    }

    fn charge_parse(&mut self, bytes: u64) -> Result<(), Refusal> {
        self.parse_left = self.parse_left.checked_sub(bytes).ok_or(MALFORMED)?;
        Ok(())
    }

    pub(crate) fn inflate_cap(&self) -> usize {
        usize::try_from(self.inflate_left).unwrap_or(usize::MAX)
    }

    pub(crate) fn charge_inflate(&mut self, bytes: usize) -> Result<(), Refusal> {
        let bytes = u64::try_from(bytes).unwrap_or(u64::MAX);
        self.inflate_left = self.inflate_left.checked_sub(bytes).ok_or(MALFORMED)?;
        Ok(())
    }
}

/// Check a file sniffed as PDF; returns its page count.
pub(crate) fn inspect_pdf(buf: &[u8], limits: &Limits) -> Result<u32, Refusal> {
    let start = pdf_header_offset(buf).ok_or(MALFORMED)?;
    let prefix = buf.get(..start).unwrap_or_default();
    if !prefix.is_empty() && infer::get(prefix).is_some() {
        return Err(Refusal::Polyglot);
    }
    // Padding after the end is harmless but would hide the trailer from lopdf.
    let end = buf
        .iter()
        .rposition(|&b| !is_padding(b))
        .map_or(0, |at| at + 1);
    let pdf = buf.get(start..end).ok_or(MALFORMED)?;
    let eof = rfind(pdf, b"%%EOF").ok_or(MALFORMED)?;
    if pdf.len() - (eof + 5) > MAX_TRAILING {
        return Err(Refusal::Polyglot);
    }

    let mut budget = Budget::new(pdf.len(), limits);
    let xref = xref::read_xref(pdf, limits, &mut budget)?;
    if xref.encrypted {
        return Err(Refusal::PdfEncrypted);
    }
    check_objects(pdf, &xref, &mut budget)?;

    let mut findings = Findings::default();
    scan::scan_file(pdf, &mut findings, &mut budget)?;
    findings.verdict()?;

    let mut doc = load(pdf)?;
    if doc.trailer.has(b"Encrypt") || doc.encryption_state.is_some() {
        return Err(Refusal::PdfEncrypted);
    }
    if doc.objects.len() > limits.max_pdf_objects {
        return Err(MALFORMED);
    }
    expand_object_streams(pdf, &mut doc, &xref, limits, &mut budget)?;

    scan::walk(
        doc.objects
            .values()
            .chain(doc.trailer.iter().map(|(_, value)| value)),
        &mut findings,
    );
    findings.verdict()?;

    let pages = catch_unwind(AssertUnwindSafe(|| doc.get_pages().len())).map_err(|_| MALFORMED)?;
    match u32::try_from(pages) {
        Ok(0) | Err(_) => Err(MALFORMED),
        Ok(pages) => Ok(pages),
    }
}

/// Read every object lopdf will parse, before it does: refuse deep nesting, and bound the
/// bytes parsed (an offset listed many times is parsed many times).
fn check_objects(pdf: &[u8], xref: &XrefInfo, budget: &mut Budget) -> Result<(), Refusal> {
    let mut extents: std::collections::HashMap<usize, u64> = std::collections::HashMap::new();
    for &offset in xref.objects.values() {
        let extent = match extents.get(&offset) {
            Some(&extent) => extent,
            None => {
                let extent = object_extent(pdf, offset, xref)?;
                extents.insert(offset, extent);
                extent
            }
        };
        budget.charge_parse(extent)?;
    }
    Ok(())
}

/// Bytes lopdf reads for the object at `offset`, stream data included.
fn object_extent(pdf: &[u8], offset: usize, xref: &XrefInfo) -> Result<u64, Refusal> {
    let indirect = read_indirect(pdf, offset, Keep::LENGTH).map_err(|_| MALFORMED)?;
    let mut extent = width(offset, indirect.end());
    let Indirect::Object(located) = indirect else {
        return Ok(extent);
    };
    if let Some(data_start) = located.stream_start {
        let length = match located.value.get(b"Length") {
            Some(Obj::Int(n)) => Some(*n),
            // lopdf resolves an indirect length by parsing that object, every time.
            Some(Obj::Ref(id)) => match xref.objects.get(id) {
                Some(&at) => {
                    let (length, parsed) = length_object(pdf, at)?;
                    extent = extent.saturating_add(parsed);
                    length
                }
                None => None,
            },
            _ => None,
        };
        if let Some(length) = length.and_then(|n| u64::try_from(n).ok()) {
            let available = width(data_start, pdf.len());
            extent = extent.saturating_add(length.min(available));
        }
    }
    Ok(extent)
}

/// The value of an indirect `/Length`, and the bytes read to get it. lopdf parses that object
/// from inside the parse of the stream, recursively: if it is a stream with an indirect length
/// too, the chain could be as long as the file allows and exhaust the stack. Real files point
/// to an integer.
fn length_object(pdf: &[u8], at: usize) -> Result<(Option<i64>, u64), Refusal> {
    let indirect = read_indirect(pdf, at, Keep::LENGTH).map_err(|_| MALFORMED)?;
    let parsed = width(at, indirect.end());
    match indirect {
        Indirect::Object(Located {
            value: Obj::Int(n), ..
        }) => Ok((Some(n), parsed)),
        Indirect::Object(Located {
            value,
            stream_start: Some(_),
            ..
        }) if matches!(value.get(b"Length"), Some(Obj::Ref(_))) => Err(MALFORMED),
        _ => Ok((None, parsed)),
    }
}

fn width(from: usize, to: usize) -> u64 {
    u64::try_from(to.saturating_sub(from)).unwrap_or(u64::MAX)
}

/// Keeps lopdf from inflating object streams itself (it would do so without limit): they are
/// renamed and expanded afterwards by [`expand_object_streams`].
fn defer_object_stream(id: ObjectId, object: &mut Object) -> Option<(ObjectId, Object)> {
    if let Object::Stream(stream) = object
        && stream.dict.has_type(b"ObjStm")
    {
        stream
            .dict
            .set("Type", Object::Name(DEFERRED_OBJECT_STREAM.to_vec()));
    }
    // lopdf only checks that the filter keeps the object; what is returned here is dropped
    // (it would be used for objects inside object streams, which no longer get expanded).
    Some((id, Object::Null))
}

fn load(pdf: &[u8]) -> Result<Document, Refusal> {
    let filter: fn(ObjectId, &mut Object) -> Option<(ObjectId, Object)> = defer_object_stream;
    let reader = lopdf::Reader {
        buffer: pdf,
        document: Document::new(),
    };
    match catch_unwind(AssertUnwindSafe(|| reader.read(Some(filter)))) {
        Ok(Ok(doc)) => Ok(doc),
        _ => Err(MALFORMED),
    }
}

/// Inflate object streams under the budget, check their objects as lopdf would parse them,
/// and add those objects to the document. Containers named by the cross-reference data are
/// expanded whatever their declared type: a viewer would.
fn expand_object_streams(
    pdf: &[u8],
    doc: &mut Document,
    xref: &XrefInfo,
    limits: &Limits,
    budget: &mut Budget,
) -> Result<(), Refusal> {
    let mut pending: Vec<ObjectId> = doc
        .objects
        .iter()
        .filter(|(id, object)| match object {
            Object::Stream(stream) => {
                stream.dict.has_type(DEFERRED_OBJECT_STREAM) || xref.containers.contains(&id.0)
            }
            _ => false,
        })
        .map(|(id, _)| *id)
        .collect();

    // A stream whose /Length is itself inside another object stream can only be read once
    // that one is expanded; each round expands at least one stream or stops.
    while !pending.is_empty() {
        let mut waiting = Vec::new();
        let mut progressed = false;
        for id in pending {
            let Some(Object::Stream(stream)) = doc.objects.get(&id) else {
                continue;
            };
            let data = match stream_data(pdf, doc, stream, budget)? {
                Some(data) => data,
                None => {
                    waiting.push(id);
                    continue;
                }
            };
            let objects = expand_one(&stream.dict, &data, limits, budget)?;
            progressed = true;
            for (object_id, object) in objects {
                // As in lopdf: objects from object streams never replace others.
                doc.objects.entry(object_id).or_insert(object);
            }
            if doc.objects.len() > limits.max_pdf_objects {
                return Err(MALFORMED);
            }
        }
        if !progressed {
            break;
        }
        pending = waiting;
    }
    Ok(())
}

/// The raw data of a stream; `None` while its length cannot be resolved yet.
fn stream_data(
    pdf: &[u8],
    doc: &Document,
    stream: &Stream,
    budget: &mut Budget,
) -> Result<Option<Vec<u8>>, Refusal> {
    if !stream.content.is_empty() {
        return Ok(Some(stream.content.clone()));
    }
    let Some(start) = stream.start_position else {
        return Ok(Some(Vec::new()));
    };
    let length = match stream.dict.get(b"Length") {
        Ok(Object::Integer(n)) => *n,
        Ok(Object::Reference(id)) => match doc.objects.get(id) {
            Some(Object::Integer(n)) => *n,
            _ => return Ok(None),
        },
        _ => return Ok(Some(Vec::new())),
    };
    let length = usize::try_from(length).map_err(|_| MALFORMED)?;
    let end = start.saturating_add(length).min(pdf.len());
    let data = pdf.get(start..end).unwrap_or_default();
    budget.charge_parse(width(start, end))?;
    Ok(Some(data.to_vec()))
}

fn expand_one(
    dict: &Dictionary,
    data: &[u8],
    limits: &Limits,
    budget: &mut Budget,
) -> Result<std::collections::BTreeMap<ObjectId, Object>, Refusal> {
    let coding = Coding::from_lopdf(dict).map_err(|_| MALFORMED)?;
    let content = coding
        .decode(data, budget.inflate_cap())
        .map_err(|_| MALFORMED)?;
    budget.charge_inflate(content.len())?;

    // Read the index the way lopdf's ObjectStream does, and check each object it will parse.
    let Some(first) = dict
        .get(b"First")
        .and_then(Object::as_i64)
        .ok()
        .and_then(|n| usize::try_from(n).ok())
    else {
        return Ok(Default::default());
    };
    let Some(index) = content
        .get(..first)
        .and_then(|block| std::str::from_utf8(block).ok())
    else {
        return Ok(Default::default());
    };
    let numbers: Vec<Option<u32>> = index.split_whitespace().map(|n| n.parse().ok()).collect();
    if numbers.len() / 2 > limits.max_pdf_objects {
        return Err(MALFORMED);
    }
    for pair in numbers.chunks_exact(2) {
        let [Some(_), Some(offset)] = pair else {
            continue;
        };
        let Some(at) = first
            .checked_add(*offset as usize)
            .filter(|&at| at < content.len())
        else {
            continue;
        };
        let mut lx = Lexer::new(&content, at);
        if matches!(
            read_object(&mut lx, Keep::NONE),
            Err(ReadError::TooDeep | ReadError::TooLarge)
        ) {
            return Err(MALFORMED);
        }
        budget.charge_parse(width(at, lx.pos()))?;
    }

    let mut plain = dict.clone();
    plain.remove(b"Filter");
    plain.remove(b"DecodeParms");
    let mut stream = Stream::new(plain, content);
    match catch_unwind(AssertUnwindSafe(|| ObjectStream::new(&mut stream))) {
        Ok(Ok(object_stream)) => Ok(object_stream.objects),
        _ => Ok(Default::default()),
    }
}
