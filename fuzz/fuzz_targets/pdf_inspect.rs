//! The PDF inspector (structure checks, then lopdf, then the active-content scan) on
//! arbitrary bytes behind a PDF header, called directly so that nothing refuses the input
//! before the PDF path, and the one-pass inspector of large PDFs on the same bytes. Neither may
//! panic, overflow the stack or exceed its memory limit.
#![no_main]

use liasse_inspect::Limits;
use libfuzzer_sys::fuzz_target;

const HEADER: &[u8] = b"%PDF-1.7\n";

fuzz_target!(|data: &[u8]| {
    let mut buf = Vec::with_capacity(HEADER.len() + data.len());
    buf.extend_from_slice(HEADER);
    buf.extend_from_slice(data);
    let limits = Limits::default();
    let direct = liasse_inspect::fuzzing::inspect_pdf(&buf, &limits);
    // The public entry point runs the same inspector behind its own checks: it may refuse
    // more, never accept what the inspector refused.
    let public = liasse_inspect::inspect_bytes(&buf, &[liasse_inspect::Format::Pdf], &limits);
    let _ = liasse_inspect::fuzzing::inspect_pdf_streaming(&buf, &limits);
    if let Ok(found) = public {
        assert_eq!(
            direct.ok(),
            found.pages,
            "inspect_bytes accepted what inspect_pdf refused"
        );
    }
});
