//! The document-type catalogue, administered by tenant admins.

use liasse_domain::doctype::DocumentType;
use liasse_domain::journal::{Actor, NewEntry};
use liasse_domain::policy::{Access, Task};
use liasse_store::{doctypes, journal};

use crate::app::App;
use crate::auth::Principal;
use crate::error::{AppError, Result};

fn parse(definition: &str) -> Result<DocumentType> {
    serde_json::from_str(definition)
        .map_err(|e| AppError::Internal(format!("stored type definition: {e}")))
}

/// Active types of a tenant.
pub async fn list(app: &App, tenant_id: &str) -> Result<Vec<DocumentType>> {
    doctypes::list_active(&app.db, tenant_id)
        .await?
        .iter()
        .map(|d| parse(d))
        .collect()
}

/// A type by code, active or not (documents keep the type they were deposited with).
pub async fn get_any(
    app: &App,
    tenant_id: &str,
    code: &str,
) -> Result<Option<(DocumentType, bool)>> {
    match doctypes::get(&app.db, tenant_id, code).await? {
        Some((d, active)) => Ok(Some((parse(&d)?, active))),
        None => Ok(None),
    }
}

/// An active type, or a "unknown type" refusal.
pub async fn get_active(app: &App, tenant_id: &str, code: &str) -> Result<DocumentType> {
    match get_any(app, tenant_id, code).await? {
        Some((t, true)) => Ok(t),
        _ => Err(AppError::invalid(
            "unknown-document-type",
            format!(
                "le type de pièce « {} » n'existe pas dans le référentiel de la collectivité",
                code.chars().take(64).collect::<String>()
            ),
        )),
    }
}

/// A tenant admin creates or replaces a type (the code comes from the path and must match the
/// body); whether it existed.
pub async fn put(app: &App, p: &Principal, t: DocumentType) -> Result<bool> {
    p.authorize(&Access::Administer(Task::Catalogue))?;
    install(app, &p.tenant_id, p.actor(), t).await
}

/// A tenant admin withdraws a type.
pub async fn remove(app: &App, p: &Principal, code: &str) -> Result<()> {
    p.authorize(&Access::Administer(Task::Catalogue))?;
    withdraw(app, &p.tenant_id, p.actor(), code).await
}

/// Validates and stores a type, for an admin or for the operator's defaults.
pub async fn install(app: &App, tenant_id: &str, actor: Actor, t: DocumentType) -> Result<bool> {
    t.validate()
        .map_err(|m| AppError::invalid("invalid-document-type", m))?;
    let definition = serde_json::to_string(&t).map_err(|e| AppError::Internal(e.to_string()))?;
    let now = app.now();
    let mut tx = app.db.begin_write().await?;
    let existed = doctypes::upsert(&mut tx, tenant_id, &t.code, &definition, now).await?;
    journal::append(
        &mut tx,
        tenant_id,
        now,
        &NewEntry::new(
            actor,
            if existed {
                "doctype.update"
            } else {
                "doctype.create"
            },
            "document_type",
            &t.code,
        )
        .basis("admin", "")
        .details(serde_json::to_value(&t).unwrap_or_default()),
    )
    .await?;
    tx.commit().await?;
    Ok(existed)
}

async fn withdraw(app: &App, tenant_id: &str, actor: Actor, code: &str) -> Result<()> {
    let now = app.now();
    let mut tx = app.db.begin_write().await?;
    if !doctypes::deactivate(&mut tx, tenant_id, code, now).await? {
        return Err(AppError::NotFound);
    }
    journal::append(
        &mut tx,
        tenant_id,
        now,
        &NewEntry::new(actor, "doctype.withdraw", "document_type", code).basis("admin", ""),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
