//! The pages' core: layout, sessions, errors, formats, assets and the public pages (home, login,
//! enrolment). The spaces' pages live in liasse-web-citizen, liasse-web-agent and liasse-web-admin.
//!
//! Handlers are thin, as in the API: they read the form, call the same services as the JSON
//! handlers, and render the result. Every page carries strict security headers (no inline
//! script or style), every form carries the session's CSRF token, and every unsafe handler
//! checks it before doing anything (see [`session::Posted`]).

pub mod assets;
pub mod chrome;
pub mod document_items;
pub mod enrolment;
pub mod error;
pub mod federated;
pub mod fmt;
pub mod public;
pub mod request_history;
pub mod roles;
pub mod second_factor;
pub mod session;
pub mod signup;
pub mod theme;
pub mod type_groups;
pub mod upload;

use askama::Template;
use axum::Router;
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};

use liasse_app::app::App;
use liasse_app::error::AppError;

pub use error::WebError;
pub use session::{Posted, PostedMultipart, Session, Visitor};

/// The pages' Content-Security-Policy: nothing inline, nothing from elsewhere.
pub const PAGE_CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; frame-src 'self'; object-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'";

/// What a previewed document may do: nothing (no script, no plugin, no request).
pub const PREVIEW_CSP: &str = "sandbox; default-src 'none'";

/// The camera is allowed for this origin only (capture of a document with a phone).
pub const PERMISSIONS_POLICY: &str =
    "camera=(self), microphone=(), geolocation=(), payment=(), usb=()";

/// The core's own pages: home, login, assets, enrolment.
pub fn routes() -> Router<App> {
    Router::new()
        .merge(public::routes())
        .merge(federated::routes())
        .merge(second_factor::routes())
        .merge(signup::routes())
        .merge(assets::routes())
        .merge(enrolment::routes())
}

/// Puts the pages' security headers on every page of `pages` (the core's and each space's:
/// `liasse-web-citizen`, `liasse-web-agent`, `liasse-web-admin`, which compile apart).
pub fn pages(pages: Router<App>) -> Router<App> {
    pages.layer(axum::middleware::map_response(security_headers))
}

/// Sets the pages' security headers; a handler that set its own CSP (document previews)
/// keeps it.
async fn security_headers(mut resp: Response) -> Response {
    let h = resp.headers_mut();
    if !h.contains_key(header::CONTENT_SECURITY_POLICY) {
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(PAGE_CSP),
        );
    }
    if !h.contains_key(header::X_FRAME_OPTIONS) {
        h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    }
    if !h.contains_key(header::CACHE_CONTROL) {
        // Pages show personal data: nothing is kept by the browser or a proxy.
        h.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("private, no-store"),
        );
    }
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    h.insert(
        HeaderName::from_static("permissions-policy"),
        HeaderValue::from_static(PERMISSIONS_POLICY),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        HeaderName::from_static("cross-origin-opener-policy"),
        HeaderValue::from_static("same-origin"),
    );
    resp
}

/// Renders a template as an HTML page.
pub fn render<T: Template>(t: &T) -> Result<Response, WebError> {
    render_status(StatusCode::OK, t)
}

pub fn render_status<T: Template>(status: StatusCode, t: &T) -> Result<Response, WebError> {
    let body = t
        .render()
        .map_err(|e| AppError::Internal(format!("template: {e}")))?;
    Ok((status, Html(body)).into_response())
}

/// Post/redirect/get: after a change, the browser shows the page again with a message.
pub fn see_other(path: &str) -> Response {
    Redirect::to(path).into_response()
}

/// A message shown once after a change, chosen by code (never text from the query string).
pub fn flash_message(code: &str) -> Option<&'static str> {
    Some(match code {
        "depose" => {
            "Votre pièce a été déposée. Elle sera vérifiée par les services de la collectivité."
        }
        "remplace" => "La nouvelle version a été enregistrée. Elle sera vérifiée à nouveau.",
        "supprime" => "La pièce a été supprimée. Son contenu ne peut plus être lu par personne.",
        "membre" => "La personne a été ajoutée à votre foyer.",
        "membre-retire" => "La personne a été retirée de votre foyer.",
        "partage" => "Le partage a été accordé.",
        "partage-retire" => "Le partage a été retiré : plus personne ne peut s'en servir.",
        "demande" => "Votre demande a été créée. Joignez les pièces demandées puis envoyez-la.",
        "joint" => "La pièce a été jointe à la demande.",
        "retire" => "La pièce a été retirée de la demande (elle reste dans votre porte-documents).",
        "reponses" => "Vos réponses ont été enregistrées.",
        "envoyee" => "Votre demande a été envoyée.",
        "lu" => "La notification a été marquée comme lue.",
        "preferences" => "Vos préférences ont été enregistrées.",
        "examen" => "La décision sur la pièce a été enregistrée.",
        "verrou" => "Vous avez verrouillé la demande.",
        "deverrou" => "Vous avez déverrouillé la demande.",
        "note" => "La note a été ajoutée.",
        "courrier" => "Le courrier a été déposé dans le porte-documents de l'usager.",
        "etat" => "L'état de la demande a été changé.",
        "depot-guichet" => "Le document a été déposé dans le porte-documents de l'usager.",
        "type" => "Le type de pièce a été enregistré.",
        "type-retire" => "Le type de pièce a été retiré du catalogue.",
        "demarche" => "La démarche a été enregistrée.",
        "agent" => {
            "Le compte a été créé. Un lien pour choisir son mot de passe a été envoyé à l'adresse de l'agent."
        }
        "droits" => "Les droits ont été enregistrés.",
        "desactive" => "Le compte a été désactivé : il ne peut plus se connecter.",
        "reactive" => "Le compte a été réactivé.",
        "apparence" => "L'apparence a été enregistrée.",
        "reglages" => "Les réglages ont été enregistrés.",
        "service" => "Le service du compte a été enregistré.",
        "adresse" => {
            "L'adresse a été changée. Un lien d'activation a été envoyé à la nouvelle adresse ; l'ancien mot de passe ne fonctionne plus."
        }
        "lien" => {
            "Un nouveau lien d'activation a été envoyé à l'agent ; l'ancien mot de passe ne fonctionne plus."
        }
        "service-cree" => "Le service a été créé.",
        "service-renomme" => "Le service a été renommé.",
        _ => return None,
    })
}

/// Only local paths are accepted as a destination after login (no open redirect).
pub fn local_path(next: &str) -> Option<&str> {
    let ok = next.starts_with('/')
        && !next.starts_with("//")
        && !next.starts_with("/\\")
        && !next.chars().any(|c| c.is_control());
    ok.then_some(next)
}

/// One error of a form, tied to a field (its `id`) or to the whole form (`field` empty).
pub struct FieldError {
    pub field: String,
    pub message: String,
}

/// The errors of a form, shown in a summary at the top (linking to the fields) and next to
/// each field (`aria-describedby`, `aria-invalid`).
#[derive(Default)]
pub struct FormErrors {
    pub items: Vec<FieldError>,
}

impl FormErrors {
    pub fn none() -> FormErrors {
        FormErrors::default()
    }

    /// A service error as a form error: the status to answer with and the message.
    pub fn from_app(e: &AppError, field: &str) -> (StatusCode, FormErrors) {
        let (status, _, detail) = error::describe(e);
        (
            status,
            FormErrors {
                items: vec![FieldError {
                    field: field.to_string(),
                    message: detail,
                }],
            },
        )
    }

    pub fn any(&self) -> bool {
        !self.items.is_empty()
    }

    pub fn has(&self, field: &str) -> bool {
        self.items.iter().any(|e| e.field == field)
    }

    pub fn msg(&self, field: &str) -> &str {
        self.items
            .iter()
            .find(|e| e.field == field)
            .map(|e| e.message.as_str())
            .unwrap_or_default()
    }
}

/// One option of a form's list.
pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}
