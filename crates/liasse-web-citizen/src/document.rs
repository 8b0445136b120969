//! A document's page: versions, download, preview, replacement and deletion with confirmation.

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::routing::{get, post};
use serde::Deserialize;

use liasse_app::app::App;
use liasse_app::documents::{self};
use liasse_app::{members, requests};
use liasse_http::download::Presentation;
use liasse_web::chrome::Chrome;
use liasse_web::document_items::{DocItem, is_letter, item, media_label, title_of};
use liasse_web::fmt::{self};
use liasse_web::{
    FormErrors, Posted, PostedMultipart, Session, WebError, render, render_status, see_other,
    upload,
};

pub fn routes() -> Router<App> {
    Router::new()
        .route("/documents/{id}", get(document_page))
        .route("/documents/{id}/contenu", get(download))
        .route("/documents/{id}/apercu", get(preview))
        .route("/documents/{id}/remplacer", post(replace))
        .route("/documents/{id}/supprimer", get(delete_page).post(delete))
}

pub struct VersionItem {
    pub version: i64,
    pub file_name: String,
    pub size: String,
    pub media: String,
    pub created: String,
    pub destroyed: bool,
    pub current: bool,
}

#[derive(Template)]
#[template(path = "citizen/document.html")]
struct DocumentPage {
    chrome: Chrome,
    errors: FormErrors,
    d: DocItem,
    person: String,
    channel: &'static str,
    origin: &'static str,
    file_name: String,
    size: String,
    is_image: bool,
    is_pdf: bool,
    version: i64,
    versions: Vec<VersionItem>,
    letter: bool,
}

async fn document_view(
    app: &App,
    s: &Session,
    id: &str,
    errors: FormErrors,
) -> Result<DocumentPage, WebError> {
    s.citizen()?;
    let d = documents::get(app, &s.p, id).await?;
    let today = app.clock.today();
    let person = match &d.subject {
        None => format!("Moi ({})", s.p.display_name),
        Some(m) => members::list(app, &s.p)
            .await?
            .into_iter()
            .find(|x| &x.id == m)
            .map(|x| x.name)
            .unwrap_or_default(),
    };
    let versions = d
        .versions
        .as_deref()
        .unwrap_or_default()
        .iter()
        .rev()
        .map(|v| VersionItem {
            version: v.version,
            file_name: v.file_name.clone(),
            size: fmt::size_fr(v.size),
            media: media_label(&v.media_type).into(),
            created: fmt::rfc_fr(&v.created_at),
            destroyed: v.destroyed,
            current: v.version == d.version,
        })
        .collect();
    Ok(DocumentPage {
        chrome: s.chrome(app, &title_of(&d)).await,
        errors,
        person,
        channel: fmt::channel(&d.channel),
        origin: match d.origin.as_str() {
            "citizen" => "vous",
            "agency" => "les services de la collectivité",
            "provider" => "l'administration émettrice (document certifié)",
            _ => "inconnu",
        },
        file_name: d.file_name.clone(),
        size: fmt::size_fr(d.size),
        is_image: d.media_type.starts_with("image/"),
        is_pdf: d.media_type == "application/pdf",
        version: d.version,
        versions,
        letter: is_letter(&d),
        d: item(&d, today),
    })
}

async fn document_page(
    State(app): State<App>,
    s: Session,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let page = document_view(&app, &s, &id, FormErrors::none()).await?;
    render(&page)
}

#[derive(Deserialize)]
pub struct VersionQuery {
    pub version: Option<i64>,
}

/// Streams a version: as an attachment (download), or inline in a sandbox (preview). Both
/// go through `services::documents::content`, which checks the access and journals the read.
pub async fn content_response(
    app: &App,
    s: &Session,
    id: &str,
    version: Option<i64>,
    inline: bool,
) -> Result<Response, WebError> {
    let c = documents::content(app, &s.p, id, version).await?;
    let how = if inline {
        // The document runs nothing: no script, no plugin, no request, in its own origin.
        Presentation::Inline {
            csp: liasse_web::PREVIEW_CSP,
        }
    } else {
        Presentation::Attachment
    };
    Ok(liasse_http::download::content_response(c, how))
}

async fn download(
    State(app): State<App>,
    s: Session,
    Path(id): Path<String>,
    Query(q): Query<VersionQuery>,
) -> Result<Response, WebError> {
    content_response(&app, &s, &id, q.version, false).await
}

/// The inline variant of the content, for `<img>` and `<object>` previews (citizens and
/// agents alike: the policy decides).
async fn preview(
    State(app): State<App>,
    s: Session,
    Path(id): Path<String>,
    Query(q): Query<VersionQuery>,
) -> Result<Response, WebError> {
    content_response(&app, &s, &id, q.version, true).await
}

async fn replace(
    State(app): State<App>,
    Path(id): Path<String>,
    form: PostedMultipart,
) -> Result<Response, WebError> {
    let PostedMultipart { s, mp } = form;
    s.citizen()?;
    let replacement = documents::replacement(&app, &s.p, &id).await?;
    let (mut f, read_error) = upload::read_version(
        &app,
        &s.p.tenant_id,
        replacement.document_id(),
        mp,
        replacement.type_code(),
    )
    .await;
    let result = match read_error {
        Some(e) => Err(e),
        None => match f.take_file() {
            Ok(file) => {
                documents::replace(&app, &s.p, replacement, f.file_name.as_deref(), file).await
            }
            Err(e) => Err(e),
        },
    };
    match result {
        Ok(_) => Ok(see_other(&format!("/documents/{id}?ok=remplace"))),
        Err(e) => {
            let (status, errors) = FormErrors::from_app(&e, "file");
            let page = document_view(&app, &s, &id, errors).await?;
            render_status(status, &page)
        }
    }
}

#[derive(Template)]
#[template(path = "citizen/delete.html")]
struct DeletePage {
    chrome: Chrome,
    d: DocItem,
    in_requests: Vec<String>,
}

async fn delete_page(
    State(app): State<App>,
    s: Session,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    s.citizen()?;
    let d = documents::get(&app, &s.p, &id).await?;
    // Tell the citizen which open requests use it (deleting removes it from them too).
    let mut in_requests = Vec::new();
    for r in requests::list(&app, &s.p).await? {
        if matches!(r.state.as_str(), "closed" | "completed" | "rejected") {
            continue;
        }
        let v = requests::get(&app, &s.p, &r.id).await?;
        if v.requirements
            .iter()
            .any(|q| q.attached.as_ref().is_some_and(|a| a.document_id == d.id))
        {
            in_requests.push(format!("{} ({})", v.number, v.procedure_title));
        }
    }
    render(&DeletePage {
        chrome: s.chrome(&app, "Supprimer une pièce").await,
        d: item(&d, app.clock.today()),
        in_requests,
    })
}

async fn delete(
    State(app): State<App>,
    Path(id): Path<String>,
    form: Posted,
) -> Result<Response, WebError> {
    form.s.citizen()?;
    documents::delete(&app, &form.s.p, &id).await?;
    Ok(see_other("/documents?ok=supprime"))
}
