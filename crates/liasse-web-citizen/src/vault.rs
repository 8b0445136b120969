//! The vault: the citizen's documents by person and by state, and its offline list.

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use liasse_app::app::App;
use liasse_app::documents::{self, DocumentView, ListFilter};
use liasse_app::{members, requests};
use liasse_web::chrome::Chrome;
use liasse_web::document_items::{Bucket, DocItem, bucket, is_letter, item};
use liasse_web::fmt::{self, date_fr};
use liasse_web::{Session, WebError, render};

pub fn routes() -> Router<App> {
    Router::new()
        .route("/documents", get(vault))
        .route("/documents.json", get(offline_list))
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
