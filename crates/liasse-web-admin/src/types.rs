//! The document-type catalogue: the list of types.

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use liasse_domain::doctype::Validity;

use liasse_app::app::App;
use liasse_app::catalogue;
use liasse_web::chrome::Chrome;
use liasse_web::fmt;
use liasse_web::{Session, WebError, render};

pub fn routes() -> Router<App> {
    Router::new().route("/admin/types", get(types))
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
