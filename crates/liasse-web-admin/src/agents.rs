//! The agents' accounts: list, creation, rights, deactivation.

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};

use liasse_app::app::App;
use liasse_app::error::AppError;
use liasse_app::{admin, enrolment};
use liasse_web::Choice;
use liasse_web::chrome::Chrome;
use liasse_web::{FormErrors, Posted, Session, WebError, render_status, see_other};
use liasse_web::{fmt, roles};

pub fn routes() -> Router<App> {
    Router::new()
        .route("/admin/agents", get(agents).post(create_agent))
        .route("/admin/agents/{id}/droits", post(set_rights))
        .route("/admin/agents/{id}/desactiver", post(disable_agent))
        .route("/admin/agents/{id}/reactiver", post(enable_agent))
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

/// The level an account holds on a domain, by its stored code ("none" when unnamed).
fn level_on(granted: &[(String, String)], domain: &str) -> String {
    granted
        .iter()
        .find(|(d, _)| d == domain)
        .map(|(_, l)| l.clone())
        .unwrap_or_else(|| "none".into())
}

/// The levels an account holds, in French ("social : consultation, ...").
fn rights_summary(granted: &[(String, String)]) -> String {
    granted
        .iter()
        .filter(|(_, l)| l != "none")
        .map(|(d, l)| format!("{} : {}", fmt::domain_label(d), fmt::right_label(l)))
        .collect::<Vec<_>>()
        .join(", ")
}

pub(super) fn staff_row(m: &admin::StaffMember) -> StaffRow {
    let level_of = |d: &str| level_on(&m.rights, d);
    let mut domains: Vec<String> = fmt::DOMAINS.iter().map(|d| d.to_string()).collect();
    for (d, _) in &m.rights {
        if !domains.contains(d) {
            domains.push(d.clone());
        }
    }
    let summary = rights_summary(&m.rights);
    StaffRow {
        id: m.account.id.clone(),
        name: m.account.display_name.clone(),
        login: m.account.login.clone(),
        role: roles::staff_title(&m.account.role),
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
pub(super) async fn service_choices(
    app: &App,
    s: &Session,
    selected: &str,
) -> Result<Vec<Choice>, WebError> {
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
    let role = roles::staff_choice(&f.text("role"));
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
pub(super) fn form_field(e: &AppError) -> &'static str {
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
