//! The citizen's export over HTTP: one ZIP of the whole vault.

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::app::App;
use crate::error::AppError;
use crate::http::documents::content_disposition;
use crate::http::problem::problem;
use crate::services::auth::Principal;
use crate::services::export::{self, Download, Via};

pub fn routes() -> Router<App> {
    Router::new().route("/export", get(download))
}

/// The archive is streamed as it is written (see services::export): no length is known in
/// advance, and a failure midway ends the body in an error instead of a truncated archive.
async fn download(State(app): State<App>, p: Principal) -> Result<Response, AppError> {
    let export = match export::download(&app, &p, Via::Api).await {
        Ok(export) => export,
        Err(AppError::Conflict(m)) if m == export::EXPORT_BUSY => {
            return Ok(problem(
                StatusCode::CONFLICT,
                "export-in-progress",
                "Export déjà en cours",
                m,
            ));
        }
        Err(e) => return Err(e),
    };
    Ok(zip_response(export))
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
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    h.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    resp
}
