//! The citizen's requests (démarches): start one, answer its questions, see the documents it
//! needs with the fitting ones from the vault, attach or upload, submit, and follow it.

use std::collections::HashMap;

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use liasse_domain::procedure::Procedure;
use serde::Deserialize;

use crate::chrome::Chrome;
use crate::citizen::title_of;
use crate::fmt::{self, date_fr};
use crate::session::Fields;
use crate::{
    FormErrors, Posted, PostedMultipart, Session, WebError, render, render_status, see_other,
    upload,
};
use liasse_app::app::App;
use liasse_app::documents::{self, DepositInput, ListFilter};
use liasse_app::error::AppError;
use liasse_app::members;
use liasse_app::requests::{self, DraftUpdate, NewRequest, RequestView, Transition};

pub fn routes() -> Router<App> {
    Router::new()
        .route("/demandes", get(list).post(start))
        .route("/demandes/{id}", get(page))
        .route("/demandes/{id}/reponses", post(save_answers))
        .route("/demandes/{id}/joindre", post(attach))
        .route("/demandes/{id}/retirer", post(detach))
        .route("/demandes/{id}/deposer", post(upload_for))
        .route("/demandes/{id}/envoyer", post(submit))
}

pub use liasse_app::requests::question_label;

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

pub struct HistoryItem {
    pub at: String,
    pub text: String,
}

#[derive(Template)]
#[template(path = "citizen/request.html")]
struct RequestPage {
    chrome: Chrome,
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
            .map(|g| crate::FieldError {
                field: gap_anchor(&g.field, household_empty),
                message: gap_text(g, household_empty),
            })
            .collect(),
    }
}

pub fn history_text(event: &str, details: &serde_json::Value) -> String {
    match event {
        "created" => "Demande créée".into(),
        "draft.saved" => "Réponses enregistrées".into(),
        "attached" => "Pièce jointe".into(),
        "detached" => "Pièce retirée".into(),
        "lock.taken" => "Prise en main par un agent".into(),
        "lock.released" => "Libérée par l'agent".into(),
        "lock.broken" => "Verrou repris par un responsable".into(),
        "note" => "Note ajoutée".into(),
        e if e.starts_with("state.") => {
            let mut t = format!("État : {}", fmt::request_state(&e[6..]));
            if let Some(r) = details
                .get("reason")
                .and_then(|v| v.as_str())
                .filter(|r| !r.is_empty())
            {
                t.push_str(&format!(" (motif : {r})"));
            }
            t
        }
        other => other.to_string(),
    }
}

async fn view(
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
async fn again(
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
        };
        let doc = documents::deposit(&app, &s.p, input, file).await?;
        requests::attach(&app, &s.p, &id, &q.exigence, &doc.id).await
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
                crate::flash_message("envoyee")
            };
            render(&page)
        }
        Err(e) => again(&app, &s, &id, e, "").await,
    }
}
