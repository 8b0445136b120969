//! The pairwise boundary (a layer on `/api/v1`): an answer to a service client carries no
//! internal citizen id. Whatever route answered, its JSON body and its headers go through
//! `liasse_app::pairwise::rewrite`, which puts the client's pairwise id in place of every
//! citizen's and household member's id, so that a route added tomorrow cannot forget it. The
//! other way, the use cases read a service client's citizen ids through
//! `liasse_app::pairwise::citizen_named`.

use std::sync::{Arc, OnceLock};

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use liasse_app::app::App;
use liasse_app::auth::Principal;
use liasse_app::error::AppError;
use liasse_app::pairwise;

use crate::error::ApiError;

/// Where the `Caller` extractor leaves who called, for the boundary to read once the handler
/// answered (it cannot know before the route's extractor ran).
#[derive(Clone, Default)]
pub(crate) struct CallerSlot(Arc<OnceLock<(App, Principal)>>);

impl CallerSlot {
    pub(crate) fn fill(&self, app: &App, p: &Principal) {
        let _ = self.0.set((app.clone(), p.clone()));
    }
}

/// The largest JSON answer the boundary reads to rewrite (far above any listing's).
const MAX_JSON: usize = 64 * 1024 * 1024;

fn is_json(resp: &Response) -> bool {
    resp.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase())
        .is_some_and(|v| v == "application/json" || v.ends_with("+json"))
}

/// The layer: runs the route, then rewrites its answer when a service client called.
pub async fn boundary(mut req: Request, next: Next) -> Response {
    let slot = CallerSlot::default();
    req.extensions_mut().insert(slot.clone());
    let resp = next.run(req).await;
    let Some((app, p)) = slot.0.get() else {
        return resp;
    };
    if !pairwise::applies(p) {
        return resp;
    }
    // Never the answer as it was: if it cannot be rewritten, an error instead.
    match rewrite(app, p, resp).await {
        Ok(r) => r,
        Err(e) => ApiError(e).into_response(),
    }
}

async fn rewrite(app: &App, p: &Principal, resp: Response) -> Result<Response, AppError> {
    let json = is_json(&resp);
    let (mut parts, body) = resp.into_parts();
    for value in parts.headers.values_mut() {
        let Ok(text) = value.to_str() else { continue };
        if let Some(new) = pairwise::rewrite_text(app, p, text).await? {
            *value = HeaderValue::from_str(&new)
                .map_err(|e| AppError::Internal(format!("pairwise header: {e}")))?;
        }
    }
    // Other bodies are a document's own bytes, given as they were deposited.
    if !json {
        return Ok(Response::from_parts(parts, body));
    }
    let bytes = axum::body::to_bytes(body, MAX_JSON)
        .await
        .map_err(|e| AppError::Internal(format!("pairwise body: {e}")))?;
    if bytes.is_empty() {
        return Ok(Response::from_parts(parts, Body::empty()));
    }
    let mut value: serde_json::Value = serde_json::from_slice(&bytes)
        .map_err(|e| AppError::Internal(format!("pairwise body: {e}")))?;
    pairwise::rewrite(app, p, &mut value).await?;
    let out = serde_json::to_vec(&value)
        .map_err(|e| AppError::Internal(format!("pairwise body: {e}")))?;
    parts.headers.remove(header::CONTENT_LENGTH);
    Ok(Response::from_parts(parts, Body::from(out)))
}
