//! Errors as `application/problem+json` (RFC 9457) with a stable `type` and a French `detail`.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::error::AppError;

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

/// Whether a response already is a problem document.
fn is_problem(resp: &Response) -> bool {
    resp.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/problem+json"))
}

/// The API's safety net (a `map_response` layer on `/api/v1`): an error answered by axum
/// itself rather than by a handler (an unknown route, a method the route does not take, an
/// extractor's rejection) becomes a problem document too. Its other headers (`Allow`,
/// `WWW-Authenticate`) are kept.
pub async fn ensure_problem(resp: Response) -> Response {
    let status = resp.status();
    if !(status.is_client_error() || status.is_server_error()) || is_problem(&resp) {
        return resp;
    }
    use StatusCode as S;
    let (code, title, detail) = match status {
        S::NOT_FOUND => (
            "not-found",
            "Introuvable",
            "La ressource demandée n'existe pas.",
        ),
        S::METHOD_NOT_ALLOWED => (
            "method-not-allowed",
            "Méthode non autorisée",
            "Cette adresse n'accepte pas cette méthode HTTP (voir l'en-tête Allow).",
        ),
        S::PAYLOAD_TOO_LARGE => (
            "request-too-large",
            "Requête trop volumineuse",
            "Le corps de la requête dépasse la taille autorisée.",
        ),
        S::UNSUPPORTED_MEDIA_TYPE => (
            "unsupported-media-type",
            "Format de requête non accepté",
            "Le type du corps de la requête (Content-Type) n'est pas celui attendu.",
        ),
        s if s.is_server_error() => {
            tracing::error!(status = %s, "error answered outside the handlers");
            (
                "internal-error",
                "Erreur interne",
                "Une erreur interne est survenue ; elle a été enregistrée.",
            )
        }
        _ => (
            "invalid-request",
            "Requête invalide",
            "La requête est mal formée.",
        ),
    };
    let mut out = problem(status, code, title, detail);
    for (name, value) in resp.headers() {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            out.headers_mut().append(name.clone(), value.clone());
        }
    }
    out
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        use StatusCode as S;
        match self {
            AppError::NotFound => problem(
                S::NOT_FOUND,
                "not-found",
                "Introuvable",
                "La ressource demandée n'existe pas.",
            ),
            AppError::Unauthorized => {
                let mut r = problem(
                    S::UNAUTHORIZED,
                    "unauthenticated",
                    "Authentification requise",
                    "Identifiez-vous pour accéder à cette ressource.",
                );
                r.headers_mut()
                    .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
                r
            }
            AppError::Forbidden => problem(
                S::FORBIDDEN,
                "forbidden",
                "Action non autorisée",
                "Votre compte ne permet pas cette action.",
            ),
            AppError::Invalid { code, detail } => {
                problem(S::BAD_REQUEST, code, "Requête invalide", detail)
            }
            AppError::Refused(r) => {
                let status = match r {
                    liasse_inspect::Refusal::UnknownFormat
                    | liasse_inspect::Refusal::FormatNotAllowed { .. } => S::UNSUPPORTED_MEDIA_TYPE,
                    _ => S::UNPROCESSABLE_ENTITY,
                };
                problem(status, r.code(), "Fichier refusé", r.detail_fr())
            }
            AppError::TooLarge { limit } => problem(
                S::PAYLOAD_TOO_LARGE,
                "file-too-large",
                "Fichier trop volumineux",
                format!(
                    "Le fichier dépasse la taille maximale autorisée ({}).",
                    human_size(limit)
                ),
            ),
            AppError::Conflict(m) => problem(S::CONFLICT, "conflict", "Conflit", m),
            AppError::ConflictOf { code, detail } => problem(S::CONFLICT, code, "Conflit", detail),
            AppError::Incomplete {
                code,
                detail,
                errors,
            } => problem_with_errors(
                S::UNPROCESSABLE_ENTITY,
                code,
                "Demande incomplète",
                detail,
                errors,
            ),
            AppError::RateLimited { retry_after_secs } => {
                let mut r = problem(
                    S::TOO_MANY_REQUESTS,
                    "too-many-attempts",
                    "Trop de tentatives",
                    format!(
                        "Trop de tentatives de connexion. Réessayez dans {}.",
                        crate::services::auth::retry_wait_fr(retry_after_secs)
                    ),
                );
                if let Ok(v) = HeaderValue::from_str(&retry_after_secs.to_string()) {
                    r.headers_mut().insert(header::RETRY_AFTER, v);
                }
                r
            }
            AppError::StorageFull => problem(
                S::INSUFFICIENT_STORAGE,
                "storage-full",
                "Espace de stockage saturé",
                "Le stockage est momentanément plein : votre document n'a pas été enregistré. Réessayez plus tard.",
            ),
            AppError::Unavailable(what) => {
                tracing::warn!(service = %what, "dependency unavailable");
                problem(
                    S::SERVICE_UNAVAILABLE,
                    "service-unavailable",
                    "Service indisponible",
                    "Un service nécessaire (antivirus, stockage) ne répond pas : rien n'a été enregistré. Réessayez plus tard.",
                )
            }
            e @ (AppError::Store(_) | AppError::Crypto(_) | AppError::Internal(_)) => {
                tracing::error!(error = %e, "internal error");
                problem(
                    S::INTERNAL_SERVER_ERROR,
                    "internal-error",
                    "Erreur interne",
                    "Une erreur interne est survenue ; elle a été enregistrée.",
                )
            }
        }
    }
}

fn human_size(bytes: u64) -> String {
    if bytes >= 1024 * 1024 {
        format!("{} Mo", bytes / (1024 * 1024))
    } else if bytes >= 1024 {
        format!("{} Ko", bytes / 1024)
    } else {
        format!("{bytes} octets")
    }
}
