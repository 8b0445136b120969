//! Reads the cross-reference data the way lopdf will, before lopdf does.
//!
//! lopdf parses the object at every offset listed there, inflates cross-reference streams
//! without limit and loops over whatever entry counts they claim. Knowing those offsets and
//! counts first lets the caller check every place lopdf is going to parse.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use super::Budget;
use super::lexer::{Indirect, Keep, Lexer, Obj, Token, read_indirect, read_object};
use super::streams::Coding;
use crate::bytes::rfind;
use crate::{Limits, Refusal};

/// More cross-reference sections than any real incremental history.
const MAX_SECTIONS: usize = 1024;
/// Widest field accepted in a cross-reference stream (8 bytes holds any offset).
const MAX_FIELD_WIDTH: i64 = 8;

#[derive(Debug, Default)]
pub(crate) struct XrefInfo {
    /// Objects lopdf will parse, by number, with their offset.
    pub(crate) objects: BTreeMap<u32, usize>,
    /// Objects named as containers by compressed entries: object streams, whatever their type.
    pub(crate) containers: BTreeSet<u32>,
    /// A trailer has an `/Encrypt` entry.
    pub(crate) encrypted: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Entry {
    Normal(usize),
    Compressed { container: u32 },
}

struct Section {
    entries: Vec<(u32, Entry)>,
    trailer: Obj,
}

const MALFORMED: Refusal = Refusal::PdfMalformed;

pub(crate) fn read_xref(
    pdf: &[u8],
    limits: &Limits,
    budget: &mut Budget,
) -> Result<XrefInfo, Refusal> {
    let start = startxref(pdf).ok_or(MALFORMED)?;
    let main = read_section(pdf, start, limits, budget)?;

    let mut info = XrefInfo::default();
    let mut merged: BTreeMap<u32, Entry> = BTreeMap::new();
    let mut merge = |section: &Section, info: &mut XrefInfo| {
        for &(id, entry) in &section.entries {
            // The newest section wins, as in lopdf.
            merged.entry(id).or_insert(entry);
            if let Entry::Compressed { container } = entry {
                info.containers.insert(container);
            }
        }
        info.encrypted |= section.trailer.get(b"Encrypt").is_some();
    };
    merge(&main, &mut info);

    // lopdf follows /Prev, and the main trailer's /XRefStm once, after the first /Prev.
    let mut prev = main.trailer.get(b"Prev").and_then(Obj::as_int);
    let mut xref_stream = main.trailer.get(b"XRefStm").and_then(Obj::as_int);
    let mut seen = HashSet::new();
    while let Some(offset) = prev {
        if !seen.insert(offset) {
            break;
        }
        if seen.len() > MAX_SECTIONS {
            return Err(MALFORMED);
        }
        let section = read_section(pdf, checked_offset(pdf, offset)?, limits, budget)?;
        merge(&section, &mut info);
        if let Some(offset) = xref_stream.take() {
            let hybrid = read_section(pdf, checked_offset(pdf, offset)?, limits, budget)?;
            // lopdf ignores the dictionary of this one.
            merge(
                &Section {
                    entries: hybrid.entries,
                    trailer: Obj::Other,
                },
                &mut info,
            );
        }
        prev = section.trailer.get(b"Prev").and_then(Obj::as_int);
    }

    if merged.len() > limits.max_pdf_objects {
        return Err(MALFORMED);
    }
    info.objects = merged
        .into_iter()
        .filter_map(|(id, entry)| match entry {
            Entry::Normal(offset) => Some((id, offset)),
            Entry::Compressed { .. } => None,
        })
        .collect();
    Ok(info)
}

fn checked_offset(pdf: &[u8], offset: i64) -> Result<usize, Refusal> {
    usize::try_from(offset)
        .ok()
        .filter(|&o| o <= pdf.len())
        .ok_or(MALFORMED)
}

/// The `startxref` value lopdf will use: the last `%%EOF` within the last 512 bytes, and the
/// last `startxref` from 25 bytes before it.
fn startxref(pdf: &[u8]) -> Option<usize> {
    let eof = last_from(pdf, b"%%EOF", pdf.len().saturating_sub(512))?;
    if eof <= 25 {
        return None;
    }
    let keyword = last_from(pdf, b"startxref", eof - 25)?;
    let mut lx = Lexer::new(pdf, keyword + b"startxref".len());
    match lx.next_token()? {
        Token::Int(n) => usize::try_from(n).ok().filter(|&o| o <= pdf.len()),
        _ => None,
    }
}

fn last_from(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    rfind(hay.get(from..)?, needle).map(|at| at + from)
}

fn read_section(
    pdf: &[u8],
    offset: usize,
    limits: &Limits,
    budget: &mut Budget,
) -> Result<Section, Refusal> {
    if pdf
        .get(offset..)
        .is_some_and(|rest| rest.starts_with(b"xref"))
    {
        read_table(pdf, offset + 4, limits, budget)
    } else {
        read_stream(pdf, offset, limits, budget)
    }
}

/// A classic table. Lenient where lopdf is strict: any table lopdf accepts reads the same here.
fn read_table(
    pdf: &[u8],
    body: usize,
    limits: &Limits,
    budget: &mut Budget,
) -> Result<Section, Refusal> {
    let mut lx = Lexer::new(pdf, body);
    let mut entries = Vec::new();
    let mut first_id: Option<u64> = None;
    let mut index = 0u64;
    loop {
        match lx.next_token() {
            Some(Token::Keyword(b"trailer")) => break,
            Some(Token::Int(a)) => {
                let Some(Token::Int(b)) = lx.next_token() else {
                    return Err(MALFORMED);
                };
                let mut probe = lx.clone();
                match probe.next_token() {
                    Some(Token::Keyword(kind @ (b"n" | b"f"))) => {
                        lx = probe;
                        // lopdf numbers entries by position and skips those it cannot store.
                        let id = first_id.ok_or(MALFORMED)?.wrapping_add(index) as u32;
                        index += 1;
                        let offset = u32::try_from(a).map_err(|_| MALFORMED)?;
                        let generation_fits = u16::try_from(b).is_ok();
                        if b < 0 {
                            return Err(MALFORMED);
                        }
                        if kind == b"n" && generation_fits {
                            // Checked here too, so a huge table is not collected first.
                            if entries.len() >= limits.max_pdf_objects.saturating_mul(2) {
                                return Err(MALFORMED);
                            }
                            entries.push((id, Entry::Normal(offset as usize)));
                        }
                    }
                    _ => {
                        // A subsection header; lopdf ignores the count.
                        first_id = Some(u64::try_from(a).map_err(|_| MALFORMED)?);
                        index = 0;
                    }
                }
            }
            _ => return Err(MALFORMED),
        }
    }
    let trailer = read_object(&mut lx, Keep::XREF).map_err(|_| MALFORMED)?;
    if !matches!(trailer, Obj::Dict(_)) {
        return Err(MALFORMED);
    }
    // Sections may overlap; lopdf parses each one in full.
    budget.charge_parse(super::width(body, lx.pos()))?;
    Ok(Section { entries, trailer })
}

/// A cross-reference stream, decoded with a cap, its claims checked before lopdf loops on them.
fn read_stream(
    pdf: &[u8],
    offset: usize,
    limits: &Limits,
    budget: &mut Budget,
) -> Result<Section, Refusal> {
    let Ok(Indirect::Object(located)) = read_indirect(pdf, offset, Keep::XREF) else {
        return Err(MALFORMED);
    };
    let dict = located.value;
    let data_start = located.stream_start.ok_or(MALFORMED)?;
    // An indirect /Length cannot be resolved while the cross-reference data is being read.
    let length = dict.get(b"Length").and_then(Obj::as_int).ok_or(MALFORMED)?;
    let length = usize::try_from(length).map_err(|_| MALFORMED)?;
    budget.charge_parse(super::width(offset, data_start.saturating_add(length)))?;
    let data = pdf
        .get(data_start..data_start.checked_add(length).ok_or(MALFORMED)?)
        .ok_or(MALFORMED)?;

    let widths = dict
        .get(b"W")
        .and_then(Obj::as_int_array)
        .ok_or(MALFORMED)?;
    let [w0, w1, w2] = match widths.as_slice() {
        [a, b, c, ..] if [a, b, c].iter().all(|w| (0..=MAX_FIELD_WIDTH).contains(*w)) => {
            [*a, *b, *c].map(|w| w as usize)
        }
        _ => return Err(MALFORMED),
    };
    let size = dict.get(b"Size").and_then(Obj::as_int).ok_or(MALFORMED)?;
    let index = dict
        .get(b"Index")
        .and_then(Obj::as_int_array)
        .unwrap_or_else(|| vec![0, size]);
    let subsections: Vec<(i64, i64)> = index
        .chunks_exact(2)
        .map(|pair| match pair {
            [start, count] => (*start, *count),
            _ => (0, 0),
        })
        .collect();
    let mut total = 0u64;
    for &(start, count) in &subsections {
        if start < 0 || start > i64::from(u32::MAX) {
            return Err(MALFORMED);
        }
        total = total.saturating_add(u64::try_from(count).unwrap_or(0));
    }
    if total > limits.max_pdf_objects as u64 {
        return Err(MALFORMED);
    }

    let coding = Coding::from_obj(&dict).map_err(|_| MALFORMED)?;
    let row = (w0 + w1 + w2 + 1) as u64;
    let expected = total
        .saturating_mul(row)
        .saturating_mul(2)
        .saturating_add(64 * 1024);
    let cap = budget
        .inflate_cap()
        .min(usize::try_from(expected).unwrap_or(usize::MAX));
    let decoded = coding.decode(data, cap).map_err(|_| MALFORMED)?;
    budget.charge_inflate(decoded.len())?;

    let mut fields = Fields {
        data: &decoded,
        pos: 0,
    };
    let mut entries = Vec::new();
    for (start, count) in subsections {
        for j in 0..count.max(0) {
            let id = (start + j) as u32;
            let kind = if w0 > 0 { fields.read(w0)? } else { 1 };
            match kind {
                0 => {
                    fields.read(w1)?;
                    fields.read(w2)?;
                }
                1 => {
                    let offset = fields.read(w1)?;
                    if w2 > 0 {
                        fields.read(w2)?;
                    }
                    entries.push((id, Entry::Normal(offset as usize)));
                }
                2 => {
                    let container = fields.read(w1)?;
                    fields.read(w2)?;
                    entries.push((id, Entry::Compressed { container }));
                }
                // lopdf reads nothing more for unknown types; neither does this.
                _ => {}
            }
        }
    }
    Ok(Section {
        entries,
        trailer: dict,
    })
}

struct Fields<'a> {
    data: &'a [u8],
    pos: usize,
}

impl Fields<'_> {
    /// A big-endian field, truncated to 32 bits as lopdf does.
    fn read(&mut self, width: usize) -> Result<u32, Refusal> {
        let bytes = self.data.get(self.pos..self.pos + width).ok_or(MALFORMED)?;
        self.pos += width;
        Ok(bytes
            .iter()
            .fold(0u32, |value, &b| (value << 8) | u32::from(b)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::samples;

    fn read(pdf: &[u8]) -> Result<XrefInfo, Refusal> {
        let limits = Limits::default();
        read_xref(pdf, &limits, &mut Budget::new(pdf.len(), &limits))
    }

    #[test]
    fn reads_a_classic_table() {
        let pdf = samples::minimal_pdf();
        let info = read(&pdf);
        let Ok(info) = info else { panic!("{info:?}") };
        assert_eq!(
            info.objects.keys().copied().collect::<Vec<_>>(),
            vec![1, 2, 3, 4, 5]
        );
        assert!(!info.encrypted);
        for &offset in info.objects.values() {
            assert!(matches!(
                read_indirect(&pdf, offset, Keep::NONE),
                Ok(Indirect::Object(_))
            ));
        }
    }

    #[test]
    fn reads_a_cross_reference_stream() {
        let pdf = samples::pdf_with_object_streams();
        let info = read(&pdf);
        let Ok(info) = info else { panic!("{info:?}") };
        assert!(!info.containers.is_empty());
        assert!(!info.objects.is_empty());
    }

    #[test]
    fn sees_encryption() {
        let info = read(&samples::encrypted_pdf());
        assert!(info.is_ok_and(|i| i.encrypted));
    }

    #[test]
    fn refuses_absurd_cross_reference_streams() {
        assert_eq!(
            read(&samples::pdf_with_huge_xref_stream()).err(),
            Some(Refusal::PdfMalformed)
        );
    }
}
