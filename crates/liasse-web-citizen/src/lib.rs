//! The citizen's space: the vault by person and by state, deposit, document page (versions,
//! download, preview, replace, delete with confirmation), letters, household, requests,
//! grants, "who accessed my documents", notifications, export and preferences.

pub mod document;
pub mod draft;
pub mod export;
pub mod household;
pub mod journal;
pub mod letters;
pub mod notifications;
pub mod preferences;
pub mod request;
pub mod requests;
pub mod sharing;
pub mod upload;
pub mod vault;

use axum::Router;

use liasse_app::app::App;

pub fn routes() -> Router<App> {
    Router::new()
        .merge(document::routes())
        .merge(draft::routes())
        .merge(export::routes())
        .merge(household::routes())
        .merge(journal::routes())
        .merge(letters::routes())
        .merge(notifications::routes())
        .merge(preferences::routes())
        .merge(request::routes())
        .merge(requests::routes())
        .merge(sharing::routes())
        .merge(upload::routes())
        .merge(vault::routes())
}
