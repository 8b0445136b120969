//! Agents' and service clients' routes: a citizen's documents as a basis allows, reviews,
//! deposits into a citizen's vault; grants, notifications and provider consent for citizens.

use crate::auth::Caller;
use crate::error::ApiError;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{delete, get, post, put};
use axum::{Json, Router};

use crate::documents::read_form;
use crate::extract::{Multipart, Path, Query, json_object};
use liasse_app::agency::{self, AgentDocumentView, Notifications, Provider, ReviewInput};
use liasse_app::app::App;
use liasse_app::deposit::{self, MAX_PAGES, Vault};
use liasse_app::documents::DocumentView;
use liasse_app::grants::{self, GrantView, NewGrant};

pub fn routes() -> Router<App> {
    Router::new()
        .route(
            "/citizens/{id}/documents",
            get(citizen_documents).post(deposit_for),
        )
        .route("/documents/{id}/review", post(review))
        .route("/documents/{id}/uses", post(record_use))
        .route("/grants", get(list_grants).post(create_grant))
        .route("/grants/{id}", delete(revoke_grant))
        .route("/notifications", get(notifications))
        .route("/notifications/{id}/read", post(mark_read))
        .route("/providers", get(providers))
        .route(
            "/providers/{id}/consent",
            put(consent).delete(withdraw_consent),
        )
}

#[derive(serde::Deserialize)]
struct TypeFilter {
    #[serde(rename = "type")]
    type_code: Option<String>,
}

async fn citizen_documents(
    State(app): State<App>,
    Caller(p): Caller,
    Path(id): Path<String>,
    Query(f): Query<TypeFilter>,
) -> Result<Json<Vec<AgentDocumentView>>, ApiError> {
    let mut docs = agency::citizen_documents(&app, &p, &id).await?;
    if let Some(t) = f.type_code.filter(|t| !t.is_empty()) {
        docs.retain(|d| d.document.type_code == t);
    }
    Ok(Json(docs))
}

async fn deposit_for(
    State(app): State<App>,
    Caller(p): Caller,
    Path(id): Path<String>,
    mp: Multipart,
) -> Result<(StatusCode, Json<DocumentView>), ApiError> {
    // Several scanned pages become one PDF document.
    let mut form = read_form(&app, &p, mp, None, MAX_PAGES).await?;
    let input = form.deposit_input()?;
    let first = form.take_file()?;
    let mut pages = vec![first];
    pages.extend(form.files.drain(..).map(|f| f.spooled));
    Ok((
        StatusCode::CREATED,
        Json(deposit::deposit_pages(&app, &p, Vault::Of(&id), input, pages).await?),
    ))
}

async fn review(
    State(app): State<App>,
    Caller(p): Caller,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Result<Json<DocumentView>, ApiError> {
    let input: ReviewInput = json_object(&body)?;
    Ok(Json(agency::review(&app, &p, &id, input).await?))
}

async fn list_grants(
    State(app): State<App>,
    Caller(p): Caller,
) -> Result<Json<Vec<GrantView>>, ApiError> {
    Ok(Json(grants::list(&app, &p).await?))
}

async fn create_grant(
    State(app): State<App>,
    Caller(p): Caller,
    body: axum::body::Bytes,
) -> Result<(StatusCode, Json<GrantView>), ApiError> {
    let g: NewGrant = json_object(&body)?;
    Ok((
        StatusCode::CREATED,
        Json(grants::create(&app, &p, g).await?),
    ))
}

async fn revoke_grant(
    State(app): State<App>,
    Caller(p): Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    grants::revoke(&app, &p, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn notifications(
    State(app): State<App>,
    Caller(p): Caller,
) -> Result<Json<Notifications>, ApiError> {
    Ok(Json(agency::notifications(&app, &p).await?))
}

async fn mark_read(
    State(app): State<App>,
    Caller(p): Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    agency::mark_read(&app, &p, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn providers(
    State(app): State<App>,
    Caller(p): Caller,
) -> Result<Json<Vec<Provider>>, ApiError> {
    Ok(Json(agency::providers(&app, &p).await?))
}

async fn consent(
    State(app): State<App>,
    Caller(p): Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    agency::set_consent(&app, &p, &id, true).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn withdraw_consent(
    State(app): State<App>,
    Caller(p): Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    agency::set_consent(&app, &p, &id, false).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn record_use(
    State(app): State<App>,
    Caller(p): Caller,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Result<StatusCode, ApiError> {
    agency::record_use(&app, &p, &id, &body).await?;
    Ok(StatusCode::NO_CONTENT)
}
