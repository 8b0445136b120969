//! The deposit form and the deposit of a new document.

use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::response::Response;
use axum::routing::{get, post};
use liasse_domain::doctype::{Depositor, Validity};
use serde::Deserialize;

use liasse_app::app::App;
use liasse_app::deposit::{self, Vault};
use liasse_app::documents::DepositInput;
use liasse_app::error::AppError;
use liasse_app::{catalogue, members};
use liasse_web::chrome::Chrome;
use liasse_web::type_groups::{TypeGroup, type_groups};
use liasse_web::{
    FormErrors, PostedMultipart, Session, WebError, render, render_status, see_other, upload,
};

pub fn routes() -> Router<App> {
    Router::new()
        .route("/documents", post(deposit))
        .route("/documents/nouveau", get(upload_page))
}

pub struct PersonOption {
    pub id: String,
    pub label: String,
    pub selected: bool,
}

#[derive(Template)]
#[template(path = "citizen/upload.html")]
struct UploadPage {
    chrome: Chrome,
    errors: FormErrors,
    groups: Vec<TypeGroup>,
    people: Vec<PersonOption>,
    title: String,
    issued_on: String,
    valid_until: String,
    /// Types whose validity is the date printed on them (the date is then required).
    printed: Vec<String>,
}

#[derive(Deserialize, Default)]
struct UploadQuery {
    #[serde(rename = "type")]
    type_code: Option<String>,
    pour: Option<String>,
}

struct UploadValues {
    type_code: String,
    subject: String,
    title: String,
    issued_on: String,
    valid_until: String,
}

async fn upload_form(
    app: &App,
    s: &Session,
    v: UploadValues,
    errors: FormErrors,
) -> Result<UploadPage, WebError> {
    let types = catalogue::list(app, &s.p.tenant_id).await?;
    let household = members::list(app, &s.p).await?;
    let mut people = vec![PersonOption {
        id: "self".into(),
        label: format!("Moi ({})", s.p.display_name),
        selected: v.subject.is_empty() || v.subject == "self",
    }];
    for m in household {
        people.push(PersonOption {
            selected: m.id == v.subject,
            id: m.id,
            label: format!("{} ({})", m.name, m.relation),
        });
    }
    Ok(UploadPage {
        chrome: s.chrome(app, "Déposer une pièce").await,
        errors,
        groups: type_groups(&types, Depositor::Citizen, &v.type_code),
        printed: types
            .iter()
            .filter(|t| t.validity == Validity::PrintedDate)
            .map(|t| t.label.clone())
            .collect(),
        people,
        title: v.title,
        issued_on: v.issued_on,
        valid_until: v.valid_until,
    })
}

async fn upload_page(
    State(app): State<App>,
    s: Session,
    Query(q): Query<UploadQuery>,
) -> Result<Response, WebError> {
    s.citizen()?;
    let page = upload_form(
        &app,
        &s,
        UploadValues {
            type_code: q.type_code.unwrap_or_default(),
            subject: q.pour.unwrap_or_default(),
            title: String::new(),
            issued_on: String::new(),
            valid_until: String::new(),
        },
        FormErrors::none(),
    )
    .await?;
    render(&page)
}

async fn deposit(State(app): State<App>, form: PostedMultipart) -> Result<Response, WebError> {
    let PostedMultipart { s, mp } = form;
    s.citizen()?;
    let (mut f, read_error) = upload::read(&app, &s.p.tenant_id, mp, None).await;
    let result = match read_error {
        Some(e) => Err(e),
        None => match f.take_file() {
            Err(e) => Err(e),
            Ok(file) => {
                let type_code = f.get("type");
                if type_code.is_empty() {
                    Err(AppError::invalid(
                        "unknown-document-type",
                        "choisissez le type de pièce",
                    ))
                } else {
                    let input = DepositInput {
                        type_code,
                        subject: f.opt("subject"),
                        title: f.opt("title"),
                        valid_until: f.opt("valid_until"),
                        issued_on: f.opt("issued_on"),
                        file_name: f.file_name.clone(),
                        metadata: None,
                        channel: Some("web".into()),
                        doc_type: f.doc_type.take(),
                    };
                    deposit::deposit(&app, &s.p, Vault::Own, input, file).await
                }
            }
        },
    };
    match result {
        Ok(doc) => Ok(see_other(&format!("/documents/{}?ok=depose", doc.id))),
        Err(e) => {
            let field = upload::field_of(&e, &f);
            let (status, errors) = FormErrors::from_app(&e, field);
            let page = upload_form(
                &app,
                &s,
                UploadValues {
                    type_code: f.get("type"),
                    subject: f.get("subject"),
                    title: f.get("title"),
                    issued_on: f.get("issued_on"),
                    valid_until: f.get("valid_until"),
                },
                errors,
            )
            .await?;
            render_status(status, &page)
        }
    }
}
