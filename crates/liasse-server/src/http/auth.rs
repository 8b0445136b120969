//! Who is calling: a bearer token, or a session cookie (with a CSRF token on unsafe
//! methods). Password login creates the session.

use axum::extract::{ConnectInfo, FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use serde::Deserialize;
use std::convert::Infallible;
use subtle_eq::ct_eq;

use crate::app::App;
use crate::error::AppError;
use crate::http::extract::Path;
use crate::services::auth::{self, Principal};

/// The session cookie; `__Host-` makes browsers require Secure, Path=/ and no Domain.
pub const SESSION_COOKIE: &str = "__Host-liasse";
pub const CSRF_HEADER: &str = "x-csrf-token";

mod subtle_eq {
    /// Compares secrets without leaking where they differ.
    pub fn ct_eq(a: &str, b: &str) -> bool {
        a.len() == b.len()
            && a.bytes()
                .zip(b.bytes())
                .fold(0u8, |acc, (x, y)| acc | (x ^ y))
                == 0
    }
}

pub fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

impl FromRequestParts<App> for Principal {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Self, Self::Rejection> {
        if let Some(value) = parts.headers.get(header::AUTHORIZATION) {
            let token = value
                .to_str()
                .ok()
                .and_then(|v| {
                    v.strip_prefix("Bearer ")
                        .or_else(|| v.strip_prefix("bearer "))
                })
                .ok_or(AppError::Unauthorized)?;
            return auth::principal_from_token(app, token.trim())
                .await?
                .ok_or(AppError::Unauthorized);
        }
        let Some(session) = cookie_value(&parts.headers, SESSION_COOKIE) else {
            return Err(AppError::Unauthorized);
        };
        let (principal, csrf) = auth::principal_from_session(app, &session)
            .await?
            .ok_or(AppError::Unauthorized)?;
        let safe = matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS);
        if !safe {
            let sent = parts
                .headers
                .get(CSRF_HEADER)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            if !ct_eq(sent, &csrf) {
                return Err(AppError::invalid(
                    "csrf-token-invalid",
                    "le jeton anti-falsification (CSRF) est absent ou invalide",
                ));
            }
        }
        Ok(principal)
    }
}

pub fn routes() -> Router<App> {
    Router::new()
        .route("/session", post(login).delete(logout))
        .route("/tokens", get(own_tokens))
        .route("/tokens/{id}", delete(revoke_token))
}

#[derive(Deserialize)]
struct LoginBody {
    tenant: String,
    login: String,
    password: String,
}

/// Password login; answers with the session cookie and the CSRF token to send back in
/// `X-CSRF-Token` on unsafe requests.
/// The client's address, for rate limiting (empty when unknown, e.g. in-process tests).
pub struct ClientIp(pub String);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientIp(
            parts
                .extensions
                .get::<ConnectInfo<std::net::SocketAddr>>()
                .map(|c| c.0.ip().to_string())
                .unwrap_or_default(),
        ))
    }
}

async fn login(
    State(app): State<App>,
    ClientIp(client): ClientIp,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Response, AppError> {
    // JSON only: a cross-site form cannot send it without a CORS preflight (login CSRF).
    if !crate::http::extract::has_content_type(&headers, "application/json") {
        return Ok(crate::http::extract::unsupported_media_type(
            "application/json",
        ));
    }
    let body: LoginBody = crate::error::json_object(&body)?;
    let (session, csrf, principal) =
        auth::login(&app, &body.tenant, &body.login, &body.password, &client).await?;
    let cookie = format!(
        "{SESSION_COOKIE}={session}; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age=28800"
    );
    let mut resp = (
        StatusCode::OK,
        Json(serde_json::json!({ "csrf_token": csrf, "account": principal.account_id, "role": principal.role })),
    )
        .into_response();
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        resp.headers_mut().insert(header::SET_COOKIE, v);
    }
    Ok(resp)
}

async fn logout(
    State(app): State<App>,
    headers: HeaderMap,
    _p: Principal,
) -> Result<Response, AppError> {
    if let Some(session) = cookie_value(&headers, SESSION_COOKIE) {
        auth::logout(&app, &session).await?;
    }
    let mut resp = StatusCode::NO_CONTENT.into_response();
    resp.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static(
            "__Host-liasse=; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age=0",
        ),
    );
    Ok(resp)
}

/// The caller's own API tokens, newest first (never their secrets).
async fn own_tokens(
    State(app): State<App>,
    p: Principal,
) -> Result<Json<Vec<auth::TokenView>>, AppError> {
    Ok(Json(auth::own_tokens(&app, &p).await?))
}

/// Revokes one of the caller's own tokens; any other id is not found.
async fn revoke_token(
    State(app): State<App>,
    p: Principal,
    Path(id): Path<String>,
) -> Result<StatusCode, AppError> {
    auth::revoke_own_token(&app, &p, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
