//! The service's statistics, as a page and as CSV.

use std::collections::HashMap;

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use liasse_domain::policy::Space;

use liasse_app::app::App;
use liasse_app::dashboard;
use liasse_app::requests::{self};
use liasse_web::chrome::Chrome;
use liasse_web::fmt;
use liasse_web::{Session, WebError, render};

pub fn routes() -> Router<App> {
    Router::new()
        .route("/agent/statistiques", get(statistics))
        .route("/agent/statistiques.csv", get(statistics_csv))
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
    s.enter(Space::Statistics)?;
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
    s.enter(Space::Statistics)?;
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
