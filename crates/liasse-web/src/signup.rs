//! A resident opens their own account (`/inscription`): their address, the link sent to it,
//! then their name and password (`/inscription/confirmer`). The tenant is the host's, the
//! demo's or the only one, or named by the link; the resident never types it.

use askama::Template;
use axum::Router;
use axum::extract::{Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use axum::routing::get;
use liasse_app::app::App;
use liasse_app::error::AppError;
use liasse_app::signup::{self, Completion, SignupLink, SignupMode};
use liasse_app::tenants::Tenant;
use liasse_http::client::ClientIp;
use liasse_http::cookies::{cookie_value, ct_eq, session_cookie, set_cookie};
use serde::Deserialize;

use crate::chrome::Chrome;
use crate::enrolment::{form_cookie, form_cookie_name, form_token};
use crate::error::describe;
use crate::public::{default_tenant, home_of, login_cookie_name};
use crate::session::read_form;
use crate::{WebError, render_status, see_other};

pub fn routes() -> Router<App> {
    Router::new()
        .route("/inscription", get(page).post(submit))
        .route("/inscription/confirmer", get(confirm_page).post(confirm))
}

#[derive(Template)]
#[template(path = "signup.html")]
struct SignupPage {
    chrome: Chrome,
    token: String,
    tenant: String,
    mode: &'static str,
    email: String,
    sent: bool,
    error: Option<String>,
}

#[derive(Deserialize)]
struct TenantQuery {
    collectivite: Option<String>,
}

async fn tenant_named(
    app: &App,
    headers: &HeaderMap,
    named: Option<&str>,
) -> Result<Option<Tenant>, AppError> {
    match named.map(str::trim).filter(|s| !s.is_empty()) {
        Some(slug) => liasse_app::tenants::find(app, slug).await,
        None => default_tenant(app, headers).await,
    }
}

fn mode_code(t: Option<&Tenant>) -> &'static str {
    match t.map(SignupMode::of) {
        Some(SignupMode::Open) => "open",
        Some(SignupMode::FranceConnect) => "franceconnect",
        Some(SignupMode::Closed) | None => "closed",
    }
}

fn with_token(app: &App, mut resp: Response, token: &str) -> Response {
    resp.headers_mut()
        .append(header::SET_COOKIE, form_cookie(app, token));
    resp
}

async fn page(
    State(app): State<App>,
    headers: HeaderMap,
    Query(q): Query<TenantQuery>,
) -> Result<Response, WebError> {
    let tenant = tenant_named(&app, &headers, q.collectivite.as_deref()).await?;
    let token = form_token(&app, &headers);
    let resp = render_status(
        StatusCode::OK,
        &SignupPage {
            chrome: Chrome::for_tenant("Créer mon compte", tenant.as_ref()),
            token: token.clone(),
            tenant: tenant.as_ref().map(|t| t.slug.clone()).unwrap_or_default(),
            mode: mode_code(tenant.as_ref()),
            email: String::new(),
            sent: false,
            error: None,
        },
    )?;
    Ok(with_token(&app, resp, &token))
}

async fn submit(
    State(app): State<App>,
    ClientIp(client): ClientIp,
    req: Request,
) -> Result<Response, WebError> {
    let headers = req.headers().clone();
    let cookie = cookie_value(&headers, form_cookie_name(&app)).unwrap_or_default();
    let f = read_form(req.into_body()).await?;
    let token = f.text("csrf");
    if cookie.is_empty() || !ct_eq(&token, &cookie) {
        return Err(WebError::Csrf);
    }
    let tenant = tenant_named(&app, &headers, Some(&f.text("tenant"))).await?;
    let email = f.text("email");
    let outcome = match &tenant {
        Some(t) => signup::request(&app, t, &email, &client).await,
        None => Err(AppError::invalid(
            "unknown-tenant",
            "collectivité inconnue : ouvrez cette page depuis le site de votre mairie",
        )),
    };
    let (status, sent, error) = match &outcome {
        Ok(()) => (StatusCode::OK, true, None),
        Err(e) => {
            let (status, _, detail) = describe(e);
            (status, false, Some(detail))
        }
    };
    let mut resp = render_status(
        status,
        &SignupPage {
            chrome: Chrome::for_tenant("Créer mon compte", tenant.as_ref()),
            token: token.clone(),
            tenant: tenant.as_ref().map(|t| t.slug.clone()).unwrap_or_default(),
            mode: mode_code(tenant.as_ref()),
            email: if sent { String::new() } else { email },
            sent,
            error,
        },
    )?;
    if let Err(AppError::RateLimited { retry_after_secs }) = outcome
        && let Ok(v) = HeaderValue::from_str(&retry_after_secs.to_string())
    {
        resp.headers_mut().insert(header::RETRY_AFTER, v);
    }
    Ok(resp)
}

#[derive(Template)]
#[template(path = "signup_confirm.html")]
struct ConfirmPage {
    chrome: Chrome,
    token: String,
    secret: String,
    email: String,
    given_name: String,
    family_name: String,
    /// Why the link cannot be used (no form then), or why the form was refused.
    refused: Option<String>,
    error: Option<String>,
}

#[derive(Deserialize)]
struct LinkQuery {
    jeton: Option<String>,
}

fn link_refusal(link: &SignupLink) -> Option<(StatusCode, &'static str)> {
    match link {
        SignupLink::Valid(_) => None,
        SignupLink::Used => Some((
            StatusCode::GONE,
            "Ce lien a déjà servi : votre compte est ouvert. Connectez-vous avec votre adresse électronique et votre mot de passe.",
        )),
        SignupLink::Expired => Some((
            StatusCode::GONE,
            "Ce lien a expiré : il n'est valable qu'une heure. Recommencez l'inscription pour en recevoir un nouveau.",
        )),
        SignupLink::Unknown => Some((
            StatusCode::NOT_FOUND,
            "Ce lien n'est pas valable. Vérifiez que vous avez copié l'adresse entière, ou recommencez l'inscription.",
        )),
    }
}

#[allow(clippy::too_many_arguments)]
async fn show_confirm(
    app: &App,
    link: SignupLink,
    secret: String,
    token: String,
    names: (String, String),
    error: Option<String>,
    status: StatusCode,
) -> Result<Response, WebError> {
    if let Some((status, message)) = link_refusal(&link) {
        return render_status(
            status,
            &ConfirmPage {
                chrome: Chrome::bare("Créer mon compte"),
                token: String::new(),
                secret: String::new(),
                email: String::new(),
                given_name: String::new(),
                family_name: String::new(),
                refused: Some(message.into()),
                error: None,
            },
        );
    }
    let SignupLink::Valid(row) = link else {
        return Err(AppError::NotFound.into());
    };
    let tenant = liasse_app::tenants::by_id(app, &row.tenant_id).await.ok();
    let resp = render_status(
        status,
        &ConfirmPage {
            chrome: Chrome::for_tenant("Créer mon compte", tenant.as_ref()),
            token: token.clone(),
            secret,
            email: row.email.clone(),
            given_name: names.0,
            family_name: names.1,
            refused: None,
            error,
        },
    )?;
    Ok(with_token(app, resp, &token))
}

async fn confirm_page(
    State(app): State<App>,
    headers: HeaderMap,
    Query(q): Query<LinkQuery>,
) -> Result<Response, WebError> {
    let secret = q.jeton.unwrap_or_default();
    let link = signup::check(&app, &secret).await?;
    let token = form_token(&app, &headers);
    show_confirm(
        &app,
        link,
        secret,
        token,
        (String::new(), String::new()),
        None,
        StatusCode::OK,
    )
    .await
}

async fn confirm(State(app): State<App>, req: Request) -> Result<Response, WebError> {
    let cookie = cookie_value(req.headers(), form_cookie_name(&app)).unwrap_or_default();
    let f = read_form(req.into_body()).await?;
    let token = f.text("csrf");
    if cookie.is_empty() || !ct_eq(&token, &cookie) {
        return Err(WebError::Csrf);
    }
    let secret = f.text("jeton");
    let given = f.text("given_name");
    let family = f.text("family_name");
    let password = f.get("password").unwrap_or_default().to_string();
    let confirmation = f.get("confirmation").unwrap_or_default().to_string();
    let outcome = if password != confirmation {
        Err(AppError::invalid(
            "password-mismatch",
            "les deux mots de passe saisis ne sont pas identiques",
        ))
    } else {
        signup::complete(
            &app,
            &secret,
            Completion {
                given_name: &given,
                family_name: &family,
                password: &password,
            },
        )
        .await
    };
    match outcome {
        Ok((session, _csrf, principal)) => {
            let mut resp = see_other(home_of(&principal));
            let h = resp.headers_mut();
            h.append(
                header::SET_COOKIE,
                set_cookie(&app, session_cookie(&app), &session, "Lax", 28800),
            );
            h.append(
                header::SET_COOKIE,
                set_cookie(&app, login_cookie_name(&app), "", "Strict", 0),
            );
            Ok(resp)
        }
        Err(e) => {
            let link = signup::check(&app, &secret).await?;
            let (status, _, detail) = describe(&e);
            show_confirm(
                &app,
                link,
                secret,
                token,
                (given, family),
                Some(detail),
                status,
            )
            .await
        }
    }
}
