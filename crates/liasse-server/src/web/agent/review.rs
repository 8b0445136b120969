//! The review of an attached document: accepted or refused, with a reason.

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
        .route("/agent/documents/{id}/examen", post(review))
}

async fn review(
    State(app): State<App>,
    Path(doc): Path<String>,
    form: Posted,
) -> Result<Response, WebError> {
    let Posted { s, f } = form;
    s.staff()?;
    let back = f.opt("demande").filter(|id| is_valid_id(id));
    let input = ReviewInput {
        decision: f.text("decision"),
        reason: f.opt("reason"),
        valid_until: f.opt("valid_until"),
    };
    match agency::review(&app, &s.p, &doc, input).await {
        Ok(_) => Ok(see_other(&match &back {
            Some(r) => format!("/agent/demandes/{r}?ok=examen"),
            None => "/agent?ok=examen".to_string(),
        })),
        Err(e) => {
            let field = match &e {
                AppError::Invalid {
                    code: "reason-required",
                    ..
                } => format!("reason-{doc}"),
                AppError::Invalid {
                    code: "invalid-date",
                    ..
                } => format!("valid-{doc}"),
                AppError::Invalid {
                    code: "invalid-decision",
                    ..
                } => format!("decision-{doc}"),
                _ => String::new(),
            };
            match back {
                Some(r) => again(&app, &s, &r, e, &field).await,
                None => Err(e.into()),
            }
        }
    }
}
