//! The caller's journal.

use crate::auth::Caller;
use crate::error::ApiError;
use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};

use liasse_app::app::App;
use liasse_app::journal::{self, JournalItem};

pub fn routes() -> Router<App> {
    Router::new().route("/journal", get(list))
}

async fn list(
    State(app): State<App>,
    Caller(p): Caller,
) -> Result<Json<Vec<JournalItem>>, ApiError> {
    Ok(Json(journal::for_principal(&app, &p).await?))
}
