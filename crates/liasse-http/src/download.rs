//! Download responses: the attachment header and the streamed export, shared by the API and
//! the pages.

use axum::body::Body;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use futures::TryStreamExt;
use liasse_app::documents::Content;
use liasse_export::Download;

/// How a document's content is presented.
pub enum Presentation {
    /// A download, with the document's file name.
    Attachment,
    /// Shown in our own pages (`<img>`, `<object>`), framed by them only, under `csp`.
    Inline { csp: &'static str },
}

/// A document's content, streamed as it is decrypted, never cached, never sniffed, and
/// running nothing.
pub fn content_response(c: Content, how: Presentation) -> Response {
    let mut resp = Body::from_stream(c.body.map_err(std::io::Error::other)).into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(&c.media_type)
            .unwrap_or(HeaderValue::from_static("application/octet-stream")),
    );
    h.insert(
        header::CONTENT_LENGTH,
        HeaderValue::from(c.size.max(0) as u64),
    );
    private(h);
    match how {
        Presentation::Attachment => {
            h.insert(
                header::CONTENT_DISPOSITION,
                content_disposition(&c.file_name),
            );
            h.insert(
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static("default-src 'none'; sandbox"),
            );
        }
        Presentation::Inline { csp } => {
            h.insert(
                header::CONTENT_DISPOSITION,
                HeaderValue::from_static("inline"),
            );
            h.insert(
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(csp),
            );
            h.insert(
                header::X_FRAME_OPTIONS,
                HeaderValue::from_static("SAMEORIGIN"),
            );
        }
    }
    resp
}

/// `attachment` with an ASCII fallback and the UTF-8 name (RFC 6266 / 5987).
pub fn content_disposition(name: &str) -> HeaderValue {
    let ascii: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || ".-_ ()".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    let encoded: String = name
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b".-_".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    HeaderValue::from_str(&format!(
        "attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}"
    ))
    .unwrap_or(HeaderValue::from_static("attachment"))
}

/// A streamed export as a download (the API's and the citizen's page).
pub fn zip_response(export: Download) -> Response {
    let mut resp = Body::from_stream(export.body).into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/zip"),
    );
    h.insert(
        header::CONTENT_DISPOSITION,
        content_disposition(&export.file_name),
    );
    private(h);
    resp
}

/// A citizen's content: never kept by a cache, never sniffed into another type.
fn private(h: &mut axum::http::HeaderMap) {
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    h.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
}
