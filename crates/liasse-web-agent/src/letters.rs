//! A letter from the service, dropped into the citizen's vault.

use axum::Router;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::post;

use super::request::again;
use liasse_app::app::App;
use liasse_app::letters::{self, NewLetter};
use liasse_web::{Posted, WebError, see_other};

pub fn routes() -> Router<App> {
    Router::new().route("/agent/demandes/{id}/courrier", post(letter))
}

async fn letter(
    State(app): State<App>,
    Path(id): Path<String>,
    form: Posted,
) -> Result<Response, WebError> {
    let Posted { s, f } = form;
    s.staff()?;
    let l = NewLetter {
        template: f.text("template"),
        text: f.text("text"),
        subject: f.text("subject"),
    };
    match letters::write(&app, &s.p, &id, l).await {
        Ok(_) => Ok(see_other(&format!("/agent/demandes/{id}?ok=courrier"))),
        Err(e) => again(&app, &s, &id, e, "letter-text").await,
    }
}
