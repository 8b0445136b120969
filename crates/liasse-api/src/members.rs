//! Household members over HTTP.

use crate::auth::Caller;
use crate::error::ApiError;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{delete, get};
use axum::{Json, Router};
use liasse_store::members::MemberRow;

use crate::extract::{Path, json_object};
use liasse_app::app::App;
use liasse_app::members::{self, NewMember};

pub fn routes() -> Router<App> {
    Router::new()
        .route("/household-members", get(list).post(add))
        .route("/household-members/{id}", delete(remove))
}

async fn list(State(app): State<App>, Caller(p): Caller) -> Result<Json<Vec<MemberRow>>, ApiError> {
    Ok(Json(members::list(&app, &p).await?))
}

async fn add(
    State(app): State<App>,
    Caller(p): Caller,
    body: axum::body::Bytes,
) -> Result<(StatusCode, Json<MemberRow>), ApiError> {
    let m: NewMember = json_object(&body)?;
    Ok((StatusCode::CREATED, Json(members::add(&app, &p, m).await?)))
}

async fn remove(
    State(app): State<App>,
    Caller(p): Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    members::remove(&app, &p, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
