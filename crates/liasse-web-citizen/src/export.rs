//! The export of the whole vault as a ZIP file.

use axum::Router;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;

use liasse_app::app::App;
use liasse_export as export;
use liasse_web::{Session, WebError};

pub fn routes() -> Router<App> {
    Router::new().route("/export", get(export_zip))
}

/// The whole vault as one ZIP (the same streamed export as the API and the command line).
async fn export_zip(State(app): State<App>, s: Session) -> Result<Response, WebError> {
    s.citizen()?;
    let export = export::download(&app, &s.p, export::Via::Web).await?;
    Ok(liasse_http::download::zip_response(export))
}
