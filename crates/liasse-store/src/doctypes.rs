//! The document-type catalogue of each tenant. The definition is stored as JSON so that new
//! rule fields need no migration; the domain type validates it.

use sqlx::Row;

use crate::db::{Db, WriteTx};
use crate::error::Result;

/// Inserts or replaces a type's definition; returns whether it existed.
pub async fn upsert(
    tx: &mut WriteTx,
    tenant_id: &str,
    code: &str,
    definition: &str,
    now: i64,
) -> Result<bool> {
    let updated = sqlx::query(
        "UPDATE document_types SET definition = $1, active = 1, updated_at = $2 WHERE tenant_id = $3 AND code = $4",
    )
    .bind(definition)
    .bind(now)
    .bind(tenant_id)
    .bind(code)
    .execute(tx.conn())
    .await?;
    if updated.rows_affected() > 0 {
        return Ok(true);
    }
    sqlx::query(
        "INSERT INTO document_types (tenant_id, code, definition, active, created_at, updated_at) VALUES ($1, $2, $3, 1, $4, $4)",
    )
    .bind(tenant_id)
    .bind(code)
    .bind(definition)
    .bind(now)
    .execute(tx.conn())
    .await?;
    Ok(false)
}

/// Withdraws a type from the catalogue; documents already deposited keep it.
pub async fn deactivate(tx: &mut WriteTx, tenant_id: &str, code: &str, now: i64) -> Result<bool> {
    let r = sqlx::query(
        "UPDATE document_types SET active = 0, updated_at = $1 WHERE tenant_id = $2 AND code = $3 AND active = 1",
    )
    .bind(now)
    .bind(tenant_id)
    .bind(code)
    .execute(tx.conn())
    .await?;
    Ok(r.rows_affected() > 0)
}

/// A type's definition JSON and whether it is active.
pub async fn get(db: &Db, tenant_id: &str, code: &str) -> Result<Option<(String, bool)>> {
    let row = sqlx::query(
        "SELECT definition, active FROM document_types WHERE tenant_id = $1 AND code = $2",
    )
    .bind(tenant_id)
    .bind(code)
    .fetch_optional(db.pool())
    .await?;
    match row {
        Some(r) => Ok(Some((
            r.try_get("definition")?,
            r.try_get::<i64, _>("active")? != 0,
        ))),
        None => Ok(None),
    }
}

/// The active types' definitions, by code.
pub async fn list_active(db: &Db, tenant_id: &str) -> Result<Vec<String>> {
    let rows = sqlx::query(
        "SELECT definition FROM document_types WHERE tenant_id = $1 AND active = 1 ORDER BY code",
    )
    .bind(tenant_id)
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|r| r.try_get("definition").map_err(Into::into))
        .collect()
}

/// Every document type definition of every tenant: (tenant_id, code, definition JSON).
pub async fn all_document_types(db: &Db) -> Result<Vec<(String, String, String)>> {
    Ok(
        sqlx::query_as("SELECT tenant_id, code, definition FROM document_types")
            .fetch_all(db.pool())
            .await?,
    )
}
