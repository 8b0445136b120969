//! The citizen's export over HTTP: one ZIP of the whole vault.

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tokio_util::io::ReaderStream;

use crate::app::App;
use crate::error::AppError;
use crate::http::documents::content_disposition;
use crate::services::auth::Principal;
use crate::services::export::{self, Via};

pub fn routes() -> Router<App> {
    Router::new().route("/export", get(download))
}

/// The archive is built and verified in a spool file first (see services::export), then
/// streamed from it; the file disappears when the response is done or dropped.
async fn download(State(app): State<App>, p: Principal) -> Result<Response, AppError> {
    let (file, summary) = export::export_to_spool(&app, &p, Via::Api).await?;
    let file = tokio::fs::File::from_std(file);
    let body = Body::from_stream(ReaderStream::with_capacity(file, 256 * 1024));
    let mut resp = body.into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/zip"),
    );
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(summary.bytes));
    h.insert(
        header::CONTENT_DISPOSITION,
        content_disposition(&summary.file_name),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    h.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    Ok(resp)
}
