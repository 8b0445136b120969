//! The citizen's requests and the start of a new one.

use std::collections::HashMap;

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;

use liasse_app::app::App;
use liasse_app::requests::{self, NewRequest};
use liasse_web::chrome::Chrome;
use liasse_web::fmt::{self};
use liasse_web::{Posted, Session, WebError, render, see_other};

pub fn routes() -> Router<App> {
    Router::new().route("/demandes", get(list).post(start))
}

pub struct RequestItem {
    pub id: String,
    pub number: String,
    pub procedure: String,
    pub state: &'static str,
    pub draft: bool,
    pub created: String,
}

pub struct ProcedureItem {
    pub code: String,
    pub title: String,
    pub description: String,
    pub domain: String,
}

#[derive(Template)]
#[template(path = "citizen/requests.html")]
struct ListPage {
    chrome: Chrome,
    requests: Vec<RequestItem>,
    procedures: Vec<ProcedureItem>,
}

async fn list(State(app): State<App>, s: Session) -> Result<Response, WebError> {
    s.citizen()?;
    let procs = requests::list_procedures(&app, &s.p).await?;
    let titles: HashMap<&str, &str> = procs
        .iter()
        .map(|p| (p.code.as_str(), p.title.as_str()))
        .collect();
    let mut rows = requests::list(&app, &s.p).await?;
    rows.sort_by_key(|r| std::cmp::Reverse(r.created_at));
    let items = rows
        .iter()
        .map(|r| RequestItem {
            id: r.id.clone(),
            number: r.number.clone(),
            procedure: titles
                .get(r.procedure_code.as_str())
                .copied()
                .unwrap_or(&r.procedure_code)
                .to_string(),
            state: fmt::request_state(&r.state),
            draft: r.state == "draft",
            created: fmt::datetime_fr(r.created_at),
        })
        .collect();
    render(&ListPage {
        chrome: s.chrome(&app, "Mes demandes").await,
        requests: items,
        procedures: procs
            .iter()
            .filter(|p| p.open)
            .map(|p| ProcedureItem {
                code: p.code.clone(),
                title: p.title.clone(),
                description: p.description.clone(),
                domain: fmt::domain_label(&p.domain),
            })
            .collect(),
    })
}

async fn start(State(app): State<App>, form: Posted) -> Result<Response, WebError> {
    let Posted { s, f } = form;
    s.citizen()?;
    let v = requests::create(
        &app,
        &s.p,
        NewRequest {
            procedure: f.text("procedure"),
            answers: serde_json::json!({}),
            members: Vec::new(),
        },
    )
    .await?;
    Ok(see_other(&format!("/demandes/{}?ok=demande", v.id)))
}
