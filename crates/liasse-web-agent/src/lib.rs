//! The agents' back office: dashboard (new, mine, late, urgent), search, the request page with
//! the data and the attached documents previewed side by side, review, lock, notes, letters,
//! transitions; and counter mode (deposit a scan for a citizen).

pub mod citizen;
pub mod counter;
pub mod dashboard;
pub mod handling;
pub mod letters;
pub mod request;
pub mod review;
pub mod statistics;

use std::collections::HashMap;

use axum::Router;

use liasse_app::app::App;

pub fn routes() -> Router<App> {
    Router::new()
        .merge(citizen::routes())
        .merge(counter::routes())
        .merge(dashboard::routes())
        .merge(handling::routes())
        .merge(letters::routes())
        .merge(request::routes())
        .merge(review::routes())
        .merge(statistics::routes())
}

/// The display name of an account, looked up once per page.
pub(crate) async fn account_name(
    app: &App,
    tenant_id: &str,
    id: &str,
    cache: &mut HashMap<String, String>,
) -> String {
    if let Some(n) = cache.get(id) {
        return n.clone();
    }
    let name = liasse_app::auth::display_name(app, tenant_id, id)
        .await
        .unwrap_or_else(|| "compte inconnu".into());
    cache.insert(id.to_string(), name.clone());
    name
}
