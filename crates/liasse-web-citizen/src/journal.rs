//! "Who accessed my documents": the citizen's journal in French.

use std::collections::HashMap;

use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::response::Response;
use axum::routing::get;
use liasse_domain::policy::is_vault_account;
use serde::Deserialize;

use liasse_app::app::App;
use liasse_app::documents::{self};
use liasse_app::{catalogue, grants, journal, requests};
use liasse_web::chrome::Chrome;
use liasse_web::fmt::{self, lower_first};
use liasse_web::{Session, WebError, render};

pub fn routes() -> Router<App> {
    Router::new().route("/journal", get(journal_page))
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
    let mut doc_type = documents::type_codes(&app, &s.p).await?;
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
        let me = is_vault_account(&e.actor_kind);
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
            "document.destroy_again" => format!(
                "a détruit à nouveau {doc} après une restauration de sauvegarde : vous l'aviez supprimé, ou sa durée de conservation était écoulée"
            ),
            "vault.restore" => {
                let count = |k: &str| e.details.get(k).and_then(|v| v.as_i64()).unwrap_or(0);
                let taken = e
                    .details
                    .get("backup_taken_at")
                    .and_then(|v| v.as_str())
                    .and_then(|t| t.get(..10))
                    .unwrap_or_default();
                format!(
                    "a restauré votre porte-documents depuis une sauvegarde du {taken} : {} pièce(s) restaurée(s), {} détruite(s) à nouveau",
                    count("documents"),
                    count("destroyed_again")
                )
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
            "identity.link" => format!(
                "{} votre compte à {}",
                if me { "avez relié" } else { "a relié" },
                provider_fr(&e.basis_kind)
            ),
            "identity.unlink" => format!(
                "a retiré le rattachement de votre compte à {}",
                e.details
                    .get("provider")
                    .and_then(|v| v.as_str())
                    .unwrap_or("un fournisseur d'identité")
            ),
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
            // How: a password, or a provider and the level of assurance it returned.
            let how = match e.basis_kind.as_str() {
                "franceconnect" | "proconnect" => format!(
                    " avec {} (niveau de garantie {})",
                    provider_fr(&e.basis_kind),
                    e.basis_id
                ),
                "password" => " avec votre mot de passe".to_string(),
                _ => String::new(),
            };
            format!(
                "Vous vous êtes connecté·e{how} {}.",
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

/// The name of an identity provider as the journal's `basis_kind` records it.
fn provider_fr(kind: &str) -> &'static str {
    match kind {
        "franceconnect" => "FranceConnect",
        "proconnect" => "ProConnect",
        _ => "un fournisseur d'identité",
    }
}
