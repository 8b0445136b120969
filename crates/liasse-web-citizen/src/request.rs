//! A request's page: its answers, the pieces it asks for, what is missing, its notes and history.

use std::collections::HashMap;

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use liasse_domain::procedure::Procedure;

use liasse_app::app::App;
use liasse_app::documents::{self, ListFilter};
use liasse_app::error::AppError;
use liasse_app::members;
use liasse_app::requests::question_label;
use liasse_app::requests::{self, RequestView};
use liasse_web::chrome::Chrome;
use liasse_web::document_items::title_of;
use liasse_web::fmt::{self, date_fr};
use liasse_web::request_history::{HistoryItem, history_text};
use liasse_web::{FormErrors, Session, WebError, render, render_status};

pub fn routes() -> Router<App> {
    Router::new().route("/demandes/{id}", get(page))
}

pub struct Question {
    pub name: String,
    pub id: String,
    pub label: String,
    pub kind: String,
    pub value: String,
    pub required: bool,
    pub choices: Vec<String>,
}

/// One thing to do before the request can be sent, with where to do it.
pub struct Todo {
    pub href: String,
    pub text: String,
}

pub struct MemberChoice {
    pub id: String,
    pub name: String,
    pub checked: bool,
}

pub struct Candidate {
    pub id: String,
    pub label: String,
}

pub struct RequirementItem {
    pub id: String,
    pub anchor: String,
    pub label: String,
    pub person: String,
    pub mandatory: bool,
    pub status: &'static str,
    pub badge: &'static str,
    pub attached: Option<(String, String)>,
    pub candidates: Vec<Candidate>,
    pub needs_date: bool,
    /// The id of the upload form's file input (errors point at it).
    pub file_id: String,
    pub upload_action: String,
    /// The citizen may attach or remove a piece here now.
    pub editable: bool,
    /// Asked for in the open complement request.
    pub asked: bool,
}

pub struct NoteItem {
    pub author: String,
    pub at: String,
    pub body: String,
}

#[derive(Template)]
#[template(path = "citizen/request.html")]
pub(super) struct RequestPage {
    pub(super) chrome: Chrome,
    errors: FormErrors,
    id: String,
    number: String,
    procedure: String,
    description: String,
    state: &'static str,
    draft: bool,
    created: String,
    submitted: String,
    tracking_code: Option<String>,
    questions: Vec<Question>,
    members: Vec<MemberChoice>,
    requirements: Vec<RequirementItem>,
    /// What keeps the request from being sent (draft or complement), with links.
    todo: Vec<Todo>,
    /// Sent and waiting for a complement: the agent's reason.
    complement: Option<String>,
    /// An agent holds the lock: nothing can be changed now.
    locked: bool,
    /// Sent, not locked, nothing asked: the citizen waits.
    sent_waiting: bool,
    notes: Vec<NoteItem>,
    history: Vec<HistoryItem>,
}

/// Where the page lets the citizen fix a gap: the question's field, the member choice (or
/// the household page when there is nobody to choose), the requirement's card.
fn gap_anchor(field: &str, household_empty: bool) -> String {
    if let Some(name) = field.strip_prefix("answers.") {
        format!("q-{name}")
    } else if field == "members" {
        if household_empty {
            "/foyer#name".into()
        } else {
            "membres".into()
        }
    } else if let Some(id) = field.strip_prefix("requirements.") {
        format!("exigence-{}", id.replace(':', "-"))
    } else {
        String::new()
    }
}

fn gap_text(g: &liasse_domain::procedure::Gap, household_empty: bool) -> String {
    if g.field == "members" && household_empty {
        "Déclarez d'abord dans votre foyer la personne concernée par la demande (l'enfant, par exemple), puis choisissez-la dans vos réponses.".into()
    } else {
        liasse_app::text::capitalise(&g.detail)
    }
}

/// A refused submission as the page's errors, one per gap, each linking to where to fix it.
fn gap_errors(gaps: &[liasse_domain::procedure::Gap], household_empty: bool) -> FormErrors {
    FormErrors {
        items: gaps
            .iter()
            .map(|g| liasse_web::FieldError {
                field: gap_anchor(&g.field, household_empty),
                message: gap_text(g, household_empty),
            })
            .collect(),
    }
}

pub(super) async fn view(
    app: &App,
    s: &Session,
    v: RequestView,
    errors: FormErrors,
) -> Result<RequestPage, WebError> {
    let proc_: Option<Procedure> = requests::get_procedure(app, &s.p.tenant_id, &v.procedure)
        .await
        .ok();
    let docs = documents::list(app, &s.p, &ListFilter::default()).await?;
    let doc_title: HashMap<&str, String> =
        docs.iter().map(|d| (d.id.as_str(), title_of(d))).collect();
    let household = members::list(app, &s.p).await?;
    let household_empty = household.is_empty();
    let types = liasse_app::catalogue::list(app, &s.p.tenant_id).await?;
    let printed: Vec<&str> = types
        .iter()
        .filter(|t| t.validity == liasse_domain::doctype::Validity::PrintedDate)
        .map(|t| t.code.as_str())
        .collect();
    let draft = v.state == "draft";
    let open = matches!(v.state.as_str(), "draft" | "submitted" | "in_progress");
    let questions = proc_
        .as_ref()
        .map(|p| {
            p.questions
                .iter()
                .map(|(name, q)| Question {
                    name: name.clone(),
                    id: format!("q-{name}"),
                    label: question_label(name),
                    kind: q.kind.clone(),
                    required: q.required,
                    choices: q.choices.clone(),
                    value: match v.answers.get(name) {
                        Some(serde_json::Value::Bool(true)) => "oui".into(),
                        Some(serde_json::Value::Bool(false)) => "non".into(),
                        Some(serde_json::Value::String(s)) => s.clone(),
                        Some(serde_json::Value::Number(n)) => n.to_string(),
                        _ => String::new(),
                    },
                })
                .collect()
        })
        .unwrap_or_default();
    let requirements = v
        .requirements
        .iter()
        .map(|r| {
            let (status, badge) = match r.status.as_str() {
                "attached" => ("Fournie", "ok"),
                "expired" => ("Refusée ou plus valable : à remplacer", "bad"),
                _ if r.mandatory => ("À fournir", "warn"),
                _ => ("Facultative", "info"),
            };
            RequirementItem {
                id: r.id.clone(),
                anchor: format!("exigence-{}", r.id.replace(':', "-")),
                label: r.label.clone(),
                person: r
                    .subject_name
                    .clone()
                    .map(|n| format!("pour {n}"))
                    .unwrap_or_else(|| "pour vous".into()),
                mandatory: r.mandatory,
                status,
                badge,
                attached: r.attached.as_ref().map(|a| {
                    (
                        a.document_id.clone(),
                        doc_title
                            .get(a.document_id.as_str())
                            .cloned()
                            .unwrap_or_else(|| "pièce".into()),
                    )
                }),
                candidates: r
                    .candidates
                    .iter()
                    .map(|c| Candidate {
                        id: c.id.clone(),
                        label: format!(
                            "{}{}",
                            c.title
                                .clone()
                                .filter(|t| !t.is_empty())
                                .unwrap_or_else(|| c.file_name.clone()),
                            c.valid_until
                                .as_deref()
                                .map(|u| format!(" (valable jusqu'au {})", date_fr(u)))
                                .unwrap_or_default()
                        ),
                    })
                    .collect(),
                needs_date: printed.contains(&r.type_code.as_str()),
                file_id: format!("fichier-exigence-{}", r.id.replace(':', "-")),
                upload_action: format!(
                    "/demandes/{}/deposer?exigence={}",
                    v.id,
                    fmt::urlencode(&r.id)
                ),
                editable: r.editable,
                asked: v
                    .complement
                    .as_ref()
                    .is_some_and(|c| c.requirements.contains(&r.id)),
            }
        })
        .collect();
    Ok(RequestPage {
        chrome: s.chrome(app, &format!("Demande {}", v.number)).await,
        errors,
        id: v.id.clone(),
        number: v.number.clone(),
        procedure: v.procedure_title.clone(),
        description: proc_.map(|p| p.description).unwrap_or_default(),
        state: fmt::request_state(&v.state),
        draft,
        created: fmt::rfc_fr(&v.created_at),
        submitted: v
            .submitted_at
            .as_deref()
            .map(fmt::rfc_fr)
            .unwrap_or_default(),
        tracking_code: v.tracking_code.clone(),
        questions,
        members: household
            .into_iter()
            .map(|m| MemberChoice {
                checked: v.members.contains(&m.id),
                name: format!("{} ({})", m.name, m.relation),
                id: m.id,
            })
            .collect(),
        requirements,
        todo: if matches!(v.state.as_str(), "draft" | "complement") {
            v.incomplete
                .iter()
                .map(|g| Todo {
                    href: {
                        let a = gap_anchor(&g.field, household_empty);
                        if a.starts_with('/') {
                            a
                        } else {
                            format!("#{a}")
                        }
                    },
                    text: gap_text(g, household_empty),
                })
                .collect()
        } else {
            Vec::new()
        },
        complement: v.complement.as_ref().map(|c| c.reason.clone()),
        locked: v.locked && open && !draft,
        sent_waiting: !v.locked && matches!(v.state.as_str(), "submitted" | "in_progress"),
        notes: v
            .notes
            .iter()
            .map(|n| NoteItem {
                author: n.author_label.clone(),
                at: fmt::datetime_fr(n.at),
                body: n.body.clone(),
            })
            .collect(),
        history: v
            .history
            .iter()
            .rev()
            .map(|h| HistoryItem {
                at: fmt::datetime_fr(h.at),
                text: history_text(&h.event, &h.details),
            })
            .collect(),
    })
}

async fn page(
    State(app): State<App>,
    s: Session,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    s.citizen()?;
    let v = requests::get(&app, &s.p, &id).await?;
    let page = view(&app, &s, v, FormErrors::none()).await?;
    render(&page)
}

/// Shows the request again with an error (the form that failed is on this page).
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
    let v = requests::get(app, &s.p, id).await?;
    let (status, errors) = match &e {
        AppError::Incomplete { errors, .. } => {
            let household_empty = members::list(app, &s.p).await?.is_empty();
            (
                StatusCode::UNPROCESSABLE_ENTITY,
                gap_errors(errors, household_empty),
            )
        }
        _ => FormErrors::from_app(&e, field),
    };
    let page = view(app, s, v, errors).await?;
    render_status(
        if status == StatusCode::OK {
            StatusCode::BAD_REQUEST
        } else {
            status
        },
        &page,
    )
}
