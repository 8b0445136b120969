//! The export of the whole vault as a ZIP file.

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
        .route("/export", get(export_zip))
}

/// The whole vault as one ZIP (the same streamed export as the API and the command line).
async fn export_zip(State(app): State<App>, s: Session) -> Result<Response, WebError> {
    s.citizen()?;
    let export = export::download(&app, &s.p, export::Via::Api).await?;
    Ok(crate::http::export::zip_response(export))
}
