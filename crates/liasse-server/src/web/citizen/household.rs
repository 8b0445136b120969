//! The household: the people whose documents the citizen keeps.

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
        .route("/foyer", get(household).post(add_member))
        .route("/foyer/{id}/retirer", post(remove_member))
}

pub struct MemberItem {
    pub id: String,
    pub name: String,
    pub relation: String,
    pub birth: String,
}

#[derive(Template)]
#[template(path = "citizen/household.html")]
struct HouseholdPage {
    chrome: Chrome,
    errors: FormErrors,
    members: Vec<MemberItem>,
    name: String,
    relation: String,
    birth_date: String,
}

async fn household_view(
    app: &App,
    s: &Session,
    errors: FormErrors,
    values: (String, String, String),
) -> Result<HouseholdPage, WebError> {
    let list = members::list(app, &s.p).await?;
    Ok(HouseholdPage {
        chrome: s.chrome(app, "Mon foyer").await,
        errors,
        members: list
            .into_iter()
            .map(|m| MemberItem {
                id: m.id,
                name: m.name,
                relation: m.relation,
                birth: opt_date_fr(m.birth_date.as_deref()),
            })
            .collect(),
        name: values.0,
        relation: values.1,
        birth_date: values.2,
    })
}

async fn household(State(app): State<App>, s: Session) -> Result<Response, WebError> {
    s.citizen()?;
    let page = household_view(&app, &s, FormErrors::none(), Default::default()).await?;
    render(&page)
}

async fn add_member(State(app): State<App>, form: Posted) -> Result<Response, WebError> {
    let Posted { s, f } = form;
    s.citizen()?;
    let m = members::NewMember {
        name: f.text("name"),
        birth_date: f.opt("birth_date"),
        relation: f.text("relation"),
    };
    match members::add(&app, &s.p, m).await {
        Ok(_) => Ok(see_other("/foyer?ok=membre")),
        Err(e) => {
            let field = match &e {
                AppError::Invalid { code, .. } => match *code {
                    "invalid-name" => "name",
                    "invalid-relation" => "relation",
                    "invalid-date" => "birth_date",
                    _ => "",
                },
                _ => "",
            };
            let (status, errors) = FormErrors::from_app(&e, field);
            let page = household_view(
                &app,
                &s,
                errors,
                (f.text("name"), f.text("relation"), f.text("birth_date")),
            )
            .await?;
            render_status(status, &page)
        }
    }
}

async fn remove_member(
    State(app): State<App>,
    Path(id): Path<String>,
    form: Posted,
) -> Result<Response, WebError> {
    form.s.citizen()?;
    members::remove(&app, &form.s.p, &id).await?;
    Ok(see_other("/foyer?ok=membre-retire"))
}
