//! The letters the services sent to the citizen.

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;

use liasse_app::app::App;
use liasse_app::documents::{self, ListFilter};
use liasse_web::chrome::Chrome;
use liasse_web::document_items::{is_letter, title_of};
use liasse_web::fmt::{self};
use liasse_web::{Session, WebError, render};

pub fn routes() -> Router<App> {
    Router::new().route("/courriers", get(letters))
}

pub struct LetterItem {
    pub id: String,
    pub title: String,
    pub received: String,
    pub request: Option<String>,
    pub is_pdf: bool,
}

#[derive(Template)]
#[template(path = "citizen/letters.html")]
struct LettersPage {
    chrome: Chrome,
    letters: Vec<LetterItem>,
}

async fn letters(State(app): State<App>, s: Session) -> Result<Response, WebError> {
    s.citizen()?;
    let docs = documents::list(&app, &s.p, &ListFilter::default()).await?;
    let letters = docs
        .iter()
        .filter(|d| is_letter(d))
        .map(|d| LetterItem {
            id: d.id.clone(),
            title: title_of(d),
            received: fmt::rfc_fr(&d.created_at),
            request: d
                .metadata
                .get("request_number")
                .and_then(|v| v.as_str())
                .map(String::from),
            is_pdf: d.media_type == "application/pdf",
        })
        .collect();
    render(&LettersPage {
        chrome: s.chrome(&app, "Mes courriers").await,
        letters,
    })
}
