//! The citizen's documents over HTTP.

use crate::auth::Caller;
use crate::error::ApiError;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;

use crate::extract::{Multipart, Path, Query};
use liasse_app::app::App;
use liasse_app::auth::Principal;
use liasse_app::deposit::{self, Vault};
use liasse_app::documents::{self, CheckReport, DocumentView, ListFilter};
use liasse_app::error::AppError;
use liasse_http::download::{Presentation, content_response};
use liasse_http::upload::{self, UploadForm};

pub fn routes() -> Router<App> {
    Router::new()
        .route("/documents", get(list).post(deposit))
        .route("/documents/count", get(count))
        .route("/documents/{id}", get(get_one).delete(delete))
        .route("/documents/{id}/content", get(content).put(replace))
        .route(
            "/documents/{id}/versions/{version}/content",
            get(version_content),
        )
        .route("/documents/{id}/check", post(check))
}

/// Reads an upload form with at most `max_files` files, answering its first error.
pub(crate) async fn read_form(
    app: &App,
    p: &Principal,
    mp: Multipart,
    known_type: Option<&str>,
    max_files: usize,
) -> Result<UploadForm, AppError> {
    match upload::read(app, &p.tenant_id, mp.0, known_type, max_files).await {
        (form, None) => Ok(form),
        (_, Some(e)) => Err(e),
    }
}

async fn deposit(
    State(app): State<App>,
    Caller(p): Caller,
    mp: Multipart,
) -> Result<(StatusCode, Json<DocumentView>), ApiError> {
    let mut form = read_form(&app, &p, mp, None, 1).await?;
    let input = form.deposit_input()?;
    if input.type_code.is_empty() {
        return Err(AppError::invalid(
            "missing-field",
            "le champ « type » (type de pièce) est obligatoire",
        )
        .into());
    }
    let file = form.take_file()?;
    let view = deposit::deposit(&app, &p, Vault::Own, input, file).await?;
    Ok((StatusCode::CREATED, Json(view)))
}

async fn list(
    State(app): State<App>,
    Caller(p): Caller,
    Query(filter): Query<ListFilter>,
) -> Result<Json<Vec<DocumentView>>, ApiError> {
    Ok(Json(documents::list(&app, &p, &filter).await?))
}

async fn count(
    State(app): State<App>,
    Caller(p): Caller,
    Query(filter): Query<ListFilter>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let n = documents::count(&app, &p, &filter).await?;
    Ok(Json(serde_json::json!({ "count": n })))
}

async fn get_one(
    State(app): State<App>,
    Caller(p): Caller,
    Path(id): Path<String>,
) -> Result<Json<DocumentView>, ApiError> {
    Ok(Json(documents::get(&app, &p, &id).await?))
}

async fn delete(
    State(app): State<App>,
    Caller(p): Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    documents::delete(&app, &p, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn replace(
    State(app): State<App>,
    Caller(p): Caller,
    Path(id): Path<String>,
    mp: Multipart,
) -> Result<Json<DocumentView>, ApiError> {
    let replacement = documents::replacement(&app, &p, &id).await?;
    let read = upload::read_version(
        &app,
        &p.tenant_id,
        replacement.document_id(),
        mp.0,
        replacement.type_code(),
    );
    let mut form = match read.await {
        (form, None) => form,
        (_, Some(e)) => return Err(e.into()),
    };
    let file = form.take_file()?;
    Ok(Json(
        documents::replace(&app, &p, replacement, form.file_name.as_deref(), file).await?,
    ))
}

#[derive(Deserialize)]
struct VersionQuery {
    version: Option<i64>,
}

async fn content(
    State(app): State<App>,
    Caller(p): Caller,
    Path(id): Path<String>,
    Query(q): Query<VersionQuery>,
) -> Result<Response, ApiError> {
    download(&app, &p, &id, q.version).await
}

async fn version_content(
    State(app): State<App>,
    Caller(p): Caller,
    Path((id, version)): Path<(String, i64)>,
) -> Result<Response, ApiError> {
    download(&app, &p, &id, Some(version)).await
}

async fn download(
    app: &App,
    p: &Principal,
    id: &str,
    version: Option<i64>,
) -> Result<Response, ApiError> {
    let c = documents::content(app, p, id, version).await?;
    Ok(content_response(c, Presentation::Attachment))
}

async fn check(
    State(app): State<App>,
    Caller(p): Caller,
    Path(id): Path<String>,
) -> Result<Json<CheckReport>, ApiError> {
    Ok(Json(documents::check(&app, &p, &id).await?))
}
