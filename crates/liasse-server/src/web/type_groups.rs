//! The document types a depositor may choose, grouped by domain for a form's list.

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
use crate::web::Choice;
use crate::services::requests::question_label;
use crate::web::fmt::{self, date_fr, lower_first, opt_date_fr};
use crate::web::{
    FormErrors, Posted, PostedMultipart, Session, WebError, render, render_status, see_other,
    upload,
};

pub struct TypeOption {
    pub code: String,
    pub label: String,
    pub selected: bool,
}

pub struct TypeGroup {
    pub label: String,
    pub types: Vec<TypeOption>,
}

/// The catalogue's types a depositor may use, grouped by domain, for a `<select>`.
pub fn type_groups(types: &[DocumentType], who: Depositor, selected: &str) -> Vec<TypeGroup> {
    let mut groups: Vec<TypeGroup> = Vec::new();
    let mut sorted: Vec<&DocumentType> = types
        .iter()
        .filter(|t| t.depositors.contains(&who))
        .collect();
    sorted.sort_by(|a, b| {
        fmt::domain_label(&a.domain)
            .cmp(&fmt::domain_label(&b.domain))
            .then(a.label.cmp(&b.label))
    });
    for t in sorted {
        let label = fmt::domain_label(&t.domain);
        let opt = TypeOption {
            code: t.code.clone(),
            label: t.label.clone(),
            selected: t.code == selected,
        };
        match groups.last_mut() {
            Some(g) if g.label == label => g.types.push(opt),
            _ => groups.push(TypeGroup {
                label,
                types: vec![opt],
            }),
        }
    }
    groups
}
