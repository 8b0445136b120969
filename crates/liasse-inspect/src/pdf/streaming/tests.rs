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
                let end = crate::bytes::find_from(input, ENDSTREAM, start).unwrap_or(input.len());
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
