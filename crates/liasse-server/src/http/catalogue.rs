//! The document-type catalogue over HTTP: everyone of the tenant reads it, admins change it.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use liasse_domain::doctype::DocumentType;

use crate::app::App;
use crate::error::AppError;
use crate::http::extract::{Path, json_object};
use crate::services::auth::Principal;
use crate::services::catalogue;

pub fn routes() -> Router<App> {
    Router::new().route("/document-types", get(list)).route(
        "/document-types/{code}",
        get(get_one).put(put).post(put).delete(remove),
    )
}

async fn list(State(app): State<App>, p: Principal) -> Result<Json<Vec<DocumentType>>, AppError> {
    Ok(Json(catalogue::list(&app, &p.tenant_id).await?))
}

async fn get_one(
    State(app): State<App>,
    p: Principal,
    Path(code): Path<String>,
) -> Result<Json<DocumentType>, AppError> {
    match catalogue::get_any(&app, &p.tenant_id, &code).await? {
        Some((t, true)) => Ok(Json(t)),
        _ => Err(AppError::NotFound),
    }
}

async fn put(
    State(app): State<App>,
    p: Principal,
    Path(code): Path<String>,
    body: axum::body::Bytes,
) -> Result<(StatusCode, Json<DocumentType>), AppError> {
    catalogue::require_admin(&p)?;
    let mut value: serde_json::Value = json_object(&body)?;
    if let Some(obj) = value.as_object_mut() {
        match obj.get("code") {
            Some(c) if c.as_str() != Some(code.as_str()) => {
                return Err(AppError::invalid(
                    "code-mismatch",
                    "le code du corps diffère de celui de l'adresse",
                ));
            }
            _ => {
                obj.insert("code".into(), serde_json::Value::String(code.clone()));
            }
        }
    }
    let t: DocumentType = serde_json::from_value(value).map_err(|e| {
        AppError::invalid(
            "invalid-document-type",
            format!("définition invalide : {e}"),
        )
    })?;
    let existed = catalogue::put(&app, &p.tenant_id, p.actor(), t.clone()).await?;
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
    p: Principal,
    Path(code): Path<String>,
) -> Result<StatusCode, AppError> {
    catalogue::require_admin(&p)?;
    catalogue::remove(&app, &p.tenant_id, p.actor(), &code).await?;
    Ok(StatusCode::NO_CONTENT)
}
