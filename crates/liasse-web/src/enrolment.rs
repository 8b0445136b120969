//! The enrolment page: the holder of a staff account opens the link they received by e-mail
//! and chooses their password. A public page (no session yet), protected against forgery
//! like the login form (a token in a cookie that the form repeats).
//!
//! The link's secret travels in the query string (`/activation?jeton=...`) and then in the
//! form's body, never in the path, so the request log (which records paths) never holds it.

use askama::Template;
use axum::Router;
use axum::extract::{Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use axum::routing::get;
use serde::Deserialize;

use crate::chrome::Chrome;
use crate::error::describe;
use crate::public::{COOKIE_NOT_RETURNED, login_cookie, login_cookie_name};
use crate::session::read_form;
use crate::{WebError, render_status};
use liasse_app::app::App;
use liasse_app::auth;
use liasse_app::enrolment::{self, Link};
use liasse_app::error::AppError;
use liasse_http::cookies::cookie_value;
use liasse_http::cookies::ct_eq;

pub fn routes() -> Router<App> {
    Router::new().route("/activation", get(page).post(submit))
}

#[derive(Deserialize)]
struct LinkQuery {
    jeton: Option<String>,
}

/// What the page shows: the form, the end, or why the link does not work.
#[derive(PartialEq, Eq)]
enum Step {
    Form,
    Done,
    Refused,
}

#[derive(Template)]
#[template(path = "enrolment.html")]
struct EnrolmentPage {
    chrome: Chrome,
    step: Step,
    /// The anti-forgery token of the form.
    token: String,
    secret: String,
    login: String,
    tenant: String,
    message: String,
    error: Option<String>,
}

impl EnrolmentPage {
    fn is_form(&self) -> bool {
        self.step == Step::Form
    }

    fn is_done(&self) -> bool {
        self.step == Step::Done
    }
}

/// The anti-forgery cookie is the login form's: its name and its header come from the login
/// page, so both forms follow `secure_cookies` alike.
pub(crate) fn form_cookie_name(app: &App) -> &'static str {
    login_cookie_name(app)
}

pub(crate) fn form_cookie(app: &App, token: &str) -> HeaderValue {
    login_cookie(app, token)
}

/// The form's token: the one of an open login or enrolment page, or a new one.
pub(crate) fn form_token(app: &App, headers: &HeaderMap) -> String {
    cookie_value(headers, form_cookie_name(app))
        .filter(|t| {
            t.len() == 48
                && t.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        })
        .unwrap_or_else(|| auth::new_secret("login").chars().take(48).collect())
}

/// Why a link cannot be used, in French, with the status to answer.
fn refusal(link: &Link) -> (StatusCode, &'static str) {
    match link {
        Link::Used => (
            StatusCode::GONE,
            "Ce lien d'activation a déjà servi : le mot de passe du compte est choisi. Connectez-vous, ou demandez un nouveau lien à l'administration de votre collectivité si vous l'avez oublié.",
        ),
        Link::Replaced => (
            StatusCode::GONE,
            "Ce lien d'activation a été remplacé par un lien plus récent : utilisez le dernier message reçu.",
        ),
        Link::Expired => (
            StatusCode::GONE,
            "Ce lien d'activation a expiré : il n'est valable que 48 heures. Demandez-en un nouveau à l'administration de votre collectivité.",
        ),
        Link::Unknown | Link::Valid { .. } => (
            StatusCode::NOT_FOUND,
            "Ce lien d'activation n'est pas valable. Vérifiez que vous avez copié l'adresse entière, ou demandez un nouveau lien à l'administration de votre collectivité.",
        ),
    }
}

async fn tenant_of(app: &App, tenant_id: &str) -> Option<liasse_app::tenants::Tenant> {
    liasse_app::tenants::by_id(app, tenant_id).await.ok()
}

async fn show(
    app: &App,
    link: Link,
    secret: String,
    token: String,
    error: Option<String>,
    status: StatusCode,
) -> Result<Response, WebError> {
    let page = match link {
        Link::Valid { account, .. } => {
            let tenant = tenant_of(app, &account.tenant_id).await;
            EnrolmentPage {
                chrome: Chrome::for_tenant("Choisir votre mot de passe", tenant.as_ref()),
                step: Step::Form,
                token: token.clone(),
                secret,
                login: account.login,
                tenant: tenant.map(|t| t.slug).unwrap_or_default(),
                message: String::new(),
                error,
            }
        }
        other => {
            let (status, message) = refusal(&other);
            let page = EnrolmentPage {
                chrome: Chrome::bare("Lien d'activation"),
                step: Step::Refused,
                token: String::new(),
                secret: String::new(),
                login: String::new(),
                tenant: String::new(),
                message: message.into(),
                error: None,
            };
            return render_status(status, &page);
        }
    };
    let mut resp = render_status(status, &page)?;
    resp.headers_mut()
        .append(header::SET_COOKIE, form_cookie(app, &token));
    Ok(resp)
}

async fn page(
    State(app): State<App>,
    headers: HeaderMap,
    Query(q): Query<LinkQuery>,
) -> Result<Response, WebError> {
    let secret = q.jeton.unwrap_or_default();
    let link = enrolment::check(&app, &secret).await?;
    show(
        &app,
        link,
        secret,
        form_token(&app, &headers),
        None,
        StatusCode::OK,
    )
    .await
}

async fn submit(State(app): State<App>, req: Request) -> Result<Response, WebError> {
    let cookie = cookie_value(req.headers(), form_cookie_name(&app)).unwrap_or_default();
    let f = read_form(req.into_body()).await?;
    let token = f.text("csrf");
    let secret = f.text("jeton");
    if cookie.is_empty() {
        // Not a forged form: the browser dropped the cookie (a `Secure` cookie over plain
        // HTTP). Say why, with a fresh form; nothing is tried.
        let link = enrolment::check(&app, &secret).await?;
        let fresh = form_token(&app, &HeaderMap::new());
        return show(
            &app,
            link,
            secret,
            fresh,
            Some(COOKIE_NOT_RETURNED.into()),
            StatusCode::FORBIDDEN,
        )
        .await;
    }
    if !ct_eq(&token, &cookie) {
        return Err(WebError::Csrf);
    }
    let password = f.get("password").unwrap_or_default().to_string();
    if password != f.get("confirmation").unwrap_or_default() {
        let link = enrolment::check(&app, &secret).await?;
        return show(
            &app,
            link,
            secret,
            token,
            Some("Les deux mots de passe saisis ne sont pas identiques.".into()),
            StatusCode::BAD_REQUEST,
        )
        .await;
    }
    match enrolment::complete(&app, &secret, &password).await {
        Ok(Link::Valid { account, .. }) => {
            let tenant = tenant_of(&app, &account.tenant_id).await;
            let page = EnrolmentPage {
                chrome: Chrome::for_tenant("Compte activé", tenant.as_ref()),
                step: Step::Done,
                token: String::new(),
                secret: String::new(),
                login: account.login,
                tenant: tenant.map(|t| t.slug).unwrap_or_default(),
                message: String::new(),
                error: None,
            };
            render_status(StatusCode::OK, &page)
        }
        Ok(other) => show(&app, other, String::new(), token, None, StatusCode::OK).await,
        Err(e @ AppError::Invalid { .. }) => {
            let (status, _, detail) = describe(&e);
            let link = enrolment::check(&app, &secret).await?;
            show(&app, link, secret, token, Some(detail), status).await
        }
        Err(e) => Err(e.into()),
    }
}
