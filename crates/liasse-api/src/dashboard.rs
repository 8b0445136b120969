//! Agents' dashboard, search and managers' statistics.

use crate::auth::Caller;
use crate::error::ApiError;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;

use crate::extract::Query;
use liasse_app::app::App;
use liasse_app::dashboard::{self, Dashboard, Item, Search};
use liasse_app::error::AppError;

pub fn routes() -> Router<App> {
    Router::new()
        .route("/dashboard", get(show))
        .route("/search/requests", get(search))
        .route("/statistics", get(statistics))
}

async fn show(State(app): State<App>, Caller(p): Caller) -> Result<Json<Dashboard>, ApiError> {
    Ok(Json(dashboard::dashboard(&app, &p).await?))
}

async fn search(
    State(app): State<App>,
    Caller(p): Caller,
    Query(s): Query<Search>,
) -> Result<Json<Vec<Item>>, ApiError> {
    Ok(Json(dashboard::search(&app, &p, &s).await?))
}

#[derive(Deserialize)]
struct Format {
    format: Option<String>,
}

async fn statistics(
    State(app): State<App>,
    Caller(p): Caller,
    Query(f): Query<Format>,
) -> Result<Response, ApiError> {
    let csv = match f.format.as_deref() {
        None | Some("json") => false,
        Some("csv") => true,
        Some(_) => {
            return Err(AppError::invalid(
                "invalid-format",
                "le format demandé doit être json ou csv",
            )
            .into());
        }
    };
    let rows = dashboard::statistics(&app, &p).await?;
    if csv {
        return Ok((
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
                (
                    header::CONTENT_DISPOSITION,
                    "attachment; filename=\"statistiques.csv\"",
                ),
            ],
            dashboard::statistics_csv(&rows),
        )
            .into_response());
    }
    Ok(Json(rows).into_response())
}
