//! The staff's second factor on the pages: the code asked after the password
//! (`/connexion/code`), and the account's own security page (`/compte/securite`) where a
//! staff member turns a TOTP on, renews the recovery codes or turns it off.

use askama::Template;
use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use axum::routing::{get, post};
use liasse_app::app::App;
use liasse_app::auth::second_factor::{self, Enrolment};
use liasse_app::auth::{PasswordLogin, Principal};
use liasse_app::error::AppError;
use liasse_domain::policy::Space;
use liasse_http::client::ClientIp;
use liasse_http::cookies::{cookie_value, ct_eq, session_cookie, set_cookie};

use crate::chrome::Chrome;
use crate::error::describe;
use crate::public::{home_of, login_cookie_name};
use crate::session::read_form;
use crate::{FormErrors, Posted, Session, WebError, local_path, render, render_status, see_other};

/// The waiting login's secret (set after the right password, for ten minutes).
pub const CODE_COOKIE: &str = "__Host-liasse-2fa";
/// Its name when `secure_cookies = false`.
pub const PLAIN_CODE_COOKIE: &str = "liasse-2fa";

pub(crate) fn code_cookie_name(app: &App) -> &'static str {
    if app.config.secure_cookies() {
        CODE_COOKIE
    } else {
        PLAIN_CODE_COOKIE
    }
}

pub fn routes() -> Router<App> {
    Router::new()
        .route("/connexion/code", get(code_page).post(code_submit))
        .route("/compte/securite", get(security_page))
        .route("/compte/securite/activer", post(enrol_start))
        .route("/compte/securite/confirmer", post(enrol_confirm))
        .route("/compte/securite/codes", post(renew_codes))
        .route("/compte/securite/desactiver", post(disable))
}

/// The cookie that carries a waiting login, and where the page goes after.
pub(crate) fn code_cookie(app: &App, secret: &str) -> HeaderValue {
    let max_age = u32::try_from(second_factor::PENDING_MS / 1000).unwrap_or(600);
    set_cookie(app, code_cookie_name(app), secret, "Strict", max_age)
}

/// The QR code of an `otpauth://` URI, as inline SVG (no script, no external image: the
/// page's CSP stays as it is).
fn qr_svg(uri: &str) -> String {
    match qrcode::QrCode::new(uri.as_bytes()) {
        Ok(code) => {
            let svg = code
                .render::<qrcode::render::svg::Color>()
                .min_dimensions(220, 220)
                .quiet_zone(true)
                .build();
            // The renderer starts with an XML declaration, which HTML does not take.
            match svg.find("<svg") {
                Some(i) => svg[i..].to_string(),
                None => svg,
            }
        }
        Err(_) => String::new(),
    }
}

/// What an enrolment shows: the QR code and the secret to type.
struct EnrolView {
    qr: String,
    secret: String,
}

fn enrol_view(e: &Enrolment) -> EnrolView {
    // Groups of four, as authenticator applications show them.
    let secret = e
        .secret
        .as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(" ");
    EnrolView {
        qr: qr_svg(&e.uri),
        secret,
    }
}

#[derive(Template)]
#[template(path = "second_factor_code.html")]
struct CodePage {
    chrome: Chrome,
    token: String,
    next: String,
    login: String,
    enrol: Option<EnrolView>,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "recovery_codes.html")]
struct RecoveryCodesPage {
    chrome: Chrome,
    codes: Vec<String>,
    next: String,
}

#[derive(serde::Deserialize)]
struct NextQuery {
    suite: Option<String>,
}

/// No waiting login (expired, or too many wrong codes): back to the password.
fn restart(app: &App) -> Response {
    let mut resp = see_other("/connexion?code=expire");
    resp.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(app, code_cookie_name(app), "", "Strict", 0),
    );
    resp
}

async fn code_page(
    State(app): State<App>,
    headers: HeaderMap,
    axum::extract::Query(q): axum::extract::Query<NextQuery>,
) -> Result<Response, WebError> {
    let secret = cookie_value(&headers, code_cookie_name(&app)).unwrap_or_default();
    let waiting = match second_factor::waiting(&app, &secret).await {
        Ok(w) => w,
        Err(AppError::Invalid { .. }) => return Ok(restart(&app)),
        Err(e) => return Err(e.into()),
    };
    let tenant = liasse_app::tenants::by_id(&app, &waiting.account.tenant_id)
        .await
        .ok();
    let token = cookie_value(&headers, login_cookie_name(&app)).unwrap_or_default();
    render(&CodePage {
        chrome: Chrome::for_tenant("Code de connexion", tenant.as_ref()),
        token,
        next: q
            .suite
            .as_deref()
            .and_then(local_path)
            .unwrap_or_default()
            .to_string(),
        login: waiting.account.login,
        enrol: waiting.enrolment.as_ref().map(enrol_view),
        error: None,
    })
}

/// The session cookie of a login that just completed, the waiting login's and the login
/// form's cookies cleared.
fn logged_in(app: &App, mut resp: Response, session: &str) -> Response {
    let h = resp.headers_mut();
    h.append(
        header::SET_COOKIE,
        set_cookie(app, session_cookie(app), session, "Lax", 28800),
    );
    h.append(
        header::SET_COOKIE,
        set_cookie(app, code_cookie_name(app), "", "Strict", 0),
    );
    h.append(
        header::SET_COOKIE,
        set_cookie(app, login_cookie_name(app), "", "Strict", 0),
    );
    resp
}

fn target_of(next: &str, p: &Principal) -> String {
    local_path(next)
        .filter(|n| *n != "/")
        .unwrap_or(home_of(p))
        .to_string()
}

async fn code_submit(
    State(app): State<App>,
    ClientIp(client): ClientIp,
    req: Request,
) -> Result<Response, WebError> {
    let headers = req.headers().clone();
    let f = read_form(req.into_body()).await?;
    // The login form's anti-forgery cookie is still there: the same double submit.
    let cookie = cookie_value(&headers, login_cookie_name(&app)).unwrap_or_default();
    let token = f.text("csrf");
    if cookie.is_empty() || !ct_eq(&token, &cookie) {
        return Err(WebError::Csrf);
    }
    let secret = cookie_value(&headers, code_cookie_name(&app)).unwrap_or_default();
    let next = f.text("suite");
    match second_factor::finish_login(&app, &secret, &f.text("code"), &client).await {
        Ok(opened) => {
            let target = target_of(&next, &opened.principal);
            let resp = match opened.recovery_codes {
                // An enrolment at login: the codes are shown once, then the user goes on.
                Some(codes) => {
                    let tenant = liasse_app::tenants::by_id(&app, &opened.principal.tenant_id)
                        .await
                        .ok();
                    render(&RecoveryCodesPage {
                        chrome: Chrome::for_tenant("Vos codes de secours", tenant.as_ref()),
                        codes,
                        next: target,
                    })?
                }
                None => see_other(&target),
            };
            Ok(logged_in(&app, resp, &opened.session))
        }
        Err(AppError::Invalid {
            code: "second-factor-expired",
            ..
        }) => Ok(restart(&app)),
        Err(e) => {
            let waiting = match second_factor::waiting(&app, &secret).await {
                Ok(w) => w,
                Err(_) => return Ok(restart(&app)),
            };
            let tenant = liasse_app::tenants::by_id(&app, &waiting.account.tenant_id)
                .await
                .ok();
            let (status, _, detail) = describe(&e);
            let mut resp = render_status(
                status,
                &CodePage {
                    chrome: Chrome::for_tenant("Code de connexion", tenant.as_ref()),
                    token,
                    next: local_path(&next).unwrap_or_default().to_string(),
                    login: waiting.account.login,
                    enrol: waiting.enrolment.as_ref().map(enrol_view),
                    error: Some(detail),
                },
            )?;
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
#[template(path = "security.html")]
struct SecurityPage {
    chrome: Chrome,
    errors: FormErrors,
    active_since: Option<String>,
    recovery_left: usize,
    required: bool,
    enrol: Option<EnrolView>,
    codes: Vec<String>,
    done: Option<&'static str>,
}

async fn show(
    app: &App,
    s: &Session,
    status: StatusCode,
    errors: FormErrors,
    codes: Vec<String>,
    done: Option<&'static str>,
) -> Result<Response, WebError> {
    let st = second_factor::status(app, &s.p).await?;
    let enrol = match st.confirmed_at {
        Some(_) => None,
        None => second_factor::pending_enrolment(app, &s.p)
            .await?
            .as_ref()
            .map(enrol_view),
    };
    render_status(
        status,
        &SecurityPage {
            chrome: s.chrome(app, "Sécurité du compte").await,
            errors,
            active_since: st.confirmed_at.map(crate::fmt::datetime_fr),
            recovery_left: st.recovery_left,
            required: st.required,
            enrol,
            codes,
            done,
        },
    )
}

async fn security_page(State(app): State<App>, s: Session) -> Result<Response, WebError> {
    s.enter(Space::Account)?;
    show(
        &app,
        &s,
        StatusCode::OK,
        FormErrors::none(),
        Vec::new(),
        None,
    )
    .await
}

async fn enrol_start(State(app): State<App>, form: Posted) -> Result<Response, WebError> {
    let Posted { s, .. } = form;
    s.enter(Space::Account)?;
    match second_factor::start_enrolment(&app, &s.p).await {
        Ok(_) => {
            show(
                &app,
                &s,
                StatusCode::OK,
                FormErrors::none(),
                Vec::new(),
                None,
            )
            .await
        }
        Err(e) => {
            let (status, errors) = FormErrors::from_app(&e, "code");
            show(&app, &s, status, errors, Vec::new(), None).await
        }
    }
}

/// One of the forms that take a code: the outcome shown on the page.
async fn with_code(
    app: &App,
    s: &Session,
    outcome: Result<Vec<String>, AppError>,
    done: &'static str,
) -> Result<Response, WebError> {
    match outcome {
        Ok(codes) => {
            show(
                app,
                s,
                StatusCode::OK,
                FormErrors::none(),
                codes,
                Some(done),
            )
            .await
        }
        Err(e) => {
            let (status, errors) = FormErrors::from_app(&e, "code");
            show(app, s, status, errors, Vec::new(), None).await
        }
    }
}

async fn enrol_confirm(
    State(app): State<App>,
    ClientIp(client): ClientIp,
    form: Posted,
) -> Result<Response, WebError> {
    let Posted { s, f } = form;
    s.enter(Space::Account)?;
    let outcome = second_factor::confirm_enrolment(&app, &s.p, &f.text("code"), &client).await;
    with_code(&app, &s, outcome, "active").await
}

async fn renew_codes(
    State(app): State<App>,
    ClientIp(client): ClientIp,
    form: Posted,
) -> Result<Response, WebError> {
    let Posted { s, f } = form;
    s.enter(Space::Account)?;
    let outcome = second_factor::renew_recovery_codes(&app, &s.p, &f.text("code"), &client).await;
    with_code(&app, &s, outcome, "codes").await
}

async fn disable(
    State(app): State<App>,
    ClientIp(client): ClientIp,
    form: Posted,
) -> Result<Response, WebError> {
    let Posted { s, f } = form;
    s.enter(Space::Account)?;
    let outcome = second_factor::disable(&app, &s.p, &f.text("code"), &client)
        .await
        .map(|()| Vec::new());
    with_code(&app, &s, outcome, "off").await
}

/// After the right password: the session, or the way to the code page.
pub(crate) async fn after_password(
    app: &App,
    outcome: PasswordLogin,
    next: &str,
) -> Result<Response, AppError> {
    match outcome {
        PasswordLogin::Session(session, _csrf, principal) => {
            let mut resp = see_other(&target_of(next, &principal));
            let h = resp.headers_mut();
            h.append(
                header::SET_COOKIE,
                set_cookie(app, session_cookie(app), &session, "Lax", 28800),
            );
            h.append(
                header::SET_COOKIE,
                set_cookie(app, login_cookie_name(app), "", "Strict", 0),
            );
            Ok(resp)
        }
        PasswordLogin::SecondFactor { account, step } => {
            let secret = second_factor::begin_login(app, &account, step).await?;
            let path = match local_path(next).filter(|n| *n != "/") {
                Some(n) => format!("/connexion/code?suite={}", crate::fmt::urlencode(n)),
                None => "/connexion/code".to_string(),
            };
            let mut resp = see_other(&path);
            resp.headers_mut()
                .append(header::SET_COOKIE, code_cookie(app, &secret));
            Ok(resp)
        }
    }
}
