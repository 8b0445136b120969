//! Notification preferences, the caller's e-mails and SMS with their delivery state, and a
//! citizen's request to keep a document beyond its retention.

use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};

use crate::app::App;
use crate::error::AppError;
use crate::http::extract::{Path, json_object};
use crate::services::auth::Principal;
use crate::services::lifecycle::{self, KeepView};
use crate::services::mail::{self, DeliveryView, PrefsInput, PrefsView};

pub fn routes() -> Router<App> {
    Router::new()
        .route("/preferences", get(preferences).put(set_preferences))
        .route("/deliveries", get(deliveries))
        .route("/documents/{id}/keep", post(keep))
}

async fn preferences(State(app): State<App>, p: Principal) -> Result<Json<PrefsView>, AppError> {
    Ok(Json(mail::preferences(&app, &p).await?))
}

async fn set_preferences(
    State(app): State<App>,
    p: Principal,
    body: axum::body::Bytes,
) -> Result<Json<PrefsView>, AppError> {
    let input: PrefsInput = json_object(&body)?;
    Ok(Json(mail::set_preferences(&app, &p, input).await?))
}

async fn deliveries(
    State(app): State<App>,
    p: Principal,
) -> Result<Json<Vec<DeliveryView>>, AppError> {
    Ok(Json(mail::deliveries(&app, &p).await?))
}

async fn keep(
    State(app): State<App>,
    p: Principal,
    Path(id): Path<String>,
) -> Result<Json<KeepView>, AppError> {
    Ok(Json(lifecycle::keep(&app, &p, &id).await?))
}
