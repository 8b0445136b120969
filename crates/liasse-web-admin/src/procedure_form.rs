//! A procedure's form: its questions, its requirements and their conditions.

use std::collections::BTreeMap;

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use liasse_domain::condition::Condition;
use liasse_domain::procedure::{For, Procedure};

use super::procedure_preview::{Preview, PreviewQuery, evaluate};
use super::type_form::domain_choices;
use liasse_app::app::App;
use liasse_app::error::AppError;
use liasse_app::{catalogue, requests};
use liasse_web::Choice;
use liasse_web::chrome::Chrome;
use liasse_web::session::Fields;
use liasse_web::{FormErrors, Posted, Session, WebError, render_status, see_other};

pub fn routes() -> Router<App> {
    Router::new()
        .route("/admin/demarches", post(save_procedure))
        .route("/admin/demarches/nouvelle", get(new_procedure))
        .route("/admin/demarches/{code}", get(edit_procedure))
}

pub struct ReqRow {
    pub index: usize,
    pub key: String,
    pub type_code: String,
    pub mandatory: bool,
    pub each_member: bool,
    pub label: String,
    pub condition: String,
}

#[derive(Template)]
#[template(path = "admin/procedure_form.html")]
struct ProcedurePage {
    chrome: Chrome,
    errors: FormErrors,
    editing: bool,
    code: String,
    title: String,
    domain: String,
    description: String,
    questions: String,
    processing_days: String,
    reminder_days: String,
    open: bool,
    rows: Vec<ReqRow>,
    types: Vec<Choice>,
    domains: Vec<Choice>,
    preview: Option<Preview>,
}

/// Blank rows offered after the existing requirements, to add new ones.
const BLANK_ROWS: usize = 3;

fn rows_of(p: &Procedure) -> Vec<ReqRow> {
    let mut rows: Vec<ReqRow> = p
        .requirements
        .iter()
        .enumerate()
        .map(|(i, r)| ReqRow {
            index: i,
            key: r.key.clone(),
            type_code: r.type_code.clone(),
            mandatory: r.mandatory,
            each_member: r.for_whom == For::EachMember,
            label: r.label.clone().unwrap_or_default(),
            condition: r
                .condition
                .as_ref()
                .map(|c| c.source().to_string())
                .unwrap_or_default(),
        })
        .collect();
    let n = rows.len();
    for i in n..n + BLANK_ROWS {
        rows.push(ReqRow {
            index: i,
            key: String::new(),
            type_code: String::new(),
            mandatory: true,
            each_member: false,
            label: String::new(),
            condition: String::new(),
        });
    }
    rows
}

fn questions_text(p: &Procedure) -> String {
    p.questions
        .iter()
        .map(|(k, v)| format!("{k}: {v}"))
        .collect::<Vec<_>>()
        .join("\n")
}

async fn procedure_page(
    app: &App,
    s: &Session,
    mut page: ProcedurePage,
    status: StatusCode,
) -> Result<Response, WebError> {
    let types = catalogue::list(app, &s.p.tenant_id).await?;
    page.types = types
        .iter()
        .map(|t| Choice {
            value: t.code.clone(),
            label: t.label.clone(),
            selected: false,
        })
        .collect();
    page.domains = domain_choices(&page.domain);
    page.chrome = s
        .chrome(
            app,
            &if page.editing {
                format!("Démarche : {}", page.title)
            } else {
                "Nouvelle démarche".to_string()
            },
        )
        .await;
    render_status(status, &page)
}

fn blank_page() -> ProcedurePage {
    ProcedurePage {
        chrome: Chrome::bare(""),
        errors: FormErrors::none(),
        editing: false,
        code: String::new(),
        title: String::new(),
        domain: "general".into(),
        description: String::new(),
        questions: String::new(),
        processing_days: "15".into(),
        reminder_days: "7".into(),
        open: true,
        rows: (0..BLANK_ROWS)
            .map(|i| ReqRow {
                index: i,
                key: String::new(),
                type_code: String::new(),
                mandatory: true,
                each_member: false,
                label: String::new(),
                condition: String::new(),
            })
            .collect(),
        types: Vec::new(),
        domains: Vec::new(),
        preview: None,
    }
}

async fn new_procedure(State(app): State<App>, s: Session) -> Result<Response, WebError> {
    s.admin()?;
    procedure_page(&app, &s, blank_page(), StatusCode::OK).await
}

async fn edit_procedure(
    State(app): State<App>,
    s: Session,
    Path(code): Path<String>,
    Query(q): Query<PreviewQuery>,
) -> Result<Response, WebError> {
    s.admin()?;
    let p = requests::get_procedure(&app, &s.p.tenant_id, &code)
        .await
        .map_err(|_| AppError::NotFound)?;
    let labels: BTreeMap<String, String> = catalogue::list(&app, &s.p.tenant_id)
        .await?
        .into_iter()
        .map(|t| (t.code, t.label))
        .collect();
    let page = ProcedurePage {
        editing: true,
        code: p.code.clone(),
        title: p.title.clone(),
        domain: p.domain.clone(),
        description: p.description.clone(),
        questions: questions_text(&p),
        processing_days: p.processing_days.to_string(),
        reminder_days: p.reminder_days.to_string(),
        open: p.open,
        rows: rows_of(&p),
        preview: Some(evaluate(&p, &q, &labels)),
        ..blank_page()
    };
    procedure_page(&app, &s, page, StatusCode::OK).await
}

/// Reads the procedure form into a definition; errors name the field.
fn procedure_of(f: &Fields) -> Result<Procedure, (AppError, String)> {
    let mut questions = BTreeMap::new();
    for line in f.text("questions").lines() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let Some((name, kind)) = line.split_once(':') else {
            return Err((
                AppError::invalid(
                    "invalid-procedure",
                    format!(
                        "question « {line} » : écrivez « nom: type », par exemple « canteen: boolean »"
                    ),
                ),
                "questions".into(),
            ));
        };
        questions.insert(name.trim().to_string(), kind.trim().to_string());
    }
    let mut reqs = Vec::new();
    let mut i = 0;
    while f.get(&format!("req-{i}-key")).is_some() {
        let key = f.text(&format!("req-{i}-key"));
        if !key.is_empty() {
            let condition = f.text(&format!("req-{i}-condition"));
            if !condition.is_empty()
                && let Err(e) = Condition::parse(&condition)
            {
                return Err((
                    AppError::invalid(
                        "invalid-condition",
                        format!(
                            "condition du justificatif « {key} » : {} (à la position {})",
                            e.message,
                            e.position + 1
                        ),
                    ),
                    format!("req-{i}-condition"),
                ));
            }
            reqs.push(serde_json::json!({
                "key": key,
                "type": f.text(&format!("req-{i}-type")),
                "mandatory": f.checked(&format!("req-{i}-mandatory")),
                "for": if f.text(&format!("req-{i}-for")) == "each_member" { "each_member" } else { "citizen" },
                "label": f.opt(&format!("req-{i}-label")),
                "condition": Some(condition).filter(|c| !c.is_empty()),
            }));
        }
        i += 1;
    }
    let days = |name: &str| -> Result<u32, (AppError, String)> {
        f.text(name).parse().map_err(|_| {
            (
                AppError::invalid(
                    "invalid-procedure",
                    "les délais s'écrivent en nombre entier de jours",
                ),
                name.to_string(),
            )
        })
    };
    let value = serde_json::json!({
        "code": f.text("code"),
        "title": f.text("title"),
        "domain": f.text("domain"),
        "description": f.text("description"),
        "questions": questions,
        "requirements": reqs,
        "processing_days": days("processing_days")?,
        "reminder_days": days("reminder_days")?,
        "open": f.checked("open"),
    });
    serde_json::from_value(value).map_err(|e| {
        (
            AppError::invalid("invalid-procedure", format!("définition invalide : {e}")),
            String::new(),
        )
    })
}

async fn save_procedure(State(app): State<App>, form: Posted) -> Result<Response, WebError> {
    let Posted { s, f } = form;
    s.admin()?;
    let result = match procedure_of(&f) {
        Ok(p) => {
            let code = p.code.clone();
            requests::put_procedure(&app, &s.p, p)
                .await
                .map(|_| code)
                .map_err(|e| {
                    let field = match &e {
                        AppError::Invalid {
                            code: "unknown-document-type",
                            ..
                        } => "req-0-type".to_string(),
                        AppError::Invalid { detail, .. } if detail.contains("code") => {
                            "code".to_string()
                        }
                        AppError::Invalid { detail, .. } if detail.contains("question") => {
                            "questions".to_string()
                        }
                        _ => String::new(),
                    };
                    (e, field)
                })
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(code) => Ok(see_other(&format!("/admin/demarches/{code}?ok=demarche"))),
        Err((e, field)) => {
            let (status, errors) = FormErrors::from_app(&e, &field);
            // Show the form again as it was typed.
            let mut rows = Vec::new();
            let mut i = 0;
            while f.get(&format!("req-{i}-key")).is_some() {
                rows.push(ReqRow {
                    index: i,
                    key: f.text(&format!("req-{i}-key")),
                    type_code: f.text(&format!("req-{i}-type")),
                    mandatory: f.checked(&format!("req-{i}-mandatory")),
                    each_member: f.text(&format!("req-{i}-for")) == "each_member",
                    label: f.text(&format!("req-{i}-label")),
                    condition: f.text(&format!("req-{i}-condition")),
                });
                i += 1;
            }
            let page = ProcedurePage {
                errors,
                editing: f.checked("editing"),
                code: f.text("code"),
                title: f.text("title"),
                domain: f.text("domain"),
                description: f.text("description"),
                questions: f.text("questions"),
                processing_days: f.text("processing_days"),
                reminder_days: f.text("reminder_days"),
                open: f.checked("open"),
                rows,
                ..blank_page()
            };
            procedure_page(&app, &s, page, status).await
        }
    }
}
