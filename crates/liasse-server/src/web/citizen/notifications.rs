//! The citizen's notifications and their reading.

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
        .route("/notifications", get(notifications))
        .route("/notifications/{id}/lu", post(mark_read))
}

pub struct NotificationItem {
    pub id: String,
    pub title: String,
    pub body: String,
    pub at: String,
    pub unread: bool,
    pub href: Option<String>,
}

#[derive(Template)]
#[template(path = "citizen/notifications.html")]
struct NotificationsPage {
    chrome: Chrome,
    items: Vec<NotificationItem>,
}

async fn notifications(State(app): State<App>, s: Session) -> Result<Response, WebError> {
    s.citizen()?;
    let n = agency::notifications(&app, &s.p).await?;
    let items = n
        .items
        .into_iter()
        .map(|x| NotificationItem {
            href: x.object_id.as_ref().and_then(|id| {
                if x.kind.starts_with("document.") {
                    Some(format!("/documents/{id}"))
                } else if x.kind.starts_with("request.state.") {
                    Some(format!("/demandes/{id}"))
                } else {
                    None
                }
            }),
            id: x.id,
            title: x.title,
            body: x.body,
            at: fmt::datetime_fr(x.created_at),
            unread: x.read_at.is_none(),
        })
        .collect();
    render(&NotificationsPage {
        chrome: s.chrome(&app, "Notifications").await,
        items,
    })
}

async fn mark_read(
    State(app): State<App>,
    Path(id): Path<String>,
    form: Posted,
) -> Result<Response, WebError> {
    agency::mark_read(&app, &form.s.p, &id).await?;
    Ok(see_other("/notifications?ok=lu"))
}
