//! The document-type catalogue: the list of types.

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
        .route("/admin/types", get(types))
}

pub struct TypeRow {
    pub code: String,
    pub label: String,
    pub domain: String,
    pub validity: String,
    pub depositors: String,
    pub review: bool,
}

fn validity_fr(v: &Validity) -> String {
    match v {
        Validity::Unlimited => "sans limite".into(),
        Validity::EndOfCalendarYear => "fin de l'année civile".into(),
        Validity::EndOfSchoolYear => "fin de l'année scolaire".into(),
        Validity::PrintedDate => "date imprimée sur le document".into(),
        Validity::Duration(d) => {
            let mut parts = Vec::new();
            if d.years > 0 {
                parts.push(format!(
                    "{} an{}",
                    d.years,
                    if d.years > 1 { "s" } else { "" }
                ));
            }
            if d.months > 0 {
                parts.push(format!("{} mois", d.months));
            }
            if d.days > 0 {
                parts.push(format!(
                    "{} jour{}",
                    d.days,
                    if d.days > 1 { "s" } else { "" }
                ));
            }
            parts.join(" ")
        }
    }
}

fn depositor_fr(d: &liasse_domain::doctype::Depositor) -> &'static str {
    match d {
        liasse_domain::doctype::Depositor::Citizen => "usager",
        liasse_domain::doctype::Depositor::Agent => "agent",
        liasse_domain::doctype::Depositor::Provider => "émetteur certifié",
    }
}

#[derive(Template)]
#[template(path = "admin/types.html")]
struct TypesPage {
    chrome: Chrome,
    rows: Vec<TypeRow>,
}

async fn types(State(app): State<App>, s: Session) -> Result<Response, WebError> {
    s.admin()?;
    let mut list = catalogue::list(&app, &s.p.tenant_id).await?;
    list.sort_by(|a, b| a.label.cmp(&b.label));
    render(&TypesPage {
        chrome: s.chrome(&app, "Types de pièces").await,
        rows: list
            .iter()
            .map(|t| TypeRow {
                code: t.code.clone(),
                label: t.label.clone(),
                domain: fmt::domain_label(&t.domain),
                validity: validity_fr(&t.validity),
                depositors: t
                    .depositors
                    .iter()
                    .map(depositor_fr)
                    .collect::<Vec<_>>()
                    .join(", "),
                review: t.review_required,
            })
            .collect(),
    })
}
