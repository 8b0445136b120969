//! PDF samples: valid ones, and each kind of PDF the inspector refuses.

use super::*;

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
