//! Sharing: the grants the citizen gives to others, and their withdrawal.

use std::collections::HashMap;

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::{get, post};
use liasse_domain::doctype::Depositor;

use liasse_app::app::App;
use liasse_app::documents::{self, ListFilter};
use liasse_app::error::AppError;
use liasse_app::{agency, catalogue, grants};
use liasse_web::Choice;
use liasse_web::chrome::Chrome;
use liasse_web::document_items::{is_letter, title_of};
use liasse_web::fmt::{self, date_fr};
use liasse_web::{FormErrors, Posted, Session, WebError, render, render_status, see_other};

pub fn routes() -> Router<App> {
    Router::new()
        .route("/partages", get(grants_page).post(give_grant))
        .route("/partages/{id}/retirer", post(revoke_grant))
}

pub struct GrantItem {
    pub id: String,
    pub grantee: String,
    pub scope: String,
    pub purpose: String,
    pub until: String,
    pub status: &'static str,
    pub badge: &'static str,
    pub active: bool,
    pub uses: Vec<String>,
}

#[derive(Template)]
#[template(path = "citizen/grants.html")]
struct GrantsPage {
    chrome: Chrome,
    errors: FormErrors,
    grants: Vec<GrantItem>,
    domains: Vec<Choice>,
    documents: Vec<Choice>,
    types: Vec<Choice>,
    purpose: String,
    until: String,
}

fn action_fr(action: &str) -> &'static str {
    match action {
        "document.read" => "a consulté une pièce",
        "document.review" => "a examiné une pièce",
        "document.check" => "a vérifié une pièce",
        _ => "a utilisé ce partage",
    }
}

async fn grants_view(
    app: &App,
    s: &Session,
    errors: FormErrors,
    f: Option<&liasse_web::session::Fields>,
) -> Result<GrantsPage, WebError> {
    let list = grants::list(app, &s.p).await?;
    let docs = documents::list(app, &s.p, &ListFilter::default()).await?;
    let types = catalogue::list(app, &s.p.tenant_id).await?;
    let doc_title: HashMap<&str, String> =
        docs.iter().map(|d| (d.id.as_str(), title_of(d))).collect();
    let type_label: HashMap<&str, &str> = types
        .iter()
        .map(|t| (t.code.as_str(), t.label.as_str()))
        .collect();
    let providers = agency::providers(app, &s.p).await?;
    let items = list
        .iter()
        .map(|g| {
            let row = &g.grant;
            let grantee = if row.grantee_kind == "domain" {
                format!(
                    "Les agents du domaine « {} »",
                    fmt::domain_label(&row.grantee)
                )
            } else {
                providers
                    .iter()
                    .find(|p| p.id == row.grantee)
                    .map(|p| format!("Le service partenaire {}", p.name))
                    .unwrap_or_else(|| "Un service partenaire".into())
            };
            let scope = if row.scope_kind == "documents" {
                row.scope
                    .iter()
                    .map(|id| {
                        doc_title
                            .get(id.as_str())
                            .cloned()
                            .unwrap_or_else(|| "pièce supprimée".into())
                    })
                    .collect::<Vec<_>>()
                    .join(", ")
            } else {
                let labels: Vec<String> = row
                    .scope
                    .iter()
                    .map(|c| type_label.get(c.as_str()).copied().unwrap_or(c).to_string())
                    .collect();
                format!("Toutes vos pièces de type : {}", labels.join(", "))
            };
            let (status, badge) = match g.status.as_str() {
                "active" => ("Actif", "ok"),
                "revoked" => ("Retiré", "bad"),
                _ => ("Terminé", "info"),
            };
            GrantItem {
                id: row.id.clone(),
                grantee,
                scope,
                purpose: row.purpose.clone(),
                until: date_fr(&row.valid_until),
                status,
                badge,
                active: g.status == "active",
                uses: g
                    .uses
                    .iter()
                    .map(|u| {
                        format!(
                            "{} {} {}",
                            u.by,
                            action_fr(&u.action),
                            fmt::when_fr(fmt::rfc_ms(&u.at))
                        )
                    })
                    .collect(),
            }
        })
        .collect();
    let picked_docs = f.map(|f| f.all("documents")).unwrap_or_default();
    let picked_domain = f.map(|f| f.text("domain")).unwrap_or_default();
    let picked_type = f.map(|f| f.text("type")).unwrap_or_default();
    let default_until =
        liasse_domain::doctype::format_date(app.clock.today() + time::Duration::days(30));
    Ok(GrantsPage {
        chrome: s.chrome(app, "Mes partages").await,
        errors,
        grants: items,
        domains: fmt::DOMAINS
            .iter()
            .map(|d| Choice {
                value: d.to_string(),
                label: fmt::domain_label(d),
                selected: picked_domain == *d,
            })
            .collect(),
        documents: docs
            .iter()
            .filter(|d| !is_letter(d))
            .map(|d| Choice {
                value: d.id.clone(),
                label: format!("{} ({})", title_of(d), d.type_label),
                selected: picked_docs.contains(&d.id),
            })
            .collect(),
        types: types
            .iter()
            .filter(|t| t.depositors.contains(&Depositor::Citizen))
            .map(|t| Choice {
                value: t.code.clone(),
                label: t.label.clone(),
                selected: picked_type == t.code,
            })
            .collect(),
        purpose: f.map(|f| f.text("purpose")).unwrap_or_default(),
        until: f
            .map(|f| f.text("until"))
            .filter(|u| !u.is_empty())
            .unwrap_or(default_until),
    })
}

async fn grants_page(State(app): State<App>, s: Session) -> Result<Response, WebError> {
    s.citizen()?;
    let page = grants_view(&app, &s, FormErrors::none(), None).await?;
    render(&page)
}

async fn give_grant(State(app): State<App>, form: Posted) -> Result<Response, WebError> {
    let Posted { s, f } = form;
    s.citizen()?;
    let g = grants::NewGrant {
        domain: f.opt("domain"),
        client: None,
        documents: f.all("documents"),
        types: f.opt("type").into_iter().collect(),
        purpose: f.text("purpose"),
        until: f.text("until"),
    };
    match grants::create(&app, &s.p, g).await {
        Ok(_) => Ok(see_other("/partages?ok=partage")),
        Err(e) => {
            let field = match &e {
                AppError::Invalid { code, .. } => match *code {
                    "invalid-grantee" => "domain",
                    "invalid-scope" | "unknown-document" => "scope",
                    "unknown-document-type" => "type",
                    "invalid-purpose" => "purpose",
                    "invalid-date" => "until",
                    _ => "",
                },
                _ => "",
            };
            let (status, errors) = FormErrors::from_app(&e, field);
            let page = grants_view(&app, &s, errors, Some(&f)).await?;
            render_status(status, &page)
        }
    }
}

async fn revoke_grant(
    State(app): State<App>,
    Path(id): Path<String>,
    form: Posted,
) -> Result<Response, WebError> {
    form.s.citizen()?;
    grants::revoke(&app, &form.s.p, &id).await?;
    Ok(see_other("/partages?ok=partage-retire"))
}
