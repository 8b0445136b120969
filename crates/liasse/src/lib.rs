#![recursion_limit = "1024"]
//! Liasse, the citizen document vault: the `liasse` command line and the wiring of the use
//! cases (liasse-app), the jobs (liasse-jobs), the API (liasse-api) and the pages
//! (liasse-web) into one server.

pub mod cli;
mod cli_identity;
mod cli_ops;
pub mod health;
pub mod router;

pub use router::router;

/// Serves Liasse on `listener` until `shutdown` resolves (see liasse_http::server::run).
pub async fn serve(
    listener: tokio::net::TcpListener,
    app: liasse_app::App,
    shutdown: impl std::future::Future<Output = ()> + Send,
) -> std::io::Result<()> {
    let router = router(app.clone());
    liasse_http::server::run(listener, app, router, shutdown).await
}
