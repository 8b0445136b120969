//! The multipart parser of uploads: arbitrary bytes as a `multipart/form-data` body with a
//! fixed boundary, through axum's `Multipart` extractor (multer underneath), exactly as the
//! upload handlers get it (`http::documents::read_form`), every field drained the way they
//! drain it: text fields up to 16 KiB, the file up to a size limit. Must never panic or hang.
#![no_main]

use axum::body::Body;
use axum::extract::{FromRequest, Multipart};
use axum::http::Request;
use libfuzzer_sys::fuzz_target;

/// `http::documents::MAX_TEXT_FIELD`.
const MAX_TEXT_FIELD: usize = 16 * 1024;
/// A file limit small enough to be reached by fuzzed bodies.
const FILE_LIMIT: usize = 64 * 1024;

fuzz_target!(|data: &[u8]| {
    let Ok(req) = Request::builder()
        .method("POST")
        .uri("/api/v1/documents")
        .header(
            "content-type",
            "multipart/form-data; boundary=LiasseFuzzBoundary",
        )
        .body(Body::from(data.to_vec()))
    else {
        return;
    };
    futures::executor::block_on(async move {
        let Ok(mut mp) = Multipart::from_request(req, &()).await else {
            return;
        };
        let mut fields = 0usize;
        while let Ok(Some(mut field)) = mp.next_field().await {
            fields += 1;
            let name = field.name().unwrap_or_default().to_string();
            let _ = field.file_name().map(str::to_string);
            let _ = field.content_type().map(str::to_string);
            let limit = if name == "file" {
                FILE_LIMIT
            } else {
                MAX_TEXT_FIELD
            };
            let mut len = 0usize;
            let mut text = Vec::new();
            loop {
                match field.chunk().await {
                    Ok(Some(chunk)) => {
                        len += chunk.len();
                        if len > limit {
                            return;
                        }
                        if name != "file" {
                            text.extend_from_slice(&chunk);
                        }
                    }
                    Ok(None) => break,
                    Err(_) => return,
                }
            }
            if name == "metadata" {
                if let Ok(s) = std::str::from_utf8(&text) {
                    let _ = serde_json::from_str::<serde_json::Value>(s);
                }
            }
            assert!(fields <= data.len() + 1, "more fields than bytes");
        }
    });
});
