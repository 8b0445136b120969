//! Pages anyone may open: the home page (with the demo accounts when the demo is loaded), the
//! login and logout, and the offline page of the installed app.

use askama::Template;
use axum::Router;
use axum::extract::{Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use liasse_app::tenants::Tenant;
use liasse_domain::policy;
use serde::Deserialize;

use crate::chrome::{Chrome, page_href};
use crate::error::describe;
use crate::session::read_form;
use crate::{Posted, Visitor, WebError, local_path, render, render_status, see_other};
use liasse_app::app::App;
use liasse_app::auth::{self, Principal};
use liasse_app::error::AppError;
use liasse_http::client::ClientIp;
use liasse_http::cookies::ct_eq;
use liasse_http::cookies::{cookie_value, session_cookie, set_cookie};

/// The anti-forgery token of the login form (no session exists yet): a random value in a
/// cookie that the form must repeat (double submit).
pub const LOGIN_COOKIE: &str = "__Host-liasse-login";
/// Its name when `secure_cookies = false`.
pub const PLAIN_LOGIN_COOKIE: &str = "liasse-login";

pub(crate) fn login_cookie_name(app: &App) -> &'static str {
    if app.config.secure_cookies() {
        LOGIN_COOKIE
    } else {
        PLAIN_LOGIN_COOKIE
    }
}

/// Said on the login page when the form came back without its cookie: the browser did not
/// keep it (a `Secure` cookie over plain HTTP from another host), so the form cannot work.
pub const COOKIE_NOT_RETURNED: &str = "Votre navigateur n'a pas renvoyé le cookie de connexion : ce serveur exige HTTPS (ou le réglage secure_cookies = false sur un réseau interne). Vérifiez aussi que les cookies ne sont pas bloqués pour ce site.";

pub fn routes() -> Router<App> {
    Router::new()
        .route("/", get(home))
        .route("/connexion", get(login_page).post(login))
        .route("/deconnexion", post(logout))
        .route("/hors-ligne", get(offline))
}

/// Where an actor starts: the first page of their menu (`policy::home`), or the home page for
/// a service client, which has no pages.
pub fn home_of(p: &Principal) -> &'static str {
    policy::home(&p.facts()).map_or("/", page_href)
}

/// The tenant a visitor most likely belongs to: the one whose host name the request came
/// through, else the demo, or the only one. A resident is never asked for a tenant identifier
/// when one of these answers.
pub(crate) async fn default_tenant(
    app: &App,
    headers: &HeaderMap,
) -> Result<Option<Tenant>, AppError> {
    if let Some(host) = headers.get(header::HOST).and_then(|h| h.to_str().ok())
        && let Some(t) = liasse_app::signup::tenant_for_host(app, host).await?
    {
        return Ok(Some(t));
    }
    if let Some(t) = liasse_app::tenants::find(app, liasse_app::demo::DEMO_TENANT).await? {
        return Ok(Some(t));
    }
    let all = liasse_app::tenants::list(app).await?;
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

async fn home(
    State(app): State<App>,
    headers: HeaderMap,
    Visitor(v): Visitor,
) -> Result<Response, WebError> {
    if let Some(page) = v.as_ref().and_then(|s| policy::home(&s.p.facts())) {
        return Ok(see_other(page_href(page)));
    }
    let tenant = default_tenant(&app, &headers).await?;
    let is_demo = tenant
        .as_ref()
        .is_some_and(|t| t.slug == liasse_app::demo::DEMO_TENANT);
    let demo = if is_demo {
        liasse_app::demo::accounts()
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
        logged_in_home: v.map(|s| home_of(&s.p)),
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
    /// The tenant's FranceConnect and ProConnect buttons, when it registered them.
    franceconnect: bool,
    proconnect: bool,
    /// The tenant is known (its host name, the demo, the only one, or the link): the
    /// "Collectivité" field is not shown.
    tenant_known: bool,
    /// The tenant takes sign-ups by e-mail: the page links to `/inscription`.
    signup: bool,
}

fn signup_offered(t: Option<&Tenant>) -> bool {
    t.is_some_and(|t| liasse_app::signup::SignupMode::of(t) == liasse_app::signup::SignupMode::Open)
}

/// Which provider buttons the tenant's login page shows.
async fn offered(app: &App, tenant: Option<&Tenant>) -> (bool, bool) {
    use liasse_federation::ProviderKind;
    let Some(t) = tenant else {
        return (false, false);
    };
    let kinds = liasse_federation::providers::offered(app, &t.id)
        .await
        .unwrap_or_default();
    (
        kinds.contains(&ProviderKind::FranceConnect),
        kinds.contains(&ProviderKind::ProConnect),
    )
}

#[derive(Deserialize)]
struct LoginQuery {
    suite: Option<String>,
    collectivite: Option<String>,
    /// `expire`: back from the code page, whose login expired or failed too often.
    code: Option<String>,
}

pub(crate) fn login_cookie(app: &App, token: &str) -> HeaderValue {
    set_cookie(app, login_cookie_name(app), token, "Strict", 7200)
}

fn new_login_token() -> String {
    auth::new_secret("login").chars().take(48).collect()
}

async fn login_page(
    State(app): State<App>,
    headers: HeaderMap,
    Query(q): Query<LoginQuery>,
) -> Result<Response, WebError> {
    let tenant = match q.collectivite.as_deref().filter(|s| !s.is_empty()) {
        Some(slug) => liasse_app::tenants::find(&app, slug).await?,
        None => default_tenant(&app, &headers).await?,
    };
    // Reuse the token of an open login page (several tabs), or make one.
    let token = cookie_value(&headers, login_cookie_name(&app))
        .filter(|t| {
            t.len() == 48
                && t.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        })
        .unwrap_or_else(new_login_token);
    let (franceconnect, proconnect) = offered(&app, tenant.as_ref()).await;
    let page = LoginPage {
        chrome: Chrome::for_tenant("Connexion", tenant.as_ref()),
        token: token.clone(),
        tenant: tenant.as_ref().map(|t| t.slug.clone()).unwrap_or_default(),
        login: String::new(),
        next: q
            .suite
            .as_deref()
            .and_then(local_path)
            .unwrap_or_default()
            .to_string(),
        error: (q.code.as_deref() == Some("expire")).then(|| {
            "La connexion a expiré ou a été interrompue après trop de codes erronés : saisissez de nouveau votre identifiant et votre mot de passe.".to_string()
        }),
        credentials_error: false,
        franceconnect,
        proconnect,
        tenant_known: tenant.is_some(),
        signup: signup_offered(tenant.as_ref()),
    };
    let mut resp = render(&page)?;
    resp.headers_mut()
        .append(header::SET_COOKIE, login_cookie(&app, &token));
    Ok(resp)
}

async fn login(
    State(app): State<App>,
    ClientIp(client): ClientIp,
    req: Request,
) -> Result<Response, WebError> {
    let cookie = cookie_value(req.headers(), login_cookie_name(&app)).unwrap_or_default();
    let f = read_form(req.into_body()).await?;
    let token = f.text("csrf");
    let slug = f.text("tenant");
    let login = f.text("login");
    let next = f.text("suite");
    if cookie.is_empty() {
        // Not a forged form: the browser dropped the cookie. Say why, nothing is tried.
        let tenant = liasse_app::tenants::find(&app, &slug).await.ok().flatten();
        let token = new_login_token();
        let (franceconnect, proconnect) = offered(&app, tenant.as_ref()).await;
        let page = LoginPage {
            chrome: Chrome::for_tenant("Connexion", tenant.as_ref()),
            token: token.clone(),
            tenant: slug,
            login,
            next: local_path(&next).unwrap_or_default().to_string(),
            error: Some(COOKIE_NOT_RETURNED.to_string()),
            credentials_error: false,
            franceconnect,
            proconnect,
            tenant_known: tenant.is_some(),
            signup: signup_offered(tenant.as_ref()),
        };
        let mut resp = render_status(StatusCode::FORBIDDEN, &page)?;
        resp.headers_mut()
            .append(header::SET_COOKIE, login_cookie(&app, &token));
        return Ok(resp);
    }
    if !ct_eq(&token, &cookie) {
        return Err(WebError::Csrf);
    }
    let password = f.get("password").unwrap_or_default().to_string();
    let outcome = match auth::password_login(&app, &slug, &login, &password, &client).await {
        Ok(outcome) => crate::second_factor::after_password(&app, outcome, &next).await,
        Err(e) => Err(e),
    };
    match outcome {
        Ok(resp) => Ok(resp),
        Err(e) => {
            let tenant = liasse_app::tenants::find(&app, &slug).await.ok().flatten();
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
            let (franceconnect, proconnect) = offered(&app, tenant.as_ref()).await;
            let page = LoginPage {
                chrome: Chrome::for_tenant("Connexion", tenant.as_ref()),
                token,
                tenant: slug,
                login,
                next: local_path(&next).unwrap_or_default().to_string(),
                error: Some(error),
                credentials_error,
                franceconnect,
                proconnect,
                tenant_known: tenant.is_some(),
                signup: signup_offered(tenant.as_ref()),
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

#[derive(Template)]
#[template(path = "provider_logout.html")]
struct ProviderLogoutPage {
    chrome: Chrome,
    url: String,
}

async fn logout(State(app): State<App>, headers: HeaderMap, _form: Posted) -> Response {
    // Liasse's session ends here; one opened through a provider ends there too. The answer is
    // a page that goes on to the provider's end-session page: a redirect of this form's POST
    // to another site would be blocked by the pages' `form-action 'self'`.
    let mut provider = None;
    if let Some(session) = cookie_value(&headers, session_cookie(&app)) {
        match liasse_federation::logout::logout(&app, &session).await {
            Ok(url) => provider = url,
            Err(e) => tracing::warn!(error = %e, "logout"),
        }
    }
    let mut resp = match provider {
        Some(url) => render(&ProviderLogoutPage {
            chrome: Chrome::bare("Déconnexion"),
            url,
        })
        .unwrap_or_else(|_| see_other("/connexion")),
        None => see_other("/connexion"),
    };
    resp.headers_mut().insert(
        header::SET_COOKIE,
        set_cookie(&app, session_cookie(&app), "", "Lax", 0),
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
