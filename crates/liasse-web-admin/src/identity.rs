//! The tenant's services at FranceConnect and ProConnect (`/admin/identite`): registered,
//! replaced, removed; the client secret is write-only. And the re-link of an account whose
//! identity changed at the provider.

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};

use liasse_app::app::App;
use liasse_app::error::AppError;
use liasse_federation::providers::{self, NewProvider, ProviderSettings};
use liasse_federation::{FedError, ProviderKind, parse_kind, path_of, relink};
use liasse_web::chrome::Chrome;
use liasse_web::{FormErrors, Posted, Session, WebError, render_status, see_other};

pub fn routes() -> Router<App> {
    Router::new()
        .route("/admin/identite", get(page).post(save))
        .route("/admin/identite/retirer", post(remove))
        .route("/admin/identite/rattacher", post(relink_account))
}

/// One provider's form as shown.
struct ProviderForm {
    kind: &'static str,
    label: &'static str,
    configured: bool,
    issuer: String,
    client_id: String,
    acr: String,
    sirets: String,
}

#[derive(Template)]
#[template(path = "admin/identity.html")]
struct IdentityPage {
    chrome: Chrome,
    errors: FormErrors,
    forms: Vec<ProviderForm>,
    redirect_fc: String,
    redirect_pc: String,
    post_logout: String,
    relink_url: Option<String>,
}

fn form_of(kind: ProviderKind, set: Option<&ProviderSettings>) -> ProviderForm {
    ProviderForm {
        kind: path_of(kind),
        label: kind.label(),
        configured: set.is_some(),
        issuer: set.map(|s| s.issuer.clone()).unwrap_or_default(),
        client_id: set.map(|s| s.client_id.clone()).unwrap_or_default(),
        acr: set.map_or("eidas1", |s| s.acr.as_str()).to_owned(),
        sirets: set.map(|s| s.allowed_sirets.join("\n")).unwrap_or_default(),
    }
}

fn app_error(e: FedError) -> AppError {
    match e {
        FedError::App(e) => e,
        e => AppError::invalid("identity-provider", e.message_fr()),
    }
}

async fn show(
    app: &App,
    s: &Session,
    errors: FormErrors,
    status: StatusCode,
    relink_url: Option<String>,
) -> Result<Response, WebError> {
    let set = providers::list_as(app, &s.p).await.map_err(app_error)?;
    let find = |k| set.iter().find(|p| p.kind == k);
    let forms = [ProviderKind::FranceConnect, ProviderKind::ProConnect]
        .into_iter()
        .map(|k| form_of(k, find(k)))
        .collect();
    render_status(
        status,
        &IdentityPage {
            chrome: s.chrome(app, "Connexion FranceConnect et ProConnect").await,
            errors,
            forms,
            redirect_fc: providers::redirect_uri(app, ProviderKind::FranceConnect),
            redirect_pc: providers::redirect_uri(app, ProviderKind::ProConnect),
            post_logout: providers::post_logout_uri(app),
            relink_url,
        },
    )
}

async fn page(State(app): State<App>, s: Session) -> Result<Response, WebError> {
    s.admin()?;
    show(&app, &s, FormErrors::none(), StatusCode::OK, None).await
}

fn kind_field(f: &liasse_web::session::Fields) -> Result<ProviderKind, AppError> {
    parse_kind(&f.text("provider"))
        .ok_or_else(|| AppError::invalid("invalid-provider", "fournisseur d'identité inconnu"))
}

async fn save(State(app): State<App>, form: Posted) -> Result<Response, WebError> {
    let Posted { s, f } = form;
    s.admin()?;
    let result = async {
        let kind = kind_field(&f)?;
        let acr = f.text("acr");
        let acr = acr
            .parse()
            .map_err(|_| AppError::invalid("invalid-acr", "niveau eidas1, eidas2 ou eidas3"))?;
        let secret = f.get("client_secret").unwrap_or_default().trim().to_owned();
        let sirets: Vec<String> = f
            .text("allowed_sirets")
            .split(['\n', ',', ';'])
            .map(str::to_owned)
            .collect();
        providers::set_as(
            &app,
            &s.p,
            NewProvider {
                kind,
                issuer: &f.text("issuer"),
                client_id: &f.text("client_id"),
                client_secret: (!secret.is_empty()).then_some(secret.as_str()),
                acr: Some(acr),
                allowed_sirets: sirets,
            },
        )
        .await
        .map_err(app_error)
    }
    .await;
    match result {
        Ok(_) => Ok(see_other("/admin/identite?ok=reglages")),
        Err(e) => {
            let field = match &e {
                AppError::Invalid {
                    code: "invalid-issuer",
                    ..
                } => "issuer",
                AppError::Invalid {
                    code: "invalid-client-id",
                    ..
                } => "client_id",
                AppError::Invalid {
                    code: "invalid-client-secret",
                    ..
                } => "client_secret",
                AppError::Invalid {
                    code: "invalid-siret",
                    ..
                } => "allowed_sirets",
                _ => "",
            };
            let (status, errors) = FormErrors::from_app(&e, field);
            show(&app, &s, errors, status, None).await
        }
    }
}

async fn remove(State(app): State<App>, form: Posted) -> Result<Response, WebError> {
    let Posted { s, f } = form;
    s.admin()?;
    let kind = kind_field(&f)?;
    providers::remove_as(&app, &s.p, kind)
        .await
        .map_err(app_error)?;
    Ok(see_other("/admin/identite?ok=reglages"))
}

async fn relink_account(State(app): State<App>, form: Posted) -> Result<Response, WebError> {
    let Posted { s, f } = form;
    s.admin()?;
    let result = async {
        let kind = kind_field(&f)?;
        relink::issue_as(&app, &s.p, &f.text("login"), kind)
            .await
            .map_err(app_error)
    }
    .await;
    match result {
        // Shown once, on this answer only: the link is not kept anywhere in clear.
        Ok(issued) => {
            show(
                &app,
                &s,
                FormErrors::none(),
                StatusCode::OK,
                Some(issued.url),
            )
            .await
        }
        Err(e) => {
            let e = match e {
                AppError::NotFound => {
                    AppError::invalid("unknown-login", "aucun compte n'a cet identifiant")
                }
                e => e,
            };
            let (status, errors) = FormErrors::from_app(&e, "relink_login");
            show(&app, &s, errors, status, None).await
        }
    }
}
