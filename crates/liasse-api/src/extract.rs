//! The API's request extractors and body parsing, so that malformed input is answered like
//! every other error: `application/problem+json` with a stable `type` and a French `detail`
//! (axum's own extractors answer in plain English text), and nothing is changed.
//!
//! `Query`, `Path` and `Multipart` have the names and shapes of axum's, so that a handler
//! only changes its `use` line.

use crate::error::ApiError;
use std::ops::{Deref, DerefMut};

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;

use liasse_app::error::AppError;
pub use liasse_app::error::json_object;
use liasse_http::problem::problem;

/// A definition put at an address that names it (`PUT /document-types/{code}`,
/// `PUT /procedures/{code}`): the body's `code`, when given, must be the address's; when absent
/// it is taken from the address. A body that is not a definition is refused as `invalid`.
pub fn coded_body<T: DeserializeOwned>(
    body: &[u8],
    code: &str,
    invalid: &'static str,
) -> Result<T, AppError> {
    let mut value: serde_json::Value = json_object(body)?;
    if let Some(obj) = value.as_object_mut() {
        match obj.get("code") {
            Some(c) if c.as_str() != Some(code) => {
                return Err(AppError::invalid(
                    "code-mismatch",
                    "le code du corps diffère de celui de l'adresse",
                ));
            }
            _ => {
                obj.insert("code".into(), serde_json::Value::String(code.into()));
            }
        }
    }
    serde_json::from_value(value)
        .map_err(|e| AppError::invalid(invalid, format!("définition invalide : {e}")))
}

/// Query parameters; an unreadable query string is a 400 `invalid-query` problem.
pub struct Query<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(q) => Ok(Query(q.0)),
            Err(e) => Err(AppError::invalid(
                "invalid-query",
                format!("paramètres de l'adresse invalides ({})", e.body_text()),
            )
            .into()),
        }
    }
}

/// Path parameters; a segment of the wrong type (a version that is not a number) is a 400
/// `invalid-path` problem.
pub struct Path<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for Path<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(p) => Ok(Path(p.0)),
            // A route and its extractor that do not match is the server's fault.
            Err(e) if e.status().is_server_error() => Err(AppError::Internal(e.body_text()).into()),
            Err(e) => Err(AppError::invalid(
                "invalid-path",
                format!("l'adresse est invalide ({})", e.body_text()),
            )
            .into()),
        }
    }
}

/// A `multipart/form-data` body: another content type is a 415 `unsupported-media-type`
/// problem, an unreadable form a 400 `invalid-multipart` one.
pub struct Multipart(pub axum::extract::Multipart);

impl Deref for Multipart {
    type Target = axum::extract::Multipart;

    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl DerefMut for Multipart {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.0
    }
}

/// Whether the request says its body is `media_type` (ignoring parameters and case).
pub fn has_content_type(headers: &HeaderMap, media_type: &str) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case(media_type))
}

/// The 415 answer for a body of the wrong type.
pub fn unsupported_media_type(expected: &str) -> Response {
    problem(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported-media-type",
        "Format de requête non accepté",
        format!("le corps de la requête doit être de type {expected}"),
    )
}

impl<S: Send + Sync> FromRequest<S> for Multipart {
    type Rejection = Response;

    async fn from_request(req: Request, state: &S) -> Result<Self, Response> {
        if !has_content_type(req.headers(), "multipart/form-data") {
            return Err(unsupported_media_type(
                "multipart/form-data (un formulaire avec le champ « file »)",
            ));
        }
        match axum::extract::Multipart::from_request(req, state).await {
            Ok(mp) => Ok(Multipart(mp)),
            Err(e) => Err(ApiError(AppError::invalid(
                "invalid-multipart",
                format!("le formulaire multipart est illisible ({})", e.body_text()),
            ))
            .into_response()),
        }
    }
}
