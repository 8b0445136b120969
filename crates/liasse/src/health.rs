//! Liveness, readiness and Prometheus metrics.

use std::sync::OnceLock;
use std::time::Instant;

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

use liasse_app::app::App;

pub fn routes() -> Router<App> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics_text))
}

async fn healthz() -> Json<serde_json::Value> {
    Json(serde_json::json!({ "status": "ok" }))
}

/// Ready when the database and the blob store both answer.
async fn readyz(State(app): State<App>) -> Response {
    let db = app.db.ping().await;
    let blobs = app.blobs.ping().await;
    let body = serde_json::json!({
        "database": if db.is_ok() { "ok" } else { "unreachable" },
        "blobs": if blobs.is_ok() { "ok" } else { "unreachable" },
    });
    if let Err(e) = &db {
        tracing::warn!(error = %e, "database not ready");
    }
    if let Err(e) = &blobs {
        tracing::warn!(error = %e, "blob store not ready");
    }
    let status = if db.is_ok() && blobs.is_ok() {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(body)).into_response()
}

/// The process-wide recorder (installed once, also when tests run several apps).
pub fn prometheus() -> Option<&'static PrometheusHandle> {
    static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();
    HANDLE
        .get_or_init(|| PrometheusBuilder::new().install_recorder().ok())
        .as_ref()
}

async fn metrics_text() -> Response {
    let body = prometheus().map(|h| h.render()).unwrap_or_default();
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4",
        )],
        body,
    )
        .into_response()
}

pub async fn count_requests(req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = req.method().to_string();
    let resp = next.run(req).await;
    let status = resp.status().as_u16().to_string();
    metrics::counter!("liasse_http_requests_total", "method" => method.clone(), "status" => status)
        .increment(1);
    metrics::histogram!("liasse_http_request_duration_seconds", "method" => method)
        .record(started.elapsed().as_secs_f64());
    resp
}
