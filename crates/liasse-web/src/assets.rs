//! Static files, compiled into the binary so that it stays self-contained: the stylesheet,
//! the one script, icons, the web app manifest, the service worker and the tenants' themes.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::WebError;
use crate::theme::{Brand, Logo, css};
use liasse_app::app::App;
use liasse_app::error::AppError;

pub const APP_CSS: &str = include_str!("../static/app.css");
pub const APP_JS: &str = include_str!("../static/app.js");
pub const SW_JS: &str = include_str!("../static/sw.js");
pub const MANIFEST: &str = include_str!("../static/manifest.webmanifest");
pub const ICON_SVG: &str = include_str!("../static/icon.svg");
pub const ICON_192: &[u8] = include_bytes!("../static/icon-192.png");
pub const ICON_512: &[u8] = include_bytes!("../static/icon-512.png");

pub fn routes() -> Router<App> {
    Router::new()
        .route("/static/{file}", get(file))
        .route("/manifest.webmanifest", get(manifest))
        .route("/sw.js", get(service_worker))
        .route("/favicon.ico", get(favicon))
        .route("/theme/{slug}/brand.css", get(theme))
        .route("/theme/{slug}/logo", get(logo))
}

fn asset(content_type: &'static str, cache: &'static str, body: impl IntoResponse) -> Response {
    let mut resp = body.into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    resp
}

const SHORT: &str = "public, max-age=300";

async fn file(Path(name): Path<String>) -> Result<Response, WebError> {
    Ok(match name.as_str() {
        "app.css" => asset("text/css; charset=utf-8", SHORT, APP_CSS),
        "app.js" => asset("text/javascript; charset=utf-8", SHORT, APP_JS),
        "icon.svg" => asset("image/svg+xml", SHORT, ICON_SVG),
        "icon-192.png" => asset("image/png", SHORT, ICON_192),
        "icon-512.png" => asset("image/png", SHORT, ICON_512),
        _ => return Err(AppError::NotFound.into()),
    })
}

async fn manifest() -> Response {
    asset("application/manifest+json", SHORT, MANIFEST)
}

/// Served from the root so that it controls the whole site; always revalidated so that a
/// new version replaces the old one at once.
async fn service_worker() -> Response {
    asset("text/javascript; charset=utf-8", "no-cache", SW_JS)
}

async fn favicon() -> Response {
    asset("image/png", SHORT, ICON_192)
}

/// The tenant's colours as CSS custom properties (public: branding is not a secret).
async fn theme(State(app): State<App>, Path(slug): Path<String>) -> Result<Response, WebError> {
    let tenant = liasse_app::tenants::by_slug(&app, &slug).await?;
    Ok(asset(
        "text/css; charset=utf-8",
        "no-cache",
        css(&Brand::of(&tenant)),
    ))
}

/// The tenant's uploaded logo (public, like the theme; no session needed). Its address
/// carries its fingerprint, so it may be cached for a day; `nosniff` and a CSP that allows
/// nothing keep it an image even if opened on its own.
async fn logo(State(app): State<App>, Path(slug): Path<String>) -> Result<Response, WebError> {
    let tenant = liasse_app::tenants::by_slug(&app, &slug).await?;
    let logo = Logo::of(&tenant.settings).ok_or(AppError::NotFound)?;
    let mut resp = asset(logo.media_type, "public, max-age=86400", logo.bytes);
    let h = resp.headers_mut();
    h.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; sandbox"),
    );
    Ok(resp)
}
