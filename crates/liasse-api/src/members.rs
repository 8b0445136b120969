//! Household members over HTTP.

use crate::auth::Caller;
use crate::error::ApiError;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{delete, get};
use axum::{Json, Router};
use liasse_app::members::MemberRow;
use serde::Serialize;

use crate::extract::{Path, json_object};
use liasse_app::app::App;
use liasse_app::members::{self, NewMember};

pub fn routes() -> Router<App> {
    Router::new()
        .route("/household-members", get(list).post(add))
        .route("/household-members/{id}", delete(remove))
}

/// A household member as the API answers it (the contract; not the stored row).
#[derive(Serialize)]
struct Member {
    id: String,
    name: String,
    birth_date: Option<String>,
    relation: String,
    created_at: i64,
}

impl From<MemberRow> for Member {
    fn from(m: MemberRow) -> Self {
        Member {
            id: m.id,
            name: m.name,
            birth_date: m.birth_date,
            relation: m.relation,
            created_at: m.created_at,
        }
    }
}

async fn list(State(app): State<App>, Caller(p): Caller) -> Result<Json<Vec<Member>>, ApiError> {
    let rows = members::list(&app, &p).await?;
    Ok(Json(rows.into_iter().map(Member::from).collect()))
}

async fn add(
    State(app): State<App>,
    Caller(p): Caller,
    body: axum::body::Bytes,
) -> Result<(StatusCode, Json<Member>), ApiError> {
    let m: NewMember = json_object(&body)?;
    let row = members::add(&app, &p, m).await?;
    Ok((StatusCode::CREATED, Json(row.into())))
}

async fn remove(
    State(app): State<App>,
    Caller(p): Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    members::remove(&app, &p, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
