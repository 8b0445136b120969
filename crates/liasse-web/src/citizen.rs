//! The citizen's space: the vault by person and by state, deposit, document page (versions,
//! download, preview, replace, delete with confirmation), letters, household, requests,
//! grants, "who accessed my documents", notifications, export and preferences.

use std::collections::HashMap;

use askama::Template;
use axum::Router;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use futures::TryStreamExt;
use liasse_domain::doctype::{Depositor, DocumentType, Validity};
use serde::Deserialize;

use crate::chrome::Chrome;
use crate::fmt::{self, date_fr, lower_first, opt_date_fr};
use crate::{
    FormErrors, Posted, PostedMultipart, Session, WebError, render, render_status, see_other,
    upload,
};
use liasse_app::app::App;
use liasse_app::documents::{self, DepositInput, DocumentView, ListFilter};
use liasse_app::error::AppError;
use liasse_app::{agency, catalogue, export, grants, journal, members, requests};
use liasse_http::download::content_disposition;

pub fn routes() -> Router<App> {
    Router::new()
        .route("/documents", get(vault).post(deposit))
        .route("/documents.json", get(offline_list))
        .route("/documents/nouveau", get(upload_page))
        .route("/documents/{id}", get(document_page))
        .route("/documents/{id}/contenu", get(download))
        .route("/documents/{id}/apercu", get(preview))
        .route("/documents/{id}/remplacer", post(replace))
        .route("/documents/{id}/supprimer", get(delete_page).post(delete))
        .route("/courriers", get(letters))
        .route("/foyer", get(household).post(add_member))
        .route("/foyer/{id}/retirer", post(remove_member))
        .route("/partages", get(grants_page).post(give_grant))
        .route("/partages/{id}/retirer", post(revoke_grant))
        .route("/journal", get(journal_page))
        .route("/notifications", get(notifications))
        .route("/notifications/{id}/lu", post(mark_read))
        .route("/export", get(export_zip))
        .route("/preferences", get(preferences).post(save_preferences))
        .merge(super::citizen_requests::routes())
}

/// A document in a list.
pub struct DocItem {
    pub id: String,
    pub title: String,
    pub type_label: String,
    pub state: &'static str,
    pub badge: &'static str,
    pub validity: Option<String>,
    pub reason: Option<String>,
    pub deposited: String,
}

/// Documents expiring within this many days are "bientôt expirés".
pub const SOON_DAYS: i64 = 30;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Bucket {
    Valid,
    Pending,
    Soon,
    Expired,
    Rejected,
}

fn bucket(d: &DocumentView, today: time::Date) -> Bucket {
    if d.state == "rejected" {
        return Bucket::Rejected;
    }
    if d.state == "expired" {
        return Bucket::Expired;
    }
    if d.valid_until
        .as_deref()
        .and_then(|u| fmt::days_until(today, u))
        .is_some_and(|n| n <= SOON_DAYS)
    {
        return Bucket::Soon;
    }
    if d.review_state == "submitted" {
        Bucket::Pending
    } else {
        Bucket::Valid
    }
}

pub fn title_of(d: &DocumentView) -> String {
    d.title
        .clone()
        .filter(|t| !t.is_empty())
        .unwrap_or_else(|| d.type_label.clone())
}

fn validity_text(d: &DocumentView, today: time::Date) -> Option<String> {
    let until = d.valid_until.as_deref()?;
    let days = fmt::days_until(today, until)?;
    Some(match days {
        n if n < 0 => format!("Expirée depuis le {}", date_fr(until)),
        0 => "Valable jusqu'à aujourd'hui inclus".to_string(),
        n if n <= SOON_DAYS => format!(
            "Valable jusqu'au {} (encore {n} jour{})",
            date_fr(until),
            if n > 1 { "s" } else { "" }
        ),
        _ => format!("Valable jusqu'au {}", date_fr(until)),
    })
}

pub fn item(d: &DocumentView, today: time::Date) -> DocItem {
    let b = bucket(d, today);
    let (state, badge) = match b {
        Bucket::Rejected => ("Refusée", "bad"),
        Bucket::Expired => ("Expirée", "bad"),
        Bucket::Soon => ("Bientôt expirée", "warn"),
        Bucket::Pending => ("En attente de vérification", "info"),
        Bucket::Valid if d.review_state == "certified" => ("Certifiée", "ok"),
        Bucket::Valid => ("Valide", "ok"),
    };
    DocItem {
        id: d.id.clone(),
        title: title_of(d),
        type_label: d.type_label.clone(),
        state,
        badge,
        validity: validity_text(d, today).or_else(|| {
            (d.valid_until.is_none() && b != Bucket::Rejected)
                .then(|| "Sans limite de validité".to_string())
        }),
        reason: d.review_reason.clone().filter(|_| b == Bucket::Rejected),
        deposited: fmt::rfc_fr(&d.created_at),
    }
}

pub struct Group {
    pub heading: &'static str,
    pub items: Vec<DocItem>,
}

pub struct Missing {
    pub label: String,
    pub number: String,
    pub procedure: String,
    pub href: String,
}

pub struct Person {
    pub anchor: String,
    pub heading: String,
    pub upload_href: String,
    pub missing: Vec<Missing>,
    pub groups: Vec<Group>,
}

#[derive(Template)]
#[template(path = "citizen/vault.html")]
struct VaultPage {
    chrome: Chrome,
    people: Vec<Person>,
    total: usize,
}

/// Letters from the municipality are listed on their own page.
pub fn is_letter(d: &DocumentView) -> bool {
    d.type_code == "courrier"
}

async fn vault(State(app): State<App>, s: Session) -> Result<Response, WebError> {
    s.citizen()?;
    let docs = documents::list(&app, &s.p, &ListFilter::default()).await?;
    let household = members::list(&app, &s.p).await?;
    let today = app.clock.today();
    // "À fournir": mandatory requirements of draft requests that nothing fills yet.
    let mut missing: Vec<(Option<String>, Missing)> = Vec::new();
    for r in requests::list(&app, &s.p).await? {
        if r.state != "draft" {
            continue;
        }
        let v = requests::get(&app, &s.p, &r.id).await?;
        for req in v
            .requirements
            .iter()
            .filter(|q| q.mandatory && q.status != "attached")
        {
            missing.push((
                req.subject.clone(),
                Missing {
                    label: req.label.clone(),
                    number: v.number.clone(),
                    procedure: v.procedure_title.clone(),
                    href: format!("/demandes/{}", v.id),
                },
            ));
        }
    }
    let mut subjects: Vec<(Option<String>, String, String)> = vec![(
        None,
        format!("Moi ({})", s.p.display_name),
        "/documents/nouveau".to_string(),
    )];
    for m in &household {
        subjects.push((
            Some(m.id.clone()),
            format!("{} ({})", m.name, m.relation),
            format!("/documents/nouveau?pour={}", m.id),
        ));
    }
    let order = [
        (Bucket::Valid, "Valides"),
        (Bucket::Pending, "En attente de vérification"),
        (Bucket::Soon, "Bientôt expirées (30 jours ou moins)"),
        (Bucket::Expired, "Expirées"),
        (Bucket::Rejected, "Refusées"),
    ];
    let kept: Vec<&DocumentView> = docs.iter().filter(|d| !is_letter(d)).collect();
    let mut people = Vec::new();
    for (i, (subject, heading, upload_href)) in subjects.into_iter().enumerate() {
        let mine: Vec<&&DocumentView> = kept.iter().filter(|d| d.subject == subject).collect();
        let groups = order
            .iter()
            .map(|(b, heading)| Group {
                heading,
                items: mine
                    .iter()
                    .filter(|d| bucket(d, today) == *b)
                    .map(|d| item(d, today))
                    .collect(),
            })
            .filter(|g| !g.items.is_empty())
            .collect();
        people.push(Person {
            anchor: format!("personne-{i}"),
            heading,
            upload_href,
            missing: missing
                .iter()
                .filter(|(subj, _)| *subj == subject)
                .map(|(_, m)| Missing {
                    label: m.label.clone(),
                    number: m.number.clone(),
                    procedure: m.procedure.clone(),
                    href: m.href.clone(),
                })
                .collect(),
            groups,
        });
    }
    render(&VaultPage {
        chrome: s.chrome(&app, "Mes documents").await,
        people,
        total: kept.len(),
    })
}

/// Names and states of the documents, for the installed app's offline page. No content, no
/// fingerprint, no identifier beyond what the list needs.
async fn offline_list(State(app): State<App>, s: Session) -> Result<Response, WebError> {
    s.citizen()?;
    let docs = documents::list(&app, &s.p, &ListFilter::default()).await?;
    let household = members::list(&app, &s.p).await?;
    let today = app.clock.today();
    let person = |subject: &Option<String>| match subject {
        None => "Moi".to_string(),
        Some(id) => household
            .iter()
            .find(|m| &m.id == id)
            .map(|m| m.name.clone())
            .unwrap_or_default(),
    };
    let list: Vec<serde_json::Value> = docs
        .iter()
        .map(|d| {
            let it = item(d, today);
            serde_json::json!({
                "title": it.title,
                "type": it.type_label,
                "person": person(&d.subject),
                "state": it.state,
                "valid_until": d.valid_until.as_deref().map(date_fr),
            })
        })
        .collect();
    let body = serde_json::json!({
        "generated_at": fmt::datetime_fr(app.now()),
        "documents": list,
    });
    let mut resp = axum::Json(body).into_response();
    resp.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    Ok(resp)
}

pub struct TypeOption {
    pub code: String,
    pub label: String,
    pub selected: bool,
}

pub struct TypeGroup {
    pub label: String,
    pub types: Vec<TypeOption>,
}

pub struct PersonOption {
    pub id: String,
    pub label: String,
    pub selected: bool,
}

/// The catalogue's types a depositor may use, grouped by domain, for a `<select>`.
pub fn type_groups(types: &[DocumentType], who: Depositor, selected: &str) -> Vec<TypeGroup> {
    let mut groups: Vec<TypeGroup> = Vec::new();
    let mut sorted: Vec<&DocumentType> = types
        .iter()
        .filter(|t| t.depositors.contains(&who))
        .collect();
    sorted.sort_by(|a, b| {
        fmt::domain_label(&a.domain)
            .cmp(&fmt::domain_label(&b.domain))
            .then(a.label.cmp(&b.label))
    });
    for t in sorted {
        let label = fmt::domain_label(&t.domain);
        let opt = TypeOption {
            code: t.code.clone(),
            label: t.label.clone(),
            selected: t.code == selected,
        };
        match groups.last_mut() {
            Some(g) if g.label == label => g.types.push(opt),
            _ => groups.push(TypeGroup {
                label,
                types: vec![opt],
            }),
        }
    }
    groups
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
                    };
                    documents::deposit(&app, &s.p, input, file).await
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

pub fn media_label(m: &str) -> &'static str {
    match m {
        "application/pdf" => "PDF",
        "image/jpeg" => "photo JPEG",
        "image/png" => "image PNG",
        "image/webp" => "image WebP",
        _ => "fichier",
    }
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
    let body = Body::from_stream(c.body.map_err(std::io::Error::other));
    let mut resp = body.into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(&c.media_type)
            .unwrap_or(HeaderValue::from_static("application/octet-stream")),
    );
    h.insert(
        header::CONTENT_LENGTH,
        HeaderValue::from(c.size.max(0) as u64),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    if inline {
        h.insert(
            header::CONTENT_DISPOSITION,
            HeaderValue::from_static("inline"),
        );
        // The document runs nothing: no script, no plugin, no request, in its own origin.
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(crate::PREVIEW_CSP),
        );
        // Framed by our own pages only.
        h.insert(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("SAMEORIGIN"),
        );
    } else {
        h.insert(
            header::CONTENT_DISPOSITION,
            content_disposition(&c.file_name),
        );
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("default-src 'none'; sandbox"),
        );
    }
    Ok(resp)
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
    let current = documents::get(&app, &s.p, &id).await?;
    let (mut f, read_error) =
        upload::read(&app, &s.p.tenant_id, mp, Some(&current.type_code)).await;
    let result = match read_error {
        Some(e) => Err(e),
        None => match f.take_file() {
            Ok(file) => documents::replace(&app, &s.p, &id, f.file_name.as_deref(), file).await,
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

pub struct LetterItem {
    pub id: String,
    pub title: String,
    pub received: String,
    pub request: Option<String>,
    pub is_pdf: bool,
}

#[derive(Template)]
#[template(path = "citizen/letters.html")]
struct LettersPage {
    chrome: Chrome,
    letters: Vec<LetterItem>,
}

async fn letters(State(app): State<App>, s: Session) -> Result<Response, WebError> {
    s.citizen()?;
    let docs = documents::list(&app, &s.p, &ListFilter::default()).await?;
    let letters = docs
        .iter()
        .filter(|d| is_letter(d))
        .map(|d| LetterItem {
            id: d.id.clone(),
            title: title_of(d),
            received: fmt::rfc_fr(&d.created_at),
            request: d
                .metadata
                .get("request_number")
                .and_then(|v| v.as_str())
                .map(String::from),
            is_pdf: d.media_type == "application/pdf",
        })
        .collect();
    render(&LettersPage {
        chrome: s.chrome(&app, "Mes courriers").await,
        letters,
    })
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

pub struct GrantItem {
    pub id: String,
    pub grantee: String,
    pub scope: String,
    pub purpose: String,
    pub until: String,
    pub status: &'static str,
    pub badge: &'static str,
    pub active: bool,
    pub uses: Vec<String>,
}

pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

#[derive(Template)]
#[template(path = "citizen/grants.html")]
struct GrantsPage {
    chrome: Chrome,
    errors: FormErrors,
    grants: Vec<GrantItem>,
    domains: Vec<Choice>,
    documents: Vec<Choice>,
    types: Vec<Choice>,
    purpose: String,
    until: String,
}

fn action_fr(action: &str) -> &'static str {
    match action {
        "document.read" => "a consulté une pièce",
        "document.review" => "a examiné une pièce",
        "document.check" => "a vérifié une pièce",
        _ => "a utilisé ce partage",
    }
}

async fn grants_view(
    app: &App,
    s: &Session,
    errors: FormErrors,
    f: Option<&crate::session::Fields>,
) -> Result<GrantsPage, WebError> {
    let list = grants::list(app, &s.p).await?;
    let docs = documents::list(app, &s.p, &ListFilter::default()).await?;
    let types = catalogue::list(app, &s.p.tenant_id).await?;
    let doc_title: HashMap<&str, String> =
        docs.iter().map(|d| (d.id.as_str(), title_of(d))).collect();
    let type_label: HashMap<&str, &str> = types
        .iter()
        .map(|t| (t.code.as_str(), t.label.as_str()))
        .collect();
    let providers = agency::providers(app, &s.p).await?;
    let items = list
        .iter()
        .map(|g| {
            let row = &g.grant;
            let grantee = if row.grantee_kind == "domain" {
                format!(
                    "Les agents du domaine « {} »",
                    fmt::domain_label(&row.grantee)
                )
            } else {
                providers
                    .iter()
                    .find(|p| p.id == row.grantee)
                    .map(|p| format!("Le service partenaire {}", p.name))
                    .unwrap_or_else(|| "Un service partenaire".into())
            };
            let scope = if row.scope_kind == "documents" {
                row.scope
                    .iter()
                    .map(|id| {
                        doc_title
                            .get(id.as_str())
                            .cloned()
                            .unwrap_or_else(|| "pièce supprimée".into())
                    })
                    .collect::<Vec<_>>()
                    .join(", ")
            } else {
                let labels: Vec<String> = row
                    .scope
                    .iter()
                    .map(|c| type_label.get(c.as_str()).copied().unwrap_or(c).to_string())
                    .collect();
                format!("Toutes vos pièces de type : {}", labels.join(", "))
            };
            let (status, badge) = match g.status.as_str() {
                "active" => ("Actif", "ok"),
                "revoked" => ("Retiré", "bad"),
                _ => ("Terminé", "info"),
            };
            GrantItem {
                id: row.id.clone(),
                grantee,
                scope,
                purpose: row.purpose.clone(),
                until: date_fr(&row.valid_until),
                status,
                badge,
                active: g.status == "active",
                uses: g
                    .uses
                    .iter()
                    .map(|u| {
                        format!(
                            "{} {} {}",
                            u.by,
                            action_fr(&u.action),
                            fmt::when_fr(fmt::rfc_ms(&u.at))
                        )
                    })
                    .collect(),
            }
        })
        .collect();
    let picked_docs = f.map(|f| f.all("documents")).unwrap_or_default();
    let picked_domain = f.map(|f| f.text("domain")).unwrap_or_default();
    let picked_type = f.map(|f| f.text("type")).unwrap_or_default();
    let default_until =
        liasse_domain::doctype::format_date(app.clock.today() + time::Duration::days(30));
    Ok(GrantsPage {
        chrome: s.chrome(app, "Mes partages").await,
        errors,
        grants: items,
        domains: fmt::DOMAINS
            .iter()
            .map(|d| Choice {
                value: d.to_string(),
                label: fmt::domain_label(d),
                selected: picked_domain == *d,
            })
            .collect(),
        documents: docs
            .iter()
            .filter(|d| !is_letter(d))
            .map(|d| Choice {
                value: d.id.clone(),
                label: format!("{} ({})", title_of(d), d.type_label),
                selected: picked_docs.contains(&d.id),
            })
            .collect(),
        types: types
            .iter()
            .filter(|t| t.depositors.contains(&Depositor::Citizen))
            .map(|t| Choice {
                value: t.code.clone(),
                label: t.label.clone(),
                selected: picked_type == t.code,
            })
            .collect(),
        purpose: f.map(|f| f.text("purpose")).unwrap_or_default(),
        until: f
            .map(|f| f.text("until"))
            .filter(|u| !u.is_empty())
            .unwrap_or(default_until),
    })
}

async fn grants_page(State(app): State<App>, s: Session) -> Result<Response, WebError> {
    s.citizen()?;
    let page = grants_view(&app, &s, FormErrors::none(), None).await?;
    render(&page)
}

async fn give_grant(State(app): State<App>, form: Posted) -> Result<Response, WebError> {
    let Posted { s, f } = form;
    s.citizen()?;
    let g = grants::NewGrant {
        domain: f.opt("domain"),
        client: None,
        documents: f.all("documents"),
        types: f.opt("type").into_iter().collect(),
        purpose: f.text("purpose"),
        until: f.text("until"),
    };
    match grants::create(&app, &s.p, g).await {
        Ok(_) => Ok(see_other("/partages?ok=partage")),
        Err(e) => {
            let field = match &e {
                AppError::Invalid { code, .. } => match *code {
                    "invalid-grantee" => "domain",
                    "invalid-scope" | "unknown-document" => "scope",
                    "unknown-document-type" => "type",
                    "invalid-purpose" => "purpose",
                    "invalid-date" => "until",
                    _ => "",
                },
                _ => "",
            };
            let (status, errors) = FormErrors::from_app(&e, field);
            let page = grants_view(&app, &s, errors, Some(&f)).await?;
            render_status(status, &page)
        }
    }
}

async fn revoke_grant(
    State(app): State<App>,
    Path(id): Path<String>,
    form: Posted,
) -> Result<Response, WebError> {
    form.s.citizen()?;
    grants::revoke(&app, &form.s.p, &id).await?;
    Ok(see_other("/partages?ok=partage-retire"))
}

pub struct JournalLine {
    pub sentence: String,
    pub by_other: bool,
}

#[derive(Template)]
#[template(path = "citizen/journal.html")]
struct JournalPage {
    chrome: Chrome,
    lines: Vec<JournalLine>,
    others_only: bool,
    count_others: usize,
}

#[derive(Deserialize)]
struct JournalQuery {
    autres: Option<String>,
}

/// "votre justificatif de domicile" from a type label.
fn your(label: &str) -> String {
    format!("votre {}", lower_first(label))
}

async fn journal_page(
    State(app): State<App>,
    s: Session,
    Query(q): Query<JournalQuery>,
) -> Result<Response, WebError> {
    s.citizen()?;
    let entries = journal::for_principal(&app, &s.p).await?;
    let types = catalogue::list(&app, &s.p.tenant_id).await?;
    let type_label: HashMap<&str, &str> = types
        .iter()
        .map(|t| (t.code.as_str(), t.label.as_str()))
        .collect();
    // Which type each document is, from the live vault and from the journal itself (deleted
    // documents keep their name in the journal).
    let mut doc_type: HashMap<String, String> = HashMap::new();
    for d in documents::list(&app, &s.p, &ListFilter::default()).await? {
        doc_type.insert(d.id.clone(), d.type_code.clone());
    }
    for e in &entries {
        if let Some(t) = e.details.get("type").and_then(|v| v.as_str())
            && e.object_kind == "document"
        {
            doc_type
                .entry(e.object_id.clone())
                .or_insert_with(|| t.to_string());
        }
    }
    let mut request_number: HashMap<String, String> = HashMap::new();
    for r in requests::list(&app, &s.p).await? {
        request_number.insert(r.id.clone(), r.number.clone());
    }
    let mut grant_purpose: HashMap<String, String> = HashMap::new();
    for g in grants::list(&app, &s.p).await? {
        grant_purpose.insert(g.grant.id.clone(), g.grant.purpose.clone());
    }
    let doc_name = |id: &str| -> String {
        doc_type
            .get(id)
            .map(|t| your(type_label.get(t.as_str()).copied().unwrap_or(t)))
            .unwrap_or_else(|| "une de vos pièces".into())
    };
    let doc_plain = |id: &str| -> String {
        doc_type
            .get(id)
            .map(|t| type_label.get(t.as_str()).copied().unwrap_or(t).to_string())
            .unwrap_or_else(|| "un document".into())
    };
    let mut lines = Vec::new();
    for e in entries.iter().rev() {
        let me = e.actor_kind == "citizen";
        let who = if me {
            "Vous".to_string()
        } else if e.actor_service.is_empty() {
            e.actor_name.clone()
        } else {
            format!("{} ({})", e.actor_name, e.actor_service)
        };
        let doc = doc_name(&e.object_id);
        let request = |id: &str| {
            request_number
                .get(id)
                .cloned()
                .unwrap_or_else(|| "anonymisée".into())
        };
        let what = match e.action.as_str() {
            "document.read" => format!("{} {doc}", if me { "avez consulté" } else { "a consulté" }),
            "document.deposit" if me => format!("avez déposé {doc}"),
            "document.deposit" => format!(
                "a déposé « {} » dans votre porte-documents",
                doc_plain(&e.object_id)
            ),
            "document.replace" => format!(
                "{} une nouvelle version de {doc}",
                if me { "avez déposé" } else { "a déposé" }
            ),
            "document.delete" => {
                format!("{} {doc}", if me { "avez supprimé" } else { "a supprimé" })
            }
            "document.dispose" | "document.disposal" => {
                format!("a détruit {doc} à la fin de sa durée de conservation")
            }
            "document.review" => match e.details.get("decision").and_then(|v| v.as_str()) {
                Some("validated") => format!("a validé {doc}"),
                Some("rejected") => format!("a refusé {doc}"),
                _ => format!("a examiné {doc}"),
            },
            "document.check" => format!(
                "{} l'intégrité de {doc}",
                if me { "avez vérifié" } else { "a vérifié" }
            ),
            "grant.create" => "avez accordé un partage".to_string(),
            "grant.revoke" => "avez retiré un partage".to_string(),
            "request.create" => format!("avez commencé la demande {}", request(&e.object_id)),
            "request.attach" => format!(
                "{} une pièce à la demande {}",
                if me { "avez joint" } else { "a joint" },
                request(&e.object_id)
            ),
            "request.detach" => format!(
                "{} une pièce de la demande {}",
                if me { "avez retiré" } else { "a retiré" },
                request(&e.object_id)
            ),
            "request.transition" => {
                let to = e
                    .details
                    .get("to")
                    .and_then(|v| v.as_str())
                    .unwrap_or_default();
                let state = lower_first(fmt::request_state(to));
                if me && to == "submitted" {
                    format!("avez envoyé la demande {}", request(&e.object_id))
                } else {
                    format!(
                        "{} la demande {} à l'état « {state} »",
                        if me { "avez passé" } else { "a passé" },
                        request(&e.object_id)
                    )
                }
            }
            "request.anonymise" => format!(
                "a anonymisé la demande {} à la fin de sa durée de conservation",
                e.details
                    .get("number")
                    .and_then(|v| v.as_str())
                    .unwrap_or_default()
            ),
            "member.add" => format!(
                "{} une personne à votre foyer",
                if me { "avez ajouté" } else { "a ajouté" }
            ),
            "member.remove" => format!(
                "{} une personne de votre foyer",
                if me { "avez retiré" } else { "a retiré" }
            ),
            "session.login" => "vous êtes connecté·e".to_string(),
            "account.create" => "a créé votre compte".to_string(),
            "account.export" => format!(
                "{} une copie de tout votre porte-documents",
                if me {
                    "avez téléchargé"
                } else {
                    "a téléchargé"
                }
            ),
            "provider.optin" => {
                "avez accepté de recevoir les documents certifiés d'un émetteur".to_string()
            }
            "provider.optout" => {
                "avez retiré votre accord à un émetteur de documents certifiés".to_string()
            }
            "token.create" => {
                "a créé un accès par programme (jeton d'API) à votre compte".to_string()
            }
            other => format!("a fait l'action « {other} »"),
        };
        let basis = match e.basis_kind.as_str() {
            "request" => format!(", dans le cadre de la demande {}", request(&e.basis_id)),
            "grant" => match grant_purpose.get(&e.basis_id) {
                Some(p) => format!(", grâce au partage que vous avez accordé (« {p} »)"),
                None => ", grâce à un partage que vous avez accordé".to_string(),
            },
            "deposit" => ", en tant que service qui a déposé le document".to_string(),
            _ => String::new(),
        };
        let sentence = if e.action == "session.login" && me {
            format!(
                "Vous vous êtes connecté·e {}.",
                fmt::when_fr(fmt::rfc_ms(&e.at))
            )
        } else {
            format!("{who} {what} {}{basis}.", fmt::when_fr(fmt::rfc_ms(&e.at)))
        };
        lines.push(JournalLine {
            sentence,
            by_other: !me && e.actor_kind != "system" && e.actor_kind != "operator",
        });
    }
    let count_others = lines.iter().filter(|l| l.by_other).count();
    let others_only = q.autres.as_deref() == Some("1");
    if others_only {
        lines.retain(|l| l.by_other);
    }
    lines.truncate(500);
    render(&JournalPage {
        chrome: s.chrome(&app, "Qui a consulté mes documents").await,
        lines,
        others_only,
        count_others,
    })
}

pub struct NotificationItem {
    pub id: String,
    pub title: String,
    pub body: String,
    pub at: String,
    pub unread: bool,
    pub href: Option<String>,
}

#[derive(Template)]
#[template(path = "citizen/notifications.html")]
struct NotificationsPage {
    chrome: Chrome,
    items: Vec<NotificationItem>,
}

async fn notifications(State(app): State<App>, s: Session) -> Result<Response, WebError> {
    s.citizen()?;
    let n = agency::notifications(&app, &s.p).await?;
    let items = n
        .items
        .into_iter()
        .map(|x| NotificationItem {
            href: x.object_id.as_ref().and_then(|id| {
                if x.kind.starts_with("document.") {
                    Some(format!("/documents/{id}"))
                } else if x.kind.starts_with("request.state.") {
                    Some(format!("/demandes/{id}"))
                } else {
                    None
                }
            }),
            id: x.id,
            title: x.title,
            body: x.body,
            at: fmt::datetime_fr(x.created_at),
            unread: x.read_at.is_none(),
        })
        .collect();
    render(&NotificationsPage {
        chrome: s.chrome(&app, "Notifications").await,
        items,
    })
}

async fn mark_read(
    State(app): State<App>,
    Path(id): Path<String>,
    form: Posted,
) -> Result<Response, WebError> {
    agency::mark_read(&app, &form.s.p, &id).await?;
    Ok(see_other("/notifications?ok=lu"))
}

/// The whole vault as one ZIP (the same streamed export as the API and the command line).
async fn export_zip(State(app): State<App>, s: Session) -> Result<Response, WebError> {
    s.citizen()?;
    let export = export::download(&app, &s.p, export::Via::Api).await?;
    Ok(liasse_http::download::zip_response(export))
}

pub struct ProviderChoice {
    pub id: String,
    pub name: String,
    pub service: String,
    pub on: bool,
}

#[derive(Template)]
#[template(path = "citizen/preferences.html")]
struct PreferencesPage {
    chrome: Chrome,
    providers: Vec<ProviderChoice>,
}

async fn preferences(State(app): State<App>, s: Session) -> Result<Response, WebError> {
    s.citizen()?;
    let mut providers = Vec::new();
    for p in agency::providers(&app, &s.p).await? {
        let on =
            liasse_store::notifications::has_optin(&app.db, &s.p.tenant_id, &s.p.account_id, &p.id)
                .await
                .map_err(AppError::from)?;
        providers.push(ProviderChoice {
            id: p.id,
            name: p.name,
            service: p.service,
            on,
        });
    }
    render(&PreferencesPage {
        chrome: s.chrome(&app, "Préférences").await,
        providers,
    })
}

async fn save_preferences(State(app): State<App>, form: Posted) -> Result<Response, WebError> {
    let Posted { s, f } = form;
    s.citizen()?;
    let wanted = f.all("providers");
    for p in agency::providers(&app, &s.p).await? {
        let on = wanted.contains(&p.id);
        let was =
            liasse_store::notifications::has_optin(&app.db, &s.p.tenant_id, &s.p.account_id, &p.id)
                .await
                .map_err(AppError::from)?;
        if on != was {
            agency::set_consent(&app, &s.p, &p.id, on).await?;
        }
    }
    Ok(see_other("/preferences?ok=preferences"))
}
