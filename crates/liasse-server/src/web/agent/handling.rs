//! What an agent does on a request: lock, unlock, notes, state changes.

use std::collections::HashMap;

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use liasse_domain::doctype::Depositor;
use liasse_domain::ids::is_valid_id;
use liasse_domain::policy::Right;
use serde::Deserialize;

use crate::app::App;
use crate::error::AppError;
use crate::services::agency::{self, ReviewInput};
use crate::services::documents::{self, DepositInput};
use crate::services::letters::{self, NewLetter};
use crate::services::requests::{self, NewNote, Transition};
use crate::services::{catalogue, dashboard};
use crate::web::chrome::Chrome;
use super::request::again;
use crate::web::document_items::{Bucket, DocItem, SOON_DAYS, bucket, is_letter, item, media_label, title_of, validity_text};
use crate::web::type_groups::{TypeGroup, TypeOption, type_groups};
use crate::web::request_history::{HistoryItem, history_text};
use crate::web::Choice;
use crate::services::requests::question_label;
use crate::web::fmt;
use crate::web::{
    FormErrors, Posted, PostedMultipart, Session, WebError, render, render_status, see_other,
    upload,
};

pub fn routes() -> Router<App> {
    Router::new()
        .route("/agent/demandes/{id}/verrou", post(lock))
        .route("/agent/demandes/{id}/deverrou", post(unlock))
        .route("/agent/demandes/{id}/notes", post(note))
        .route("/agent/demandes/{id}/etat", post(transition))
}

async fn lock(
    State(app): State<App>,
    Path(id): Path<String>,
    form: Posted,
) -> Result<Response, WebError> {
    form.s.staff()?;
    match requests::lock(&app, &form.s.p, &id, form.f.checked("break")).await {
        Ok(_) => Ok(see_other(&format!("/agent/demandes/{id}?ok=verrou"))),
        Err(e) => again(&app, &form.s, &id, e, "").await,
    }
}

async fn unlock(
    State(app): State<App>,
    Path(id): Path<String>,
    form: Posted,
) -> Result<Response, WebError> {
    form.s.staff()?;
    match requests::unlock(&app, &form.s.p, &id).await {
        Ok(_) => Ok(see_other(&format!("/agent/demandes/{id}?ok=deverrou"))),
        Err(e) => again(&app, &form.s, &id, e, "").await,
    }
}

async fn note(
    State(app): State<App>,
    Path(id): Path<String>,
    form: Posted,
) -> Result<Response, WebError> {
    let Posted { s, f } = form;
    s.staff()?;
    match requests::add_note(
        &app,
        &s.p,
        &id,
        NewNote {
            body: f.text("body"),
            visible: f.checked("visible"),
        },
    )
    .await
    {
        Ok(_) => Ok(see_other(&format!("/agent/demandes/{id}?ok=note"))),
        Err(e) => again(&app, &s, &id, e, "note-body").await,
    }
}

async fn transition(
    State(app): State<App>,
    Path(id): Path<String>,
    form: Posted,
) -> Result<Response, WebError> {
    let Posted { s, f } = form;
    s.staff()?;
    let t = Transition {
        to: f.text("to"),
        reason: f.opt("reason"),
        requirements: f.all("requirements"),
    };
    match requests::transition(&app, &s.p, &id, t).await {
        Ok(_) => Ok(see_other(&format!("/agent/demandes/{id}?ok=etat"))),
        Err(e) => again(&app, &s, &id, e, "etat").await,
    }
}
