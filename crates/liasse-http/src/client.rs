//! The client's address as the edge resolved it.

use std::convert::Infallible;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;

/// The client's address, for rate limiting (empty when unknown, e.g. in-process tests).
pub struct ClientIp(pub String);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        // The edge resolved it through the trusted proxies; the peer when it did not run.
        let resolved = parts
            .extensions
            .get::<crate::edge::ClientAddr>()
            .map(|c| c.0);
        let peer = || {
            parts
                .extensions
                .get::<ConnectInfo<std::net::SocketAddr>>()
                .map(|c| c.0.ip())
        };
        Ok(ClientIp(
            resolved
                .or_else(peer)
                .map(|ip| ip.to_string())
                .unwrap_or_default(),
        ))
    }
}
