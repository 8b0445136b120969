//! The citizen's notification preferences.

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;

use liasse_app::agency;
use liasse_app::app::App;
use liasse_web::chrome::Chrome;
use liasse_web::{Posted, Session, WebError, render, see_other};

pub fn routes() -> Router<App> {
    Router::new().route("/preferences", get(preferences).post(save_preferences))
}

pub struct ProviderChoice {
    pub id: String,
    pub name: String,
    pub service: String,
    pub on: bool,
}

#[derive(Template)]
#[template(path = "citizen/preferences.html")]
struct PreferencesPage {
    chrome: Chrome,
    providers: Vec<ProviderChoice>,
}

async fn preferences(State(app): State<App>, s: Session) -> Result<Response, WebError> {
    s.citizen()?;
    let mut providers = Vec::new();
    for p in agency::providers(&app, &s.p).await? {
        let on = liasse_app::agency::has_consent(&app, &s.p, &p.id).await?;
        providers.push(ProviderChoice {
            id: p.id,
            name: p.name,
            service: p.service,
            on,
        });
    }
    render(&PreferencesPage {
        chrome: s.chrome(&app, "Préférences").await,
        providers,
    })
}

async fn save_preferences(State(app): State<App>, form: Posted) -> Result<Response, WebError> {
    let Posted { s, f } = form;
    s.citizen()?;
    let wanted = f.all("providers");
    for p in agency::providers(&app, &s.p).await? {
        let on = wanted.contains(&p.id);
        let was = liasse_app::agency::has_consent(&app, &s.p, &p.id).await?;
        if on != was {
            agency::set_consent(&app, &s.p, &p.id, on).await?;
        }
    }
    Ok(see_other("/preferences?ok=preferences"))
}
