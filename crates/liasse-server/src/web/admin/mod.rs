//! Tenant administration pages: the document-type catalogue, procedures with their
//! requirements and the condition editor with a preview, agents and their rights, branding and
//! settings. Admins never see a document's content.

pub mod account;
pub mod agents;
pub mod appearance;
pub mod procedure_form;
pub mod procedure_preview;
pub mod procedures;
pub mod services;
pub mod type_form;
pub mod types;

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
        .route("/admin", get(home))
        .merge(account::routes())
        .merge(agents::routes())
        .merge(appearance::routes())
        .merge(procedure_form::routes())
        .merge(procedures::routes())
        .merge(services::routes())
        .merge(type_form::routes())
        .merge(types::routes())
}

#[derive(Template)]
#[template(path = "admin/home.html")]
struct HomePage {
    chrome: Chrome,
    types: usize,
    procedures: usize,
    staff: usize,
}

async fn home(State(app): State<App>, s: Session) -> Result<Response, WebError> {
    s.admin()?;
    render(&HomePage {
        chrome: s.chrome(&app, "Administration").await,
        types: catalogue::list(&app, &s.p.tenant_id).await?.len(),
        procedures: requests::list_procedures(&app, &s.p).await?.len(),
        staff: admin::staff(&app, &s.p).await?.len(),
    })
}
