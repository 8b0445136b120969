//! The agents' back office: dashboard (new, mine, late, urgent), search, the request page with
//! the data and the attached documents previewed side by side, review, lock, notes, letters,
//! transitions; and counter mode (deposit a scan for a citizen).

use std::collections::HashMap;

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use liasse_domain::doctype::Depositor;
use liasse_domain::ids::is_valid_id;
use liasse_domain::policy::Right;
use serde::Deserialize;

use crate::chrome::Chrome;
use crate::citizen::{DocItem, TypeGroup, item, media_label, type_groups};
use crate::citizen_requests::{HistoryItem, history_text, question_label};
use crate::fmt;
use crate::{
    FormErrors, Posted, PostedMultipart, Session, WebError, render, render_status, see_other,
    upload,
};
use liasse_app::agency::{self, ReviewInput};
use liasse_app::app::App;
use liasse_app::documents::{self, DepositInput};
use liasse_app::error::AppError;
use liasse_app::letters::{self, NewLetter};
use liasse_app::requests::{self, NewNote, Transition};
use liasse_app::{catalogue, dashboard};

pub fn routes() -> Router<App> {
    Router::new()
        .route("/agent", get(dashboard))
        .route("/agent/demandes/{id}", get(request_page))
        .route("/agent/demandes/{id}/verrou", post(lock))
        .route("/agent/demandes/{id}/deverrou", post(unlock))
        .route("/agent/demandes/{id}/notes", post(note))
        .route("/agent/demandes/{id}/courrier", post(letter))
        .route("/agent/demandes/{id}/etat", post(transition))
        .route("/agent/documents/{id}/examen", post(review))
        .route("/agent/guichet", get(counter))
        .route("/agent/statistiques", get(statistics))
        .route("/agent/statistiques.csv", get(statistics_csv))
        .route("/agent/usagers/{id}", get(citizen_page))
        .route("/agent/usagers/{id}/depot", post(deposit_for))
}

async fn account_name(
    app: &App,
    tenant_id: &str,
    id: &str,
    cache: &mut HashMap<String, String>,
) -> String {
    if let Some(n) = cache.get(id) {
        return n.clone();
    }
    let name = liasse_store::accounts::by_id(&app.db, tenant_id, id)
        .await
        .ok()
        .flatten()
        .map(|a| a.display_name)
        .unwrap_or_else(|| "compte inconnu".into());
    cache.insert(id.to_string(), name.clone());
    name
}

pub struct Row {
    pub id: String,
    pub number: String,
    pub procedure: String,
    pub citizen: String,
    pub state: &'static str,
    pub submitted: String,
    pub late: bool,
    pub urgent: bool,
    pub locked_by: Option<String>,
}

pub struct Section {
    pub anchor: &'static str,
    pub heading: &'static str,
    pub empty: &'static str,
    pub rows: Vec<Row>,
}

#[derive(Template)]
#[template(path = "agent/dashboard.html")]
struct DashboardPage {
    chrome: Chrome,
    q: String,
    results: Option<Vec<Row>>,
    sections: Vec<Section>,
    domains: String,
}

#[derive(Deserialize)]
struct SearchQuery {
    q: Option<String>,
}

async fn rows(
    app: &App,
    s: &Session,
    items: Vec<dashboard::Item>,
    names: &mut HashMap<String, String>,
) -> Vec<Row> {
    let mut out = Vec::with_capacity(items.len());
    for i in items {
        let locked_by = match i.lock_holder.as_deref() {
            Some(h) if h == s.p.account_id => Some("vous".to_string()),
            Some(h) => Some(account_name(app, &s.p.tenant_id, h, names).await),
            None => None,
        };
        out.push(Row {
            id: i.id,
            number: i.number,
            procedure: if i.procedure_title.is_empty() {
                i.procedure
            } else {
                i.procedure_title
            },
            citizen: i.citizen_name,
            state: fmt::request_state(&i.state),
            submitted: i
                .submitted_at
                .as_deref()
                .map(fmt::rfc_fr)
                .unwrap_or_default(),
            late: i.late,
            urgent: i.urgent,
            locked_by,
        });
    }
    out
}

/// The dashboard and the search, both from `services::dashboard`.
async fn dashboard(
    State(app): State<App>,
    s: Session,
    Query(q): Query<SearchQuery>,
) -> Result<Response, WebError> {
    s.staff()?;
    let mut names = HashMap::new();
    let query =
        q.q.as_deref()
            .map(str::trim)
            .unwrap_or_default()
            .to_string();
    let results = if query.is_empty() {
        None
    } else {
        let found = dashboard::search(
            &app,
            &s.p,
            &dashboard::Search {
                q: Some(query.clone()),
                ..Default::default()
            },
        )
        .await?;
        Some(rows(&app, &s, found, &mut names).await)
    };
    let d = dashboard::dashboard(&app, &s.p).await?;
    let all = dashboard::search(&app, &s.p, &dashboard::Search::default()).await?;
    let sections = vec![
        Section {
            anchor: "nouvelles",
            heading: "Nouvelles demandes",
            empty: "Aucune nouvelle demande.",
            rows: rows(&app, &s, d.new, &mut names).await,
        },
        Section {
            anchor: "miennes",
            heading: "Mes demandes en cours",
            empty: "Vous ne traitez aucune demande en ce moment.",
            rows: rows(&app, &s, d.mine, &mut names).await,
        },
        Section {
            anchor: "retard",
            heading: "En retard",
            empty: "Aucune demande en retard.",
            rows: rows(&app, &s, d.late, &mut names).await,
        },
        Section {
            anchor: "urgentes",
            heading: "Urgentes (non prises en charge après le délai de relance)",
            empty: "Aucune demande urgente.",
            rows: rows(&app, &s, d.urgent, &mut names).await,
        },
        Section {
            anchor: "toutes",
            heading: "Toutes les demandes de vos domaines",
            empty: "Aucune demande dans vos domaines.",
            rows: rows(&app, &s, all, &mut names).await,
        },
    ];
    let domains =
        s.p.rights
            .iter()
            .filter(|(_, r)| *r >= Right::Consult)
            .map(|(d, r)| {
                let level = match r {
                    Right::Manage => "manage",
                    Right::Modify => "modify",
                    Right::Consult => "consult",
                    Right::None => "none",
                };
                format!("{} ({})", fmt::domain_label(d), fmt::right_label(level))
            })
            .collect::<Vec<_>>()
            .join(", ");
    render(&DashboardPage {
        chrome: s.chrome(&app, "Tableau de bord").await,
        q: query,
        results,
        sections,
        domains,
    })
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
    let can_modify = s.p.facts().right_on(&v.domain) >= Right::Modify;
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
        let found = liasse_store::accounts::by_login(&app.db, &s.p.tenant_id, &login)
            .await
            .map_err(AppError::from)?
            .filter(|a| a.role == "citizen" && !a.disabled);
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

pub struct VisibleDoc {
    pub d: DocItem,
    pub basis: String,
    pub is_image: bool,
}

#[derive(Template)]
#[template(path = "agent/citizen.html")]
struct CitizenPage {
    chrome: Chrome,
    errors: FormErrors,
    id: String,
    name: String,
    docs: Vec<VisibleDoc>,
    groups: Vec<TypeGroup>,
    channel: String,
    title: String,
    valid_until: String,
}

async fn citizen_view(
    app: &App,
    s: &Session,
    id: &str,
    errors: FormErrors,
    values: (String, String, String, String),
) -> Result<CitizenPage, WebError> {
    s.staff()?;
    let list = agency::citizen_documents(app, &s.p, id).await?;
    let account = liasse_store::accounts::by_id(&app.db, &s.p.tenant_id, id)
        .await
        .map_err(AppError::from)?
        .filter(|a| a.role == "citizen")
        .ok_or(AppError::NotFound)?;
    let today = app.clock.today();
    let mut numbers = HashMap::new();
    for r in requests::list(app, &s.p).await? {
        numbers.insert(r.id.clone(), r.number.clone());
    }
    let docs = list
        .iter()
        .map(|a| {
            let basis = match &a.basis {
                liasse_domain::policy::Basis::Request(r) => format!(
                    "jointe à la demande {}",
                    numbers.get(r).cloned().unwrap_or_default()
                ),
                liasse_domain::policy::Basis::Grant(_) => "partagée par l'usager".to_string(),
                liasse_domain::policy::Basis::Deposit(_) => "déposée par votre service".to_string(),
                liasse_domain::policy::Basis::Owner => String::new(),
            };
            VisibleDoc {
                basis,
                is_image: a.document.media_type.starts_with("image/"),
                d: item(&a.document, today),
            }
        })
        .collect();
    let types = catalogue::list(app, &s.p.tenant_id).await?;
    // Types this agent may deposit: their domains with the modify right, and letters.
    let allowed: Vec<liasse_domain::doctype::DocumentType> = types
        .into_iter()
        .filter(|t| t.domain == "courrier" || s.p.facts().right_on(&t.domain) >= Right::Modify)
        .collect();
    Ok(CitizenPage {
        chrome: s
            .chrome(app, &format!("Usager : {}", account.display_name))
            .await,
        errors,
        id: account.id.clone(),
        name: account.display_name,
        docs,
        groups: type_groups(&allowed, Depositor::Agent, &values.0),
        channel: if values.1.is_empty() {
            "counter".into()
        } else {
            values.1
        },
        title: values.2,
        valid_until: values.3,
    })
}

async fn citizen_page(
    State(app): State<App>,
    s: Session,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let page = citizen_view(&app, &s, &id, FormErrors::none(), Default::default()).await?;
    render(&page)
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
        };
        if input.type_code.is_empty() {
            return Err(AppError::invalid(
                "unknown-document-type",
                "choisissez le type de pièce",
            ));
        }
        agency::deposit_for(&app, &s.p, &id, input, file).await
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

pub struct StatLine {
    pub procedure: String,
    pub state: &'static str,
    pub count: usize,
}

#[derive(Template)]
#[template(path = "agent/statistics.html")]
struct StatisticsPage {
    chrome: Chrome,
    lines: Vec<StatLine>,
    total: usize,
}

/// Managers: requests per procedure and state in their domains (`services::dashboard`).
async fn statistics(State(app): State<App>, s: Session) -> Result<Response, WebError> {
    s.require(&[liasse_domain::policy::Role::Manager])?;
    let rows = dashboard::statistics(&app, &s.p).await?;
    let titles: HashMap<String, String> = requests::list_procedures(&app, &s.p)
        .await?
        .into_iter()
        .map(|p| (p.code, p.title))
        .collect();
    let lines: Vec<StatLine> = rows
        .iter()
        .map(|r| StatLine {
            procedure: titles
                .get(&r.procedure)
                .cloned()
                .unwrap_or_else(|| r.procedure.clone()),
            state: fmt::request_state(&r.state),
            count: r.count,
        })
        .collect();
    let total = lines.iter().map(|l| l.count).sum();
    render(&StatisticsPage {
        chrome: s.chrome(&app, "Statistiques").await,
        lines,
        total,
    })
}

async fn statistics_csv(State(app): State<App>, s: Session) -> Result<Response, WebError> {
    s.require(&[liasse_domain::policy::Role::Manager])?;
    let rows = dashboard::statistics(&app, &s.p).await?;
    let mut resp = axum::response::IntoResponse::into_response(dashboard::statistics_csv(&rows));
    let h = resp.headers_mut();
    h.insert(
        axum::http::header::CONTENT_TYPE,
        axum::http::HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    h.insert(
        axum::http::header::CONTENT_DISPOSITION,
        axum::http::HeaderValue::from_static("attachment; filename=\"statistiques.csv\""),
    );
    Ok(resp)
}
