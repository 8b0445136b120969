//! The tenant's services: list, creation, renaming.

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
        .route("/admin/services", get(services).post(create_service))
        .route("/admin/services/{id}", post(rename_service))
}

#[derive(Template)]
#[template(path = "admin/services.html")]
struct ServicesPage {
    chrome: Chrome,
    errors: FormErrors,
    services: Vec<(String, String)>,
    name: String,
}

async fn services_page(
    app: &App,
    s: &Session,
    errors: FormErrors,
    name: String,
    status: StatusCode,
) -> Result<Response, WebError> {
    let services = admin::services(app, &s.p)
        .await?
        .into_iter()
        .map(|sv| (sv.id, sv.name))
        .collect();
    render_status(
        status,
        &ServicesPage {
            chrome: s.chrome(app, "Services").await,
            errors,
            services,
            name,
        },
    )
}

async fn services(State(app): State<App>, s: Session) -> Result<Response, WebError> {
    s.admin()?;
    services_page(&app, &s, FormErrors::none(), String::new(), StatusCode::OK).await
}

async fn create_service(State(app): State<App>, form: Posted) -> Result<Response, WebError> {
    let Posted { s, f } = form;
    s.admin()?;
    let name = f.text("name");
    match admin::create_service(&app, &s.p, &name).await {
        Ok(_) => Ok(see_other("/admin/services?ok=service-cree")),
        Err(e) => {
            let (status, errors) = FormErrors::from_app(&e, "name");
            services_page(&app, &s, errors, name, status).await
        }
    }
}

async fn rename_service(
    State(app): State<App>,
    Path(id): Path<String>,
    form: Posted,
) -> Result<Response, WebError> {
    let Posted { s, f } = form;
    s.admin()?;
    match admin::rename_service(&app, &s.p, &id, &f.text("name")).await {
        Ok(()) => Ok(see_other("/admin/services?ok=service-renomme")),
        Err(AppError::NotFound) => Err(AppError::NotFound.into()),
        Err(e) => {
            let (status, errors) = FormErrors::from_app(&e, "");
            services_page(&app, &s, errors, String::new(), status).await
        }
    }
}
