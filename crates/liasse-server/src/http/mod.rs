//! The HTTP API. Handlers are thin: they read the request, call a service, map the result.

pub mod agency;
pub mod auth;
pub mod catalogue;
pub mod dashboard;
pub mod documents;
pub mod edge;
pub mod export;
pub mod extract;
pub mod health;
pub mod journal;
pub mod members;
pub mod notify;
pub mod openapi;
pub mod problem;
pub mod requests;
pub mod server;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, HeaderValue, Request};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

use crate::app::App;

pub const REQUEST_ID: &str = "x-request-id";

pub fn router(app: App) -> Router {
    // Install the metrics recorder before the first request is counted.
    health::prometheus();
    let request_id = HeaderName::from_static(REQUEST_ID);
    let edge = std::sync::Arc::new(edge::Edge::new(&app.config));
    let hsts = app.config.public_url().starts_with("https://");
    let api = Router::new()
        .merge(documents::routes())
        .merge(agency::routes())
        .merge(requests::routes())
        .merge(dashboard::routes())
        .merge(catalogue::routes())
        .merge(journal::routes())
        .merge(export::routes())
        .merge(members::routes())
        .merge(notify::routes())
        .merge(openapi::routes())
        .merge(auth::routes())
        // Unknown routes, wrong methods and rejected extractors answer problem+json too.
        .fallback(|| async { crate::error::AppError::NotFound })
        .layer(axum::middleware::map_response(problem::ensure_problem));
    let router = Router::new()
        .merge(health::routes())
        // The web pages (including the home page at `/`) sit at the top level.
        .merge(crate::web::routes())
        .nest("/api/v1", api)
        // The edge sets every body's limit (uploads: see edge::UPLOAD_ROUTES and
        // services::upload); axum's own default would cut uploads at 2 MB.
        .layer(DefaultBodyLimit::disable())
        .layer(axum::middleware::from_fn_with_state(edge, edge::guard))
        .layer(axum::middleware::from_fn(health::count_requests))
        .layer(
            TraceLayer::new_for_http().make_span_with(|req: &Request<_>| {
                let id = req.headers().get(REQUEST_ID).and_then(|v| v.to_str().ok()).unwrap_or("-");
                tracing::info_span!("http", method = %req.method(), path = %req.uri().path(), request_id = %id)
            }),
        )
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid))
        .layer(header("x-content-type-options", "nosniff"))
        .layer(header("referrer-policy", "no-referrer"))
        .layer(header("x-frame-options", "DENY"))
        .layer(header("content-security-policy", "default-src 'none'; frame-ancestors 'none'"));
    // Browsers that once reached the server over HTTPS keep to it; never sent over plain HTTP.
    let router = if hsts {
        router.layer(header("strict-transport-security", edge::HSTS))
    } else {
        router
    };
    router.with_state(app)
}

fn header(name: &'static str, value: &'static str) -> SetResponseHeaderLayer<HeaderValue> {
    SetResponseHeaderLayer::if_not_present(
        HeaderName::from_static(name),
        HeaderValue::from_static(value),
    )
}
