//! Who is calling: a bearer token, or a session cookie (with a CSRF token on unsafe
//! methods). Password login creates the session.

use axum::extract::{FromRequest, FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use liasse_http::client::ClientIp;
use liasse_http::cookies::{cookie_value, ct_eq, session_cookie, set_cookie};
use serde::Deserialize;

use crate::error::ApiError;

use crate::extract::Path;
use liasse_app::app::App;
use liasse_app::auth::{self, Principal};
use liasse_app::error::AppError;

pub const CSRF_HEADER: &str = "x-csrf-token";

/// Who calls the API: a bearer token, or a session cookie with its CSRF token on unsafe
/// methods.
pub struct Caller(pub Principal);

impl FromRequestParts<App> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Self, Self::Rejection> {
        let caller = Self::resolve(parts, app).await?;
        // The pairwise boundary reads who called once the route answered.
        if let Some(slot) = parts.extensions.get::<crate::pairwise::CallerSlot>() {
            slot.fill(app, &caller.0);
        }
        Ok(caller)
    }
}

impl Caller {
    async fn resolve(parts: &Parts, app: &App) -> Result<Self, ApiError> {
        if let Some(value) = parts.headers.get(header::AUTHORIZATION) {
            let token = value
                .to_str()
                .ok()
                .and_then(|v| {
                    v.strip_prefix("Bearer ")
                        .or_else(|| v.strip_prefix("bearer "))
                })
                .ok_or(ApiError(AppError::Unauthorized))?;
            return auth::principal_from_token(app, token.trim())
                .await?
                .map(Caller)
                .ok_or(ApiError(AppError::Unauthorized));
        }
        let Some(session) = cookie_value(&parts.headers, session_cookie(app)) else {
            return Err(AppError::Unauthorized.into());
        };
        let (principal, csrf) = auth::principal_from_session(app, &session)
            .await?
            .ok_or(ApiError(AppError::Unauthorized))?;
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
                )
                .into());
            }
        }
        Ok(Caller(principal))
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
    /// The second factor of an account that has one: the 6-digit code, or a recovery code.
    #[serde(default)]
    code: Option<String>,
}

/// Password login; answers with the session cookie and the CSRF token to send back in
/// `X-CSRF-Token` on unsafe requests.
async fn login(
    State(app): State<App>,
    ClientIp(client): ClientIp,
    req: axum::extract::Request,
) -> Result<Response, ApiError> {
    // JSON only: a cross-site form cannot send it without a CORS preflight (login CSRF).
    // Checked before the body is read, which the edge bounds (max_body_bytes).
    if !crate::extract::has_content_type(req.headers(), "application/json") {
        return Ok(crate::extract::unsupported_media_type("application/json"));
    }
    let body = match axum::body::Bytes::from_request(req, &app).await {
        Ok(b) => b,
        Err(rejection) => return Ok(rejection.into_response()),
    };
    let body: LoginBody = liasse_app::error::json_object(&body)?;
    let (session, csrf, principal) = auth::second_factor::login_with_code(
        &app,
        &body.tenant,
        &body.login,
        &body.password,
        body.code.as_deref(),
        &client,
    )
    .await?;
    let cookie = set_cookie(&app, session_cookie(&app), &session, "Lax", 28800);
    let mut resp = (
        StatusCode::OK,
        Json(serde_json::json!({ "csrf_token": csrf, "account": principal.account_id, "role": principal.role })),
    )
        .into_response();
    resp.headers_mut().insert(header::SET_COOKIE, cookie);
    Ok(resp)
}

async fn logout(
    State(app): State<App>,
    headers: HeaderMap,
    Caller(_p): Caller,
) -> Result<Response, ApiError> {
    if let Some(session) = cookie_value(&headers, session_cookie(&app)) {
        auth::logout(&app, &session).await?;
    }
    let mut resp = StatusCode::NO_CONTENT.into_response();
    resp.headers_mut().insert(
        header::SET_COOKIE,
        set_cookie(&app, session_cookie(&app), "", "Lax", 0),
    );
    Ok(resp)
}

/// The caller's own API tokens, newest first (never their secrets).
async fn own_tokens(
    State(app): State<App>,
    Caller(p): Caller,
) -> Result<Json<Vec<auth::TokenView>>, ApiError> {
    Ok(Json(auth::own_tokens(&app, &p).await?))
}

/// Revokes one of the caller's own tokens; any other id is not found.
async fn revoke_token(
    State(app): State<App>,
    Caller(p): Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    auth::revoke_own_token(&app, &p, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
