//! The service's statistics, as a page and as CSV.

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
        .route("/agent/statistiques", get(statistics))
        .route("/agent/statistiques.csv", get(statistics_csv))
}

pub struct StatLine {
    pub procedure: String,
    pub state: &'static str,
    pub count: usize,
}

#[derive(Template)]
#[template(path = "agent/statistics.html")]
struct StatisticsPage {
    chrome: Chrome,
    lines: Vec<StatLine>,
    total: usize,
}

/// Managers: requests per procedure and state in their domains (`services::dashboard`).
async fn statistics(State(app): State<App>, s: Session) -> Result<Response, WebError> {
    s.require(&[liasse_domain::policy::Role::Manager])?;
    let rows = dashboard::statistics(&app, &s.p).await?;
    let titles: HashMap<String, String> = requests::list_procedures(&app, &s.p)
        .await?
        .into_iter()
        .map(|p| (p.code, p.title))
        .collect();
    let lines: Vec<StatLine> = rows
        .iter()
        .map(|r| StatLine {
            procedure: titles
                .get(&r.procedure)
                .cloned()
                .unwrap_or_else(|| r.procedure.clone()),
            state: fmt::request_state(&r.state),
            count: r.count,
        })
        .collect();
    let total = lines.iter().map(|l| l.count).sum();
    render(&StatisticsPage {
        chrome: s.chrome(&app, "Statistiques").await,
        lines,
        total,
    })
}

async fn statistics_csv(State(app): State<App>, s: Session) -> Result<Response, WebError> {
    s.require(&[liasse_domain::policy::Role::Manager])?;
    let rows = dashboard::statistics(&app, &s.p).await?;
    let mut resp = axum::response::IntoResponse::into_response(dashboard::statistics_csv(&rows));
    let h = resp.headers_mut();
    h.insert(
        axum::http::header::CONTENT_TYPE,
        axum::http::HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    h.insert(
        axum::http::header::CONTENT_DISPOSITION,
        axum::http::HeaderValue::from_static("attachment; filename=\"statistiques.csv\""),
    );
    Ok(resp)
}
