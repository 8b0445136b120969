//! The document-type catalogue over HTTP: everyone of the tenant reads it, admins change it.

use crate::auth::Caller;
use crate::error::ApiError;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use liasse_domain::doctype::DocumentType;

use crate::extract::{Path, coded_body};
use liasse_app::app::App;
use liasse_app::catalogue;
use liasse_app::error::AppError;

pub fn routes() -> Router<App> {
    Router::new().route("/document-types", get(list)).route(
        "/document-types/{code}",
        get(get_one).put(put).post(put).delete(remove),
    )
}

async fn list(
    State(app): State<App>,
    Caller(p): Caller,
) -> Result<Json<Vec<DocumentType>>, ApiError> {
    Ok(Json(catalogue::list(&app, &p.tenant_id).await?))
}

async fn get_one(
    State(app): State<App>,
    Caller(p): Caller,
    Path(code): Path<String>,
) -> Result<Json<DocumentType>, ApiError> {
    match catalogue::get_any(&app, &p.tenant_id, &code).await? {
        Some((t, true)) => Ok(Json(t)),
        _ => Err(AppError::NotFound.into()),
    }
}

async fn put(
    State(app): State<App>,
    Caller(p): Caller,
    Path(code): Path<String>,
    body: axum::body::Bytes,
) -> Result<(StatusCode, Json<DocumentType>), ApiError> {
    let t: DocumentType = coded_body(&body, &code, "invalid-document-type")?;
    let existed = catalogue::put(&app, &p, t.clone()).await?;
    Ok((
        if existed {
            StatusCode::OK
        } else {
            StatusCode::CREATED
        },
        Json(t),
    ))
}

async fn remove(
    State(app): State<App>,
    Caller(p): Caller,
    Path(code): Path<String>,
) -> Result<StatusCode, ApiError> {
    catalogue::remove(&app, &p, &code).await?;
    Ok(StatusCode::NO_CONTENT)
}
