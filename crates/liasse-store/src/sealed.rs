//! A tenant's sealed secrets: each row holds a value sealed under its own data key and that
//! key wrapped by the key ring. Nothing here can be read without the key ring.

use sqlx::Row;

use crate::db::{Db, WriteTx};
use crate::error::Result;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SealedRow {
    pub tenant_id: String,
    pub name: String,
    pub key_id: String,
    pub wrapped_key: Vec<u8>,
    pub sealed: Vec<u8>,
    pub updated_at: i64,
}

fn from_row(r: &sqlx::any::AnyRow) -> Result<SealedRow> {
    Ok(SealedRow {
        tenant_id: r.try_get("tenant_id")?,
        name: r.try_get("name")?,
        key_id: r.try_get("key_id")?,
        wrapped_key: r.try_get("wrapped_key")?,
        sealed: r.try_get("sealed")?,
        updated_at: r.try_get("updated_at")?,
    })
}

const COLUMNS: &str = "tenant_id, name, key_id, wrapped_key, sealed, updated_at";

/// Inserts or replaces the secret `name` of a tenant.
pub async fn put(tx: &mut WriteTx, row: &SealedRow) -> Result<()> {
    sqlx::query(&format!(
        "INSERT INTO sealed_secrets ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (tenant_id, name) DO UPDATE SET key_id = excluded.key_id, \
         wrapped_key = excluded.wrapped_key, sealed = excluded.sealed, updated_at = excluded.updated_at"
    ))
    .bind(&row.tenant_id)
    .bind(&row.name)
    .bind(&row.key_id)
    .bind(&row.wrapped_key)
    .bind(&row.sealed)
    .bind(row.updated_at)
    .execute(tx.conn())
    .await?;
    Ok(())
}

pub async fn get(db: &Db, tenant_id: &str, name: &str) -> Result<Option<SealedRow>> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM sealed_secrets WHERE tenant_id = $1 AND name = $2"
    ))
    .bind(tenant_id)
    .bind(name)
    .fetch_optional(db.pool())
    .await?;
    row.as_ref().map(from_row).transpose()
}

/// Inside a write transaction: a secret created at first use must be read back by the same
/// transaction that may have just written it.
pub async fn get_tx(tx: &mut WriteTx, tenant_id: &str, name: &str) -> Result<Option<SealedRow>> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM sealed_secrets WHERE tenant_id = $1 AND name = $2"
    ))
    .bind(tenant_id)
    .bind(name)
    .fetch_optional(tx.conn())
    .await?;
    row.as_ref().map(from_row).transpose()
}

pub async fn delete(tx: &mut WriteTx, tenant_id: &str, name: &str) -> Result<()> {
    sqlx::query("DELETE FROM sealed_secrets WHERE tenant_id = $1 AND name = $2")
        .bind(tenant_id)
        .bind(name)
        .execute(tx.conn())
        .await?;
    Ok(())
}

/// Secrets whose data key is wrapped by another master key than `key_id` (rotation).
pub async fn not_wrapped_with(db: &Db, key_id: &str) -> Result<Vec<SealedRow>> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM sealed_secrets WHERE key_id <> $1 ORDER BY tenant_id, name"
    ))
    .bind(key_id)
    .fetch_all(db.pool())
    .await?;
    rows.iter().map(from_row).collect()
}

/// Replaces the wrapped key of a secret if it is still wrapped by `old_key_id`.
pub async fn set_wrapped_key(
    tx: &mut WriteTx,
    tenant_id: &str,
    name: &str,
    old_key_id: &str,
    key_id: &str,
    wrapped_key: &[u8],
) -> Result<bool> {
    let r = sqlx::query(
        "UPDATE sealed_secrets SET key_id = $1, wrapped_key = $2 \
         WHERE tenant_id = $3 AND name = $4 AND key_id = $5",
    )
    .bind(key_id)
    .bind(wrapped_key)
    .bind(tenant_id)
    .bind(name)
    .bind(old_key_id)
    .execute(tx.conn())
    .await?;
    Ok(r.rows_affected() > 0)
}
