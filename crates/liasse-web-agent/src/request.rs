//! A request as the agent sees it: data and attached documents side by side.

use std::collections::HashMap;

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use liasse_domain::policy::Access;

use super::account_name;
use liasse_app::app::App;
use liasse_app::documents::{self};
use liasse_app::error::AppError;
use liasse_app::requests::question_label;
use liasse_app::requests::{self};
use liasse_web::chrome::Chrome;
use liasse_web::document_items::{DocItem, item, media_label};
use liasse_web::fmt;
use liasse_web::request_history::{HistoryItem, history_text};
use liasse_web::{FormErrors, Session, WebError, render, render_status};

pub fn routes() -> Router<App> {
    Router::new().route("/agent/demandes/{id}", get(request_page))
}

pub struct AttachedDoc {
    pub requirement: String,
    pub d: DocItem,
    pub version: i64,
    pub is_image: bool,
    pub is_pdf: bool,
    pub media: &'static str,
    pub valid_until: String,
    pub reviewable: bool,
}

pub struct ReqLine {
    pub id: String,
    pub label: String,
    pub person: String,
    pub mandatory: bool,
    pub status: &'static str,
    pub badge: &'static str,
}

pub struct Answer {
    pub question: String,
    pub value: String,
}

pub struct NoteLine {
    pub author: String,
    pub at: String,
    pub body: String,
    pub visible: bool,
}

pub struct NextState {
    pub to: &'static str,
    pub label: &'static str,
}

#[derive(Template)]
#[template(path = "agent/request.html")]
struct RequestPage {
    chrome: Chrome,
    errors: FormErrors,
    id: String,
    number: String,
    procedure: String,
    citizen: String,
    citizen_id: String,
    state: &'static str,
    submitted: String,
    late: bool,
    lock: Option<String>,
    mine: bool,
    can_modify: bool,
    answers: Vec<Answer>,
    requirements: Vec<ReqLine>,
    docs: Vec<AttachedDoc>,
    hidden_docs: usize,
    notes: Vec<NoteLine>,
    next: Vec<NextState>,
    /// The agent may ask for a complement: the form lists the requirements to tick.
    can_complement: bool,
    history: Vec<HistoryItem>,
    templates: Vec<(&'static str, &'static str)>,
}

fn next_states(state: &str) -> Vec<NextState> {
    match state {
        "submitted" => vec![
            NextState {
                to: "in_progress",
                label: "Prendre en charge (en cours d'instruction)",
            },
            NextState {
                to: "complement",
                label: "Demander un complément à l'usager (cochez les pièces)",
            },
            NextState {
                to: "rejected",
                label: "Refuser la demande",
            },
        ],
        "in_progress" => vec![
            NextState {
                to: "completed",
                label: "Accepter la demande",
            },
            NextState {
                to: "complement",
                label: "Demander un complément à l'usager (cochez les pièces)",
            },
            NextState {
                to: "rejected",
                label: "Refuser la demande",
            },
        ],
        "completed" | "rejected" => vec![NextState {
            to: "closed",
            label: "Clore la demande",
        }],
        _ => Vec::new(),
    }
}

fn answer_text(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::Bool(true) => "oui".into(),
        serde_json::Value::Bool(false) => "non".into(),
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Null => "—".into(),
        other => other.to_string(),
    }
}

async fn request_view(
    app: &App,
    s: &Session,
    id: &str,
    errors: FormErrors,
) -> Result<RequestPage, WebError> {
    s.staff()?;
    let v = requests::get(app, &s.p, id).await?;
    let mut names = HashMap::new();
    let citizen = account_name(app, &s.p.tenant_id, &v.citizen_id, &mut names).await;
    let today = app.clock.today();
    // The view came from this tenant's requests (the use case hides others').
    let can_modify =
        s.p.allows(&Access::HandleRequest(&v.record(&s.p.tenant_id)));
    let mut docs = Vec::new();
    let mut hidden_docs = 0;
    for r in &v.requirements {
        let Some(a) = &r.attached else { continue };
        match documents::get(app, &s.p, &a.document_id).await {
            Ok(d) => docs.push(AttachedDoc {
                requirement: format!(
                    "{}{}",
                    r.label,
                    r.subject_name
                        .as_deref()
                        .map(|n| format!(" – {n}"))
                        .unwrap_or_default()
                ),
                version: d.version,
                is_image: d.media_type.starts_with("image/"),
                is_pdf: d.media_type == "application/pdf",
                media: media_label(&d.media_type),
                valid_until: d.valid_until.clone().unwrap_or_default(),
                reviewable: can_modify && d.review_state != "certified",
                d: item(&d, today),
            }),
            Err(AppError::NotFound) => hidden_docs += 1,
            Err(e) => return Err(e.into()),
        }
    }
    let lock = match &v.lock_holder {
        Some(h) if h == &s.p.account_id => Some("vous".to_string()),
        Some(h) => Some(account_name(app, &s.p.tenant_id, h, &mut names).await),
        None => None,
    };
    let answers = v
        .answers
        .as_object()
        .map(|o| {
            o.iter()
                .map(|(k, val)| Answer {
                    question: question_label(k),
                    value: answer_text(val),
                })
                .collect()
        })
        .unwrap_or_default();
    Ok(RequestPage {
        chrome: s.chrome(app, &format!("Demande {}", v.number)).await,
        errors,
        id: v.id.clone(),
        number: v.number.clone(),
        procedure: v.procedure_title.clone(),
        citizen,
        citizen_id: v.citizen_id.clone(),
        state: fmt::request_state(&v.state),
        submitted: v
            .submitted_at
            .as_deref()
            .map(fmt::rfc_fr)
            .unwrap_or_default(),
        late: v.late,
        mine: v.lock_holder.as_deref() == Some(s.p.account_id.as_str()),
        lock,
        can_modify,
        answers,
        requirements: v
            .requirements
            .iter()
            .map(|r| {
                let (status, badge) = match r.status.as_str() {
                    "attached" => ("Fournie", "ok"),
                    "expired" => ("Refusée ou plus valable", "bad"),
                    _ if r.mandatory => ("Manquante", "warn"),
                    _ => ("Non fournie (facultative)", "info"),
                };
                ReqLine {
                    id: r.id.clone(),
                    label: r.label.clone(),
                    person: r
                        .subject_name
                        .clone()
                        .unwrap_or_else(|| "le demandeur".into()),
                    mandatory: r.mandatory,
                    status,
                    badge,
                }
            })
            .collect(),
        docs,
        hidden_docs,
        notes: v
            .notes
            .iter()
            .map(|n| NoteLine {
                author: n.author_label.clone(),
                at: fmt::datetime_fr(n.at),
                body: n.body.clone(),
                visible: n.visible,
            })
            .collect(),
        next: if can_modify {
            next_states(&v.state)
        } else {
            Vec::new()
        },
        can_complement: can_modify
            && !v.requirements.is_empty()
            && next_states(&v.state).iter().any(|n| n.to == "complement"),
        history: v
            .history
            .iter()
            .rev()
            .map(|h| HistoryItem {
                at: fmt::datetime_fr(h.at),
                text: format!("{} ({})", history_text(&h.event, &h.details), h.actor_label),
            })
            .collect(),
        templates: vec![
            ("accuse-reception", "Accusé de réception"),
            ("demande-acceptee", "Demande acceptée"),
            ("demande-refusee", "Demande refusée (indiquez le motif)"),
            ("libre", "Courrier libre (indiquez l'objet)"),
        ],
    })
}

async fn request_page(
    State(app): State<App>,
    s: Session,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let page = request_view(&app, &s, &id, FormErrors::none()).await?;
    render(&page)
}

pub(super) async fn again(
    app: &App,
    s: &Session,
    id: &str,
    e: AppError,
    field: &str,
) -> Result<Response, WebError> {
    if matches!(
        e,
        AppError::NotFound | AppError::Forbidden | AppError::Unauthorized
    ) {
        return Err(e.into());
    }
    let (status, errors) = FormErrors::from_app(&e, field);
    let page = request_view(app, s, id, errors).await?;
    render_status(
        if status == StatusCode::OK {
            StatusCode::BAD_REQUEST
        } else {
            status
        },
        &page,
    )
}
