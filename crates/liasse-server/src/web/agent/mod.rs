//! The agents' back office: dashboard (new, mine, late, urgent), search, the request page with
//! the data and the attached documents previewed side by side, review, lock, notes, letters,
//! transitions; and counter mode (deposit a scan for a citizen).

pub mod citizen;
pub mod counter;
pub mod dashboard;
pub mod handling;
pub mod letters;
pub mod request;
pub mod review;
pub mod statistics;

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
use crate::services::requests::{self, NewNote, Transition};
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
        .merge(citizen::routes())
        .merge(counter::routes())
        .merge(dashboard::routes())
        .merge(handling::routes())
        .merge(letters::routes())
        .merge(request::routes())
        .merge(review::routes())
        .merge(statistics::routes())
}

/// The display name of an account, looked up once per page.
pub(super) async fn account_name(
    app: &App,
    tenant_id: &str,
    id: &str,
    cache: &mut HashMap<String, String>,
) -> String {
    if let Some(n) = cache.get(id) {
        return n.clone();
    }
    let name = liasse_store::accounts::by_id(&app.db, tenant_id, id)
        .await
        .ok()
        .flatten()
        .map(|a| a.display_name)
        .unwrap_or_else(|| "compte inconnu".into());
    cache.insert(id.to_string(), name.clone());
    name
}
