//! The review of an attached document: accepted or refused, with a reason.

use axum::Router;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::post;
use liasse_domain::ids::is_valid_id;

use super::request::again;
use liasse_app::agency::{self, ReviewInput};
use liasse_app::app::App;
use liasse_app::error::AppError;
use liasse_web::{Posted, WebError, see_other};

pub fn routes() -> Router<App> {
    Router::new().route("/agent/documents/{id}/examen", post(review))
}

async fn review(
    State(app): State<App>,
    Path(doc): Path<String>,
    form: Posted,
) -> Result<Response, WebError> {
    let Posted { s, f } = form;
    s.staff()?;
    let back = f.opt("demande").filter(|id| is_valid_id(id));
    let input = ReviewInput {
        decision: f.text("decision"),
        reason: f.opt("reason"),
        valid_until: f.opt("valid_until"),
    };
    match agency::review(&app, &s.p, &doc, input).await {
        Ok(_) => Ok(see_other(&match &back {
            Some(r) => format!("/agent/demandes/{r}?ok=examen"),
            None => "/agent?ok=examen".to_string(),
        })),
        Err(e) => {
            let field = match &e {
                AppError::Invalid {
                    code: "reason-required",
                    ..
                } => format!("reason-{doc}"),
                AppError::Invalid {
                    code: "invalid-date",
                    ..
                } => format!("valid-{doc}"),
                AppError::Invalid {
                    code: "invalid-decision",
                    ..
                } => format!("decision-{doc}"),
                _ => String::new(),
            };
            match back {
                Some(r) => again(&app, &s, &r, e, &field).await,
                None => Err(e.into()),
            }
        }
    }
}
