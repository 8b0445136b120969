//! The citizen's documents over HTTP.

use crate::auth::Caller;
use crate::error::ApiError;
use axum::body::Body;
use axum::extract::State;
use axum::extract::multipart::Field;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use futures::TryStreamExt;
use serde::Deserialize;

use crate::extract::{Multipart, Path, Query};
use liasse_app::app::App;
use liasse_app::auth::Principal;
use liasse_app::catalogue;
use liasse_app::documents::{self, CheckReport, DepositInput, DocumentView, ListFilter};
use liasse_app::error::AppError;
use liasse_app::upload::{Spool, Spooled};
use liasse_http::download::content_disposition;

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

/// Text fields are small; anything longer is refused rather than buffered.
const MAX_TEXT_FIELD: usize = 16 * 1024;

fn bad_multipart(e: impl std::fmt::Display) -> AppError {
    AppError::invalid(
        "invalid-multipart",
        format!("formulaire multipart illisible : {e}"),
    )
}

async fn text_field(mut field: Field<'_>) -> Result<String, AppError> {
    let mut buf = Vec::new();
    while let Some(chunk) = field.chunk().await.map_err(bad_multipart)? {
        buf.extend_from_slice(&chunk);
        if buf.len() > MAX_TEXT_FIELD {
            return Err(AppError::invalid(
                "field-too-long",
                "un champ texte du formulaire est trop long",
            ));
        }
    }
    String::from_utf8(buf)
        .map_err(|_| AppError::invalid("invalid-encoding", "un champ texte n'est pas en UTF-8"))
}

async fn spool_field(app: &App, mut field: Field<'_>, limit: u64) -> Result<Spooled, AppError> {
    let mut spool = Spool::new(&app.spool_dir, limit)?;
    while let Some(chunk) = field.chunk().await.map_err(|e| {
        if e.to_string().contains("limit") {
            AppError::TooLarge { limit }
        } else {
            bad_multipart(e)
        }
    })? {
        spool.write(&chunk).await?;
    }
    spool.finish().await
}

/// Parsed upload form: the text fields and the spooled file.
pub(crate) struct UploadForm {
    pub(crate) input: DepositInput,
    pub(crate) file: Option<Spooled>,
    /// Further `file` fields, when the route accepts several pages.
    pub(crate) more: Vec<Spooled>,
}

pub(crate) async fn read_form(
    app: &App,
    p: &Principal,
    mp: Multipart,
    type_from_path: Option<&str>,
) -> Result<UploadForm, AppError> {
    read_form_pages(app, p, mp, type_from_path, false).await
}

/// Reads an upload form; with `many`, several `file` fields are accepted (scanned pages).
pub(crate) async fn read_form_pages(
    app: &App,
    p: &Principal,
    mut mp: Multipart,
    type_from_path: Option<&str>,
    many: bool,
) -> Result<UploadForm, AppError> {
    let mut input = DepositInput::default();
    let mut file = None;
    let mut more = Vec::new();
    let mut limit = app.config.max_upload_bytes();
    if let Some(t) = type_from_path {
        limit = limit.min(catalogue::get_active(app, &p.tenant_id, t).await?.max_size);
    }
    while let Some(field) = mp.next_field().await.map_err(bad_multipart)? {
        let name = field.name().unwrap_or_default().to_string();
        match name.as_str() {
            "file" => {
                if file.is_some() {
                    if !many {
                        return Err(AppError::invalid(
                            "too-many-files",
                            "un seul fichier par dépôt",
                        ));
                    }
                    more.push(spool_field(app, field, limit).await?);
                    continue;
                }
                input.file_name = field.file_name().map(String::from);
                file = Some(spool_field(app, field, limit).await?);
            }
            "type" => {
                input.type_code = text_field(field).await?;
                // Knowing the type early lets the size check stop the upload as it arrives.
                if file.is_none() && type_from_path.is_none() {
                    limit = limit.min(
                        catalogue::get_active(app, &p.tenant_id, input.type_code.trim())
                            .await?
                            .max_size,
                    );
                }
            }
            "subject" => input.subject = Some(text_field(field).await?),
            "channel" => input.channel = Some(text_field(field).await?),
            "title" => input.title = Some(text_field(field).await?),
            "valid_until" => input.valid_until = Some(text_field(field).await?),
            "issued_on" => input.issued_on = Some(text_field(field).await?),
            "metadata" => {
                let text = text_field(field).await?;
                if !text.trim().is_empty() {
                    input.metadata = Some(serde_json::from_str(&text).map_err(|_| {
                        AppError::invalid(
                            "invalid-metadata",
                            "le champ metadata doit être un objet JSON",
                        )
                    })?);
                }
            }
            _ => {
                // Unknown fields are drained and ignored so that clients can add hints.
                text_field(field).await?;
            }
        }
    }
    Ok(UploadForm { input, file, more })
}

async fn deposit(
    State(app): State<App>,
    Caller(p): Caller,
    mp: Multipart,
) -> Result<(StatusCode, Json<DocumentView>), ApiError> {
    let form = read_form(&app, &p, mp, None).await?;
    if form.input.type_code.trim().is_empty() {
        return Err(AppError::invalid(
            "missing-field",
            "le champ « type » (type de pièce) est obligatoire",
        )
        .into());
    }
    let file = form.file.ok_or_else(|| {
        AppError::invalid(
            "missing-field",
            "le champ « file » (le fichier) est obligatoire",
        )
    })?;
    let view = documents::deposit(&app, &p, form.input, file).await?;
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
    let n = documents::list(&app, &p, &filter).await?.len();
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
    let current = documents::get(&app, &p, &id).await?;
    let form = read_form(&app, &p, mp, Some(&current.type_code))
        .await
        .map_err(|e| match e {
            // A withdrawn type still accepts new versions of existing documents.
            AppError::Invalid {
                code: "unknown-document-type",
                ..
            } => AppError::invalid(
                "document-type-withdrawn",
                "ce type de pièce n'est plus proposé",
            ),
            e => e,
        })?;
    let file = form.file.ok_or_else(|| {
        AppError::invalid(
            "missing-field",
            "le champ « file » (le fichier) est obligatoire",
        )
    })?;
    Ok(Json(
        documents::replace(&app, &p, &id, form.input.file_name.as_deref(), file).await?,
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
    let body = Body::from_stream(c.body.map_err(std::io::Error::other));
    let mut resp = body.into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(&c.media_type)
            .unwrap_or(HeaderValue::from_static("application/octet-stream")),
    );
    h.insert(
        header::CONTENT_LENGTH,
        HeaderValue::from(c.size.max(0) as u64),
    );
    h.insert(
        header::CONTENT_DISPOSITION,
        content_disposition(&c.file_name),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    h.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; sandbox"),
    );
    Ok(resp)
}

async fn check(
    State(app): State<App>,
    Caller(p): Caller,
    Path(id): Path<String>,
) -> Result<Json<CheckReport>, ApiError> {
    Ok(Json(documents::check(&app, &p, &id).await?))
}
