//! A request's history in French, as the citizen and the agent read it.

use std::collections::HashMap;

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use liasse_domain::procedure::Procedure;
use serde::Deserialize;

use crate::app::App;
use crate::error::AppError;
use crate::services::documents::{self, DepositInput, ListFilter};
use crate::services::members;
use crate::services::requests::{self, DraftUpdate, NewRequest, RequestView, Transition};
use crate::web::chrome::Chrome;
use crate::web::Choice;
use crate::services::requests::question_label;
use crate::web::fmt::{self, date_fr};
use crate::web::session::Fields;
use crate::web::{
    FormErrors, Posted, PostedMultipart, Session, WebError, render, render_status, see_other,
    upload,
};

pub struct HistoryItem {
    pub at: String,
    pub text: String,
}

pub fn history_text(event: &str, details: &serde_json::Value) -> String {
    match event {
        "created" => "Demande créée".into(),
        "draft.saved" => "Réponses enregistrées".into(),
        "attached" => "Pièce jointe".into(),
        "detached" => "Pièce retirée".into(),
        "lock.taken" => "Prise en main par un agent".into(),
        "lock.released" => "Libérée par l'agent".into(),
        "lock.broken" => "Verrou repris par un responsable".into(),
        "note" => "Note ajoutée".into(),
        e if e.starts_with("state.") => {
            let mut t = format!("État : {}", fmt::request_state(&e[6..]));
            if let Some(r) = details
                .get("reason")
                .and_then(|v| v.as_str())
                .filter(|r| !r.is_empty())
            {
                t.push_str(&format!(" (motif : {r})"));
            }
            t
        }
        other => other.to_string(),
    }
}
