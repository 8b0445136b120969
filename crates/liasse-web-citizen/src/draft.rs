//! The citizen completes a draft request: answers, attached pieces, uploads, submission.

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::routing::post;
use liasse_domain::procedure::Procedure;
use serde::Deserialize;

use super::request::{again, view};
use liasse_app::app::App;
use liasse_app::documents::DepositInput;
use liasse_app::requests::{self, DraftUpdate, Transition};
use liasse_web::session::Fields;
use liasse_web::{FormErrors, Posted, PostedMultipart, WebError, render, see_other, upload};

pub fn routes() -> Router<App> {
    Router::new()
        .route("/demandes/{id}/reponses", post(save_answers))
        .route("/demandes/{id}/joindre", post(attach))
        .route("/demandes/{id}/retirer", post(detach))
        .route("/demandes/{id}/deposer", post(upload_for))
        .route("/demandes/{id}/envoyer", post(submit))
}

/// The answers typed in the form, as the procedure's questions expect them.
fn answers_of(f: &Fields, proc_: &Procedure) -> serde_json::Value {
    let mut out = serde_json::Map::new();
    for (name, q) in &proc_.questions {
        let raw = f.text(&format!("q_{name}"));
        if raw.is_empty() {
            continue;
        }
        let value = match q.kind.as_str() {
            "boolean" => serde_json::Value::Bool(raw == "oui"),
            "number" => match raw.replace(',', ".").parse::<f64>() {
                Ok(n) if n.fract() == 0.0 && n.abs() < 1e15 => serde_json::json!(n as i64),
                Ok(n) => serde_json::json!(n),
                Err(_) => serde_json::Value::String(raw),
            },
            _ => serde_json::Value::String(raw),
        };
        out.insert(name.clone(), value);
    }
    serde_json::Value::Object(out)
}

async fn save_answers(
    State(app): State<App>,
    Path(id): Path<String>,
    form: Posted,
) -> Result<Response, WebError> {
    let Posted { s, f } = form;
    s.citizen()?;
    let v = requests::get(&app, &s.p, &id).await?;
    let proc_ = requests::get_procedure(&app, &s.p.tenant_id, &v.procedure).await?;
    let update = DraftUpdate {
        answers: Some(answers_of(&f, &proc_)),
        members: Some(f.all("members")),
    };
    match requests::update_draft(&app, &s.p, &id, update).await {
        Ok(_) => Ok(see_other(&format!("/demandes/{id}?ok=reponses"))),
        Err(e) => again(&app, &s, &id, e, "reponses").await,
    }
}

async fn attach(
    State(app): State<App>,
    Path(id): Path<String>,
    form: Posted,
) -> Result<Response, WebError> {
    let Posted { s, f } = form;
    s.citizen()?;
    let requirement = f.text("requirement");
    match requests::attach(&app, &s.p, &id, &requirement, &f.text("document")).await {
        Ok(_) => Ok(see_other(&format!("/demandes/{id}?ok=joint"))),
        Err(e) => again(&app, &s, &id, e, "").await,
    }
}

async fn detach(
    State(app): State<App>,
    Path(id): Path<String>,
    form: Posted,
) -> Result<Response, WebError> {
    let Posted { s, f } = form;
    s.citizen()?;
    match requests::detach(&app, &s.p, &id, &f.text("requirement")).await {
        Ok(_) => Ok(see_other(&format!("/demandes/{id}?ok=retire"))),
        Err(e) => again(&app, &s, &id, e, "").await,
    }
}

#[derive(Deserialize)]
struct UploadQuery {
    exigence: String,
}

/// A new document for a requirement: it lands in the vault with the requirement's type and
/// person, and is attached (as the API's upload route does).
async fn upload_for(
    State(app): State<App>,
    Path(id): Path<String>,
    Query(q): Query<UploadQuery>,
    form: PostedMultipart,
) -> Result<Response, WebError> {
    let PostedMultipart { s, mp } = form;
    s.citizen()?;
    let (type_code, subject) = requests::requirement_of(&app, &s.p, &id, &q.exigence).await?;
    let (mut f, read_error) = upload::read(&app, &s.p.tenant_id, mp, Some(&type_code)).await;
    let result = async {
        if let Some(e) = read_error {
            return Err(e);
        }
        let file = f.take_file()?;
        let input = DepositInput {
            type_code,
            subject,
            title: f.opt("title"),
            valid_until: f.opt("valid_until"),
            issued_on: f.opt("issued_on"),
            file_name: f.file_name.clone(),
            metadata: None,
            channel: Some("web".into()),
            doc_type: None,
        };
        requests::upload(&app, &s.p, &id, &q.exigence, input, file).await
    }
    .await;
    match result {
        Ok(_) => Ok(see_other(&format!("/demandes/{id}?ok=joint"))),
        Err(e) => {
            let anchor = format!("fichier-exigence-{}", q.exigence.replace(':', "-"));
            again(&app, &s, &id, e, &anchor).await
        }
    }
}

async fn submit(
    State(app): State<App>,
    Path(id): Path<String>,
    form: Posted,
) -> Result<Response, WebError> {
    let Posted { s, .. } = form;
    s.citizen()?;
    match requests::transition(
        &app,
        &s.p,
        &id,
        Transition {
            to: "submitted".into(),
            reason: None,
            requirements: Vec::new(),
        },
    )
    .await
    {
        // The tracking code is shown once: the page is rendered here rather than redirected.
        Ok(v) => {
            let resent = v.tracking_code.is_none();
            let mut page = view(&app, &s, v, FormErrors::none()).await?;
            page.chrome.flash = if resent {
                Some("Votre complément a été envoyé au service.")
            } else {
                liasse_web::flash_message("envoyee")
            };
            render(&page)
        }
        Err(e) => again(&app, &s, &id, e, "").await,
    }
}
