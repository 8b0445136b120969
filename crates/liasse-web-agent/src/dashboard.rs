//! The agent's dashboard: new, mine, late and urgent requests, and the search.

use std::collections::HashMap;

use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::response::Response;
use axum::routing::get;
use serde::Deserialize;

use super::account_name;
use liasse_app::app::App;
use liasse_app::dashboard;
use liasse_web::chrome::Chrome;
use liasse_web::fmt;
use liasse_web::{Session, WebError, render};

pub fn routes() -> Router<App> {
    Router::new().route("/agent", get(dashboard))
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
        s.p.facts()
            .domains_seen()
            .into_iter()
            .map(|(d, r)| format!("{} ({})", fmt::domain_label(d), fmt::right_label(r.code())))
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
