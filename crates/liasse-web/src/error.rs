//! Errors of the web pages: a French HTML page with the right status, or a redirect to the
//! login page when the session is missing or over.

use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use liasse_app::text::capitalise;

use crate::chrome::Chrome;
use liasse_app::error::AppError;
use liasse_http::status;

#[derive(Debug)]
pub enum WebError {
    App(AppError),
    /// No session (or an expired one): go and log in, then come back.
    Login {
        next: String,
    },
    /// The form's anti-forgery token is missing or wrong: nothing was done.
    Csrf,
    /// A form that cannot be read.
    BadForm,
}

impl From<AppError> for WebError {
    fn from(e: AppError) -> Self {
        WebError::App(e)
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    chrome: Chrome,
    heading: String,
    detail: String,
}

/// The French wording of an error: (status, heading, explanation). The status comes from
/// the one table the API uses too (`liasse_http::status::of`).
pub fn describe(e: &AppError) -> (StatusCode, String, String) {
    let (heading, detail) = wording(e);
    (status::of(e), heading, detail)
}

/// The heading and explanation of an error page.
fn wording(e: &AppError) -> (String, String) {
    match e {
        AppError::NotFound => (
            "Page introuvable".into(),
            "Ce que vous cherchez n'existe pas, ou vous n'avez pas le droit de le voir.".into(),
        ),
        AppError::Unauthorized => (
            "Connexion nécessaire".into(),
            "Connectez-vous pour accéder à cette page.".into(),
        ),
        AppError::Forbidden => (
            "Action non autorisée".into(),
            "Votre compte ne permet pas cette action.".into(),
        ),
        AppError::Invalid { detail, .. } => ("Saisie à corriger".into(), capitalise(detail)),
        AppError::Refused(r) => ("Fichier refusé".into(), capitalise(&r.detail_fr())),
        AppError::TooLarge { limit } => (
            "Fichier trop volumineux".into(),
            format!(
                "Le fichier dépasse la taille maximale autorisée ({}).",
                crate::fmt::size_fr(*limit as i64)
            ),
        ),
        AppError::Conflict(m) | AppError::ConflictOf { detail: m, .. } => {
            ("Action impossible pour le moment".into(), capitalise(m))
        }
        AppError::Incomplete { detail, .. } => ("Demande incomplète".into(), capitalise(detail)),
        AppError::RateLimited { retry_after_secs } => (
            "Trop de tentatives".into(),
            format!(
                "Trop de tentatives de connexion. Réessayez dans {}.",
                liasse_app::auth::retry_wait_fr(*retry_after_secs)
            ),
        ),
        AppError::StorageFull => (
            "Espace de stockage saturé".into(),
            "Le stockage est momentanément plein : rien n'a été enregistré. Réessayez plus tard."
                .into(),
        ),
        AppError::Unavailable(what) => {
            tracing::warn!(service = %what, "dependency unavailable");
            (
                "Service indisponible".into(),
                "Un service nécessaire (antivirus, stockage) ne répond pas : rien n'a été enregistré. Réessayez plus tard.".into(),
            )
        }
        e @ (AppError::Store(_) | AppError::Crypto(_) | AppError::Internal(_)) => {
            tracing::error!(error = %e, "internal error");
            (
                "Erreur interne".into(),
                "Une erreur interne est survenue ; elle a été enregistrée. Réessayez plus tard."
                    .into(),
            )
        }
    }
}

fn page(status: StatusCode, heading: String, detail: String) -> Response {
    let page = ErrorPage {
        chrome: Chrome::bare(&heading),
        heading,
        detail,
    };
    match page.render() {
        Ok(body) => (status, Html(body)).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "error page template");
            (status, "Erreur").into_response()
        }
    }
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        match self {
            WebError::Login { next } => login_redirect(&next),
            WebError::App(AppError::Unauthorized) => login_redirect("/"),
            WebError::Csrf => page(
                StatusCode::FORBIDDEN,
                "Formulaire expiré ou invalide".into(),
                "Le jeton de sécurité du formulaire est absent ou ne correspond pas à votre session : rien n'a été fait. Revenez à la page précédente, rechargez-la et recommencez.".into(),
            ),
            WebError::BadForm => page(
                StatusCode::BAD_REQUEST,
                "Formulaire illisible".into(),
                "Le formulaire envoyé n'a pas pu être lu : rien n'a été fait.".into(),
            ),
            WebError::App(e) => {
                let (status, heading, detail) = describe(&e);
                page(status, heading, detail)
            }
        }
    }
}

fn login_redirect(next: &str) -> Response {
    let target = match crate::local_path(next) {
        Some(n) if n != "/" => format!("/connexion?suite={}", crate::fmt::urlencode(n)),
        _ => "/connexion".to_string(),
    };
    Redirect::to(&target).into_response()
}
