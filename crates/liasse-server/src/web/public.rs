//! Pages anyone may open: the home page (with the demo accounts when the demo is loaded), the
//! login and logout, and the offline page of the installed app.

use askama::Template;
use axum::Router;
use axum::extract::{Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use liasse_domain::policy::Role;
use liasse_store::tenants::Tenant;
use serde::Deserialize;

use crate::app::App;
use crate::error::AppError;
use crate::http::auth::{ClientIp, SESSION_COOKIE, cookie_value};
use crate::services::auth;
use crate::web::chrome::Chrome;
use crate::web::error::describe;
use crate::web::session::{ct_eq, read_form};
use crate::web::{Posted, Visitor, WebError, local_path, render, render_status, see_other};

/// The anti-forgery token of the login form (no session exists yet): a random value in a
/// cookie that the form must repeat (double submit).
pub const LOGIN_COOKIE: &str = "__Host-liasse-login";

pub fn routes() -> Router<App> {
    Router::new()
        .route("/", get(home))
        .route("/connexion", get(login_page).post(login))
        .route("/deconnexion", post(logout))
        .route("/hors-ligne", get(offline))
}

/// Where each role starts.
pub fn home_of(role: Role) -> &'static str {
    match role {
        Role::Citizen => "/documents",
        Role::Agent | Role::Manager => "/agent",
        Role::Admin => "/admin",
        Role::Service => "/",
    }
}

/// The tenant a visitor most likely belongs to: the demo, or the only one.
async fn default_tenant(app: &App) -> Result<Option<Tenant>, AppError> {
    if let Some(t) = liasse_store::tenants::by_slug(&app.db, crate::demo::DEMO_TENANT).await? {
        return Ok(Some(t));
    }
    let all = liasse_store::tenants::list(&app.db).await?;
    Ok(if all.len() == 1 {
        all.into_iter().next()
    } else {
        None
    })
}

pub struct DemoAccount {
    pub login: &'static str,
    pub password: &'static str,
    pub role: &'static str,
    pub name: &'static str,
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    chrome: Chrome,
    demo: Vec<DemoAccount>,
    logged_in_home: Option<&'static str>,
}

async fn home(State(app): State<App>, Visitor(v): Visitor) -> Result<Response, WebError> {
    if let Some(s) = &v
        && s.p.role != Role::Service
    {
        return Ok(see_other(home_of(s.p.role)));
    }
    let tenant = default_tenant(&app).await?;
    let is_demo = tenant
        .as_ref()
        .is_some_and(|t| t.slug == crate::demo::DEMO_TENANT);
    let demo = if is_demo {
        crate::demo::accounts()
            .into_iter()
            .map(|(login, password, role, name)| DemoAccount {
                login,
                password,
                role,
                name,
            })
            .collect()
    } else {
        Vec::new()
    };
    render(&HomePage {
        chrome: Chrome::for_tenant("Accueil", tenant.as_ref()),
        demo,
        logged_in_home: v.map(|s| home_of(s.p.role)),
    })
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    chrome: Chrome,
    token: String,
    tenant: String,
    login: String,
    next: String,
    error: Option<String>,
    /// Whether the error concerns the credentials (tied to the fields) or is general.
    credentials_error: bool,
}

#[derive(Deserialize)]
struct LoginQuery {
    suite: Option<String>,
    collectivite: Option<String>,
}

pub(crate) fn login_cookie(token: &str) -> HeaderValue {
    HeaderValue::from_str(&format!(
        "{LOGIN_COOKIE}={token}; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=7200"
    ))
    .unwrap_or(HeaderValue::from_static("x=y"))
}

async fn login_page(
    State(app): State<App>,
    headers: HeaderMap,
    Query(q): Query<LoginQuery>,
) -> Result<Response, WebError> {
    let tenant = match q.collectivite.as_deref().filter(|s| !s.is_empty()) {
        Some(slug) => liasse_store::tenants::by_slug(&app.db, slug)
            .await
            .map_err(AppError::from)?,
        None => default_tenant(&app).await?,
    };
    // Reuse the token of an open login page (several tabs), or make one.
    let token = cookie_value(&headers, LOGIN_COOKIE)
        .filter(|t| {
            t.len() == 48
                && t.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        })
        .unwrap_or_else(|| auth::new_secret("login").chars().take(48).collect());
    let page = LoginPage {
        chrome: Chrome::for_tenant("Connexion", tenant.as_ref()),
        token: token.clone(),
        tenant: tenant.map(|t| t.slug).unwrap_or_default(),
        login: String::new(),
        next: q
            .suite
            .as_deref()
            .and_then(local_path)
            .unwrap_or_default()
            .to_string(),
        error: None,
        credentials_error: false,
    };
    let mut resp = render(&page)?;
    resp.headers_mut()
        .append(header::SET_COOKIE, login_cookie(&token));
    Ok(resp)
}

async fn login(
    State(app): State<App>,
    ClientIp(client): ClientIp,
    req: Request,
) -> Result<Response, WebError> {
    let cookie = cookie_value(req.headers(), LOGIN_COOKIE).unwrap_or_default();
    let f = read_form(req.into_body()).await?;
    let token = f.text("csrf");
    if cookie.is_empty() || !ct_eq(&token, &cookie) {
        return Err(WebError::Csrf);
    }
    let slug = f.text("tenant");
    let login = f.text("login");
    let next = f.text("suite");
    let password = f.get("password").unwrap_or_default().to_string();
    match auth::login(&app, &slug, &login, &password, &client).await {
        Ok((session, _csrf, principal)) => {
            let target = local_path(&next)
                .filter(|n| *n != "/")
                .unwrap_or(home_of(principal.role))
                .to_string();
            let mut resp = see_other(&target);
            let h = resp.headers_mut();
            if let Ok(v) = HeaderValue::from_str(&format!(
                "{SESSION_COOKIE}={session}; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age=28800"
            )) {
                h.append(header::SET_COOKIE, v);
            }
            h.append(
                header::SET_COOKIE,
                HeaderValue::from_static(
                    "__Host-liasse-login=; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=0",
                ),
            );
            Ok(resp)
        }
        Err(e) => {
            let tenant = liasse_store::tenants::by_slug(&app.db, &slug)
                .await
                .ok()
                .flatten();
            let (status, error, credentials_error) = match &e {
                AppError::Unauthorized => (
                    StatusCode::UNAUTHORIZED,
                    "Identifiant, mot de passe ou collectivité incorrect. Vérifiez votre saisie et réessayez.".to_string(),
                    true,
                ),
                other => {
                    let (status, _, detail) = describe(other);
                    (status, detail, false)
                }
            };
            let page = LoginPage {
                chrome: Chrome::for_tenant("Connexion", tenant.as_ref()),
                token,
                tenant: slug,
                login,
                next: local_path(&next).unwrap_or_default().to_string(),
                error: Some(error),
                credentials_error,
            };
            let mut resp = render_status(status, &page)?;
            if let AppError::RateLimited { retry_after_secs } = e
                && let Ok(v) = HeaderValue::from_str(&retry_after_secs.to_string())
            {
                resp.headers_mut().insert(header::RETRY_AFTER, v);
            }
            Ok(resp)
        }
    }
}

async fn logout(State(app): State<App>, headers: HeaderMap, _form: Posted) -> Response {
    if let Some(session) = cookie_value(&headers, SESSION_COOKIE)
        && let Err(e) = auth::logout(&app, &session).await
    {
        tracing::warn!(error = %e, "logout");
    }
    let mut resp = see_other("/connexion");
    resp.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static(
            "__Host-liasse=; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age=0",
        ),
    );
    resp.headers_mut()
        .insert("clear-site-data", HeaderValue::from_static("\"cache\""));
    resp
}

#[derive(Template)]
#[template(path = "offline.html")]
struct OfflinePage {
    chrome: Chrome,
}

async fn offline() -> Result<Response, WebError> {
    let mut resp = render(&OfflinePage {
        chrome: Chrome::bare("Hors connexion"),
    })?;
    // The service worker keeps this page for offline use; it holds no personal data.
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    Ok(resp.into_response())
}
