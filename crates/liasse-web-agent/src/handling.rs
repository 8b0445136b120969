//! What an agent does on a request: lock, unlock, notes, state changes.

use axum::Router;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::post;

use super::request::again;
use liasse_app::app::App;
use liasse_app::requests::{self, NewNote, Transition};
use liasse_web::{Posted, WebError, see_other};

pub fn routes() -> Router<App> {
    Router::new()
        .route("/agent/demandes/{id}/verrou", post(lock))
        .route("/agent/demandes/{id}/deverrou", post(unlock))
        .route("/agent/demandes/{id}/notes", post(note))
        .route("/agent/demandes/{id}/etat", post(transition))
}

async fn lock(
    State(app): State<App>,
    Path(id): Path<String>,
    form: Posted,
) -> Result<Response, WebError> {
    form.s.staff()?;
    match requests::lock(&app, &form.s.p, &id, form.f.checked("break")).await {
        Ok(_) => Ok(see_other(&format!("/agent/demandes/{id}?ok=verrou"))),
        Err(e) => again(&app, &form.s, &id, e, "").await,
    }
}

async fn unlock(
    State(app): State<App>,
    Path(id): Path<String>,
    form: Posted,
) -> Result<Response, WebError> {
    form.s.staff()?;
    match requests::unlock(&app, &form.s.p, &id).await {
        Ok(_) => Ok(see_other(&format!("/agent/demandes/{id}?ok=deverrou"))),
        Err(e) => again(&app, &form.s, &id, e, "").await,
    }
}

async fn note(
    State(app): State<App>,
    Path(id): Path<String>,
    form: Posted,
) -> Result<Response, WebError> {
    let Posted { s, f } = form;
    s.staff()?;
    match requests::add_note(
        &app,
        &s.p,
        &id,
        NewNote {
            body: f.text("body"),
            visible: f.checked("visible"),
        },
    )
    .await
    {
        Ok(_) => Ok(see_other(&format!("/agent/demandes/{id}?ok=note"))),
        Err(e) => again(&app, &s, &id, e, "note-body").await,
    }
}

async fn transition(
    State(app): State<App>,
    Path(id): Path<String>,
    form: Posted,
) -> Result<Response, WebError> {
    let Posted { s, f } = form;
    s.staff()?;
    let t = Transition {
        to: f.text("to"),
        reason: f.opt("reason"),
        requirements: f.all("requirements"),
    };
    match requests::transition(&app, &s.p, &id, t).await {
        Ok(_) => Ok(see_other(&format!("/agent/demandes/{id}?ok=etat"))),
        Err(e) => again(&app, &s, &id, e, "etat").await,
    }
}
