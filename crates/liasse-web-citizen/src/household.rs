//! The household: the people whose documents the citizen keeps.

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::{get, post};

use liasse_app::app::App;
use liasse_app::error::AppError;
use liasse_app::members;
use liasse_web::chrome::Chrome;
use liasse_web::fmt::opt_date_fr;
use liasse_web::{FormErrors, Posted, Session, WebError, render, render_status, see_other};

pub fn routes() -> Router<App> {
    Router::new()
        .route("/foyer", get(household).post(add_member))
        .route("/foyer/{id}/retirer", post(remove_member))
}

pub struct MemberItem {
    pub id: String,
    pub name: String,
    pub relation: String,
    pub birth: String,
}

#[derive(Template)]
#[template(path = "citizen/household.html")]
struct HouseholdPage {
    chrome: Chrome,
    errors: FormErrors,
    members: Vec<MemberItem>,
    name: String,
    relation: String,
    birth_date: String,
}

async fn household_view(
    app: &App,
    s: &Session,
    errors: FormErrors,
    values: (String, String, String),
) -> Result<HouseholdPage, WebError> {
    let list = members::list(app, &s.p).await?;
    Ok(HouseholdPage {
        chrome: s.chrome(app, "Mon foyer").await,
        errors,
        members: list
            .into_iter()
            .map(|m| MemberItem {
                id: m.id,
                name: m.name,
                relation: m.relation,
                birth: opt_date_fr(m.birth_date.as_deref()),
            })
            .collect(),
        name: values.0,
        relation: values.1,
        birth_date: values.2,
    })
}

async fn household(State(app): State<App>, s: Session) -> Result<Response, WebError> {
    s.citizen()?;
    let page = household_view(&app, &s, FormErrors::none(), Default::default()).await?;
    render(&page)
}

async fn add_member(State(app): State<App>, form: Posted) -> Result<Response, WebError> {
    let Posted { s, f } = form;
    s.citizen()?;
    let m = members::NewMember {
        name: f.text("name"),
        birth_date: f.opt("birth_date"),
        relation: f.text("relation"),
    };
    match members::add(&app, &s.p, m).await {
        Ok(_) => Ok(see_other("/foyer?ok=membre")),
        Err(e) => {
            let field = match &e {
                AppError::Invalid { code, .. } => match *code {
                    "invalid-name" => "name",
                    "invalid-relation" => "relation",
                    "invalid-date" => "birth_date",
                    _ => "",
                },
                _ => "",
            };
            let (status, errors) = FormErrors::from_app(&e, field);
            let page = household_view(
                &app,
                &s,
                errors,
                (f.text("name"), f.text("relation"), f.text("birth_date")),
            )
            .await?;
            render_status(status, &page)
        }
    }
}

async fn remove_member(
    State(app): State<App>,
    Path(id): Path<String>,
    form: Posted,
) -> Result<Response, WebError> {
    form.s.citizen()?;
    members::remove(&app, &form.s.p, &id).await?;
    Ok(see_other("/foyer?ok=membre-retire"))
}
