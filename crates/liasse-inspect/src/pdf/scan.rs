//! Looking for active content: in the parsed objects, and in the raw bytes as a second net
//! for objects the parser never reaches (unreferenced objects, object streams it cannot
//! expand, objects a lenient reader would recover from a damaged file).

use lopdf::Object;

use super::Budget;
use super::lexer::{Lexer, Token, data_after_stream_keyword};
use super::streams::{inflate, inflate_prefix, looks_like_zlib};
use crate::Refusal;
use crate::bytes::find_from;

/// How much of a stream is looked at to decide whether it holds PDF syntax.
pub(crate) const SAMPLE: usize = 4096;

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Findings {
    encrypted: bool,
    javascript: bool,
    launch: bool,
    embedded_file: bool,
    /// `/Type /Page` pairs seen: the page count when the file is too large for lopdf.
    pages: u32,
    after_type_key: bool,
}

impl Findings {
    /// Names are compared after `#xx` escapes are decoded, so `/J#61vaScript` counts.
    pub(crate) fn note_name(&mut self, name: &[u8]) {
        if self.after_type_key && name == b"Page" {
            self.pages = self.pages.saturating_add(1);
        }
        self.after_type_key = name == b"Type";
        match name {
            // Only a trailer (or a cross-reference stream, which is one) has this key.
            b"Encrypt" => self.encrypted = true,
            b"JS" | b"JavaScript" => self.javascript = true,
            b"Launch" => self.launch = true,
            b"EmbeddedFile" | b"EmbeddedFiles" | b"FileAttachment" | b"EF" => {
                self.embedded_file = true
            }
            _ => {}
        }
    }

    pub(crate) fn pages(&self) -> u32 {
        self.pages
    }

    pub(crate) fn verdict(self) -> Result<(), Refusal> {
        if self.encrypted {
            Err(Refusal::PdfEncrypted)
        } else if self.javascript {
            Err(Refusal::PdfJavascript)
        } else if self.launch {
            Err(Refusal::PdfLaunchAction)
        } else if self.embedded_file {
            Err(Refusal::PdfEmbeddedFile)
        } else {
            Ok(())
        }
    }
}

/// Walk every object: dictionary keys and name values, inside arrays, dictionaries and stream
/// dictionaries. Iterative, so nesting costs no stack.
pub(crate) fn walk<'a>(roots: impl IntoIterator<Item = &'a Object>, findings: &mut Findings) {
    let mut stack: Vec<&Object> = roots.into_iter().collect();
    while let Some(object) = stack.pop() {
        match object {
            Object::Name(name) => findings.note_name(name),
            Object::Array(items) => stack.extend(items),
            Object::Dictionary(dict) => {
                for (key, value) in dict.iter() {
                    findings.note_name(key);
                    stack.push(value);
                }
            }
            Object::Stream(stream) => {
                for (key, value) in stream.dict.iter() {
                    findings.note_name(key);
                    stack.push(value);
                }
            }
            _ => {}
        }
    }
}

/// Scan the file's name tokens outside stream data, then the streams that hold PDF syntax
/// (object streams, and textual streams whatever their declared type), inflated under the
/// budget. Strings are skipped, so text such as a URL ending in "/JS" is not a finding.
pub(crate) fn scan_file(
    pdf: &[u8],
    findings: &mut Findings,
    budget: &mut Budget,
) -> Result<(), Refusal> {
    scan_tokens(pdf, findings, Some(budget))
}

fn scan_tokens(
    buf: &[u8],
    findings: &mut Findings,
    mut budget: Option<&mut Budget>,
) -> Result<(), Refusal> {
    let mut lx = Lexer::new(buf, 0);
    // What the dictionary before a stream said about it.
    let mut object_stream = false;
    let mut metadata = false;
    while let Some(token) = lx.next_token() {
        match token {
            Token::Name(name) => {
                match name.as_slice() {
                    // An object stream needs `/First`, whatever type it claims.
                    b"ObjStm" | b"First" => object_stream = true,
                    b"Metadata" | b"XML" => metadata = true,
                    _ => {}
                }
                findings.note_name(&name);
            }
            Token::Keyword(b"obj" | b"endobj") => {
                object_stream = false;
                metadata = false;
            }
            Token::Keyword(b"stream") => {
                let Some(start) = data_after_stream_keyword(buf, lx.pos()) else {
                    continue;
                };
                let end = find_from(buf, b"endstream", start).unwrap_or(buf.len());
                if let Some(budget) = budget.as_deref_mut() {
                    let data = buf.get(start..end).unwrap_or_default();
                    scan_stream(data, object_stream, metadata, findings, budget)?;
                }
                lx.set_pos(end);
            }
            _ => {}
        }
    }
    Ok(())
}

fn scan_stream(
    data: &[u8],
    object_stream: bool,
    metadata: bool,
    findings: &mut Findings,
    budget: &mut Budget,
) -> Result<(), Refusal> {
    // XMP metadata is XML whose text may legitimately read "HTML/JS".
    if metadata && !object_stream {
        return Ok(());
    }
    if looks_like_zlib(data) {
        let sample = inflate_prefix(data, SAMPLE);
        if !(object_stream || holds_pdf_syntax(&sample)) {
            return Ok(());
        }
        let decoded = inflate(data, budget.inflate_cap()).map_err(|_| Refusal::PdfMalformed)?;
        budget.charge_inflate(decoded.len())?;
        scan_tokens(&decoded, findings, None)
    } else {
        let sample = data.get(..SAMPLE).unwrap_or(data);
        if object_stream || holds_pdf_syntax(sample) {
            scan_tokens(data, findings, None)?;
        }
        Ok(())
    }
}

/// Mostly printable ASCII and not XML: page content, or objects. Images and fonts are binary.
pub(crate) fn holds_pdf_syntax(sample: &[u8]) -> bool {
    if sample.is_empty() {
        return false;
    }
    let trimmed = sample
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .and_then(|at| sample.get(at..));
    if trimmed.is_some_and(|t| {
        t.starts_with(b"<?xpacket") || t.starts_with(b"<?xml") || t.starts_with(b"<x:xmpmeta")
    }) {
        return false;
    }
    let text = sample
        .iter()
        .filter(|&&b| b.is_ascii_graphic() || b.is_ascii_whitespace())
        .count();
    text * 4 >= sample.len() * 3
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan(buf: &[u8]) -> Result<(), Refusal> {
        let mut findings = Findings::default();
        let limits = crate::Limits::default();
        scan_file(buf, &mut findings, &mut Budget::new(buf.len(), &limits))?;
        findings.verdict()
    }

    #[test]
    fn finds_names_escaped_or_not() {
        assert_eq!(scan(b"<</S/JavaScript>>"), Err(Refusal::PdfJavascript));
        assert_eq!(scan(b"<</S /J#61vaScript>>"), Err(Refusal::PdfJavascript));
        assert_eq!(scan(b"<</#4a#53 (x)>>"), Err(Refusal::PdfJavascript));
        assert_eq!(scan(b"<</S/Launch>>"), Err(Refusal::PdfLaunchAction));
        assert_eq!(
            scan(b"<</Subtype/FileAttachment>>"),
            Err(Refusal::PdfEmbeddedFile)
        );
        assert_eq!(
            scan(b"<</Names<</EmbeddedFiles 3 0 R>>>>"),
            Err(Refusal::PdfEmbeddedFile)
        );
    }

    #[test]
    fn ignores_strings_and_longer_names() {
        assert_eq!(
            scan(b"<</URI (https://example.org/JS/app.js) /JSON 1 /Launcher 2>>"),
            Ok(())
        );
        assert_eq!(
            scan(b"<</Length 8>>stream\n/JS \xff\xfe\x00\x01\nendstream"),
            Ok(())
        );
    }

    #[test]
    fn looks_into_textual_streams() {
        assert_eq!(
            scan(b"<</Length 9>>stream\n<</JS 1>>\nendstream"),
            Err(Refusal::PdfJavascript)
        );
        assert_eq!(
            scan(b"<</Type/Metadata>>stream\n<x:xmpmeta>HTML/JS</x:xmpmeta>\nendstream"),
            Ok(())
        );
    }
}
