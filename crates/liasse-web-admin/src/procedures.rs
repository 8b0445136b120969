//! The list of procedures.

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;

use liasse_app::app::App;
use liasse_app::requests;
use liasse_web::chrome::Chrome;
use liasse_web::fmt;
use liasse_web::{Session, WebError, render};

pub fn routes() -> Router<App> {
    Router::new().route("/admin/demarches", get(procedures))
}

pub struct ProcedureRow {
    pub code: String,
    pub title: String,
    pub domain: String,
    pub requirements: usize,
    pub open: bool,
}

#[derive(Template)]
#[template(path = "admin/procedures.html")]
struct ProceduresPage {
    chrome: Chrome,
    rows: Vec<ProcedureRow>,
}

async fn procedures(State(app): State<App>, s: Session) -> Result<Response, WebError> {
    s.admin()?;
    let list = requests::list_procedures(&app, &s.p).await?;
    render(&ProceduresPage {
        chrome: s.chrome(&app, "Démarches").await,
        rows: list
            .iter()
            .map(|p| ProcedureRow {
                code: p.code.clone(),
                title: p.title.clone(),
                domain: fmt::domain_label(&p.domain),
                requirements: p.requirements.len(),
                open: p.open,
            })
            .collect(),
    })
}
