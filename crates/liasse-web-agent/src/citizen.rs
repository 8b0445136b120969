//! A citizen's page as the agent sees it: the documents the agent may see.

use std::collections::HashMap;

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::get;
use liasse_domain::doctype::Depositor;
use liasse_domain::policy::{self, Access};

use liasse_app::agency::{self};
use liasse_app::app::App;
use liasse_app::catalogue;
use liasse_app::requests::{self};
use liasse_web::chrome::Chrome;
use liasse_web::document_items::{DocItem, item};
use liasse_web::type_groups::{TypeGroup, type_groups};
use liasse_web::{FormErrors, Session, WebError, render};

pub fn routes() -> Router<App> {
    Router::new().route("/agent/usagers/{id}", get(citizen_page))
}

pub struct VisibleDoc {
    pub d: DocItem,
    pub basis: String,
    pub is_image: bool,
}

#[derive(Template)]
#[template(path = "agent/citizen.html")]
pub(super) struct CitizenPage {
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

pub(super) async fn citizen_view(
    app: &App,
    s: &Session,
    id: &str,
    errors: FormErrors,
    values: (String, String, String, String),
) -> Result<CitizenPage, WebError> {
    s.staff()?;
    let list = agency::citizen_documents(app, &s.p, id).await?;
    let account = agency::citizen(app, &s.p, id).await?;
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
    // The types the policy lets this agent deposit.
    let actor = s.p.facts();
    let allowed: Vec<liasse_domain::doctype::DocumentType> = types
        .into_iter()
        .filter(|t| {
            let deposit = Access::DepositTypeForCitizen {
                domain: &t.domain,
                scopes: &s.p.scopes,
            };
            policy::allows(&actor, &deposit)
        })
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
