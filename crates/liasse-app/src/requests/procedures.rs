//! The procedures (démarches) a tenant offers: listed, read, created or replaced.

use super::*;

pub(super) fn parse_procedure(definition: &str) -> Result<Procedure> {
    serde_json::from_str(definition)
        .map_err(|e| AppError::Internal(format!("stored procedure: {e}")))
}

pub async fn list_procedures(app: &App, p: &Principal) -> Result<Vec<Procedure>> {
    store::procedures(&app.db, &p.tenant_id)
        .await?
        .iter()
        .map(|d| parse_procedure(d))
        .collect()
}

pub async fn get_procedure(app: &App, tenant_id: &str, code: &str) -> Result<Procedure> {
    let def = store::procedure(&app.db, tenant_id, code)
        .await?
        .ok_or_else(|| {
            AppError::invalid(
                "unknown-procedure",
                format!(
                    "la démarche « {} » n'existe pas",
                    code.chars().take(64).collect::<String>()
                ),
            )
        })?;
    parse_procedure(&def)
}

/// Creates or replaces a procedure: tenant admins, or managers with the manage right on its domain.
pub async fn put_procedure(app: &App, p: &Principal, proc_: Procedure) -> Result<bool> {
    p.authorize(&Access::PutProcedure {
        domain: &proc_.domain,
    })?;
    save_procedure(app, &p.tenant_id, p.actor(), proc_).await
}

/// Validates and stores a procedure (admins, managers, and the demo loader).
pub async fn save_procedure(
    app: &App,
    tenant_id: &str,
    actor: liasse_domain::journal::Actor,
    proc_: Procedure,
) -> Result<bool> {
    proc_
        .validate()
        .map_err(|m| AppError::invalid("invalid-procedure", m))?;
    for r in &proc_.requirements {
        catalogue::get_active(app, tenant_id, &r.type_code).await?;
    }
    let def = serde_json::to_string(&proc_).map_err(|e| AppError::Internal(e.to_string()))?;
    let now = app.now();
    let mut tx = app.db.begin_write().await?;
    let existed = store::upsert_procedure(&mut tx, tenant_id, &proc_.code, &def, now).await?;
    journal::append(
        &mut tx,
        tenant_id,
        now,
        &NewEntry::new(
            actor,
            if existed {
                "procedure.update"
            } else {
                "procedure.create"
            },
            "procedure",
            &proc_.code,
        )
        .basis("admin", "")
        .details(serde_json::json!({ "domain": proc_.domain })),
    )
    .await?;
    tx.commit().await?;
    Ok(existed)
}
