//! A letter from the service, dropped into the citizen's vault.

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
        .route("/agent/demandes/{id}/courrier", post(letter))
}

async fn letter(
    State(app): State<App>,
    Path(id): Path<String>,
    form: Posted,
) -> Result<Response, WebError> {
    let Posted { s, f } = form;
    s.staff()?;
    let l = NewLetter {
        template: f.text("template"),
        text: f.text("text"),
        subject: f.text("subject"),
    };
    match letters::write(&app, &s.p, &id, l).await {
        Ok(_) => Ok(see_other(&format!("/agent/demandes/{id}?ok=courrier"))),
        Err(e) => again(&app, &s, &id, e, "letter-text").await,
    }
}
