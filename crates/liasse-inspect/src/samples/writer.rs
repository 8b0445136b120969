//! A small PDF writer: objects, streams, a cross-reference table or stream, with correct offsets.

use super::*;

/// Writes a PDF with a classic cross-reference table and correct offsets.
pub(super) struct PdfWriter {
    pub(super) out: Vec<u8>,
    pub(super) offsets: Vec<(u32, usize)>,
}

impl PdfWriter {
    pub(super) fn new() -> Self {
        PdfWriter {
            out: b"%PDF-1.7\n%\xE2\xE3\xCF\xD3\n".to_vec(),
            offsets: Vec::new(),
        }
    }

    pub(super) fn object(&mut self, id: u32, body: &[u8]) {
        self.offsets.push((id, self.out.len()));
        self.out
            .extend_from_slice(format!("{id} 0 obj\n").as_bytes());
        self.out.extend_from_slice(body);
        self.out.extend_from_slice(b"\nendobj\n");
    }

    /// Finish with a classic table; `trailer` holds extra trailer entries.
    pub(super) fn finish(mut self, trailer: &str) -> Vec<u8> {
        let size = self.offsets.iter().map(|(id, _)| id + 1).max().unwrap_or(1);
        let xref = self.out.len();
        let mut table = format!("xref\n0 {size}\n");
        let offsets: std::collections::BTreeMap<u32, usize> =
            self.offsets.iter().copied().collect();
        for id in 0..size {
            match offsets.get(&id) {
                Some(offset) => {
                    let _ = writeln!(table, "{offset:010} 00000 n ");
                }
                None => table.push_str("0000000000 65535 f \n"),
            }
        }
        let _ = write!(
            table,
            "trailer\n<</Size {size} /Root 1 0 R {trailer}>>\nstartxref\n{xref}\n%%EOF\n"
        );
        self.out.extend_from_slice(table.as_bytes());
        self.out
    }
}

/// The body of a stream object.
pub(super) fn stream_body(dict: &str, data: &[u8]) -> Vec<u8> {
    let mut body = format!("<<{dict} /Length {}>>\nstream\n", data.len()).into_bytes();
    body.extend_from_slice(data);
    body.extend_from_slice(b"\nendstream");
    body
}

pub(super) fn zlib(data: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    let _ = encoder.write_all(data);
    encoder.finish().unwrap_or_default()
}

/// A PDF literal string showing `text` (Latin-1 only; other characters become "?").
pub(super) fn pdf_string(text: &str) -> String {
    let mut out = String::from("(");
    for c in text.chars() {
        match c {
            '(' | ')' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            ' '..='~' => out.push(c),
            '\u{a0}'..='\u{ff}' => {
                let _ = write!(out, "\\{:03o}", u32::from(c));
            }
            _ => out.push('?'),
        }
    }
    out.push(')');
    out
}

/// What varies between the one-page sample PDFs.
#[derive(Default)]
pub(super) struct OnePage<'a> {
    pub(super) catalog: &'a str,
    pub(super) page: &'a str,
    pub(super) text: &'a str,
    pub(super) trailer: &'a str,
    pub(super) extra: Vec<(u32, Vec<u8>)>,
}

/// Objects 1 to 5: catalog, page tree, page, content, font; `extra` from 6 on.
pub(super) fn one_page(spec: OnePage<'_>) -> Vec<u8> {
    let mut pdf = PdfWriter::new();
    pdf.object(
        1,
        format!("<< /Type /Catalog /Pages 2 0 R {} >>", spec.catalog).as_bytes(),
    );
    pdf.object(2, b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>");
    pdf.object(
        3,
        format!(
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 5 0 R >> >> \
             /Contents 4 0 R {} >>",
            spec.page
        )
        .as_bytes(),
    );
    let content = format!("BT /F1 24 Tf 72 760 Td {} Tj ET", pdf_string(spec.text));
    pdf.object(4, &stream_body("", content.as_bytes()));
    pdf.object(
        5,
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
    );
    for (id, body) in &spec.extra {
        pdf.object(*id, body);
    }
    pdf.finish(spec.trailer)
}

pub(super) fn stream_body_obj(id: u32, dict: &str, data: &[u8]) -> Vec<u8> {
    let mut out = format!("{id} 0 obj\n").into_bytes();
    out.extend_from_slice(&stream_body(dict, data));
    out.extend_from_slice(b"\nendobj\n");
    out
}

/// Objects 1, 2, 3, 5 (and 9, `first`, when given) compressed in object stream 6; content 4;
/// cross-reference stream 7.
pub(super) fn modern_pdf(catalog: &str, container_type: &str, first: &[u8]) -> Vec<u8> {
    let mut compressed: Vec<(u32, Vec<u8>)> = Vec::new();
    if !first.is_empty() {
        compressed.push((9, first.to_vec()));
    }
    compressed.push((
        1,
        format!("<< /Type /Catalog /Pages 2 0 R {catalog} >>").into_bytes(),
    ));
    compressed.push((2, b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_vec()));
    compressed.push((
        3,
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>"
            .to_vec(),
    ));
    compressed.push((
        5,
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_vec(),
    ));

    let mut index = String::new();
    let mut bodies = Vec::new();
    for (id, body) in &compressed {
        let _ = write!(index, "{id} {} ", bodies.len());
        bodies.extend_from_slice(body);
        bodies.push(b'\n');
    }
    let mut content = index.clone().into_bytes();
    content.extend_from_slice(&bodies);

    let mut out = b"%PDF-1.7\n%\xE2\xE3\xCF\xD3\n".to_vec();
    let content_stream = out.len();
    out.extend_from_slice(&stream_body_obj(
        4,
        "",
        b"BT /F1 24 Tf 72 760 Td (Liasse) Tj ET",
    ));
    let object_stream = out.len();
    out.extend_from_slice(&stream_body_obj(
        6,
        &format!(
            " {container_type} /N {} /First {} /Filter /FlateDecode",
            compressed.len(),
            index.len()
        ),
        &zlib(&content),
    ));
    let xref_stream = out.len();

    // Rows of W [1 4 2]: type, offset or container, generation or index.
    let size = 10u32;
    let mut rows: Vec<[u8; 7]> = Vec::new();
    for id in 0..size {
        let row = |kind: u8, field: usize, last: usize| {
            let field = u32::try_from(field).unwrap_or(u32::MAX).to_be_bytes();
            let last = u16::try_from(last).unwrap_or(u16::MAX).to_be_bytes();
            [
                kind, field[0], field[1], field[2], field[3], last[0], last[1],
            ]
        };
        let position = compressed.iter().position(|(known, _)| *known == id);
        rows.push(match (id, position) {
            (_, Some(index)) => row(2, 6, index),
            (4, None) => row(1, content_stream, 0),
            (6, None) => row(1, object_stream, 0),
            (7, None) => row(1, xref_stream, 0),
            _ => row(0, 0, 65535),
        });
    }
    // PNG "Up" predictor, as most writers use.
    let mut predicted = Vec::new();
    let mut previous = [0u8; 7];
    for row in &rows {
        predicted.push(2);
        predicted.extend(
            row.iter()
                .zip(previous.iter())
                .map(|(b, p)| b.wrapping_sub(*p)),
        );
        previous = *row;
    }
    out.extend_from_slice(&stream_body_obj(
        7,
        &format!(
            " /Type /XRef /Size {size} /W [1 4 2] /Root 1 0 R /Filter /FlateDecode \
             /DecodeParms << /Predictor 12 /Columns 7 >>"
        ),
        &zlib(&predicted),
    ));
    out.extend_from_slice(format!("startxref\n{xref_stream}\n%%EOF\n").as_bytes());
    out
}
