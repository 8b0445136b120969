//! The list of procedures.

use std::collections::BTreeMap;

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use liasse_domain::condition::Condition;
use liasse_domain::doctype::{DocumentType, Validity};
use liasse_domain::policy::Role;
use liasse_domain::procedure::{For, Procedure};
use serde::Deserialize;

use crate::app::App;
use crate::error::AppError;
use crate::services::{admin, catalogue, enrolment, requests};
use crate::web::chrome::Chrome;
use crate::web::document_items::{Bucket, DocItem, SOON_DAYS, bucket, is_letter, item, media_label, title_of, validity_text};
use crate::web::type_groups::{TypeGroup, TypeOption, type_groups};
use crate::web::request_history::{HistoryItem, history_text};
use crate::web::Choice;
use crate::services::requests::question_label;
use crate::web::fmt;
use crate::web::session::Fields;
use crate::web::theme::Brand;
use crate::web::{
    FormErrors, Posted, PostedMultipart, Session, WebError, render, render_status, see_other,
};

pub fn routes() -> Router<App> {
    Router::new()
        .route("/admin/demarches", get(procedures))
}

pub struct ProcedureRow {
    pub code: String,
    pub title: String,
    pub domain: String,
    pub requirements: usize,
    pub open: bool,
}

#[derive(Template)]
#[template(path = "admin/procedures.html")]
struct ProceduresPage {
    chrome: Chrome,
    rows: Vec<ProcedureRow>,
}

async fn procedures(State(app): State<App>, s: Session) -> Result<Response, WebError> {
    s.admin()?;
    let list = requests::list_procedures(&app, &s.p).await?;
    render(&ProceduresPage {
        chrome: s.chrome(&app, "Démarches").await,
        rows: list
            .iter()
            .map(|p| ProcedureRow {
                code: p.code.clone(),
                title: p.title.clone(),
                domain: fmt::domain_label(&p.domain),
                requirements: p.requirements.len(),
                open: p.open,
            })
            .collect(),
    })
}
