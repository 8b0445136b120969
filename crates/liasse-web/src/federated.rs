//! The pages of a login through FranceConnect or ProConnect: the button's target (which
//! sends the browser to the provider), the callback, a citizen's first-login choice, the
//! re-link link an admin hands out, and the page after the provider's logout.
//!
//! The browser is bound to its login by a cookie set when the button is clicked: a callback
//! that arrives in another browser (a forwarded link, a login CSRF) finds no login to finish.

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use axum::routing::{get, post};
use liasse_app::app::App;
use liasse_federation::login::Outcome;
use liasse_federation::{FedError, ProviderKind, first_login, login, parse_kind, pending, relink};
use liasse_http::client::ClientIp;
use liasse_http::cookies::{cookie_value, ct_eq, session_cookie, set_cookie};
use serde::Deserialize;

use crate::chrome::Chrome;
use crate::public::{home_of, login_cookie, login_cookie_name};
use crate::session::read_form;
use crate::{WebError, render_status, see_other};

/// The cookie that binds a login at a provider to the browser that began it. `Lax`: the
/// provider's redirect back is a top-level navigation from its site.
const BROWSER_COOKIE: &str = "__Host-liasse-fed";
const PLAIN_BROWSER_COOKIE: &str = "liasse-fed";
/// The id of a first-login choice in progress.
const CHOICE_COOKIE: &str = "__Host-liasse-choice";
const PLAIN_CHOICE_COOKIE: &str = "liasse-choice";

fn browser_cookie(app: &App) -> &'static str {
    if app.config.secure_cookies() {
        BROWSER_COOKIE
    } else {
        PLAIN_BROWSER_COOKIE
    }
}

fn choice_cookie(app: &App) -> &'static str {
    if app.config.secure_cookies() {
        CHOICE_COOKIE
    } else {
        PLAIN_CHOICE_COOKIE
    }
}

pub fn routes() -> Router<App> {
    Router::new()
        .route("/auth/{provider}", get(begin))
        .route("/auth/{provider}/callback", get(callback))
        .route("/auth/{provider}/rattacher", get(relink_begin))
        .route("/auth/premiere-connexion", get(choice_page))
        .route("/auth/premiere-connexion/creer", post(choice_create))
        .route("/auth/premiere-connexion/lier", post(choice_link))
        .route("/auth/logged-out", get(logged_out))
}

#[derive(Template)]
#[template(path = "federated_error.html")]
struct RefusalPage {
    chrome: Chrome,
    provider: &'static str,
    detail: String,
    request_id: String,
}

fn request_id(headers: &HeaderMap) -> String {
    headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-")
        .to_owned()
}

/// The refusal page, and its log line with the request id (the code and the error's display,
/// which hold no token and no secret).
fn refused(
    e: &FedError,
    kind: Option<ProviderKind>,
    headers: &HeaderMap,
) -> Result<Response, WebError> {
    let id = request_id(headers);
    tracing::warn!(request_id = %id, code = e.code(), error = %e, "federated login refused");
    let page = RefusalPage {
        chrome: Chrome::bare("Connexion impossible"),
        provider: kind.map_or("le fournisseur d'identité", |k| k.label()),
        detail: e.message_fr(),
        request_id: id,
    };
    let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::BAD_REQUEST);
    render_status(status, &page)
}

fn kind_of(provider: &str) -> Result<ProviderKind, WebError> {
    parse_kind(provider).ok_or(WebError::App(liasse_app::error::AppError::NotFound))
}

#[derive(Deserialize)]
struct BeginQuery {
    collectivite: Option<String>,
}

/// The tenant of a login: named in the link, or the one a visitor most likely belongs to.
async fn tenant_slug(app: &App, headers: &HeaderMap, named: Option<&str>) -> Option<String> {
    match named.filter(|s| !s.is_empty()) {
        Some(slug) => Some(slug.to_owned()),
        None => crate::public::default_tenant(app, headers)
            .await
            .ok()
            .flatten()
            .map(|t| t.slug),
    }
}

fn redirect_with_browser(app: &App, url: &str, browser: &str) -> Response {
    let mut resp = Response::new(axum::body::Body::empty());
    *resp.status_mut() = StatusCode::SEE_OTHER;
    if let Ok(v) = HeaderValue::from_str(url) {
        resp.headers_mut().insert(header::LOCATION, v);
    }
    resp.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(app, browser_cookie(app), browser, "Lax", 1800),
    );
    resp
}

async fn begin(
    State(app): State<App>,
    Path(provider): Path<String>,
    headers: HeaderMap,
    Query(q): Query<BeginQuery>,
) -> Result<Response, WebError> {
    let kind = kind_of(&provider)?;
    let Some(slug) = tenant_slug(&app, &headers, q.collectivite.as_deref()).await else {
        return refused(&FedError::UnknownTenant, Some(kind), &headers);
    };
    let browser = pending::random_secret();
    match login::begin(&app, &slug, kind, &browser).await {
        Ok(url) => Ok(redirect_with_browser(&app, &url, &browser)),
        Err(e) => refused(&e, Some(kind), &headers),
    }
}

/// A session cookie, the login form's token dropped, and the browser binding forgotten.
fn session_response(app: &App, to: &str, session: &str) -> Response {
    let mut resp = see_other(to);
    let h = resp.headers_mut();
    h.append(
        header::SET_COOKIE,
        set_cookie(app, session_cookie(app), session, "Lax", 28800),
    );
    h.append(
        header::SET_COOKIE,
        set_cookie(app, browser_cookie(app), "", "Lax", 0),
    );
    h.append(
        header::SET_COOKIE,
        set_cookie(app, choice_cookie(app), "", "Lax", 0),
    );
    h.append(
        header::SET_COOKIE,
        set_cookie(app, login_cookie_name(app), "", "Strict", 0),
    );
    resp
}

fn outcome_response(app: &App, outcome: Outcome) -> Response {
    match outcome {
        Outcome::Session {
            session, principal, ..
        } => session_response(app, home_of(&principal), &session),
        Outcome::FirstLogin { choice_id } => {
            let mut resp = see_other("/auth/premiere-connexion");
            resp.headers_mut().append(
                header::SET_COOKIE,
                set_cookie(app, choice_cookie(app), &choice_id, "Lax", 900),
            );
            resp
        }
    }
}

async fn callback(
    State(app): State<App>,
    Path(provider): Path<String>,
    req: Request,
) -> Result<Response, WebError> {
    let kind = kind_of(&provider)?;
    let headers = req.headers().clone();
    let query = req.uri().query().unwrap_or_default().to_owned();
    let browser = cookie_value(&headers, browser_cookie(&app));
    match login::callback(&app, kind, &query, browser.as_deref()).await {
        Ok(outcome) => Ok(outcome_response(&app, outcome)),
        Err(e) => refused(&e, Some(kind), &headers),
    }
}

#[derive(Deserialize)]
struct RelinkQuery {
    jeton: Option<String>,
}

async fn relink_begin(
    State(app): State<App>,
    Path(provider): Path<String>,
    headers: HeaderMap,
    Query(q): Query<RelinkQuery>,
) -> Result<Response, WebError> {
    let kind = kind_of(&provider)?;
    let token = q.jeton.unwrap_or_default();
    let browser = pending::random_secret();
    match relink::begin(&app, kind, &token, &browser).await {
        Ok(url) => Ok(redirect_with_browser(&app, &url, &browser)),
        Err(e) => refused(&e, Some(kind), &headers),
    }
}

#[derive(Template)]
#[template(path = "first_login.html")]
struct ChoicePage {
    chrome: Chrome,
    token: String,
    given_name: String,
    family_name: String,
    birthdate: String,
    gender: &'static str,
    email: String,
    login: String,
    error: Option<String>,
}

fn birthdate_fr(d: &str) -> String {
    match d.split('-').collect::<Vec<_>>()[..] {
        [y, "00", "00"] => format!("{y} (jour et mois inconnus)"),
        [y, m, "00"] => format!("{m}/{y} (jour inconnu)"),
        [y, m, day] => format!("{day}/{m}/{y}"),
        _ => d.to_owned(),
    }
}

async fn show_choice(
    app: &App,
    headers: &HeaderMap,
    email: Option<String>,
    login_name: String,
    error: Option<(StatusCode, String)>,
) -> Result<Response, WebError> {
    let choice = cookie_value(headers, choice_cookie(app)).unwrap_or_default();
    let browser = cookie_value(headers, browser_cookie(app));
    let seen = match first_login::view(app, &choice, browser.as_deref()).await {
        Ok(c) => c,
        Err(e) => return refused(&e, Some(ProviderKind::FranceConnect), headers),
    };
    let tenant = liasse_app::tenants::by_id(app, &seen.tenant_id).await.ok();
    let token = cookie_value(headers, login_cookie_name(app))
        .filter(|t| t.len() == 48)
        .unwrap_or_else(|| {
            liasse_app::auth::new_secret("login")
                .chars()
                .take(48)
                .collect()
        });
    let p = seen.pivot;
    let (status, error) = match error {
        Some((s, e)) => (s, Some(e)),
        None => (StatusCode::OK, None),
    };
    let page = ChoicePage {
        chrome: Chrome::for_tenant("Première connexion avec FranceConnect", tenant.as_ref()),
        token: token.clone(),
        given_name: p.given_name,
        family_name: p.family_name,
        birthdate: birthdate_fr(&p.birthdate),
        gender: match p.gender.as_str() {
            "female" => "Féminin",
            "male" => "Masculin",
            _ => "Non précisé",
        },
        email: email.or(p.email).unwrap_or_default(),
        login: login_name,
        error,
    };
    let mut resp = render_status(status, &page)?;
    resp.headers_mut()
        .append(header::SET_COOKIE, login_cookie(app, &token));
    Ok(resp)
}

async fn choice_page(State(app): State<App>, headers: HeaderMap) -> Result<Response, WebError> {
    show_choice(&app, &headers, None, String::new(), None).await
}

/// The choice forms repeat the login form's token (double submit): no session exists yet.
fn check_token(app: &App, headers: &HeaderMap, posted: &str) -> Result<(), WebError> {
    let cookie = cookie_value(headers, login_cookie_name(app)).unwrap_or_default();
    if ct_eq(posted, &cookie) {
        Ok(())
    } else {
        Err(WebError::Csrf)
    }
}

fn error_of(e: &FedError) -> (StatusCode, String) {
    (
        StatusCode::from_u16(e.status()).unwrap_or(StatusCode::BAD_REQUEST),
        e.message_fr(),
    )
}

async fn choice_create(State(app): State<App>, req: Request) -> Result<Response, WebError> {
    let headers = req.headers().clone();
    let f = read_form(req.into_body()).await?;
    check_token(&app, &headers, &f.text("csrf"))?;
    let choice = cookie_value(&headers, choice_cookie(&app)).unwrap_or_default();
    let browser = cookie_value(&headers, browser_cookie(&app));
    let email = f.text("email");
    match first_login::create(&app, &choice, browser.as_deref(), &email).await {
        Ok(outcome) => Ok(outcome_response(&app, outcome)),
        Err(e @ FedError::App(liasse_app::error::AppError::Invalid { .. })) => {
            show_choice(
                &app,
                &headers,
                Some(email),
                String::new(),
                Some(error_of(&e)),
            )
            .await
        }
        Err(e) => refused(&e, Some(ProviderKind::FranceConnect), &headers),
    }
}

async fn choice_link(
    State(app): State<App>,
    ClientIp(client): ClientIp,
    req: Request,
) -> Result<Response, WebError> {
    let headers = req.headers().clone();
    let f = read_form(req.into_body()).await?;
    check_token(&app, &headers, &f.text("csrf"))?;
    let choice = cookie_value(&headers, choice_cookie(&app)).unwrap_or_default();
    let browser = cookie_value(&headers, browser_cookie(&app));
    let login_name = f.text("login");
    let password = f.get("password").unwrap_or_default().to_string();
    match first_login::link_existing(
        &app,
        &choice,
        browser.as_deref(),
        &login_name,
        &password,
        &client,
    )
    .await
    {
        Ok(outcome) => Ok(outcome_response(&app, outcome)),
        Err(
            e @ (FedError::NotACitizen
            | FedError::App(
                liasse_app::error::AppError::Unauthorized
                | liasse_app::error::AppError::RateLimited { .. }
                | liasse_app::error::AppError::Invalid { .. },
            )),
        ) => show_choice(&app, &headers, None, login_name, Some(error_of(&e))).await,
        Err(e) => refused(&e, Some(ProviderKind::FranceConnect), &headers),
    }
}

#[derive(Template)]
#[template(path = "logged_out.html")]
struct LoggedOutPage {
    chrome: Chrome,
}

async fn logged_out() -> Result<Response, WebError> {
    render_status(
        StatusCode::OK,
        &LoggedOutPage {
            chrome: Chrome::bare("Déconnexion"),
        },
    )
}
