//! The letters the services sent to the citizen.

use std::collections::HashMap;

use askama::Template;
use axum::Router;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use futures::TryStreamExt;
use liasse_domain::doctype::{Depositor, DocumentType, Validity};
use serde::Deserialize;

use crate::app::App;
use crate::error::AppError;
use crate::http::documents::content_disposition;
use crate::services::documents::{self, DepositInput, DocumentView, ListFilter};
use crate::services::{agency, catalogue, export, grants, journal, members, requests};
use crate::web::chrome::Chrome;
use crate::web::document_items::{Bucket, DocItem, SOON_DAYS, bucket, is_letter, item, media_label, title_of, validity_text};
use crate::web::type_groups::{TypeGroup, TypeOption, type_groups};
use crate::web::request_history::{HistoryItem, history_text};
use crate::web::Choice;
use crate::services::requests::question_label;
use crate::web::fmt::{self, date_fr, lower_first, opt_date_fr};
use crate::web::{
    FormErrors, Posted, PostedMultipart, Session, WebError, render, render_status, see_other,
    upload,
};

pub fn routes() -> Router<App> {
    Router::new()
        .route("/courriers", get(letters))
}

pub struct LetterItem {
    pub id: String,
    pub title: String,
    pub received: String,
    pub request: Option<String>,
    pub is_pdf: bool,
}

#[derive(Template)]
#[template(path = "citizen/letters.html")]
struct LettersPage {
    chrome: Chrome,
    letters: Vec<LetterItem>,
}

async fn letters(State(app): State<App>, s: Session) -> Result<Response, WebError> {
    s.citizen()?;
    let docs = documents::list(&app, &s.p, &ListFilter::default()).await?;
    let letters = docs
        .iter()
        .filter(|d| is_letter(d))
        .map(|d| LetterItem {
            id: d.id.clone(),
            title: title_of(d),
            received: fmt::rfc_fr(&d.created_at),
            request: d
                .metadata
                .get("request_number")
                .and_then(|v| v.as_str())
                .map(String::from),
            is_pdf: d.media_type == "application/pdf",
        })
        .collect();
    render(&LettersPage {
        chrome: s.chrome(&app, "Mes courriers").await,
        letters,
    })
}
