//! Tenant administration pages: the document-type catalogue, procedures with their
//! requirements and the condition editor with a preview, agents and their rights, branding and
//! settings. Admins never see a document's content.

use std::collections::BTreeMap;

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use liasse_domain::condition::Condition;
use liasse_domain::doctype::{DocumentType, Validity};
use liasse_domain::policy::Role;
use liasse_domain::procedure::{For, Procedure};
use serde::Deserialize;

use crate::chrome::Chrome;
use crate::citizen::Choice;
use crate::fmt;
use crate::session::Fields;
use crate::theme::Brand;
use crate::{
    FormErrors, Posted, PostedMultipart, Session, WebError, render, render_status, see_other,
};
use liasse_app::app::App;
use liasse_app::error::AppError;
use liasse_app::{admin, catalogue, enrolment, requests};

pub fn routes() -> Router<App> {
    Router::new()
        .route("/admin", get(home))
        .route("/admin/types", get(types).post(save_type))
        .route("/admin/types/nouveau", get(new_type))
        .route("/admin/types/{code}", get(edit_type))
        .route("/admin/types/{code}/retirer", post(withdraw_type))
        .route("/admin/demarches", get(procedures).post(save_procedure))
        .route("/admin/demarches/nouvelle", get(new_procedure))
        .route("/admin/demarches/{code}", get(edit_procedure))
        .route("/admin/agents", get(agents).post(create_agent))
        .route("/admin/agents/{id}/droits", post(set_rights))
        .route("/admin/agents/{id}/desactiver", post(disable_agent))
        .route("/admin/agents/{id}/reactiver", post(enable_agent))
        .route("/admin/agents/{id}", get(agent))
        .route("/admin/agents/{id}/service", post(set_service))
        .route("/admin/agents/{id}/adresse", post(set_email))
        .route("/admin/agents/{id}/activation", post(send_link))
        .route("/admin/services", get(services).post(create_service))
        .route("/admin/services/{id}", post(rename_service))
        .route("/admin/apparence", get(branding).post(save_branding))
        .route("/admin/apparence/logo", post(upload_logo))
        .route("/admin/apparence/logo/retirer", post(remove_logo))
        .route("/admin/reglages", post(save_settings))
}

#[derive(Template)]
#[template(path = "admin/home.html")]
struct HomePage {
    chrome: Chrome,
    types: usize,
    procedures: usize,
    staff: usize,
}

async fn home(State(app): State<App>, s: Session) -> Result<Response, WebError> {
    s.admin()?;
    render(&HomePage {
        chrome: s.chrome(&app, "Administration").await,
        types: catalogue::list(&app, &s.p.tenant_id).await?.len(),
        procedures: requests::list_procedures(&app, &s.p).await?.len(),
        staff: admin::staff(&app, &s.p).await?.len(),
    })
}

pub struct TypeRow {
    pub code: String,
    pub label: String,
    pub domain: String,
    pub validity: String,
    pub depositors: String,
    pub review: bool,
}

fn validity_fr(v: &Validity) -> String {
    match v {
        Validity::Unlimited => "sans limite".into(),
        Validity::EndOfCalendarYear => "fin de l'année civile".into(),
        Validity::EndOfSchoolYear => "fin de l'année scolaire".into(),
        Validity::PrintedDate => "date imprimée sur le document".into(),
        Validity::Duration(d) => {
            let mut parts = Vec::new();
            if d.years > 0 {
                parts.push(format!(
                    "{} an{}",
                    d.years,
                    if d.years > 1 { "s" } else { "" }
                ));
            }
            if d.months > 0 {
                parts.push(format!("{} mois", d.months));
            }
            if d.days > 0 {
                parts.push(format!(
                    "{} jour{}",
                    d.days,
                    if d.days > 1 { "s" } else { "" }
                ));
            }
            parts.join(" ")
        }
    }
}

fn depositor_fr(d: &liasse_domain::doctype::Depositor) -> &'static str {
    match d {
        liasse_domain::doctype::Depositor::Citizen => "usager",
        liasse_domain::doctype::Depositor::Agent => "agent",
        liasse_domain::doctype::Depositor::Provider => "émetteur certifié",
    }
}

#[derive(Template)]
#[template(path = "admin/types.html")]
struct TypesPage {
    chrome: Chrome,
    rows: Vec<TypeRow>,
}

async fn types(State(app): State<App>, s: Session) -> Result<Response, WebError> {
    s.admin()?;
    let mut list = catalogue::list(&app, &s.p.tenant_id).await?;
    list.sort_by(|a, b| a.label.cmp(&b.label));
    render(&TypesPage {
        chrome: s.chrome(&app, "Types de pièces").await,
        rows: list
            .iter()
            .map(|t| TypeRow {
                code: t.code.clone(),
                label: t.label.clone(),
                domain: fmt::domain_label(&t.domain),
                validity: validity_fr(&t.validity),
                depositors: t
                    .depositors
                    .iter()
                    .map(depositor_fr)
                    .collect::<Vec<_>>()
                    .join(", "),
                review: t.review_required,
            })
            .collect(),
    })
}

/// The values of the type form (as typed, so that a refused form is shown again as it was).
pub struct TypeForm {
    pub editing: bool,
    pub code: String,
    pub label: String,
    pub domain: String,
    pub description: String,
    pub validity_kind: String,
    pub duration: String,
    pub reusable: bool,
    pub review_required: bool,
    pub keep_allowed: bool,
    pub formats: Vec<Choice>,
    pub depositors: Vec<Choice>,
    pub max_size_mb: String,
    /// Pixel limit of images, in megapixels (empty: the default).
    pub max_megapixels: String,
    pub retention: String,
    pub disposal: String,
    pub notice_days: String,
}

const FORMATS: [(&str, &str); 4] = [
    ("pdf", "PDF"),
    ("jpeg", "JPEG"),
    ("png", "PNG"),
    ("webp", "WebP"),
];
const DEPOSITORS: [(&str, &str); 3] = [
    ("citizen", "l'usager"),
    ("agent", "un agent (guichet, courrier)"),
    ("provider", "un émetteur certifié"),
];

impl TypeForm {
    fn of(t: &DocumentType) -> TypeForm {
        let (kind, duration) = match &t.validity {
            Validity::Duration(d) => ("duration".to_string(), d.to_string()),
            other => (other.code(), String::new()),
        };
        let deps: Vec<String> = t
            .depositors
            .iter()
            .map(|d| {
                serde_json::to_value(d)
                    .ok()
                    .and_then(|v| v.as_str().map(String::from))
                    .unwrap_or_default()
            })
            .collect();
        TypeForm {
            editing: true,
            code: t.code.clone(),
            label: t.label.clone(),
            domain: t.domain.clone(),
            description: t.description.clone(),
            validity_kind: kind,
            duration,
            reusable: t.reusable,
            review_required: t.review_required,
            keep_allowed: t.keep_allowed,
            formats: FORMATS
                .iter()
                .map(|(c, l)| Choice {
                    value: c.to_string(),
                    label: l.to_string(),
                    selected: t.formats.iter().any(|f| f == c),
                })
                .collect(),
            depositors: DEPOSITORS
                .iter()
                .map(|(c, l)| Choice {
                    value: c.to_string(),
                    label: l.to_string(),
                    selected: deps.iter().any(|d| d == c),
                })
                .collect(),
            max_size_mb: (t.max_size / (1024 * 1024)).max(1).to_string(),
            max_megapixels: (t.max_pixels / 1_000_000).max(1).to_string(),
            retention: t.retention.to_string(),
            disposal: serde_json::to_value(t.disposal)
                .ok()
                .and_then(|v| v.as_str().map(String::from))
                .unwrap_or_else(|| "delete".into()),
            notice_days: t.disposal_notice_days.to_string(),
        }
    }

    fn blank() -> TypeForm {
        TypeForm {
            editing: false,
            code: String::new(),
            label: String::new(),
            domain: "general".into(),
            description: String::new(),
            validity_kind: "duration".into(),
            duration: "P3M".into(),
            reusable: true,
            review_required: true,
            keep_allowed: false,
            formats: FORMATS
                .iter()
                .map(|(c, l)| Choice {
                    value: c.to_string(),
                    label: l.to_string(),
                    selected: true,
                })
                .collect(),
            depositors: DEPOSITORS
                .iter()
                .map(|(c, l)| Choice {
                    value: c.to_string(),
                    label: l.to_string(),
                    selected: *c != "provider",
                })
                .collect(),
            max_size_mb: "10".into(),
            max_megapixels: (liasse_domain::doctype::DEFAULT_MAX_PIXELS / 1_000_000).to_string(),
            retention: "P1Y".into(),
            disposal: "delete".into(),
            notice_days: "30".into(),
        }
    }

    fn from_fields(f: &Fields) -> TypeForm {
        let formats = f.all("formats");
        let deps = f.all("depositors");
        TypeForm {
            editing: f.checked("editing"),
            code: f.text("code"),
            label: f.text("label"),
            domain: f.text("domain"),
            description: f.text("description"),
            validity_kind: f.text("validity_kind"),
            duration: f.text("duration"),
            reusable: f.checked("reusable"),
            review_required: f.checked("review_required"),
            keep_allowed: f.checked("keep_allowed"),
            formats: FORMATS
                .iter()
                .map(|(c, l)| Choice {
                    value: c.to_string(),
                    label: l.to_string(),
                    selected: formats.iter().any(|x| x == c),
                })
                .collect(),
            depositors: DEPOSITORS
                .iter()
                .map(|(c, l)| Choice {
                    value: c.to_string(),
                    label: l.to_string(),
                    selected: deps.iter().any(|x| x == c),
                })
                .collect(),
            max_size_mb: f.text("max_size_mb"),
            max_megapixels: f.text("max_megapixels"),
            retention: f.text("retention"),
            disposal: f.text("disposal"),
            notice_days: f.text("notice_days"),
        }
    }

    /// The definition to give to `services::catalogue::put` (which validates it).
    fn definition(&self) -> Result<DocumentType, (AppError, &'static str)> {
        let validity = if self.validity_kind == "duration" {
            self.duration.clone()
        } else {
            self.validity_kind.clone()
        };
        let mb: u64 = self.max_size_mb.parse().map_err(|_| {
            (
                AppError::invalid(
                    "invalid-document-type",
                    "la taille maximale doit être un nombre entier de mégaoctets",
                ),
                "max_size_mb",
            )
        })?;
        // A form without the field (an older page) keeps the default rather than failing.
        let megapixels: u64 = match self.max_megapixels.trim() {
            "" => liasse_domain::doctype::DEFAULT_MAX_PIXELS / 1_000_000,
            n => n.parse().map_err(|_| {
                (
                    AppError::invalid(
                        "invalid-document-type",
                        "le nombre maximal de pixels doit être un nombre entier de mégapixels",
                    ),
                    "max_megapixels",
                )
            })?,
        };
        let notice: u32 = self.notice_days.parse().map_err(|_| {
            (
                AppError::invalid(
                    "invalid-document-type",
                    "le préavis doit être un nombre entier de jours",
                ),
                "notice_days",
            )
        })?;
        if Validity::parse(&validity).is_err() {
            return Err((
                AppError::invalid(
                    "invalid-document-type",
                    "la durée de validité doit s'écrire en ISO 8601, par exemple P3M (3 mois) ou P10Y (10 ans)",
                ),
                "duration",
            ));
        }
        if liasse_domain::doctype::IsoDuration::parse(&self.retention).is_err() {
            return Err((
                AppError::invalid(
                    "invalid-document-type",
                    "la durée de conservation doit s'écrire en ISO 8601, par exemple P1Y",
                ),
                "retention",
            ));
        }
        let value = serde_json::json!({
            "code": self.code,
            "label": self.label,
            "domain": self.domain,
            "description": self.description,
            "validity": validity,
            "reusable": self.reusable,
            "review_required": self.review_required,
            "keep_allowed": self.keep_allowed,
            "formats": self.formats.iter().filter(|c| c.selected).map(|c| c.value.clone()).collect::<Vec<_>>(),
            "depositors": self.depositors.iter().filter(|c| c.selected).map(|c| c.value.clone()).collect::<Vec<_>>(),
            "max_size": mb.saturating_mul(1024 * 1024),
            "max_pixels": megapixels.saturating_mul(1_000_000),
            "retention": self.retention,
            "disposal": if self.disposal == "keep" { "keep" } else { "delete" },
            "disposal_notice_days": notice,
        });
        serde_json::from_value(value).map_err(|e| {
            (
                AppError::invalid(
                    "invalid-document-type",
                    format!("définition invalide : {e}"),
                ),
                "",
            )
        })
    }
}

#[derive(Template)]
#[template(path = "admin/type_form.html")]
struct TypePage {
    chrome: Chrome,
    errors: FormErrors,
    t: TypeForm,
    domains: Vec<Choice>,
    validities: Vec<Choice>,
}

fn domain_choices(selected: &str) -> Vec<Choice> {
    let mut list: Vec<&str> = fmt::DOMAINS.to_vec();
    list.push("courrier");
    if !selected.is_empty() && !list.contains(&selected) {
        list.push(selected);
    }
    list.iter()
        .map(|d| Choice {
            value: d.to_string(),
            label: fmt::domain_label(d),
            selected: *d == selected,
        })
        .collect()
}

async fn type_page(
    app: &App,
    s: &Session,
    t: TypeForm,
    errors: FormErrors,
    status: StatusCode,
) -> Result<Response, WebError> {
    let title = if t.editing {
        format!("Type de pièce : {}", t.label)
    } else {
        "Nouveau type de pièce".to_string()
    };
    let domains = domain_choices(&t.domain);
    let validities = [
        ("duration", "Une durée à partir de la date d'émission"),
        ("unlimited", "Sans limite"),
        ("end-of-year", "Jusqu'à la fin de l'année civile"),
        ("end-of-school-year", "Jusqu'à la fin de l'année scolaire"),
        ("printed-date", "La date imprimée sur le document"),
    ]
    .iter()
    .map(|(v, l)| Choice {
        value: v.to_string(),
        label: l.to_string(),
        selected: t.validity_kind == *v,
    })
    .collect();
    render_status(
        status,
        &TypePage {
            chrome: s.chrome(app, &title).await,
            errors,
            t,
            domains,
            validities,
        },
    )
}

async fn new_type(State(app): State<App>, s: Session) -> Result<Response, WebError> {
    s.admin()?;
    type_page(
        &app,
        &s,
        TypeForm::blank(),
        FormErrors::none(),
        StatusCode::OK,
    )
    .await
}

async fn edit_type(
    State(app): State<App>,
    s: Session,
    Path(code): Path<String>,
) -> Result<Response, WebError> {
    s.admin()?;
    let t = match catalogue::get_any(&app, &s.p.tenant_id, &code).await? {
        Some((t, true)) => t,
        _ => return Err(AppError::NotFound.into()),
    };
    type_page(
        &app,
        &s,
        TypeForm::of(&t),
        FormErrors::none(),
        StatusCode::OK,
    )
    .await
}

async fn save_type(State(app): State<App>, form: Posted) -> Result<Response, WebError> {
    let Posted { s, f } = form;
    s.admin()?;
    let t = TypeForm::from_fields(&f);
    let result = match t.definition() {
        Ok(def) => catalogue::put(&app, &s.p.tenant_id, s.p.actor(), def)
            .await
            .map_err(|e| {
                let field = match &e {
                    AppError::Invalid { detail, .. } if detail.contains("code") => "code",
                    AppError::Invalid { detail, .. } if detail.contains("libellé") => "label",
                    AppError::Invalid { detail, .. } if detail.contains("format") => "formats",
                    AppError::Invalid { detail, .. } if detail.contains("déposant") => {
                        "depositors"
                    }
                    AppError::Invalid { detail, .. } if detail.contains("taille") => "max_size_mb",
                    _ => "",
                };
                (e, field)
            }),
        Err(e) => Err(e),
    };
    match result {
        Ok(_) => Ok(see_other("/admin/types?ok=type")),
        Err((e, field)) => {
            let (status, errors) = FormErrors::from_app(&e, field);
            type_page(&app, &s, t, errors, status).await
        }
    }
}

async fn withdraw_type(
    State(app): State<App>,
    Path(code): Path<String>,
    form: Posted,
) -> Result<Response, WebError> {
    form.s.admin()?;
    catalogue::remove(&app, &form.s.p.tenant_id, form.s.p.actor(), &code).await?;
    Ok(see_other("/admin/types?ok=type-retire"))
}

pub struct ProcedureRow {
    pub code: String,
    pub title: String,
    pub domain: String,
    pub requirements: usize,
    pub open: bool,
}

#[derive(Template)]
#[template(path = "admin/procedures.html")]
struct ProceduresPage {
    chrome: Chrome,
    rows: Vec<ProcedureRow>,
}

async fn procedures(State(app): State<App>, s: Session) -> Result<Response, WebError> {
    s.admin()?;
    let list = requests::list_procedures(&app, &s.p).await?;
    render(&ProceduresPage {
        chrome: s.chrome(&app, "Démarches").await,
        rows: list
            .iter()
            .map(|p| ProcedureRow {
                code: p.code.clone(),
                title: p.title.clone(),
                domain: fmt::domain_label(&p.domain),
                requirements: p.requirements.len(),
                open: p.open,
            })
            .collect(),
    })
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

pub struct PreviewLine {
    pub label: String,
    pub condition: String,
    pub applies: bool,
}

/// What the preview shows: each requirement's condition evaluated on sample answers.
pub struct Preview {
    pub answers: String,
    pub children: String,
    pub members: String,
    pub lines: Vec<PreviewLine>,
    pub error: Option<String>,
    pub test: String,
    pub test_result: Option<String>,
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

#[derive(Deserialize, Default)]
struct PreviewQuery {
    reponses: Option<String>,
    enfants: Option<String>,
    membres: Option<String>,
    condition: Option<String>,
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

fn evaluate(p: &Procedure, q: &PreviewQuery, labels: &BTreeMap<String, String>) -> Preview {
    let answers_text = q.reponses.clone().unwrap_or_else(|| "{}".into());
    let children = q.enfants.clone().unwrap_or_else(|| "0".into());
    let members = q.membres.clone().unwrap_or_else(|| "0".into());
    let test = q.condition.clone().unwrap_or_default();
    let mut preview = Preview {
        answers: answers_text.clone(),
        children: children.clone(),
        members: members.clone(),
        lines: Vec::new(),
        error: None,
        test: test.clone(),
        test_result: None,
    };
    let answers: serde_json::Value = match serde_json::from_str(&answers_text) {
        Ok(v @ serde_json::Value::Object(_)) => v,
        _ => {
            preview.error = Some("Les réponses d'exemple doivent être un objet JSON, par exemple {\"canteen\": true}.".into());
            return preview;
        }
    };
    let n_children: i64 = children.trim().parse().unwrap_or(0).max(0);
    let n_members: i64 = members.trim().parse().unwrap_or(0).max(0);
    let household = serde_json::json!({ "children": n_children, "members": n_members, "adults": (n_members - n_children).max(0) + 1 });
    preview.lines = p
        .requirements
        .iter()
        .map(|r| PreviewLine {
            label: r.label.clone().unwrap_or_else(|| {
                labels
                    .get(&r.type_code)
                    .cloned()
                    .unwrap_or_else(|| r.type_code.clone())
            }),
            condition: r
                .condition
                .as_ref()
                .map(|c| c.source().to_string())
                .unwrap_or_else(|| "toujours".into()),
            applies: r
                .condition
                .as_ref()
                .is_none_or(|c| c.eval(&answers, &household)),
        })
        .collect();
    if !test.trim().is_empty() {
        preview.test_result = Some(match Condition::parse(&test) {
            Ok(c) => {
                if c.eval(&answers, &household) {
                    "La condition est vraie pour ces réponses : le justificatif serait demandé."
                        .into()
                } else {
                    "La condition est fausse pour ces réponses : le justificatif ne serait pas demandé.".into()
                }
            }
            Err(e) => format!(
                "Condition incorrecte : {} (à la position {}).",
                e.message,
                e.position + 1
            ),
        });
    }
    preview
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

pub struct RightCell {
    pub domain: String,
    pub label: String,
    pub options: Vec<Choice>,
}

pub struct StaffRow {
    pub id: String,
    pub name: String,
    pub login: String,
    pub role: &'static str,
    pub service: String,
    pub rights: Vec<RightCell>,
    pub summary: String,
    pub disabled: bool,
    /// No password yet: the enrolment link was not used.
    pub pending: bool,
}

#[derive(Template)]
#[template(path = "admin/agents.html")]
struct AgentsPage {
    chrome: Chrome,
    errors: FormErrors,
    staff: Vec<StaffRow>,
    domains: Vec<Choice>,
    levels: Vec<(&'static str, &'static str)>,
    services: Vec<Choice>,
    values: AgentValues,
}

/// What the admin typed in the creation form, shown again after an error.
#[derive(Default)]
struct AgentValues {
    login: String,
    name: String,
    email: String,
    service: String,
}

const LEVELS: [(&str, &str); 4] = [
    ("none", "aucun"),
    ("consult", "consultation"),
    ("modify", "modification"),
    ("manage", "gestion"),
];

fn staff_row(m: &admin::StaffMember) -> StaffRow {
    let level_of = |d: &str| {
        m.rights
            .iter()
            .find(|(x, _)| x == d)
            .map(|(_, l)| l.clone())
            .unwrap_or_else(|| "none".into())
    };
    let mut domains: Vec<String> = fmt::DOMAINS.iter().map(|d| d.to_string()).collect();
    for (d, _) in &m.rights {
        if !domains.contains(d) {
            domains.push(d.clone());
        }
    }
    let summary = m
        .rights
        .iter()
        .filter(|(_, l)| l != "none")
        .map(|(d, l)| format!("{} : {}", fmt::domain_label(d), fmt::right_label(l)))
        .collect::<Vec<_>>()
        .join(", ");
    StaffRow {
        id: m.account.id.clone(),
        name: m.account.display_name.clone(),
        login: m.account.login.clone(),
        role: if m.account.role == "manager" {
            "responsable"
        } else {
            "agent"
        },
        service: m
            .service
            .as_ref()
            .map(|s| s.name.clone())
            .unwrap_or_default(),
        rights: domains
            .iter()
            .map(|d| RightCell {
                domain: d.clone(),
                label: fmt::domain_label(d),
                options: LEVELS
                    .iter()
                    .map(|(v, l)| Choice {
                        value: v.to_string(),
                        label: l.to_string(),
                        selected: level_of(d) == *v,
                    })
                    .collect(),
            })
            .collect(),
        summary: if summary.is_empty() {
            "aucun droit".into()
        } else {
            summary
        },
        disabled: m.account.disabled,
        pending: m.account.password_hash.is_none(),
    }
}

/// The tenant's services as the options of a list ("aucun" first).
async fn service_choices(app: &App, s: &Session, selected: &str) -> Result<Vec<Choice>, WebError> {
    let mut out = vec![Choice {
        value: String::new(),
        label: "aucun service".into(),
        selected: selected.is_empty(),
    }];
    for sv in admin::services(app, &s.p).await? {
        out.push(Choice {
            selected: sv.id == selected,
            value: sv.id,
            label: sv.name,
        });
    }
    Ok(out)
}

async fn agents_page(
    app: &App,
    s: &Session,
    errors: FormErrors,
    values: AgentValues,
    status: StatusCode,
) -> Result<Response, WebError> {
    let list = admin::staff(app, &s.p).await?;
    let staff = list.iter().map(staff_row).collect();
    render_status(
        status,
        &AgentsPage {
            chrome: s.chrome(app, "Agents et droits").await,
            errors,
            staff,
            domains: fmt::DOMAINS
                .iter()
                .map(|d| Choice {
                    value: d.to_string(),
                    label: fmt::domain_label(d),
                    selected: false,
                })
                .collect(),
            levels: LEVELS.to_vec(),
            services: service_choices(app, s, &values.service).await?,
            values,
        },
    )
}

async fn agents(State(app): State<App>, s: Session) -> Result<Response, WebError> {
    s.admin()?;
    agents_page(
        &app,
        &s,
        FormErrors::none(),
        AgentValues::default(),
        StatusCode::OK,
    )
    .await
}

/// Creates the account without a password: its holder receives the enrolment link.
async fn create_agent(State(app): State<App>, form: Posted) -> Result<Response, WebError> {
    let Posted { s, f } = form;
    s.admin()?;
    let rights: Vec<(String, String)> = fmt::DOMAINS
        .iter()
        .filter_map(|d| {
            f.opt(&format!("right-{d}"))
                .filter(|l| l != "none")
                .map(|l| (d.to_string(), l))
        })
        .collect();
    let values = AgentValues {
        login: f.text("login"),
        name: f.text("name"),
        email: f.text("email"),
        service: f.text("service"),
    };
    let role = if f.text("role") == "manager" {
        Role::Manager
    } else {
        Role::Agent
    };
    let result = enrolment::create_staff(
        &app,
        &s.p,
        enrolment::NewStaff {
            login: &values.login,
            name: &values.name,
            email: &values.email,
            role,
            service_id: Some(values.service.as_str()),
            rights,
        },
    )
    .await;
    match result {
        Ok(_) => Ok(see_other("/admin/agents?ok=agent")),
        Err(e) => {
            let (status, errors) = FormErrors::from_app(&e, form_field(&e));
            agents_page(&app, &s, errors, values, status).await
        }
    }
}

/// The field of the agents' forms an error is about.
fn form_field(e: &AppError) -> &'static str {
    match e {
        AppError::Invalid {
            code: "invalid-login",
            ..
        }
        | AppError::Conflict(_) => "login",
        AppError::Invalid {
            code: "email-required" | "invalid-email",
            ..
        } => "email",
        AppError::Invalid {
            code: "unknown-service",
            ..
        } => "service",
        _ => "",
    }
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
    let who = if e.entry.actor.kind == "operator" {
        "l'exploitant".to_string()
    } else if e.entry.actor.kind == "admin" {
        format!("{} (administration)", e.entry.actor.label)
    } else {
        e.entry.actor.label.clone()
    };
    HistoryLine {
        when: fmt::datetime_fr(e.at),
        who,
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

#[derive(Template)]
#[template(path = "admin/services.html")]
struct ServicesPage {
    chrome: Chrome,
    errors: FormErrors,
    services: Vec<(String, String)>,
    name: String,
}

async fn services_page(
    app: &App,
    s: &Session,
    errors: FormErrors,
    name: String,
    status: StatusCode,
) -> Result<Response, WebError> {
    let services = admin::services(app, &s.p)
        .await?
        .into_iter()
        .map(|sv| (sv.id, sv.name))
        .collect();
    render_status(
        status,
        &ServicesPage {
            chrome: s.chrome(app, "Services").await,
            errors,
            services,
            name,
        },
    )
}

async fn services(State(app): State<App>, s: Session) -> Result<Response, WebError> {
    s.admin()?;
    services_page(&app, &s, FormErrors::none(), String::new(), StatusCode::OK).await
}

async fn create_service(State(app): State<App>, form: Posted) -> Result<Response, WebError> {
    let Posted { s, f } = form;
    s.admin()?;
    let name = f.text("name");
    match admin::create_service(&app, &s.p, &name).await {
        Ok(_) => Ok(see_other("/admin/services?ok=service-cree")),
        Err(e) => {
            let (status, errors) = FormErrors::from_app(&e, "name");
            services_page(&app, &s, errors, name, status).await
        }
    }
}

async fn rename_service(
    State(app): State<App>,
    Path(id): Path<String>,
    form: Posted,
) -> Result<Response, WebError> {
    let Posted { s, f } = form;
    s.admin()?;
    match admin::rename_service(&app, &s.p, &id, &f.text("name")).await {
        Ok(()) => Ok(see_other("/admin/services?ok=service-renomme")),
        Err(AppError::NotFound) => Err(AppError::NotFound.into()),
        Err(e) => {
            let (status, errors) = FormErrors::from_app(&e, "");
            services_page(&app, &s, errors, String::new(), status).await
        }
    }
}

async fn set_rights(
    State(app): State<App>,
    Path(id): Path<String>,
    form: Posted,
) -> Result<Response, WebError> {
    let Posted { s, f } = form;
    s.admin()?;
    let rights: Vec<(String, String)> =
        f.0.iter()
            .filter_map(|(k, v)| k.strip_prefix("right-").map(|d| (d.to_string(), v.clone())))
            .collect();
    admin::set_rights(&app, &s.p, &id, &rights).await?;
    Ok(see_other("/admin/agents?ok=droits"))
}

async fn disable_agent(
    State(app): State<App>,
    Path(id): Path<String>,
    form: Posted,
) -> Result<Response, WebError> {
    set_disabled(&app, &id, form, true).await
}

async fn enable_agent(
    State(app): State<App>,
    Path(id): Path<String>,
    form: Posted,
) -> Result<Response, WebError> {
    set_disabled(&app, &id, form, false).await
}

async fn set_disabled(
    app: &App,
    id: &str,
    form: Posted,
    disabled: bool,
) -> Result<Response, WebError> {
    let Posted { s, .. } = form;
    s.admin()?;
    admin::set_disabled(app, &s.p, id, disabled).await?;
    Ok(see_other(if disabled {
        "/admin/agents?ok=desactive"
    } else {
        "/admin/agents?ok=reactive"
    }))
}

#[derive(Template)]
#[template(path = "admin/branding.html")]
struct BrandingPage {
    chrome: Chrome,
    errors: FormErrors,
    tenant_name: String,
    name: String,
    primary: String,
    logo: String,
    settings: String,
    /// The address of the uploaded logo, if there is one.
    uploaded_logo: Option<String>,
}

fn other_settings(settings: &serde_json::Value) -> String {
    let mut s = settings.as_object().cloned().unwrap_or_default();
    for k in [
        "brand_name",
        "brand_primary",
        "brand_logo_url",
        admin::LOGO_KEY,
    ] {
        s.remove(k);
    }
    serde_json::to_string_pretty(&serde_json::Value::Object(s)).unwrap_or_else(|_| "{}".into())
}

async fn branding_page(
    app: &App,
    s: &Session,
    errors: FormErrors,
    values: Option<(String, String, String, String)>,
    status: StatusCode,
) -> Result<Response, WebError> {
    // The tenant as stored now (the session's copy may predate a change).
    let tenant = liasse_store::tenants::by_id(&app.db, &s.p.tenant_id)
        .await
        .map_err(AppError::from)?
        .ok_or(AppError::NotFound)?;
    let get = |k: &str| {
        tenant
            .settings
            .get(k)
            .and_then(|v| v.as_str())
            .unwrap_or_default()
            .to_string()
    };
    let (name, primary, logo, settings) = values.unwrap_or_else(|| {
        (
            get("brand_name"),
            get("brand_primary"),
            get("brand_logo_url"),
            other_settings(&tenant.settings),
        )
    });
    let mut chrome = s.chrome(app, "Apparence et réglages").await;
    let brand = Brand::of(&tenant);
    let uploaded_logo = admin::Logo::of(&tenant.settings)
        .is_some()
        .then(|| brand.logo.clone())
        .flatten();
    chrome.site = brand.name;
    chrome.logo = brand.logo;
    render_status(
        status,
        &BrandingPage {
            chrome,
            errors,
            tenant_name: tenant.name.clone(),
            name,
            primary,
            logo,
            settings,
            uploaded_logo,
        },
    )
}

async fn branding(State(app): State<App>, s: Session) -> Result<Response, WebError> {
    s.admin()?;
    branding_page(&app, &s, FormErrors::none(), None, StatusCode::OK).await
}

async fn save_branding(State(app): State<App>, form: Posted) -> Result<Response, WebError> {
    let Posted { s, f } = form;
    s.admin()?;
    let b = admin::Branding {
        name: f.text("brand_name"),
        primary: f.text("brand_primary"),
        logo_url: f.text("brand_logo_url"),
    };
    match admin::set_branding(&app, &s.p, b).await {
        Ok(()) => Ok(see_other("/admin/apparence?ok=apparence")),
        Err(e) => {
            let field = match &e {
                AppError::Invalid {
                    code: "invalid-colour",
                    ..
                } => "brand_primary",
                AppError::Invalid {
                    code: "invalid-logo",
                    ..
                } => "brand_logo_url",
                AppError::Invalid {
                    code: "invalid-name",
                    ..
                } => "brand_name",
                _ => "",
            };
            let (status, errors) = FormErrors::from_app(&e, field);
            let tenant = liasse_store::tenants::by_id(&app.db, &s.p.tenant_id)
                .await
                .map_err(AppError::from)?
                .ok_or(AppError::NotFound)?;
            branding_page(
                &app,
                &s,
                errors,
                Some((
                    f.text("brand_name"),
                    f.text("brand_primary"),
                    f.text("brand_logo_url"),
                    other_settings(&tenant.settings),
                )),
                status,
            )
            .await
        }
    }
}

/// The logo file of the branding page (a multipart form: `csrf` first, then `logo`).
async fn upload_logo(State(app): State<App>, form: PostedMultipart) -> Result<Response, WebError> {
    let PostedMultipart { s, mut mp } = form;
    s.admin()?;
    let result = async {
        let mut bytes = None;
        while let Some(mut field) = mp.next_field().await.map_err(|_| unreadable_logo())? {
            if field.name() != Some("logo") {
                continue;
            }
            let mut data = Vec::new();
            while let Some(chunk) = field.chunk().await.map_err(|_| unreadable_logo())? {
                // Stops reading as soon as the file is known to be too big.
                if data.len() + chunk.len() > admin::LOGO_MAX_BYTES {
                    return Err(admin::logo_too_large());
                }
                data.extend_from_slice(&chunk);
            }
            bytes = Some(data);
            break;
        }
        match bytes {
            Some(b) if !b.is_empty() => admin::set_logo(&app, &s.p, b).await,
            _ => Err(AppError::invalid(
                "missing-field",
                "choisissez le fichier du logo (PNG, JPEG ou WebP)",
            )),
        }
    }
    .await;
    match result {
        Ok(()) => Ok(see_other("/admin/apparence?ok=apparence")),
        Err(e) => {
            let (status, errors) = FormErrors::from_app(&e, "logo");
            branding_page(&app, &s, errors, None, status).await
        }
    }
}

fn unreadable_logo() -> AppError {
    AppError::invalid(
        "invalid-logo",
        "le fichier du logo n'a pas pu être lu : envoyez-le à nouveau",
    )
}

async fn remove_logo(State(app): State<App>, form: Posted) -> Result<Response, WebError> {
    let Posted { s, .. } = form;
    s.admin()?;
    admin::remove_logo(&app, &s.p).await?;
    Ok(see_other("/admin/apparence?ok=apparence"))
}

async fn save_settings(State(app): State<App>, form: Posted) -> Result<Response, WebError> {
    let Posted { s, f } = form;
    s.admin()?;
    let text = f.text("settings");
    let result =
        match serde_json::from_str::<serde_json::Value>(if text.is_empty() { "{}" } else { &text })
        {
            Ok(v) => admin::set_settings(&app, &s.p, v).await,
            Err(e) => Err(AppError::invalid(
                "invalid-settings",
                format!("les réglages ne sont pas du JSON valide : {e}"),
            )),
        };
    match result {
        Ok(()) => Ok(see_other("/admin/apparence?ok=reglages")),
        Err(e) => {
            let (status, errors) = FormErrors::from_app(&e, "settings");
            let tenant = liasse_store::tenants::by_id(&app.db, &s.p.tenant_id)
                .await
                .map_err(AppError::from)?
                .ok_or(AppError::NotFound)?;
            let get = |k: &str| {
                tenant
                    .settings
                    .get(k)
                    .and_then(|v| v.as_str())
                    .unwrap_or_default()
                    .to_string()
            };
            branding_page(
                &app,
                &s,
                errors,
                Some((
                    get("brand_name"),
                    get("brand_primary"),
                    get("brand_logo_url"),
                    text,
                )),
                status,
            )
            .await
        }
    }
}
