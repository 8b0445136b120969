//! A document type's form: creation, edition and withdrawal.

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use liasse_domain::doctype::{DocumentType, Validity};

use liasse_app::app::App;
use liasse_app::catalogue;
use liasse_app::error::AppError;
use liasse_web::Choice;
use liasse_web::chrome::Chrome;
use liasse_web::fmt;
use liasse_web::session::Fields;
use liasse_web::{FormErrors, Posted, Session, WebError, render_status, see_other};

pub fn routes() -> Router<App> {
    Router::new()
        .route("/admin/types", post(save_type))
        .route("/admin/types/nouveau", get(new_type))
        .route("/admin/types/{code}", get(edit_type))
        .route("/admin/types/{code}/retirer", post(withdraw_type))
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

pub(super) fn domain_choices(selected: &str) -> Vec<Choice> {
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
        Ok(def) => catalogue::put(&app, &s.p, def).await.map_err(|e| {
            let field = match &e {
                AppError::Invalid { detail, .. } if detail.contains("code") => "code",
                AppError::Invalid { detail, .. } if detail.contains("libellé") => "label",
                AppError::Invalid { detail, .. } if detail.contains("format") => "formats",
                AppError::Invalid { detail, .. } if detail.contains("déposant") => "depositors",
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
    catalogue::remove(&app, &form.s.p, &code).await?;
    Ok(see_other("/admin/types?ok=type-retire"))
}
