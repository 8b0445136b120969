//! Tenant administration pages: the document-type catalogue, procedures with their
//! requirements and the condition editor with a preview, agents and their rights, branding and
//! settings. Admins never see a document's content.

pub mod account;
pub mod agents;
pub mod appearance;
pub mod identity;
pub mod procedure_form;
pub mod procedure_preview;
pub mod procedures;
pub mod services;
pub mod type_form;
pub mod types;

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;

use liasse_app::app::App;
use liasse_app::{admin, catalogue, requests};
use liasse_web::chrome::Chrome;
use liasse_web::{Session, WebError, render};

pub fn routes() -> Router<App> {
    Router::new()
        .route("/admin", get(home))
        .merge(account::routes())
        .merge(agents::routes())
        .merge(appearance::routes())
        .merge(identity::routes())
        .merge(procedure_form::routes())
        .merge(procedures::routes())
        .merge(services::routes())
        .merge(type_form::routes())
        .merge(types::routes())
}

#[derive(Template)]
#[template(path = "admin/home.html")]
struct HomePage {
    chrome: Chrome,
    types: usize,
    procedures: usize,
    staff: usize,
}

async fn home(State(app): State<App>, s: Session) -> Result<Response, WebError> {
    s.admin()?;
    render(&HomePage {
        chrome: s.chrome(&app, "Administration").await,
        types: catalogue::list(&app, &s.p.tenant_id).await?.len(),
        procedures: requests::list_procedures(&app, &s.p).await?.len(),
        staff: admin::staff(&app, &s.p).await?.len(),
    })
}
