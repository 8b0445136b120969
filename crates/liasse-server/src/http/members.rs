//! Household members over HTTP.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{delete, get};
use axum::{Json, Router};
use liasse_store::members::MemberRow;

use crate::app::App;
use crate::error::AppError;
use crate::http::extract::{Path, json_object};
use crate::services::auth::Principal;
use crate::services::members::{self, NewMember};

pub fn routes() -> Router<App> {
    Router::new()
        .route("/household-members", get(list).post(add))
        .route("/household-members/{id}", delete(remove))
}

async fn list(State(app): State<App>, p: Principal) -> Result<Json<Vec<MemberRow>>, AppError> {
    Ok(Json(members::list(&app, &p).await?))
}

async fn add(
    State(app): State<App>,
    p: Principal,
    body: axum::body::Bytes,
) -> Result<(StatusCode, Json<MemberRow>), AppError> {
    let m: NewMember = json_object(&body)?;
    Ok((StatusCode::CREATED, Json(members::add(&app, &p, m).await?)))
}

async fn remove(
    State(app): State<App>,
    p: Principal,
    Path(id): Path<String>,
) -> Result<StatusCode, AppError> {
    members::remove(&app, &p, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
