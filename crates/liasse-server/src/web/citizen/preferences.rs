//! The citizen's notification preferences.

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
        .route("/preferences", get(preferences).post(save_preferences))
}

pub struct ProviderChoice {
    pub id: String,
    pub name: String,
    pub service: String,
    pub on: bool,
}

#[derive(Template)]
#[template(path = "citizen/preferences.html")]
struct PreferencesPage {
    chrome: Chrome,
    providers: Vec<ProviderChoice>,
}

async fn preferences(State(app): State<App>, s: Session) -> Result<Response, WebError> {
    s.citizen()?;
    let mut providers = Vec::new();
    for p in agency::providers(&app, &s.p).await? {
        let on =
            liasse_store::notifications::has_optin(&app.db, &s.p.tenant_id, &s.p.account_id, &p.id)
                .await
                .map_err(AppError::from)?;
        providers.push(ProviderChoice {
            id: p.id,
            name: p.name,
            service: p.service,
            on,
        });
    }
    render(&PreferencesPage {
        chrome: s.chrome(&app, "Préférences").await,
        providers,
    })
}

async fn save_preferences(State(app): State<App>, form: Posted) -> Result<Response, WebError> {
    let Posted { s, f } = form;
    s.citizen()?;
    let wanted = f.all("providers");
    for p in agency::providers(&app, &s.p).await? {
        let on = wanted.contains(&p.id);
        let was =
            liasse_store::notifications::has_optin(&app.db, &s.p.tenant_id, &s.p.account_id, &p.id)
                .await
                .map_err(AppError::from)?;
        if on != was {
            agency::set_consent(&app, &s.p, &p.id, on).await?;
        }
    }
    Ok(see_other("/preferences?ok=preferences"))
}
