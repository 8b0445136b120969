//! Upload sniffing and validation: `liasse_inspect::inspect_bytes` on arbitrary bytes with
//! every format allowed and the server's limits. It must never panic (a panic in a decoder is
//! caught and turned into a refusal by the inspector itself), and an accepted file must be
//! consistent with its sniffed format.
#![no_main]

use liasse_inspect::{Format, Limits, inspect_bytes, sniff};
use libfuzzer_sys::fuzz_target;

const ALL: [Format; 4] = [Format::Pdf, Format::Jpeg, Format::Png, Format::Webp];

fuzz_target!(|data: &[u8]| {
    let limits = Limits::default();
    if let Ok(found) = inspect_bytes(data, &ALL, &limits) {
        assert_eq!(
            Some(found.format),
            sniff(data),
            "accepted as another format than sniffed"
        );
        assert_eq!(found.media_type, found.format.media_type());
        match found.format {
            Format::Pdf => assert!(found.pages.is_some() && found.width.is_none()),
            _ => {
                let (w, h) = (found.width.unwrap_or(0), found.height.unwrap_or(0));
                assert!(w > 0 && h > 0, "accepted an image without dimensions");
                assert!(w <= limits.max_width && h <= limits.max_height);
                assert!(u64::from(w) * u64::from(h) <= limits.max_pixels);
            }
        }
        // The allowlist is honoured: the same bytes with their own format forbidden are refused.
        let others: Vec<Format> = ALL.iter().copied().filter(|f| *f != found.format).collect();
        assert!(inspect_bytes(data, &others, &limits).is_err());
    }
});
