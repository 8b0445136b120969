//! One agent's account page: its history, service, address and activation link.

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};

use super::agents::{StaffRow, form_field, service_choices, staff_row};
use liasse_app::app::App;
use liasse_app::error::AppError;
use liasse_app::{admin, enrolment};
use liasse_web::Choice;
use liasse_web::chrome::Chrome;
use liasse_web::{FormErrors, Posted, Session, WebError, render_status, see_other};
use liasse_web::{fmt, roles};

pub fn routes() -> Router<App> {
    Router::new()
        .route("/admin/agents/{id}", get(agent))
        .route("/admin/agents/{id}/service", post(set_service))
        .route("/admin/agents/{id}/adresse", post(set_email))
        .route("/admin/agents/{id}/activation", post(send_link))
}

pub struct HistoryLine {
    pub when: String,
    pub who: String,
    pub what: String,
}

/// An account's history in French, from its journal entries.
fn history_line(e: &liasse_domain::journal::Entry) -> HistoryLine {
    let d = &e.entry.details;
    let text = |k: &str| {
        d.get(k)
            .and_then(|v| v.as_str())
            .unwrap_or_default()
            .to_string()
    };
    let or_none = |s: String| if s.is_empty() { "aucun".to_string() } else { s };
    let what = match e.entry.action.as_str() {
        "account.create" => "Compte créé".to_string(),
        "account.enrolment" => match text("reason").as_str() {
            "create" => "Lien d'activation envoyé au titulaire (création du compte)".to_string(),
            "email" => "Lien d'activation envoyé à la nouvelle adresse".to_string(),
            _ => "Nouveau lien d'activation envoyé ; l'ancien mot de passe ne fonctionne plus"
                .to_string(),
        },
        "account.enrolled" => "Mot de passe choisi par le titulaire du compte".to_string(),
        "account.email" => {
            "Adresse électronique changée ; l'ancien mot de passe ne fonctionne plus".to_string()
        }
        "account.right" => format!(
            "Droit sur « {} » : {} → {}",
            fmt::domain_label(&text("domain")),
            fmt::right_label(&text("from")),
            fmt::right_label(&text("to"))
        ),
        "account.rights" => "Droits enregistrés".to_string(),
        "account.service" => format!(
            "Service : {} → {}",
            or_none(text("from")),
            or_none(text("to"))
        ),
        "account.disable" => "Compte désactivé".to_string(),
        "account.enable" => "Compte réactivé".to_string(),
        other => other.to_string(),
    };
    HistoryLine {
        when: fmt::datetime_fr(e.at),
        who: roles::history_actor(&e.entry.actor.kind, &e.entry.actor.label),
        what,
    }
}

#[derive(Template)]
#[template(path = "admin/agent.html")]
struct AgentPage {
    chrome: Chrome,
    errors: FormErrors,
    a: StaffRow,
    email: String,
    services: Vec<Choice>,
    history: Vec<HistoryLine>,
}

async fn agent_page(
    app: &App,
    s: &Session,
    id: &str,
    errors: FormErrors,
    email: Option<String>,
    status: StatusCode,
) -> Result<Response, WebError> {
    let (m, history) = admin::staff_member(app, &s.p, id).await?;
    let selected = m.service.as_ref().map(|s| s.id.clone()).unwrap_or_default();
    let row = staff_row(&m);
    render_status(
        status,
        &AgentPage {
            chrome: s.chrome(app, &format!("Compte de {}", row.name)).await,
            errors,
            email: email.unwrap_or_else(|| m.account.email.clone().unwrap_or_default()),
            services: service_choices(app, s, &selected).await?,
            history: history.iter().map(history_line).collect(),
            a: row,
        },
    )
}

async fn agent(
    State(app): State<App>,
    Path(id): Path<String>,
    s: Session,
) -> Result<Response, WebError> {
    s.admin()?;
    agent_page(&app, &s, &id, FormErrors::none(), None, StatusCode::OK).await
}

/// An error of one of the account page's forms, shown on that page.
async fn agent_error(
    app: &App,
    s: &Session,
    id: &str,
    e: AppError,
    email: Option<String>,
) -> Result<Response, WebError> {
    if matches!(e, AppError::NotFound | AppError::Forbidden) {
        return Err(e.into());
    }
    let (status, errors) = FormErrors::from_app(&e, form_field(&e));
    agent_page(app, s, id, errors, email, status).await
}

async fn set_service(
    State(app): State<App>,
    Path(id): Path<String>,
    form: Posted,
) -> Result<Response, WebError> {
    let Posted { s, f } = form;
    s.admin()?;
    match admin::set_service(&app, &s.p, &id, Some(f.text("service").as_str())).await {
        Ok(()) => Ok(see_other(&format!("/admin/agents/{id}?ok=service"))),
        Err(e) => agent_error(&app, &s, &id, e, None).await,
    }
}

async fn set_email(
    State(app): State<App>,
    Path(id): Path<String>,
    form: Posted,
) -> Result<Response, WebError> {
    let Posted { s, f } = form;
    s.admin()?;
    let email = f.text("email");
    match enrolment::change_email(&app, &s.p, &id, &email).await {
        Ok(true) => Ok(see_other(&format!("/admin/agents/{id}?ok=adresse"))),
        Ok(false) => Ok(see_other(&format!("/admin/agents/{id}"))),
        Err(e) => agent_error(&app, &s, &id, e, Some(email)).await,
    }
}

async fn send_link(
    State(app): State<App>,
    Path(id): Path<String>,
    form: Posted,
) -> Result<Response, WebError> {
    let Posted { s, .. } = form;
    s.admin()?;
    match enrolment::send_link(&app, &s.p, &id).await {
        Ok(()) => Ok(see_other(&format!("/admin/agents/{id}?ok=lien"))),
        Err(e) => agent_error(&app, &s, &id, e, None).await,
    }
}
