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
