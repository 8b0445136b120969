//! What agents and service clients do with a citizen's vault: see what a basis allows, review
//! documents, deposit letters and generated documents, deposit at the counter on the citizen's
//! behalf; trusted providers push certified documents to citizens who opted in.

use std::sync::Arc;

use liasse_domain::doctype::{format_date, parse_date};
use liasse_domain::ids::{is_valid_id, new_id};
use liasse_domain::journal::NewEntry;
use liasse_domain::policy::{Access, Action, Basis, is_partner_account, is_vault_account};
use liasse_store::accounts::{self, AccountRow};
use liasse_store::documents::{self, DocumentRow};
use liasse_store::group::{self, GroupedWrite};
use liasse_store::notifications::{self, NotificationRow};
use liasse_store::reviews::{self, ReviewRow};
use liasse_store::{StoreError, journal};
use serde::{Deserialize, Serialize};

use crate::access::Bases;
use crate::app::App;
use crate::auth::Principal;
use crate::catalogue;
use crate::deposit::{citizen_account, service_label};
use crate::documents::{DocumentView, authorize, open_version, view};
use crate::error::{AppError, Result};

#[derive(Debug, Serialize)]
pub struct AgentDocumentView {
    #[serde(flatten)]
    pub document: DocumentView,
    /// Why the caller may see it.
    pub basis: Basis,
}

/// A citizen of the caller's tenant, for an agent or a service client; "not found" otherwise.
pub async fn citizen(app: &App, p: &Principal, citizen_id: &str) -> Result<AccountRow> {
    p.authorize(&Access::CitizenFiles)?;
    citizen_account(app, p, citizen_id).await
}

/// The active citizen account of that login, for an agent at the counter.
pub async fn citizen_by_login(app: &App, p: &Principal, login: &str) -> Result<Option<AccountRow>> {
    p.authorize(&Access::CitizenFiles)?;
    Ok(accounts::by_login(&app.db, &p.tenant_id, login)
        .await?
        .filter(|a| is_vault_account(&a.role) && !a.disabled))
}

/// Whether the citizen accepts the certified documents of this provider.
pub async fn has_consent(app: &App, p: &Principal, provider_id: &str) -> Result<bool> {
    Ok(notifications::has_optin(&app.db, &p.tenant_id, &p.account_id, provider_id).await?)
}

/// The agent view of a citizen: only what a basis allows, each item with its basis.
pub async fn citizen_documents(
    app: &App,
    p: &Principal,
    citizen_id: &str,
) -> Result<Vec<AgentDocumentView>> {
    p.authorize(&Access::CitizenFiles)?;
    let citizen = citizen_account(app, p, citizen_id).await?;
    let bases = Bases::load(app, p, &citizen.id).await?;
    let docs = documents::list_owned(&app.db, &p.tenant_id, &citizen.id).await?;
    let visible: Vec<(DocumentRow, Basis)> = docs
        .into_iter()
        .filter_map(|d| bases.decide(p, Action::ReadMetadata, &d).map(|b| (d, b)))
        .collect();
    if visible.is_empty() {
        return Ok(Vec::new());
    }
    // Seeing which documents a citizen has is an access too: the citizen reads it in their
    // journal, with the bases used.
    let mut tx = app.db.begin_write().await?;
    let used: Vec<serde_json::Value> = visible
        .iter()
        .map(
            |(d, b)| serde_json::json!({ "document": d.id, "basis": b.kind(), "basis_id": b.id() }),
        )
        .collect();
    journal::append(
        &mut tx,
        &p.tenant_id,
        app.now(),
        &NewEntry::new(p.actor(), "citizen.documents.list", "account", &citizen.id)
            .citizen(Some(citizen.id.clone()))
            .basis(visible[0].1.kind(), visible[0].1.id())
            .details(serde_json::json!({ "documents": used })),
    )
    .await?;
    tx.commit().await?;
    let types = crate::documents::doc_types(app, &p.tenant_id).await?;
    let mut current: std::collections::HashMap<String, _> =
        documents::current_versions_owned(&app.db, &p.tenant_id, &citizen.id)
            .await?
            .into_iter()
            .map(|v| (v.document_id.clone(), v))
            .collect();
    let mut out = Vec::with_capacity(visible.len());
    for (d, basis) in visible {
        let Some(v) = current.remove(&d.id) else {
            continue;
        };
        let meta = open_version(app, &v)?.map(|(_, m)| m).unwrap_or_default();
        out.push(AgentDocumentView {
            document: view(app, &d, &v, types.get(&d.type_code), meta),
            basis,
        });
    }
    Ok(out)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReviewInput {
    /// `validated` or `rejected`.
    pub decision: String,
    /// Required for a rejection; shown to the citizen.
    pub reason: Option<String>,
    /// The end of validity read on the document.
    pub valid_until: Option<String>,
}

/// An agent with modify right on a basis validates or rejects a document.
pub async fn review(
    app: &App,
    p: &Principal,
    id: &str,
    input: ReviewInput,
) -> Result<DocumentView> {
    let (doc, basis) = authorize(app, p, id, Action::Review).await?;
    let decision = match input.decision.as_str() {
        "validated" | "rejected" => input.decision.clone(),
        _ => {
            return Err(AppError::invalid(
                "invalid-decision",
                "la décision doit être « validated » ou « rejected »",
            ));
        }
    };
    let reason = input
        .reason
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .map(|r| r.chars().take(1000).collect::<String>());
    if decision == "rejected" && reason.is_none() {
        return Err(AppError::invalid(
            "reason-required",
            "un refus doit être motivé : le motif est montré à l'usager",
        ));
    }
    let valid_until = match input
        .valid_until
        .as_deref()
        .filter(|s| !s.trim().is_empty())
    {
        Some(s) => Some(format_date(
            parse_date(s).map_err(|m| AppError::invalid("invalid-date", m))?,
        )),
        None => None,
    };
    // Looked up before the write transaction, which should hold SQLite's single writer for
    // its own statements only (a document's type never changes).
    let label = catalogue::get_any(app, &p.tenant_id, &doc.type_code)
        .await?
        .map(|(t, _)| t.label)
        .unwrap_or_else(|| doc.type_code.clone());
    let (title, body) = if decision == "validated" {
        (
            format!("Pièce validée : {label}"),
            format!(
                "Votre pièce « {label} » a été validée par {}.",
                service_label(p)
            ),
        )
    } else {
        (
            format!("Pièce refusée : {label}"),
            format!(
                "Votre pièce « {label} » a été refusée. Motif : {}. Vous pouvez la remplacer.",
                reason.as_deref().unwrap_or_default()
            ),
        )
    };
    let now = app.now();
    // The review goes through the group commit: its transaction may carry other reviews,
    // deposits and reads, which share the commit (see `liasse_store::group`). The step may run
    // twice (alone, after a shared transaction failed), so it only uses what it captured.
    let ctx = Arc::new(ReviewStep {
        p: p.clone(),
        basis,
        document_id: doc.id.clone(),
        decision,
        reason,
        valid_until,
        title,
        body,
        now,
    });
    app.db
        .commit_grouped(GroupedWrite::step(
            &p.tenant_id,
            now,
            group::step(move |tx| {
                let c = ctx.clone();
                Box::pin(async move { c.run(tx).await })
            }),
        ))
        .await?;
    crate::documents::get(app, p, &doc.id).await
}

/// What a review writes, inside its transaction.
struct ReviewStep {
    p: Principal,
    basis: Basis,
    document_id: String,
    decision: String,
    reason: Option<String>,
    valid_until: Option<String>,
    title: String,
    body: String,
    now: i64,
}

impl ReviewStep {
    async fn run(&self, tx: &mut liasse_store::WriteTx) -> liasse_store::error::Result<NewEntry> {
        let p = &self.p;
        let Some(mut fresh) = documents::get_for_update(tx, &p.tenant_id, &self.document_id)
            .await?
            .filter(|d| d.deleted_at.is_none())
        else {
            return Err(StoreError::NotFound);
        };
        if fresh.state == "certified" {
            return Err(StoreError::Conflict(
                "un document certifié par son émetteur n'a pas à être revu".into(),
            ));
        }
        fresh.state = self.decision.clone();
        fresh.review_reason = if self.decision == "rejected" {
            self.reason.clone()
        } else {
            None
        };
        if self.valid_until.is_some() {
            fresh.valid_until = self.valid_until.clone();
        }
        fresh.updated_at = self.now;
        documents::update(tx, &fresh).await?;
        reviews::insert(
            tx,
            &ReviewRow {
                id: new_id(),
                tenant_id: p.tenant_id.clone(),
                document_id: fresh.id.clone(),
                version: fresh.current_version,
                decision: self.decision.clone(),
                reason: self.reason.clone(),
                valid_until: self.valid_until.clone(),
                reviewer_id: p.account_id.clone(),
                basis_kind: self.basis.kind().into(),
                basis_id: self.basis.id().into(),
                at: self.now,
            },
        )
        .await?;
        notifications::insert(
            tx,
            &NotificationRow {
                id: new_id(),
                tenant_id: fresh.tenant_id.clone(),
                account_id: fresh.owner_id.clone(),
                kind: format!("document.{}", self.decision),
                title: self.title.clone(),
                body: self.body.clone(),
                object_id: Some(fresh.id.clone()),
                created_at: self.now,
                read_at: None,
            },
        )
        .await?;
        Ok(crate::documents::entry(
            p,
            "document.review",
            &fresh,
            &self.basis,
            serde_json::json!({
                "decision": self.decision,
                "version": fresh.current_version,
                "valid_until": self.valid_until,
            }),
        ))
    }
}

#[derive(Debug, Serialize)]
pub struct Notifications {
    pub unread: usize,
    pub items: Vec<NotificationRow>,
}

pub async fn notifications(app: &App, p: &Principal) -> Result<Notifications> {
    let items = notifications::for_account(&app.db, &p.tenant_id, &p.account_id).await?;
    Ok(Notifications {
        unread: items.iter().filter(|n| n.read_at.is_none()).count(),
        items,
    })
}

pub async fn mark_read(app: &App, p: &Principal, id: &str) -> Result<()> {
    if !is_valid_id(id) {
        return Err(AppError::NotFound);
    }
    let mut tx = app.db.begin_write().await?;
    if !notifications::mark_read(&mut tx, &p.tenant_id, &p.account_id, id, app.now()).await? {
        return Err(AppError::NotFound);
    }
    tx.commit().await?;
    Ok(())
}

#[derive(Debug, Serialize)]
pub struct Provider {
    pub id: String,
    pub name: String,
    pub service: String,
}

/// Service clients a citizen can opt in to.
pub async fn providers(app: &App, p: &Principal) -> Result<Vec<Provider>> {
    Ok(accounts::services(&app.db, &p.tenant_id)
        .await?
        .into_iter()
        .map(|a| Provider {
            id: a.id,
            name: a.display_name,
            service: a.service,
        })
        .collect())
}

/// A citizen opts in to (or out of) a trusted provider's certified documents.
pub async fn set_consent(app: &App, p: &Principal, provider_id: &str, on: bool) -> Result<()> {
    p.authorize(&Access::ProviderConsent)?;
    if !is_valid_id(provider_id) {
        return Err(AppError::NotFound);
    }
    accounts::by_id(&app.db, &p.tenant_id, provider_id)
        .await?
        .filter(|a| is_partner_account(&a.role))
        .ok_or(AppError::NotFound)?;
    let now = app.now();
    let mut tx = app.db.begin_write().await?;
    notifications::set_optin(&mut tx, &p.tenant_id, &p.account_id, provider_id, now, on).await?;
    // The provider learns whom it may push to from its notifications: the citizen is named by
    // the provider's pairwise id for them once the API answers it (see `pairwise`).
    let (kind, title, body) = if on {
        (
            "provider.optin",
            "Nouvel abonnement à vos documents certifiés",
            "Un usager accepte de recevoir vos documents certifiés dans son porte-documents.",
        )
    } else {
        (
            "provider.optout",
            "Fin d'un abonnement à vos documents certifiés",
            "Un usager ne souhaite plus recevoir vos documents certifiés.",
        )
    };
    notifications::insert(
        &mut tx,
        &NotificationRow {
            id: new_id(),
            tenant_id: p.tenant_id.clone(),
            account_id: provider_id.to_string(),
            kind: kind.into(),
            title: title.into(),
            body: body.into(),
            object_id: Some(p.account_id.clone()),
            created_at: now,
            read_at: None,
        },
    )
    .await?;
    journal::append(
        &mut tx,
        &p.tenant_id,
        now,
        &NewEntry::new(
            p.actor(),
            if on {
                "provider.optin"
            } else {
                "provider.optout"
            },
            "account",
            provider_id,
        )
        .citizen(Some(p.account_id.clone()))
        .basis("owner", ""),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExternalUse {
    /// The case in the caller's own software (a w.c.s. form number, a business file id).
    pub case: String,
}

/// A service client (or agent) records that it attached a document it may read to a case of
/// its own software; the citizen sees it in their journal, with the case reference.
pub async fn record_use(app: &App, p: &Principal, id: &str, body: &[u8]) -> Result<()> {
    // Access first: a caller without a basis learns nothing, whatever the body.
    let (doc, basis) = authorize(app, p, id, Action::ReadMetadata).await?;
    let u: ExternalUse = crate::error::json_object(body)?;
    let case = u.case.trim();
    if case.is_empty() || case.chars().count() > 200 {
        return Err(AppError::invalid(
            "invalid-case",
            "la référence du dossier est obligatoire (200 caractères au plus)",
        ));
    }
    let mut tx = app.db.begin_write().await?;
    journal::append(
        &mut tx,
        &p.tenant_id,
        app.now(),
        &crate::documents::entry(
            p,
            "document.use",
            &doc,
            &basis,
            serde_json::json!({ "case": case }),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
