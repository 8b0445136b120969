//! Sample files built in memory, for this crate's tests and the server's HTTP tests.
//!
//! Every function returns a complete file. Valid samples are accepted by
//! [`inspect`](crate::inspect) with the default limits; the others are refused, each with the
//! refusal its documentation names.

use std::fmt::Write as _;
use std::io::{Cursor, Write as _};

use image::{DynamicImage, ImageFormat, RgbImage};

// ---------------------------------------------------------------------------------------------
// PDF

/// Writes a PDF with a classic cross-reference table and correct offsets.
struct PdfWriter {
    out: Vec<u8>,
    offsets: Vec<(u32, usize)>,
}

impl PdfWriter {
    fn new() -> Self {
        PdfWriter {
            out: b"%PDF-1.7\n%\xE2\xE3\xCF\xD3\n".to_vec(),
            offsets: Vec::new(),
        }
    }

    fn object(&mut self, id: u32, body: &[u8]) {
        self.offsets.push((id, self.out.len()));
        self.out
            .extend_from_slice(format!("{id} 0 obj\n").as_bytes());
        self.out.extend_from_slice(body);
        self.out.extend_from_slice(b"\nendobj\n");
    }

    /// Finish with a classic table; `trailer` holds extra trailer entries.
    fn finish(mut self, trailer: &str) -> Vec<u8> {
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
fn stream_body(dict: &str, data: &[u8]) -> Vec<u8> {
    let mut body = format!("<<{dict} /Length {}>>\nstream\n", data.len()).into_bytes();
    body.extend_from_slice(data);
    body.extend_from_slice(b"\nendstream");
    body
}

fn zlib(data: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    let _ = encoder.write_all(data);
    encoder.finish().unwrap_or_default()
}

/// A PDF literal string showing `text` (Latin-1 only; other characters become "?").
fn pdf_string(text: &str) -> String {
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
struct OnePage<'a> {
    catalog: &'a str,
    page: &'a str,
    text: &'a str,
    trailer: &'a str,
    extra: Vec<(u32, Vec<u8>)>,
}

/// Objects 1 to 5: catalog, page tree, page, content, font; `extra` from 6 on.
fn one_page(spec: OnePage<'_>) -> Vec<u8> {
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

/// A valid one-page PDF.
pub fn minimal_pdf() -> Vec<u8> {
    pdf_with_text("Liasse")
}

/// A valid one-page PDF whose content stream shows `marker`.
pub fn pdf_with_text(marker: &str) -> Vec<u8> {
    one_page(OnePage {
        text: marker,
        ..OnePage::default()
    })
}

/// What fills the large sample PDFs' extra stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Filler {
    /// Page-description text, uncompressed: scanned as PDF syntax.
    Text,
    /// The same text, Flate-compressed: inflated and scanned.
    CompressedText,
    /// Pseudo-random bytes declared as an image: not scanned.
    Binary,
}

/// A valid one-page PDF with, besides the page, a stream of about `len` bytes made of
/// `filler`, and `catalog` added to the catalog (empty for a harmless file). Accepted when
/// `catalog` is empty.
pub fn pdf_with_large_stream(len: usize, filler: Filler, catalog: &str) -> Vec<u8> {
    const LINE: &[u8] = b"0 0 m 100 100 l S 1 0 0 1 2 3 cm q Q\n";
    let data = match filler {
        Filler::Text | Filler::CompressedText => {
            let mut text = Vec::with_capacity(len + LINE.len());
            while text.len() < len {
                text.extend_from_slice(LINE);
            }
            if filler == Filler::Text {
                text
            } else {
                zlib(&text)
            }
        }
        Filler::Binary => {
            let mut state = 0x2545_F491_4F6C_DD1Du64;
            (0..len)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    (state >> 32) as u8
                })
                .collect()
        }
    };
    let dict = match filler {
        Filler::Text => "",
        Filler::CompressedText => " /Filter /FlateDecode",
        Filler::Binary => {
            " /Type /XObject /Subtype /Image /Width 1 /Height 1 /BitsPerComponent 8 /ColorSpace /DeviceGray /Filter /DCTDecode"
        }
    };
    one_page(OnePage {
        text: "Liasse",
        catalog,
        extra: vec![(6, stream_body(dict, &data))],
        ..OnePage::default()
    })
}

/// Runs JavaScript when opened. Refused: `PdfJavascript`.
pub fn pdf_with_javascript() -> Vec<u8> {
    one_page(OnePage {
        catalog: "/OpenAction << /S /JavaScript /JS (app.alert\\(1\\)) >>",
        text: "JavaScript",
        ..OnePage::default()
    })
}

/// The same with names written with `#xx` escapes (`/J#61vaScript`). Refused: `PdfJavascript`.
pub fn pdf_with_hex_escaped_javascript() -> Vec<u8> {
    one_page(OnePage {
        catalog: "/OpenAction << /S /J#61vaScript /J#53 (app.alert\\(1\\)) >>",
        text: "escaped",
        ..OnePage::default()
    })
}

/// Document-level JavaScript in the names tree. Refused: `PdfJavascript`.
pub fn pdf_with_javascript_names_tree() -> Vec<u8> {
    one_page(OnePage {
        catalog: "/Names << /JavaScript 6 0 R >>",
        extra: vec![
            (6, b"<< /Names [(init) 7 0 R] >>".to_vec()),
            (7, b"<< /S /JavaScript /JS (this.print\\(\\)) >>".to_vec()),
        ],
        ..OnePage::default()
    })
}

/// A trailer with an `/Encrypt` dictionary. Refused: `PdfEncrypted`.
pub fn encrypted_pdf() -> Vec<u8> {
    let key = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
    one_page(OnePage {
        trailer: "/Encrypt 6 0 R /ID [<00112233445566778899aabbccddeeff> <00112233445566778899aabbccddeeff>]",
        extra: vec![(
            6,
            format!("<< /Filter /Standard /V 1 /R 2 /O <{key}> /U <{key}> /P -3904 >>")
                .into_bytes(),
        )],
        ..OnePage::default()
    })
}

/// Launches a program when opened. Refused: `PdfLaunchAction`.
pub fn pdf_with_launch() -> Vec<u8> {
    one_page(OnePage {
        catalog: "/OpenAction << /S /Launch /Win << /F (cmd.exe) /P (/c calc) >> >>",
        ..OnePage::default()
    })
}

/// A file attached through the names tree. Refused: `PdfEmbeddedFile`.
pub fn pdf_with_embedded_file() -> Vec<u8> {
    one_page(OnePage {
        catalog: "/Names << /EmbeddedFiles 6 0 R >>",
        extra: vec![
            (6, b"<< /Names [(notes.txt) 7 0 R] >>".to_vec()),
            (
                7,
                b"<< /Type /Filespec /F (notes.txt) /EF << /F 8 0 R >> >>".to_vec(),
            ),
            (8, stream_body(" /Type /EmbeddedFile", b"hello")),
        ],
        ..OnePage::default()
    })
}

/// A file attachment annotation on the page. Refused: `PdfEmbeddedFile`.
pub fn pdf_with_file_attachment_annotation() -> Vec<u8> {
    one_page(OnePage {
        page: "/Annots [6 0 R]",
        extra: vec![(
            6,
            b"<< /Type /Annot /Subtype /FileAttachment /Rect [0 0 20 20] /FS (a.txt) >>".to_vec(),
        )],
        ..OnePage::default()
    })
}

/// The first half of a valid PDF. Refused: `PdfMalformed`.
pub fn truncated_pdf() -> Vec<u8> {
    let mut pdf = minimal_pdf();
    pdf.truncate(pdf.len() / 2);
    pdf
}

/// A valid PDF preceded by `len` bytes of junk. Accepted up to 1024 bytes (PDF readers allow
/// that much); refused beyond: `Polyglot`.
pub fn pdf_with_prefix(len: usize) -> Vec<u8> {
    let mut out = vec![b'x'; len];
    out.extend_from_slice(&minimal_pdf());
    out
}

/// A valid PDF followed by a ZIP archive. Refused: `Polyglot`.
pub fn pdf_with_trailing_zip() -> Vec<u8> {
    let mut out = minimal_pdf();
    out.extend_from_slice(&tiny_zip());
    out
}

/// A valid PDF followed by `len` bytes of text. Refused beyond 1 KiB: `Polyglot`.
pub fn pdf_with_trailing_data(len: usize) -> Vec<u8> {
    let mut out = minimal_pdf();
    out.extend(std::iter::repeat_n(b'A', len));
    out
}

/// An object nested `depth` levels deep: lopdf's recursive parser would overflow its stack.
/// Refused beyond 64 levels: `PdfMalformed`.
pub fn deeply_nested_pdf(depth: usize) -> Vec<u8> {
    let mut nest = "[".repeat(depth).into_bytes();
    nest.extend(std::iter::repeat_n(b']', depth));
    one_page(OnePage {
        catalog: "/Nest 6 0 R",
        extra: vec![(6, nest)],
        ..OnePage::default()
    })
}

/// An object stream inflating to `decompressed_len` bytes of spaces. Refused when that is
/// more than the inflate budget (half of `Limits::max_alloc`): `PdfMalformed`.
pub fn pdf_with_object_stream_bomb(decompressed_len: usize) -> Vec<u8> {
    let mut content = b"9 0 ".to_vec();
    content.resize(decompressed_len.max(content.len()), b' ');
    let body = stream_body(
        " /Type /ObjStm /N 1 /First 4 /Filter /FlateDecode",
        &zlib(&content),
    );
    one_page(OnePage {
        extra: vec![(6, body)],
        ..OnePage::default()
    })
}

/// A cross-reference stream claiming two billion entries of zero width. Refused: `PdfMalformed`.
pub fn pdf_with_huge_xref_stream() -> Vec<u8> {
    let mut out = b"%PDF-1.7\n".to_vec();
    let xref = out.len();
    out.extend_from_slice(&stream_body_obj(
        1,
        " /Type /XRef /Size 2000000000 /Index [0 2000000000] /W [0 0 0] /Root 1 0 R",
        b"",
    ));
    out.extend_from_slice(format!("startxref\n{xref}\n%%EOF\n").as_bytes());
    out
}

fn stream_body_obj(id: u32, dict: &str, data: &[u8]) -> Vec<u8> {
    let mut out = format!("{id} 0 obj\n").into_bytes();
    out.extend_from_slice(&stream_body(dict, data));
    out.extend_from_slice(b"\nendobj\n");
    out
}

/// A cross-reference table listing the same large object under `aliases` numbers: lopdf would
/// parse it that many times. Refused: `PdfMalformed`.
pub fn pdf_with_repeated_offsets(aliases: u32, object_len: usize) -> Vec<u8> {
    let mut pdf = PdfWriter::new();
    pdf.object(1, b"<< /Type /Catalog /Pages 2 0 R >>");
    pdf.object(2, b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>");
    pdf.object(
        3,
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>",
    );
    let mut big = b"[".to_vec();
    big.resize(object_len.max(2) - 1, b' ');
    big.push(b']');
    pdf.object(4, &big);
    let offset = pdf.offsets.last().map_or(0, |(_, offset)| *offset);
    for id in 5..5u32.saturating_add(aliases) {
        pdf.offsets.push((id, offset));
    }
    pdf.finish("")
}

/// `links` streams, each taking its `/Length` from the next one: lopdf resolves such a chain
/// recursively. Refused: `PdfMalformed`.
pub fn pdf_with_length_chain(links: u32) -> Vec<u8> {
    let mut pdf = PdfWriter::new();
    pdf.object(1, b"<< /Type /Catalog /Pages 2 0 R >>");
    pdf.object(2, b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>");
    pdf.object(
        3,
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>",
    );
    for id in 4..4u32.saturating_add(links) {
        let next = id.saturating_add(1);
        pdf.object(
            id,
            format!("<< /Length {next} 0 R >>\nstream\nq Q\nendstream").as_bytes(),
        );
    }
    pdf.object(4u32.saturating_add(links), b"4");
    pdf.finish("")
}

/// An object stream holding an object nested `depth` levels deep. Refused beyond 64 levels:
/// `PdfMalformed`.
pub fn pdf_with_deep_nesting_in_object_stream(depth: usize) -> Vec<u8> {
    let mut nest = "[".repeat(depth).into_bytes();
    nest.extend(std::iter::repeat_n(b']', depth));
    modern_pdf("", "/Type /ObjStm", &nest)
}

/// A PDF 1.5 file: catalog, page tree, page and font inside a compressed object stream, and a
/// compressed cross-reference stream with a PNG predictor. Accepted, one page.
pub fn pdf_with_object_streams() -> Vec<u8> {
    modern_pdf("", "/Type /ObjStm", &[])
}

/// The same with JavaScript in the catalog, inside the object stream. Refused: `PdfJavascript`.
pub fn pdf_with_javascript_in_object_stream() -> Vec<u8> {
    modern_pdf(
        "/OpenAction << /S /JavaScript /JS (app.alert\\(1\\)) >>",
        "/Type /ObjStm",
        &[],
    )
}

/// JavaScript inside an object stream that hides what it is: typed as an image and starting
/// with binary data, found only because the cross-reference stream points into it.
/// Refused: `PdfJavascript`.
pub fn pdf_with_javascript_in_disguised_object_stream() -> Vec<u8> {
    // A string of pseudo-random bytes makes the stream look binary, like an image.
    let mut literal = b"(".to_vec();
    for i in 0..6000u32 {
        let b = ((i * 131 + 7) % 256) as u8;
        if matches!(b, b'(' | b')' | b'\\') {
            literal.push(b'\\');
        }
        literal.push(b);
    }
    literal.push(b')');
    modern_pdf(
        "/OpenAction << /S /JavaScript /JS (app.alert\\(1\\)) >>",
        "/Type /XObject /Subtype /Image",
        &literal,
    )
}

/// Objects 1, 2, 3, 5 (and 9, `first`, when given) compressed in object stream 6; content 4;
/// cross-reference stream 7.
fn modern_pdf(catalog: &str, container_type: &str, first: &[u8]) -> Vec<u8> {
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

// ---------------------------------------------------------------------------------------------
// Images

fn encode(width: u32, height: u32, format: ImageFormat) -> Vec<u8> {
    let image = RgbImage::from_fn(width, height, |x, y| {
        image::Rgb([
            (x * 255 / width.max(1)) as u8,
            (y * 255 / height.max(1)) as u8,
            160,
        ])
    });
    let mut out = Cursor::new(Vec::new());
    match DynamicImage::ImageRgb8(image).write_to(&mut out, format) {
        Ok(()) => out.into_inner(),
        Err(_) => Vec::new(),
    }
}

/// A valid PNG (empty if the dimensions are zero).
pub fn small_png(width: u32, height: u32) -> Vec<u8> {
    encode(width, height, ImageFormat::Png)
}

/// A valid baseline JPEG (empty if the dimensions are zero).
pub fn small_jpeg(width: u32, height: u32) -> Vec<u8> {
    encode(width, height, ImageFormat::Jpeg)
}

/// A valid lossless WebP (empty if the dimensions are zero).
pub fn small_webp(width: u32, height: u32) -> Vec<u8> {
    encode(width, height, ImageFormat::WebP)
}

/// CRC-32 as used by PNG and ZIP.
fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &byte in data {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

fn png_chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut chunk = u32::try_from(data.len())
        .unwrap_or(u32::MAX)
        .to_be_bytes()
        .to_vec();
    chunk.extend_from_slice(kind);
    chunk.extend_from_slice(data);
    let mut checked = kind.to_vec();
    checked.extend_from_slice(data);
    chunk.extend_from_slice(&crc32(&checked).to_be_bytes());
    chunk
}

/// A small PNG whose header claims `width` x `height` pixels (RGB, 8 bits), with a token of
/// pixel data: decoding it would need width x height x 3 bytes. Refused before decoding:
/// `ImageTooLarge`.
pub fn png_bomb(width: u32, height: u32) -> Vec<u8> {
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut header = Vec::new();
    header.extend_from_slice(&width.to_be_bytes());
    header.extend_from_slice(&height.to_be_bytes());
    header.extend_from_slice(&[8, 2, 0, 0, 0]);
    out.extend_from_slice(&png_chunk(b"IHDR", &header));
    out.extend_from_slice(&png_chunk(b"IDAT", &zlib(&[0u8; 4096])));
    out.extend_from_slice(&png_chunk(b"IEND", b""));
    out
}

/// A complete, valid PNG of `width` x `height` RGB pixels, all of one colour: a few hundred
/// KiB for 10000 x 10000, yet decoding it needs width x height x 3 bytes. Built row by row,
/// so that making it costs no more memory than the result.
pub fn uniform_png(width: u32, height: u32) -> Vec<u8> {
    use flate2::{Compression, write::ZlibEncoder};
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut header = Vec::new();
    header.extend_from_slice(&width.to_be_bytes());
    header.extend_from_slice(&height.to_be_bytes());
    header.extend_from_slice(&[8, 2, 0, 0, 0]);
    out.extend_from_slice(&png_chunk(b"IHDR", &header));
    // Filter byte 0, then the row's pixels: a light grey background.
    let mut row = vec![0xeeu8; 1 + width as usize * 3];
    row[0] = 0;
    let mut z = ZlibEncoder::new(Vec::new(), Compression::best());
    for _ in 0..height {
        let _ = z.write_all(&row);
    }
    let data = z.finish().unwrap_or_default();
    out.extend_from_slice(&png_chunk(b"IDAT", &data));
    out.extend_from_slice(&png_chunk(b"IEND", b""));
    out
}

/// A PNG followed by a PDF: valid as both. Refused: `Polyglot`.
pub fn polyglot_png_pdf() -> Vec<u8> {
    let mut out = small_png(8, 8);
    out.extend_from_slice(&minimal_pdf());
    out
}

/// A JPEG followed by a PDF. Refused: `Polyglot`.
pub fn polyglot_jpeg_pdf() -> Vec<u8> {
    let mut out = small_jpeg(8, 8);
    out.extend_from_slice(&minimal_pdf());
    out
}

/// A JPEG uploaded under a PDF name and content type: `(file name, content type, bytes)`.
/// Sniffed as JPEG whatever the client says; refused where only PDF is allowed.
pub fn jpeg_with_pdf_declared() -> (&'static str, &'static str, Vec<u8>) {
    ("attestation.pdf", "application/pdf", small_jpeg(16, 16))
}

/// Insert a segment right after the SOI marker of a JPEG.
fn with_segment(jpeg: Vec<u8>, marker: u8, payload: &[u8]) -> Vec<u8> {
    let Some(rest) = jpeg.get(2..) else {
        return jpeg;
    };
    let mut out = vec![0xFF, 0xD8, 0xFF, marker];
    out.extend_from_slice(
        &u16::try_from(payload.len() + 2)
            .unwrap_or(u16::MAX)
            .to_be_bytes(),
    );
    out.extend_from_slice(payload);
    out.extend_from_slice(rest);
    out
}

/// A JPEG whose comment segment holds a script, for browsers that guess types. Refused:
/// `Polyglot`.
pub fn jpeg_with_html() -> Vec<u8> {
    with_segment(
        small_jpeg(16, 16),
        0xFE,
        b"<script>alert(document.domain)</script>",
    )
}

/// A JPEG with an EXIF segment holding a thumbnail (itself a JPEG, with its own end marker),
/// as cameras write them. Accepted.
pub fn jpeg_with_exif_thumbnail(width: u32, height: u32) -> Vec<u8> {
    let mut exif = b"Exif\0\0".to_vec();
    exif.extend_from_slice(&small_jpeg(4, 4));
    with_segment(small_jpeg(width, height), 0xE1, &exif)
}

/// A JPEG followed by 4 KiB of data. Refused: `Polyglot`.
pub fn jpeg_with_trailing_data() -> Vec<u8> {
    let mut out = small_jpeg(16, 16);
    out.extend(std::iter::repeat_n(b'A', 4096));
    out
}

/// A JPEG followed by a ZIP archive. Refused: `Polyglot`.
pub fn jpeg_with_trailing_zip() -> Vec<u8> {
    let mut out = small_jpeg(16, 16);
    out.extend_from_slice(&tiny_zip());
    out
}

/// A JPEG followed by a second JPEG, as in multi-picture files and HDR photos with a gain
/// map. Accepted.
pub fn jpeg_with_appended_jpeg() -> Vec<u8> {
    let mut out = small_jpeg(16, 16);
    out.extend_from_slice(&small_jpeg(8, 8));
    out
}

/// A "motion photo": a JPEG followed by a short MP4. Accepted.
pub fn jpeg_motion_photo() -> Vec<u8> {
    let mut out = small_jpeg(16, 16);
    out.extend_from_slice(&fake_mp4());
    out
}

/// The box structure of an MP4 file, without real video.
pub fn fake_mp4() -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&20u32.to_be_bytes());
    out.extend_from_slice(b"ftypisom\0\0\x02\0isom");
    out.extend_from_slice(&24u32.to_be_bytes());
    out.extend_from_slice(b"mdat");
    out.extend_from_slice(&[0x42; 16]);
    out
}

/// The first half of a JPEG. Refused: `ImageMalformed`.
pub fn truncated_jpeg() -> Vec<u8> {
    let mut out = small_jpeg(64, 64);
    out.truncate(out.len() / 2);
    out
}

/// The first half of a PNG. Refused: `ImageMalformed`.
pub fn truncated_png() -> Vec<u8> {
    let mut out = small_png(64, 64);
    out.truncate(out.len() / 2);
    out
}

/// A PNG followed by 100 bytes of data. Refused: `Polyglot`.
pub fn png_with_trailing_data() -> Vec<u8> {
    let mut out = small_png(8, 8);
    out.extend(std::iter::repeat_n(b'A', 100));
    out
}

/// A ZIP archive holding one stored file.
pub fn tiny_zip() -> Vec<u8> {
    let name = b"a.txt";
    let data = b"hello";
    let crc = crc32(data).to_le_bytes();
    let size = u32::try_from(data.len()).unwrap_or(0).to_le_bytes();
    let name_len = u16::try_from(name.len()).unwrap_or(0).to_le_bytes();

    let mut out = Vec::new();
    out.extend_from_slice(b"PK\x03\x04\x14\0\0\0\0\0\0\0\0\0");
    out.extend_from_slice(&crc);
    out.extend_from_slice(&size);
    out.extend_from_slice(&size);
    out.extend_from_slice(&name_len);
    out.extend_from_slice(&[0, 0]);
    out.extend_from_slice(name);
    out.extend_from_slice(data);

    let directory = out.len();
    out.extend_from_slice(b"PK\x01\x02\x14\0\x14\0\0\0\0\0\0\0\0\0");
    out.extend_from_slice(&crc);
    out.extend_from_slice(&size);
    out.extend_from_slice(&size);
    out.extend_from_slice(&name_len);
    out.extend_from_slice(&[0; 12]);
    out.extend_from_slice(&[0; 4]);
    out.extend_from_slice(name);
    let directory_len = out.len() - directory;

    out.extend_from_slice(b"PK\x05\x06\0\0\0\0\x01\0\x01\0");
    out.extend_from_slice(&u32::try_from(directory_len).unwrap_or(0).to_le_bytes());
    out.extend_from_slice(&u32::try_from(directory).unwrap_or(0).to_le_bytes());
    out.extend_from_slice(&[0, 0]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_matches_the_reference_value() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
    }

    #[test]
    fn minimal_pdf_loads_in_lopdf() {
        let doc = lopdf::Document::load_mem(&minimal_pdf());
        let Ok(doc) = doc else { panic!("{doc:?}") };
        assert_eq!(doc.get_pages().len(), 1);
    }

    #[test]
    fn modern_pdf_loads_in_lopdf() {
        let doc = lopdf::Document::load_mem(&pdf_with_object_streams());
        let Ok(doc) = doc else { panic!("{doc:?}") };
        assert_eq!(doc.get_pages().len(), 1);
    }

    #[test]
    fn text_is_in_the_content_stream() {
        let doc = lopdf::Document::load_mem(&pdf_with_text("Marqueur été (1)"));
        let Ok(doc) = doc else { panic!("{doc:?}") };
        let text = doc.extract_text(&[1]);
        assert!(text.is_ok_and(|t| t.contains("Marqueur") && t.contains("(1)")));
    }
}
