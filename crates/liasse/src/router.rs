//! The whole HTTP face: health and metrics, the pages at the top level, the API under
//! `/api/v1`, behind the edge and the security headers that every answer carries.

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, HeaderValue, Request};
use liasse_app::App;
use liasse_http::edge;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

use crate::health;

pub const REQUEST_ID: &str = "x-request-id";

pub fn router(app: App) -> Router {
    // Install the metrics recorder before the first request is counted.
    health::prometheus();
    let request_id = HeaderName::from_static(REQUEST_ID);
    let edge = std::sync::Arc::new(edge::Edge::new(&app.config));
    let hsts = app.config.public_url().starts_with("https://");
    let router = Router::new()
        .merge(health::routes())
        // The web pages (including the home page at `/`) sit at the top level.
        .merge(liasse_web::pages(
            Router::new()
                .merge(liasse_web::routes())
                .merge(liasse_web_citizen::routes())
                .merge(liasse_web_agent::routes())
                .merge(liasse_web_admin::routes()),
        ))
        .nest("/api/v1", liasse_api::routes())
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
