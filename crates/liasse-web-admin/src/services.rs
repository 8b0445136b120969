//! The tenant's services: list, creation, renaming.

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};

use liasse_app::admin;
use liasse_app::app::App;
use liasse_app::error::AppError;
use liasse_web::chrome::Chrome;
use liasse_web::{FormErrors, Posted, Session, WebError, render_status, see_other};

pub fn routes() -> Router<App> {
    Router::new()
        .route("/admin/services", get(services).post(create_service))
        .route("/admin/services/{id}", post(rename_service))
}

#[derive(Template)]
#[template(path = "admin/services.html")]
struct ServicesPage {
    chrome: Chrome,
    errors: FormErrors,
    services: Vec<(String, String)>,
    name: String,
}

async fn services_page(
    app: &App,
    s: &Session,
    errors: FormErrors,
    name: String,
    status: StatusCode,
) -> Result<Response, WebError> {
    let services = admin::services(app, &s.p)
        .await?
        .into_iter()
        .map(|sv| (sv.id, sv.name))
        .collect();
    render_status(
        status,
        &ServicesPage {
            chrome: s.chrome(app, "Services").await,
            errors,
            services,
            name,
        },
    )
}

async fn services(State(app): State<App>, s: Session) -> Result<Response, WebError> {
    s.admin()?;
    services_page(&app, &s, FormErrors::none(), String::new(), StatusCode::OK).await
}

async fn create_service(State(app): State<App>, form: Posted) -> Result<Response, WebError> {
    let Posted { s, f } = form;
    s.admin()?;
    let name = f.text("name");
    match admin::create_service(&app, &s.p, &name).await {
        Ok(_) => Ok(see_other("/admin/services?ok=service-cree")),
        Err(e) => {
            let (status, errors) = FormErrors::from_app(&e, "name");
            services_page(&app, &s, errors, name, status).await
        }
    }
}

async fn rename_service(
    State(app): State<App>,
    Path(id): Path<String>,
    form: Posted,
) -> Result<Response, WebError> {
    let Posted { s, f } = form;
    s.admin()?;
    match admin::rename_service(&app, &s.p, &id, &f.text("name")).await {
        Ok(()) => Ok(see_other("/admin/services?ok=service-renomme")),
        Err(AppError::NotFound) => Err(AppError::NotFound.into()),
        Err(e) => {
            let (status, errors) = FormErrors::from_app(&e, "");
            services_page(&app, &s, errors, String::new(), status).await
        }
    }
}
