use std::io::{Cursor, Seek, SeekFrom};
use std::time::{Duration, Instant};

use liasse_inspect::samples::Filler;
use liasse_inspect::{
    Format, Inspection, Limits, Refusal, inspect, inspect_bytes, samples, sanitize_filename, sniff,
};
use proptest::prelude::*;

const ALL: &[Format] = &Format::DEFAULT_ALLOWED;

fn check(bytes: &[u8]) -> Result<Inspection, Refusal> {
    check_with(bytes, ALL, &Limits::default())
}

fn check_with(bytes: &[u8], allowed: &[Format], limits: &Limits) -> Result<Inspection, Refusal> {
    let mut file = Cursor::new(bytes.to_vec());
    // The server hands over a file it has just written: the position is at the end.
    let _ = file.seek(SeekFrom::End(0));
    inspect(&mut file, bytes.len() as u64, allowed, limits)
}

fn refusal_code(bytes: &[u8]) -> &'static str {
    match check(bytes) {
        Ok(inspection) => panic!("accepted: {inspection:?}"),
        Err(refusal) => refusal.code(),
    }
}

fn accepted(bytes: &[u8]) -> Inspection {
    match check(bytes) {
        Ok(inspection) => inspection,
        Err(refusal) => panic!("refused: {refusal:?} ({})", refusal.detail_fr()),
    }
}

// --- PDF accepted --------------------------------------------------------------------------

#[test]
fn minimal_pdf_is_accepted_with_one_page() {
    let inspection = accepted(&samples::minimal_pdf());
    assert_eq!(
        inspection,
        Inspection {
            format: Format::Pdf,
            media_type: "application/pdf",
            width: None,
            height: None,
            pages: Some(1)
        }
    );
}

#[test]
fn pdf_with_text_is_accepted() {
    assert_eq!(
        accepted(&samples::pdf_with_text("Attestation d'hébergement")).pages,
        Some(1)
    );
}

#[test]
fn pdf_with_object_and_cross_reference_streams_is_accepted() {
    assert_eq!(accepted(&samples::pdf_with_object_streams()).pages, Some(1));
}

#[test]
fn pdf_with_short_prefix_or_trailing_padding_is_accepted() {
    assert_eq!(accepted(&samples::pdf_with_prefix(100)).pages, Some(1));
    assert_eq!(accepted(&samples::pdf_with_prefix(1024)).pages, Some(1));
    let mut padded = samples::minimal_pdf();
    padded.extend_from_slice(&[0; 4096]);
    assert_eq!(accepted(&padded).pages, Some(1));
}

#[test]
fn moderately_nested_pdf_is_accepted() {
    assert_eq!(accepted(&samples::deeply_nested_pdf(60)).pages, Some(1));
}

// --- PDF refused ---------------------------------------------------------------------------

#[test]
fn pdf_javascript_is_refused_however_it_is_written() {
    assert_eq!(
        refusal_code(&samples::pdf_with_javascript()),
        "pdf-javascript"
    );
    assert_eq!(
        refusal_code(&samples::pdf_with_hex_escaped_javascript()),
        "pdf-javascript"
    );
    assert_eq!(
        refusal_code(&samples::pdf_with_javascript_names_tree()),
        "pdf-javascript"
    );
    assert_eq!(
        refusal_code(&samples::pdf_with_javascript_in_object_stream()),
        "pdf-javascript"
    );
    assert_eq!(
        refusal_code(&samples::pdf_with_javascript_in_disguised_object_stream()),
        "pdf-javascript"
    );
}

#[test]
fn pdf_launch_action_is_refused() {
    assert_eq!(
        refusal_code(&samples::pdf_with_launch()),
        "pdf-launch-action"
    );
}

#[test]
fn pdf_embedded_files_are_refused() {
    assert_eq!(
        refusal_code(&samples::pdf_with_embedded_file()),
        "pdf-embedded-file"
    );
    assert_eq!(
        refusal_code(&samples::pdf_with_file_attachment_annotation()),
        "pdf-embedded-file"
    );
}

#[test]
fn encrypted_pdf_is_refused() {
    assert_eq!(check(&samples::encrypted_pdf()), Err(Refusal::PdfEncrypted));
}

#[test]
fn truncated_pdf_is_refused() {
    assert_eq!(check(&samples::truncated_pdf()), Err(Refusal::PdfMalformed));
    let pdf = samples::minimal_pdf();
    for cut in [10, pdf.len() - 40, pdf.len() - 6] {
        assert!(
            check(pdf.get(..cut).unwrap_or_default()).is_err(),
            "cut at {cut}"
        );
    }
}

#[test]
fn deeply_nested_pdf_is_refused_without_overflowing_the_stack() {
    // lopdf alone aborts the process on this file.
    let refused = std::thread::Builder::new()
        .stack_size(512 * 1024)
        .spawn(|| check(&samples::deeply_nested_pdf(100_000)))
        .map(|handle| handle.join());
    assert!(
        matches!(refused, Ok(Ok(Err(Refusal::PdfMalformed)))),
        "{refused:?}"
    );
}

#[test]
fn absurd_cross_reference_stream_is_refused_quickly() {
    let started = Instant::now();
    assert_eq!(
        check(&samples::pdf_with_huge_xref_stream()),
        Err(Refusal::PdfMalformed)
    );
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[test]
fn object_stream_bomb_is_refused() {
    let limits = Limits {
        max_alloc: 8 << 20,
        ..Limits::default()
    };
    let bomb = samples::pdf_with_object_stream_bomb(16 << 20);
    assert!(bomb.len() < 64 * 1024);
    assert_eq!(check_with(&bomb, ALL, &limits), Err(Refusal::PdfMalformed));
    // Within the budget, the same construction is fine.
    let small = samples::pdf_with_object_stream_bomb(1 << 20);
    assert_eq!(
        check_with(&small, ALL, &limits).map(|i| i.pages),
        Ok(Some(1))
    );
}

#[test]
fn repeated_offsets_are_refused_before_lopdf_parses_them() {
    // lopdf would parse this 1 MB object 50 000 times.
    let pdf = samples::pdf_with_repeated_offsets(50_000, 1 << 20);
    let started = Instant::now();
    assert_eq!(check(&pdf), Err(Refusal::PdfMalformed));
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(
        check(&samples::pdf_with_repeated_offsets(1, 1 << 10)).map(|i| i.pages),
        Ok(Some(1))
    );
}

#[test]
fn deep_nesting_inside_an_object_stream_is_refused() {
    let refused = std::thread::Builder::new()
        .stack_size(512 * 1024)
        .spawn(|| check(&samples::pdf_with_deep_nesting_in_object_stream(100_000)))
        .map(|handle| handle.join());
    assert!(
        matches!(refused, Ok(Ok(Err(Refusal::PdfMalformed)))),
        "{refused:?}"
    );
    assert_eq!(
        check(&samples::pdf_with_deep_nesting_in_object_stream(50)).map(|i| i.pages),
        Ok(Some(1))
    );
}

#[test]
fn chains_of_indirect_lengths_are_refused() {
    let refused = std::thread::Builder::new()
        .stack_size(512 * 1024)
        .spawn(|| check(&samples::pdf_with_length_chain(20_000)))
        .map(|handle| handle.join());
    assert!(
        matches!(refused, Ok(Ok(Err(Refusal::PdfMalformed)))),
        "{refused:?}"
    );
    // A single indirect length, as writers produce, is fine.
    assert_eq!(
        check(&samples::pdf_with_length_chain(1)).map(|i| i.pages),
        Ok(Some(1))
    );
}

#[test]
fn deep_nesting_in_the_trailer_is_refused() {
    let mut pdf = samples::minimal_pdf();
    let Some(at) = pdf.windows(7).rposition(|w| w == b"trailer") else {
        panic!("no trailer")
    };
    let nest = format!("/Nest {}{}", "[".repeat(100_000), "]".repeat(100_000));
    let mut patched = pdf.split_off(at + 10);
    patched.splice(0..0, nest.bytes());
    pdf.extend_from_slice(&patched);
    assert_eq!(check(&pdf), Err(Refusal::PdfMalformed));
}

#[test]
fn too_many_pdf_objects_are_refused() {
    let limits = Limits {
        max_pdf_objects: 4,
        ..Limits::default()
    };
    assert_eq!(
        check_with(&samples::minimal_pdf(), ALL, &limits),
        Err(Refusal::PdfMalformed)
    );
}

#[test]
fn pdf_polyglots_are_refused() {
    assert_eq!(
        check(&samples::pdf_with_prefix(2048)),
        Err(Refusal::Polyglot)
    );
    assert_eq!(
        check(&samples::pdf_with_trailing_zip()),
        Err(Refusal::Polyglot)
    );
    assert_eq!(
        check(&samples::pdf_with_trailing_data(4096)),
        Err(Refusal::Polyglot)
    );
    let mut html_prefix = b"<html><body>".to_vec();
    html_prefix.extend_from_slice(&samples::minimal_pdf());
    assert_eq!(check(&html_prefix), Err(Refusal::Polyglot));
}

// --- Images accepted -----------------------------------------------------------------------

#[test]
fn small_images_are_accepted_with_their_dimensions() {
    for (bytes, format, media_type) in [
        (samples::small_png(40, 30), Format::Png, "image/png"),
        (samples::small_jpeg(40, 30), Format::Jpeg, "image/jpeg"),
        (samples::small_webp(40, 30), Format::Webp, "image/webp"),
    ] {
        assert_eq!(
            accepted(&bytes),
            Inspection {
                format,
                media_type,
                width: Some(40),
                height: Some(30),
                pages: None
            }
        );
    }
}

#[test]
fn camera_style_jpegs_are_accepted() {
    assert_eq!(
        accepted(&samples::jpeg_with_exif_thumbnail(32, 24)).width,
        Some(32)
    );
    assert_eq!(
        accepted(&samples::jpeg_with_appended_jpeg()).width,
        Some(16)
    );
    assert_eq!(accepted(&samples::jpeg_motion_photo()).width, Some(16));
}

// --- Images refused ------------------------------------------------------------------------

#[test]
fn png_bomb_is_refused_from_its_header_quickly() {
    let bomb = samples::png_bomb(20_000, 20_000);
    assert!(bomb.len() < 1024);
    let started = Instant::now();
    assert_eq!(
        check(&bomb),
        Err(Refusal::ImageTooLarge {
            width: 20_000,
            height: 20_000
        })
    );
    assert!(started.elapsed() < Duration::from_secs(1));
}

#[test]
fn images_over_the_limits_are_refused() {
    let narrow = Limits {
        max_width: 32,
        ..Limits::default()
    };
    assert_eq!(
        check_with(&samples::small_png(40, 30), ALL, &narrow),
        Err(Refusal::ImageTooLarge {
            width: 40,
            height: 30
        })
    );
    let few_pixels = Limits {
        max_pixels: 1000,
        ..Limits::default()
    };
    assert_eq!(
        check_with(&samples::small_webp(40, 30), ALL, &few_pixels),
        Err(Refusal::ImageTooManyPixels {
            width: 40,
            height: 30,
            max_pixels: 1000
        })
    );
}

#[test]
fn files_larger_than_the_memory_budget_are_not_loaded() {
    let png = samples::small_png(64, 64);
    let limits = Limits {
        max_alloc: 100,
        max_in_memory: 100,
        ..Limits::default()
    };
    assert_eq!(
        check_with(&png, ALL, &limits),
        Err(Refusal::ImageTooLarge {
            width: 64,
            height: 64
        })
    );
    // A PDF is read through instead, whatever its size.
    assert_eq!(
        check_with(&samples::minimal_pdf(), ALL, &limits).map(|i| i.pages),
        Ok(Some(1))
    );
}

// --- PDF too large for memory: one streaming pass ------------------------------------------

/// Limits that send every file above 1 MiB to the streaming pass.
fn streaming_limits() -> Limits {
    Limits {
        max_in_memory: 1 << 20,
        ..Limits::default()
    }
}

#[test]
fn large_pdfs_are_accepted_whatever_their_streams_hold() {
    for filler in [Filler::Text, Filler::CompressedText, Filler::Binary] {
        let pdf = samples::pdf_with_large_stream(3 << 20, filler, "");
        assert!(pdf.len() > 1 << 20 || filler == Filler::CompressedText);
        let got = check_with(&pdf, ALL, &streaming_limits());
        assert_eq!(got.map(|i| i.pages), Ok(Some(1)), "{filler:?}");
        // The same file through the in-memory path, for comparison.
        assert_eq!(check(&pdf).map(|i| i.pages), Ok(Some(1)), "{filler:?}");
    }
}

#[test]
fn the_default_limits_stream_files_over_32_mib() {
    let pdf = samples::pdf_with_large_stream(40 << 20, Filler::Binary, "");
    assert_eq!(check(&pdf).map(|i| i.pages), Ok(Some(1)));
    let pdf = samples::pdf_with_large_stream(
        40 << 20,
        Filler::Binary,
        "/OpenAction << /S /JavaScript /JS (app.alert\\(1\\)) >>",
    );
    assert_eq!(check(&pdf), Err(Refusal::PdfJavascript));
}

#[test]
fn large_pdfs_with_active_content_are_refused() {
    for filler in [Filler::Text, Filler::CompressedText, Filler::Binary] {
        for (catalog, refusal) in [
            (
                "/OpenAction << /S /J#61vaScript /JS (x) >>",
                Refusal::PdfJavascript,
            ),
            (
                "/OpenAction << /S /Launch /F (calc.exe) >>",
                Refusal::PdfLaunchAction,
            ),
            (
                "/Names << /EmbeddedFiles 9 0 R >>",
                Refusal::PdfEmbeddedFile,
            ),
        ] {
            let pdf = samples::pdf_with_large_stream(2 << 20, filler, catalog);
            let limits = Limits {
                max_in_memory: 1024,
                ..Limits::default()
            };
            assert_eq!(
                check_with(&pdf, ALL, &limits),
                Err(refusal),
                "{filler:?} {catalog}"
            );
        }
    }
}

#[test]
fn the_streaming_pass_refuses_what_the_full_parse_refuses() {
    let all_at_once = Limits {
        max_in_memory: 0,
        ..Limits::default()
    };
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("minimal", samples::minimal_pdf()),
        ("text", samples::pdf_with_text("Attestation d'hébergement")),
        ("object streams", samples::pdf_with_object_streams()),
        ("prefix", samples::pdf_with_prefix(100)),
        ("javascript", samples::pdf_with_javascript()),
        (
            "hex-escaped javascript",
            samples::pdf_with_hex_escaped_javascript(),
        ),
        (
            "javascript names tree",
            samples::pdf_with_javascript_names_tree(),
        ),
        (
            "javascript in object stream",
            samples::pdf_with_javascript_in_object_stream(),
        ),
        (
            "javascript in disguised object stream",
            samples::pdf_with_javascript_in_disguised_object_stream(),
        ),
        ("launch", samples::pdf_with_launch()),
        ("embedded file", samples::pdf_with_embedded_file()),
        (
            "file attachment",
            samples::pdf_with_file_attachment_annotation(),
        ),
        ("encrypted", samples::encrypted_pdf()),
        ("truncated", samples::truncated_pdf()),
        ("long prefix", samples::pdf_with_prefix(2048)),
        ("trailing zip", samples::pdf_with_trailing_zip()),
        ("trailing data", samples::pdf_with_trailing_data(4096)),
    ];
    for (name, pdf) in cases {
        let streamed = check_with(&pdf, ALL, &all_at_once).map(|i| i.pages);
        let parsed = check(&pdf).map(|i| i.pages);
        assert_eq!(streamed, parsed, "{name}");
    }
    // What only a full parse refuses (nesting that would exhaust lopdf's stack, inflation
    // bombs within the streaming budget) is harmless to a pass that neither recurses nor
    // keeps what it inflates: accepted or refused, never a crash.
    for pdf in [
        samples::deeply_nested_pdf(100_000),
        samples::pdf_with_object_stream_bomb(16 << 20),
        samples::pdf_with_huge_xref_stream(),
        samples::pdf_with_length_chain(20_000),
        samples::pdf_with_repeated_offsets(50_000, 1 << 10),
    ] {
        let _ = check_with(&pdf, ALL, &all_at_once);
    }
}

#[test]
fn inflating_in_the_streaming_pass_is_bounded() {
    let limits = Limits {
        max_in_memory: 0,
        max_alloc: 1 << 20,
        ..Limits::default()
    };
    // 64 MiB of zeros compress to about 64 KiB: more than 8 × the file + max_alloc.
    let bomb = samples::pdf_with_object_stream_bomb(64 << 20);
    assert_eq!(check_with(&bomb, ALL, &limits), Err(Refusal::PdfMalformed));
}

#[test]
fn truncated_images_are_refused() {
    assert_eq!(
        check(&samples::truncated_jpeg()),
        Err(Refusal::ImageMalformed)
    );
    assert_eq!(
        check(&samples::truncated_png()),
        Err(Refusal::ImageMalformed)
    );
    let webp = samples::small_webp(64, 64);
    assert_eq!(
        check(webp.get(..webp.len() / 2).unwrap_or_default()),
        Err(Refusal::ImageMalformed)
    );
}

#[test]
fn image_polyglots_are_refused() {
    assert_eq!(refusal_code(&samples::polyglot_png_pdf()), "polyglot");
    assert_eq!(refusal_code(&samples::polyglot_jpeg_pdf()), "polyglot");
    assert_eq!(refusal_code(&samples::jpeg_with_html()), "polyglot");
    assert_eq!(
        refusal_code(&samples::jpeg_with_trailing_data()),
        "polyglot"
    );
    assert_eq!(refusal_code(&samples::jpeg_with_trailing_zip()), "polyglot");
    assert_eq!(refusal_code(&samples::png_with_trailing_data()), "polyglot");
    let mut webp = samples::small_webp(8, 8);
    webp.extend_from_slice(b"<?php system($_GET['c']); ?> and then some more bytes");
    assert_eq!(refusal_code(&webp), "polyglot");
}

// --- Type decisions ------------------------------------------------------------------------

#[test]
fn empty_files_are_refused() {
    assert_eq!(check(b""), Err(Refusal::Empty));
    assert_eq!(
        inspect_bytes(b"", ALL, &Limits::default()),
        Err(Refusal::Empty)
    );
}

#[test]
fn unknown_formats_are_refused() {
    assert_eq!(
        check(b"Bonjour, ceci est un fichier texte."),
        Err(Refusal::UnknownFormat)
    );
    assert_eq!(check(&samples::tiny_zip()), Err(Refusal::UnknownFormat));
    assert_eq!(check(b"GIF89a\x01\0\x01\0"), Err(Refusal::UnknownFormat));
}

#[test]
fn formats_outside_the_allowlist_are_refused() {
    let (name, content_type, bytes) = samples::jpeg_with_pdf_declared();
    assert!(name.ends_with(".pdf") && content_type == "application/pdf");
    let refusal = check_with(&bytes, &[Format::Pdf], &Limits::default());
    assert_eq!(
        refusal,
        Err(Refusal::FormatNotAllowed {
            found: Format::Jpeg,
            allowed: vec![Format::Pdf]
        })
    );
    assert_eq!(refusal.map_err(|r| r.code()), Err("format-not-allowed"));
    assert_eq!(
        check_with(&samples::minimal_pdf(), &[], &Limits::default()).map_err(|r| r.code()),
        Err("format-not-allowed")
    );
}

#[test]
fn sniff_uses_content_only() {
    assert_eq!(sniff(&samples::small_jpeg(4, 4)), Some(Format::Jpeg));
    assert_eq!(sniff(&samples::small_png(4, 4)), Some(Format::Png));
    assert_eq!(sniff(&samples::small_webp(4, 4)), Some(Format::Webp));
    assert_eq!(sniff(&samples::minimal_pdf()), Some(Format::Pdf));
    assert_eq!(sniff(b"facture.pdf"), None);
    assert_eq!(sniff(b"image/jpeg"), None);
    assert_eq!(sniff(b"photo.png"), None);
    let (_, _, jpeg) = samples::jpeg_with_pdf_declared();
    assert_eq!(sniff(&jpeg), Some(Format::Jpeg));
    assert_eq!(sniff(&samples::pdf_with_prefix(1024)), Some(Format::Pdf));
    assert_eq!(sniff(&samples::pdf_with_prefix(1025)), None);
}

#[test]
fn format_codes_round_trip() {
    for format in Format::DEFAULT_ALLOWED {
        assert_eq!(Format::from_code(format.code()), Some(format));
        assert_eq!(Format::from_code(format.extension()), Some(format));
        assert!(format.media_type().contains('/'));
    }
    assert_eq!(Format::from_code(" JPG "), Some(Format::Jpeg));
    assert_eq!(Format::from_code("gif"), None);
    assert_eq!(Format::Jpeg.extension(), "jpg");
    assert_eq!(Format::Jpeg.code(), "jpeg");
}

// --- File names ----------------------------------------------------------------------------

#[test]
fn file_names_are_sanitized() {
    assert_eq!(sanitize_filename("../../etc/passwd"), "passwd");
    assert_eq!(sanitize_filename("..\\..\\x.pdf"), "x.pdf");
    assert_eq!(sanitize_filename("a\u{0}b.pdf"), "ab.pdf");
    assert_eq!(sanitize_filename("\"; rm -rf /.pdf"), "document.pdf");
    assert_eq!(
        sanitize_filename("facture été 2025.pdf"),
        "facture été 2025.pdf"
    );
    assert_eq!(sanitize_filename(""), "document");
    let long = format!("{}.pdf", "x".repeat(496));
    let short = sanitize_filename(&long);
    assert_eq!(short.chars().count(), 120);
    assert!(short.ends_with(".pdf"));
}

// --- Robustness ----------------------------------------------------------------------------

/// Prefixes that take arbitrary bytes past the magic check, into each format's parser.
const PREFIXES: [&[u8]; 6] = [
    b"",
    b"%PDF-1.7\n",
    b"\x89PNG\r\n\x1a\n",
    b"\xFF\xD8\xFF",
    b"RIFF\x20\0\0\0WEBPVP8L",
    b"%PDF-1.5\n1 0 obj <</Type/XRef/W[1 2 1]/Size 3/Filter/FlateDecode/Length 9>>stream\n",
];

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn inspect_never_panics(prefix in 0..PREFIXES.len(), body in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let mut bytes = PREFIXES.get(prefix).copied().unwrap_or_default().to_vec();
        bytes.extend_from_slice(&body);
        let _ = check(&bytes);
    }

    #[test]
    fn mutated_samples_never_panic(which in 0..6usize, flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..8)) {
        let mut bytes = match which {
            0 => samples::minimal_pdf(),
            1 => samples::pdf_with_object_streams(),
            2 => samples::small_png(8, 8),
            3 => samples::small_jpeg(8, 8),
            4 => samples::small_webp(8, 8),
            _ => samples::pdf_with_embedded_file(),
        };
        let len = bytes.len();
        for (at, value) in flips {
            if let Some(byte) = bytes.get_mut(at % len) {
                *byte = value;
            }
        }
        let _ = check(&bytes);
    }

    #[test]
    fn sanitized_names_are_harmless(name in any::<String>()) {
        let clean = sanitize_filename(&name);
        prop_assert!(!clean.is_empty());
        prop_assert!(!clean.contains(['/', '\\', '\0', '"']));
        prop_assert!(!clean.starts_with('.'));
        prop_assert!(clean.chars().count() <= 120);
        prop_assert!(!clean.chars().any(char::is_control));
    }

    #[test]
    fn sanitized_path_like_names_are_harmless(name in "[./\\\\a-zé \"\u{0}\t]{0,200}") {
        let clean = sanitize_filename(&name);
        prop_assert!(!clean.contains(['/', '\\', '\0']));
        prop_assert!(!clean.starts_with('.'));
        prop_assert!(clean != ".." && !clean.is_empty());
    }
}
