//! Appearance and settings: branding, logo, other settings.

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};

use liasse_app::admin;
use liasse_app::app::App;
use liasse_app::error::AppError;
use liasse_web::chrome::Chrome;
use liasse_web::theme::Brand;
use liasse_web::{
    FormErrors, Posted, PostedMultipart, Session, WebError, render_status, see_other,
};

pub fn routes() -> Router<App> {
    Router::new()
        .route("/admin/apparence", get(branding).post(save_branding))
        .route("/admin/apparence/logo", post(upload_logo))
        .route("/admin/apparence/logo/retirer", post(remove_logo))
        .route("/admin/reglages", post(save_settings))
}

#[derive(Template)]
#[template(path = "admin/branding.html")]
struct BrandingPage {
    chrome: Chrome,
    errors: FormErrors,
    tenant_name: String,
    name: String,
    primary: String,
    logo: String,
    settings: String,
    /// The address of the uploaded logo, if there is one.
    uploaded_logo: Option<String>,
}

fn other_settings(settings: &serde_json::Value) -> String {
    let mut s = settings.as_object().cloned().unwrap_or_default();
    for k in [
        "brand_name",
        "brand_primary",
        "brand_logo_url",
        admin::LOGO_KEY,
    ] {
        s.remove(k);
    }
    serde_json::to_string_pretty(&serde_json::Value::Object(s)).unwrap_or_else(|_| "{}".into())
}

async fn branding_page(
    app: &App,
    s: &Session,
    errors: FormErrors,
    values: Option<(String, String, String, String)>,
    status: StatusCode,
) -> Result<Response, WebError> {
    // The tenant as stored now (the session's copy may predate a change).
    let tenant = liasse_app::tenants::by_id(app, &s.p.tenant_id).await?;
    let get = |k: &str| {
        tenant
            .settings
            .get(k)
            .and_then(|v| v.as_str())
            .unwrap_or_default()
            .to_string()
    };
    let (name, primary, logo, settings) = values.unwrap_or_else(|| {
        (
            get("brand_name"),
            get("brand_primary"),
            get("brand_logo_url"),
            other_settings(&tenant.settings),
        )
    });
    let mut chrome = s.chrome(app, "Apparence et réglages").await;
    let brand = Brand::of(&tenant);
    let uploaded_logo = admin::Logo::of(&tenant.settings)
        .is_some()
        .then(|| brand.logo.clone())
        .flatten();
    chrome.site = brand.name;
    chrome.logo = brand.logo;
    render_status(
        status,
        &BrandingPage {
            chrome,
            errors,
            tenant_name: tenant.name.clone(),
            name,
            primary,
            logo,
            settings,
            uploaded_logo,
        },
    )
}

async fn branding(State(app): State<App>, s: Session) -> Result<Response, WebError> {
    s.admin()?;
    branding_page(&app, &s, FormErrors::none(), None, StatusCode::OK).await
}

async fn save_branding(State(app): State<App>, form: Posted) -> Result<Response, WebError> {
    let Posted { s, f } = form;
    s.admin()?;
    let b = admin::Branding {
        name: f.text("brand_name"),
        primary: f.text("brand_primary"),
        logo_url: f.text("brand_logo_url"),
    };
    match admin::set_branding(&app, &s.p, b).await {
        Ok(()) => Ok(see_other("/admin/apparence?ok=apparence")),
        Err(e) => {
            let field = match &e {
                AppError::Invalid {
                    code: "invalid-colour",
                    ..
                } => "brand_primary",
                AppError::Invalid {
                    code: "invalid-logo",
                    ..
                } => "brand_logo_url",
                AppError::Invalid {
                    code: "invalid-name",
                    ..
                } => "brand_name",
                _ => "",
            };
            let (status, errors) = FormErrors::from_app(&e, field);
            let tenant = liasse_app::tenants::by_id(&app, &s.p.tenant_id).await?;
            branding_page(
                &app,
                &s,
                errors,
                Some((
                    f.text("brand_name"),
                    f.text("brand_primary"),
                    f.text("brand_logo_url"),
                    other_settings(&tenant.settings),
                )),
                status,
            )
            .await
        }
    }
}

/// The logo file of the branding page (a multipart form: `csrf` first, then `logo`).
async fn upload_logo(State(app): State<App>, form: PostedMultipart) -> Result<Response, WebError> {
    let PostedMultipart { s, mut mp } = form;
    s.admin()?;
    let result = async {
        let mut bytes = None;
        while let Some(mut field) = mp.next_field().await.map_err(|_| unreadable_logo())? {
            if field.name() != Some("logo") {
                continue;
            }
            let mut data = Vec::new();
            while let Some(chunk) = field.chunk().await.map_err(|_| unreadable_logo())? {
                // Stops reading as soon as the file is known to be too big.
                if data.len() + chunk.len() > admin::LOGO_MAX_BYTES {
                    return Err(admin::logo_too_large());
                }
                data.extend_from_slice(&chunk);
            }
            bytes = Some(data);
            break;
        }
        match bytes {
            Some(b) if !b.is_empty() => admin::set_logo(&app, &s.p, b).await,
            _ => Err(AppError::invalid(
                "missing-field",
                "choisissez le fichier du logo (PNG, JPEG ou WebP)",
            )),
        }
    }
    .await;
    match result {
        Ok(()) => Ok(see_other("/admin/apparence?ok=apparence")),
        Err(e) => {
            let (status, errors) = FormErrors::from_app(&e, "logo");
            branding_page(&app, &s, errors, None, status).await
        }
    }
}

fn unreadable_logo() -> AppError {
    AppError::invalid(
        "invalid-logo",
        "le fichier du logo n'a pas pu être lu : envoyez-le à nouveau",
    )
}

async fn remove_logo(State(app): State<App>, form: Posted) -> Result<Response, WebError> {
    let Posted { s, .. } = form;
    s.admin()?;
    admin::remove_logo(&app, &s.p).await?;
    Ok(see_other("/admin/apparence?ok=apparence"))
}

async fn save_settings(State(app): State<App>, form: Posted) -> Result<Response, WebError> {
    let Posted { s, f } = form;
    s.admin()?;
    let text = f.text("settings");
    let result =
        match serde_json::from_str::<serde_json::Value>(if text.is_empty() { "{}" } else { &text })
        {
            Ok(v) => admin::set_settings(&app, &s.p, v).await,
            Err(e) => Err(AppError::invalid(
                "invalid-settings",
                format!("les réglages ne sont pas du JSON valide : {e}"),
            )),
        };
    match result {
        Ok(()) => Ok(see_other("/admin/apparence?ok=reglages")),
        Err(e) => {
            let (status, errors) = FormErrors::from_app(&e, "settings");
            let tenant = liasse_app::tenants::by_id(&app, &s.p.tenant_id).await?;
            let get = |k: &str| {
                tenant
                    .settings
                    .get(k)
                    .and_then(|v| v.as_str())
                    .unwrap_or_default()
                    .to_string()
            };
            branding_page(
                &app,
                &s,
                errors,
                Some((
                    get("brand_name"),
                    get("brand_primary"),
                    get("brand_logo_url"),
                    text,
                )),
                status,
            )
            .await
        }
    }
}
