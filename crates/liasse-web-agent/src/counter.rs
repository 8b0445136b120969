//! Counter mode: find a citizen and deposit a scan for them.

use std::collections::HashMap;

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use serde::Deserialize;

use super::account_name;
use super::citizen::citizen_view;
use liasse_app::app::App;
use liasse_app::deposit::{self, Vault};
use liasse_app::documents::DepositInput;
use liasse_app::error::AppError;
use liasse_app::requests::{self};
use liasse_web::chrome::Chrome;
use liasse_web::{
    FormErrors, PostedMultipart, Session, WebError, render_status, see_other, upload,
};

pub fn routes() -> Router<App> {
    Router::new()
        .route("/agent/guichet", get(counter))
        .route("/agent/usagers/{id}/depot", post(deposit_for))
}

#[derive(Template)]
#[template(path = "agent/counter.html")]
struct CounterPage {
    chrome: Chrome,
    errors: FormErrors,
    login: String,
    recent: Vec<(String, String)>,
}

#[derive(Deserialize)]
struct CounterQuery {
    identifiant: Option<String>,
}

/// Counter mode: find the citizen who stands at the desk by their login.
async fn counter(
    State(app): State<App>,
    s: Session,
    Query(q): Query<CounterQuery>,
) -> Result<Response, WebError> {
    s.staff()?;
    let login = q
        .identifiant
        .as_deref()
        .map(str::trim)
        .unwrap_or_default()
        .to_string();
    let mut errors = FormErrors::none();
    if !login.is_empty() {
        let found = liasse_app::agency::citizen_by_login(&app, &s.p, &login).await?;
        match found {
            Some(a) => return Ok(see_other(&format!("/agent/usagers/{}", a.id))),
            None => {
                errors = FormErrors::from_app(
                    &AppError::invalid(
                        "unknown-citizen",
                        "aucun usager n'a cet identifiant dans votre collectivité",
                    ),
                    "identifiant",
                )
                .1;
            }
        }
    }
    // The citizens of the agent's recent requests, for quick access.
    let mut names = HashMap::new();
    let mut recent = Vec::new();
    for r in requests::list(&app, &s.p).await?.iter().take(50) {
        if recent
            .iter()
            .any(|(id, _): &(String, String)| id == &r.citizen_id)
        {
            continue;
        }
        let n = account_name(&app, &s.p.tenant_id, &r.citizen_id, &mut names).await;
        recent.push((r.citizen_id.clone(), n));
        if recent.len() >= 10 {
            break;
        }
    }
    let status = if errors.any() {
        StatusCode::NOT_FOUND
    } else {
        StatusCode::OK
    };
    render_status(
        status,
        &CounterPage {
            chrome: s.chrome(&app, "Accueil au guichet").await,
            errors,
            login,
            recent,
        },
    )
}

/// Counter mode: a scan of the citizen's document, brought to the desk or sent by post.
async fn deposit_for(
    State(app): State<App>,
    Path(id): Path<String>,
    form: PostedMultipart,
) -> Result<Response, WebError> {
    let PostedMultipart { s, mp } = form;
    s.staff()?;
    let (mut f, read_error) = upload::read(&app, &s.p.tenant_id, mp, None).await;
    let result = async {
        if let Some(e) = read_error {
            return Err(e);
        }
        let file = f.take_file()?;
        let channel = match f.get("channel").as_str() {
            "post" => "post",
            _ => "counter",
        };
        let input = DepositInput {
            type_code: f.get("type"),
            subject: None,
            title: f.opt("title"),
            valid_until: f.opt("valid_until"),
            issued_on: None,
            file_name: f.file_name.clone(),
            metadata: None,
            channel: Some(channel.into()),
            doc_type: f.doc_type.take(),
        };
        if input.type_code.is_empty() {
            return Err(AppError::invalid(
                "unknown-document-type",
                "choisissez le type de pièce",
            ));
        }
        deposit::deposit(&app, &s.p, Vault::Of(&id), input, file).await
    }
    .await;
    match result {
        Ok(_) => Ok(see_other(&format!("/agent/usagers/{id}?ok=depot-guichet"))),
        Err(e) => {
            if matches!(e, AppError::NotFound) {
                return Err(e.into());
            }
            let field = upload::field_of(&e, &f);
            let (status, errors) = FormErrors::from_app(&e, field);
            let page = citizen_view(
                &app,
                &s,
                &id,
                errors,
                (
                    f.get("type"),
                    f.get("channel"),
                    f.get("title"),
                    f.get("valid_until"),
                ),
            )
            .await?;
            render_status(status, &page)
        }
    }
}
