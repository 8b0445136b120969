//! Problem documents (`application/problem+json`, RFC 9457) with a stable `type` and a French
//! `detail`: the API's errors, and the edge's own refusals before any route runs.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

#[derive(Serialize)]
struct Problem {
    #[serde(rename = "type")]
    type_: String,
    title: &'static str,
    status: u16,
    detail: String,
    /// Each field at fault, for problems about several fields.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    errors: Vec<liasse_domain::procedure::Gap>,
}

/// The problem type URI of a code; stable, part of the API contract.
pub fn type_uri(code: &str) -> String {
    format!("https://liasse.fr/problems/{code}")
}

pub fn problem(
    status: StatusCode,
    code: &str,
    title: &'static str,
    detail: impl Into<String>,
) -> Response {
    problem_with_errors(status, code, title, detail, Vec::new())
}

/// A problem that lists the fields at fault (`errors`: `{field, detail}`).
pub fn problem_with_errors(
    status: StatusCode,
    code: &str,
    title: &'static str,
    detail: impl Into<String>,
    errors: Vec<liasse_domain::procedure::Gap>,
) -> Response {
    let body = Problem {
        type_: type_uri(code),
        title,
        status: status.as_u16(),
        detail: detail.into(),
        errors,
    };
    let mut resp = (status, axum::Json(body)).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/problem+json"),
    );
    resp
}
