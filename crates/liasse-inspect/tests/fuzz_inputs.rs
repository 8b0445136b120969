//! Every input the fuzz targets of `fuzz/` keep (the committed seeds and every input that ever
//! crashed one of them, `fuzz/regressions/`), replayed on stable in the normal test run: the
//! inspector answers each one, accepting or refusing, without panicking.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use liasse_inspect::{Format, Limits, inspect_bytes};

const ALL: [Format; 4] = [Format::Pdf, Format::Jpeg, Format::Png, Format::Webp];

fn inputs(target: &str) -> Vec<PathBuf> {
    let fuzz = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz");
    let mut files = Vec::new();
    for dir in ["seeds", "regressions"] {
        if let Ok(entries) = std::fs::read_dir(fuzz.join(dir).join(target)) {
            files.extend(entries.flatten().map(|e| e.path()).filter(|p| p.is_file()));
        }
    }
    files.sort();
    files
}

#[test]
fn upload_inspect_inputs_are_answered() {
    let files = inputs("upload_inspect");
    assert!(!files.is_empty(), "fuzz/seeds/upload_inspect is missing");
    for path in files {
        let bytes = std::fs::read(&path).expect("read input");
        let answer = inspect_bytes(&bytes, &ALL, &Limits::default());
        if let Ok(found) = answer {
            assert_eq!(
                Some(found.format),
                liasse_inspect::sniff(&bytes),
                "{}",
                path.display()
            );
        }
    }
}

#[test]
fn pdf_inspect_inputs_are_answered() {
    let files = inputs("pdf_inspect");
    assert!(!files.is_empty(), "fuzz/seeds/pdf_inspect is missing");
    for path in files {
        let mut bytes = b"%PDF-1.7\n".to_vec();
        bytes.extend_from_slice(&std::fs::read(&path).expect("read input"));
        let direct = liasse_inspect::fuzzing::inspect_pdf(&bytes, &Limits::default());
        if let Ok(found) = inspect_bytes(&bytes, &[Format::Pdf], &Limits::default()) {
            assert_eq!(direct.ok(), found.pages, "{}", path.display());
        }
    }
}
