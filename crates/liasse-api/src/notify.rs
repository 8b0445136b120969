//! Notification preferences, the caller's e-mails and SMS with their delivery state, and a
//! citizen's request to keep a document beyond its retention.

use crate::auth::Caller;
use crate::error::ApiError;
use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};

use crate::extract::{Path, json_object};
use liasse_app::app::App;
use liasse_app::documents::{self, KeepView};
use liasse_app::mail::{self, DeliveryView, PrefsInput, PrefsView};

pub fn routes() -> Router<App> {
    Router::new()
        .route("/preferences", get(preferences).put(set_preferences))
        .route("/deliveries", get(deliveries))
        .route("/documents/{id}/keep", post(keep))
}

async fn preferences(
    State(app): State<App>,
    Caller(p): Caller,
) -> Result<Json<PrefsView>, ApiError> {
    Ok(Json(mail::preferences(&app, &p).await?))
}

async fn set_preferences(
    State(app): State<App>,
    Caller(p): Caller,
    body: axum::body::Bytes,
) -> Result<Json<PrefsView>, ApiError> {
    let input: PrefsInput = json_object(&body)?;
    Ok(Json(mail::set_preferences(&app, &p, input).await?))
}

async fn deliveries(
    State(app): State<App>,
    Caller(p): Caller,
) -> Result<Json<Vec<DeliveryView>>, ApiError> {
    Ok(Json(mail::deliveries(&app, &p).await?))
}

async fn keep(
    State(app): State<App>,
    Caller(p): Caller,
    Path(id): Path<String>,
) -> Result<Json<KeepView>, ApiError> {
    Ok(Json(documents::keep(&app, &p, &id).await?))
}
