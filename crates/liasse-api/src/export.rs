//! The citizen's export over HTTP: one ZIP of the whole vault.

use crate::auth::Caller;
use crate::error::ApiError;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;

use liasse_app::app::App;
use liasse_app::error::AppError;
use liasse_export::{self as export, Via};
use liasse_http::download::zip_response;
use liasse_http::problem::problem;

pub fn routes() -> Router<App> {
    Router::new().route("/export", get(download))
}

/// The archive is streamed as it is written (see services::export): no length is known in
/// advance, and a failure midway ends the body in an error instead of a truncated archive.
async fn download(State(app): State<App>, Caller(p): Caller) -> Result<Response, ApiError> {
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
        Err(e) => return Err(e.into()),
    };
    Ok(zip_response(export))
}
