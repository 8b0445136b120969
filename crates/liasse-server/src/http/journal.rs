//! The caller's journal.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};

use crate::app::App;
use crate::error::AppError;
use crate::services::auth::Principal;
use crate::services::journal::{self, JournalItem};

pub fn routes() -> Router<App> {
    Router::new().route("/journal", get(list))
}

async fn list(State(app): State<App>, p: Principal) -> Result<Json<Vec<JournalItem>>, AppError> {
    Ok(Json(journal::for_principal(&app, &p).await?))
}
