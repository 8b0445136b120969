//! The preview of a procedure's conditions evaluated on sample answers.

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

pub struct PreviewLine {
    pub label: String,
    pub condition: String,
    pub applies: bool,
}

/// What the preview shows: each requirement's condition evaluated on sample answers.
pub struct Preview {
    pub answers: String,
    pub children: String,
    pub members: String,
    pub lines: Vec<PreviewLine>,
    pub error: Option<String>,
    pub test: String,
    pub test_result: Option<String>,
}

#[derive(Deserialize, Default)]
pub(super) struct PreviewQuery {
    reponses: Option<String>,
    enfants: Option<String>,
    membres: Option<String>,
    condition: Option<String>,
}

pub(super) fn evaluate(p: &Procedure, q: &PreviewQuery, labels: &BTreeMap<String, String>) -> Preview {
    let answers_text = q.reponses.clone().unwrap_or_else(|| "{}".into());
    let children = q.enfants.clone().unwrap_or_else(|| "0".into());
    let members = q.membres.clone().unwrap_or_else(|| "0".into());
    let test = q.condition.clone().unwrap_or_default();
    let mut preview = Preview {
        answers: answers_text.clone(),
        children: children.clone(),
        members: members.clone(),
        lines: Vec::new(),
        error: None,
        test: test.clone(),
        test_result: None,
    };
    let answers: serde_json::Value = match serde_json::from_str(&answers_text) {
        Ok(v @ serde_json::Value::Object(_)) => v,
        _ => {
            preview.error = Some("Les réponses d'exemple doivent être un objet JSON, par exemple {\"canteen\": true}.".into());
            return preview;
        }
    };
    let n_children: i64 = children.trim().parse().unwrap_or(0).max(0);
    let n_members: i64 = members.trim().parse().unwrap_or(0).max(0);
    let household = serde_json::json!({ "children": n_children, "members": n_members, "adults": (n_members - n_children).max(0) + 1 });
    preview.lines = p
        .requirements
        .iter()
        .map(|r| PreviewLine {
            label: r.label.clone().unwrap_or_else(|| {
                labels
                    .get(&r.type_code)
                    .cloned()
                    .unwrap_or_else(|| r.type_code.clone())
            }),
            condition: r
                .condition
                .as_ref()
                .map(|c| c.source().to_string())
                .unwrap_or_else(|| "toujours".into()),
            applies: r
                .condition
                .as_ref()
                .is_none_or(|c| c.eval(&answers, &household)),
        })
        .collect();
    if !test.trim().is_empty() {
        preview.test_result = Some(match Condition::parse(&test) {
            Ok(c) => {
                if c.eval(&answers, &household) {
                    "La condition est vraie pour ces réponses : le justificatif serait demandé."
                        .into()
                } else {
                    "La condition est fausse pour ces réponses : le justificatif ne serait pas demandé.".into()
                }
            }
            Err(e) => format!(
                "Condition incorrecte : {} (à la position {}).",
                e.message,
                e.position + 1
            ),
        });
    }
    preview
}
