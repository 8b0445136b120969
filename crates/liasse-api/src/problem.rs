//! Errors as `application/problem+json` (RFC 9457) with a stable `type` and a French `detail`.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use liasse_http::problem::{problem, problem_with_errors};

use liasse_app::error::AppError;

use crate::error::ApiError;

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

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = liasse_http::status::of(&self.0);
        match self.0 {
            AppError::NotFound => problem(
                status,
                "not-found",
                "Introuvable",
                "La ressource demandée n'existe pas.",
            ),
            AppError::Unauthorized => {
                let mut r = problem(
                    status,
                    "unauthenticated",
                    "Authentification requise",
                    "Identifiez-vous pour accéder à cette ressource.",
                );
                r.headers_mut()
                    .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
                r
            }
            AppError::Forbidden => problem(
                status,
                "forbidden",
                "Action non autorisée",
                "Votre compte ne permet pas cette action.",
            ),
            AppError::Invalid { code, detail } => problem(status, code, "Requête invalide", detail),
            AppError::Refused(r) => problem(status, r.code(), "Fichier refusé", r.detail_fr()),
            AppError::TooLarge { limit } => problem(
                status,
                "file-too-large",
                "Fichier trop volumineux",
                format!(
                    "Le fichier dépasse la taille maximale autorisée ({}).",
                    human_size(limit)
                ),
            ),
            AppError::Conflict(m) => problem(status, "conflict", "Conflit", m),
            AppError::ConflictOf { code, detail } => problem(status, code, "Conflit", detail),
            AppError::Incomplete {
                code,
                detail,
                errors,
            } => problem_with_errors(status, code, "Demande incomplète", detail, errors),
            AppError::RateLimited { retry_after_secs } => {
                let mut r = problem(
                    status,
                    "too-many-attempts",
                    "Trop de tentatives",
                    format!(
                        "Trop de tentatives de connexion. Réessayez dans {}.",
                        liasse_app::auth::retry_wait_fr(retry_after_secs)
                    ),
                );
                if let Ok(v) = HeaderValue::from_str(&retry_after_secs.to_string()) {
                    r.headers_mut().insert(header::RETRY_AFTER, v);
                }
                r
            }
            AppError::StorageFull => problem(
                status,
                "storage-full",
                "Espace de stockage saturé",
                "Le stockage est momentanément plein : votre document n'a pas été enregistré. Réessayez plus tard.",
            ),
            AppError::Unavailable(what) => {
                tracing::warn!(service = %what, "dependency unavailable");
                let mut r = problem(
                    status,
                    "service-unavailable",
                    "Service indisponible",
                    "Un service nécessaire (antivirus, stockage) ne répond pas : rien n'a été enregistré. Réessayez plus tard.",
                );
                // A dependency down is usually back within a minute: say when to try again.
                r.headers_mut().insert(
                    header::RETRY_AFTER,
                    HeaderValue::from_static(liasse_http::status::UNAVAILABLE_RETRY_SECS),
                );
                r
            }
            e @ (AppError::Store(_) | AppError::Crypto(_) | AppError::Internal(_)) => {
                tracing::error!(error = %e, "internal error");
                problem(
                    status,
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
