//! The citizen's notifications and their reading.

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::{get, post};

use liasse_app::agency;
use liasse_app::app::App;
use liasse_web::chrome::Chrome;
use liasse_web::fmt::{self};
use liasse_web::{Posted, Session, WebError, render, see_other};

pub fn routes() -> Router<App> {
    Router::new()
        .route("/notifications", get(notifications))
        .route("/notifications/{id}/lu", post(mark_read))
}

pub struct NotificationItem {
    pub id: String,
    pub title: String,
    pub body: String,
    pub at: String,
    pub unread: bool,
    pub href: Option<String>,
}

#[derive(Template)]
#[template(path = "citizen/notifications.html")]
struct NotificationsPage {
    chrome: Chrome,
    items: Vec<NotificationItem>,
}

async fn notifications(State(app): State<App>, s: Session) -> Result<Response, WebError> {
    s.citizen()?;
    let n = agency::notifications(&app, &s.p).await?;
    let items = n
        .items
        .into_iter()
        .map(|x| NotificationItem {
            href: x.object_id.as_ref().and_then(|id| {
                if x.kind.starts_with("document.") {
                    Some(format!("/documents/{id}"))
                } else if x.kind.starts_with("request.state.") {
                    Some(format!("/demandes/{id}"))
                } else {
                    None
                }
            }),
            id: x.id,
            title: x.title,
            body: x.body,
            at: fmt::datetime_fr(x.created_at),
            unread: x.read_at.is_none(),
        })
        .collect();
    render(&NotificationsPage {
        chrome: s.chrome(&app, "Notifications").await,
        items,
    })
}

async fn mark_read(
    State(app): State<App>,
    Path(id): Path<String>,
    form: Posted,
) -> Result<Response, WebError> {
    agency::mark_read(&app, &form.s.p, &id).await?;
    Ok(see_other("/notifications?ok=lu"))
}
