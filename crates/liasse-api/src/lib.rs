#![recursion_limit = "1024"]
//! The JSON API under `/api/v1`: thin handlers that read the request, call a use case and
//! answer JSON or problem+json (RFC 9457, with a stable `type`), and the OpenAPI document.

pub mod agency;
pub mod auth;
pub mod catalogue;
pub mod dashboard;
pub mod documents;
pub mod error;
pub mod export;
pub mod extract;
pub mod journal;
pub mod members;
pub mod notify;
pub mod openapi;
pub mod pairwise;
pub mod problem;
pub mod requests;

use axum::Router;
use liasse_app::App;

use crate::error::ApiError;

/// Every API route, to be nested under `/api/v1`.
pub fn routes() -> Router<App> {
    Router::new()
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
        .fallback(|| async { ApiError(liasse_app::AppError::NotFound) })
        .layer(axum::middleware::map_response(problem::ensure_problem))
        // Outermost: a service client's answers, problems included, carry pairwise ids only.
        .layer(axum::middleware::from_fn(pairwise::boundary))
}
