//! Agents' dashboard, search and managers' statistics.

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;

use crate::app::App;
use crate::error::AppError;
use crate::http::extract::Query;
use crate::services::auth::Principal;
use crate::services::dashboard::{self, Dashboard, Item, Search};

pub fn routes() -> Router<App> {
    Router::new()
        .route("/dashboard", get(show))
        .route("/search/requests", get(search))
        .route("/statistics", get(statistics))
}

async fn show(State(app): State<App>, p: Principal) -> Result<Json<Dashboard>, AppError> {
    Ok(Json(dashboard::dashboard(&app, &p).await?))
}

async fn search(
    State(app): State<App>,
    p: Principal,
    Query(s): Query<Search>,
) -> Result<Json<Vec<Item>>, AppError> {
    Ok(Json(dashboard::search(&app, &p, &s).await?))
}

#[derive(Deserialize)]
struct Format {
    format: Option<String>,
}

async fn statistics(
    State(app): State<App>,
    p: Principal,
    Query(f): Query<Format>,
) -> Result<Response, AppError> {
    let csv = match f.format.as_deref() {
        None | Some("json") => false,
        Some("csv") => true,
        Some(_) => {
            return Err(AppError::invalid(
                "invalid-format",
                "le format demandé doit être json ou csv",
            ));
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
