//! Grants: a citizen's explicit, time-limited, revocable permission for a domain's agents or
//! a service client to read chosen documents or document types.

use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::db::{Db, WriteTx};
use crate::error::Result;

#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct GrantRow {
    pub id: String,
    #[serde(skip)]
    pub tenant_id: String,
    pub citizen_id: String,
    /// `domain` or `client`.
    pub grantee_kind: String,
    /// The domain code, or the service client's account id.
    pub grantee: String,
    /// `documents` or `types`.
    pub scope_kind: String,
    pub scope: Vec<String>,
    pub purpose: String,
    /// Last day (inclusive) the grant can be used, `YYYY-MM-DD`.
    pub valid_until: String,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
}

const COLUMNS: &str = "id, tenant_id, citizen_id, grantee_kind, grantee, scope_kind, scope, purpose, valid_until, created_at, revoked_at";

fn from_row(r: &AnyRow) -> Result<GrantRow> {
    let scope: String = r.try_get("scope")?;
    Ok(GrantRow {
        id: r.try_get("id")?,
        tenant_id: r.try_get("tenant_id")?,
        citizen_id: r.try_get("citizen_id")?,
        grantee_kind: r.try_get("grantee_kind")?,
        grantee: r.try_get("grantee")?,
        scope_kind: r.try_get("scope_kind")?,
        scope: scope
            .split(',')
            .filter(|s| !s.is_empty())
            .map(String::from)
            .collect(),
        purpose: r.try_get("purpose")?,
        valid_until: r.try_get("valid_until")?,
        created_at: r.try_get("created_at")?,
        revoked_at: r.try_get("revoked_at")?,
    })
}

pub async fn insert(tx: &mut WriteTx, g: &GrantRow) -> Result<()> {
    sqlx::query(&format!(
        "INSERT INTO grants ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
    ))
    .bind(&g.id)
    .bind(&g.tenant_id)
    .bind(&g.citizen_id)
    .bind(&g.grantee_kind)
    .bind(&g.grantee)
    .bind(&g.scope_kind)
    .bind(g.scope.join(","))
    .bind(&g.purpose)
    .bind(&g.valid_until)
    .bind(g.created_at)
    .bind(g.revoked_at)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Every grant a citizen gave, newest first (revoked and expired included).
pub async fn for_citizen(db: &Db, tenant_id: &str, citizen_id: &str) -> Result<Vec<GrantRow>> {
    let rows = sqlx::query(&format!("SELECT {COLUMNS} FROM grants WHERE tenant_id = $1 AND citizen_id = $2 ORDER BY created_at DESC, id DESC"))
        .bind(tenant_id)
        .bind(citizen_id)
        .fetch_all(db.pool())
        .await?;
    rows.iter().map(from_row).collect()
}

/// Every grant citizens gave to the service client `client_id`, newest first (revoked and
/// expired included): how the client learns whom it may read.
pub async fn to_client(db: &Db, tenant_id: &str, client_id: &str) -> Result<Vec<GrantRow>> {
    let rows = sqlx::query(&format!("SELECT {COLUMNS} FROM grants WHERE tenant_id = $1 AND grantee_kind = 'client' AND grantee = $2 ORDER BY created_at DESC, id DESC"))
        .bind(tenant_id)
        .bind(client_id)
        .fetch_all(db.pool())
        .await?;
    rows.iter().map(from_row).collect()
}

/// Grants not revoked and still valid on `today`, for the policy to consider.
pub async fn live_for_citizen(
    db: &Db,
    tenant_id: &str,
    citizen_id: &str,
    today: &str,
) -> Result<Vec<GrantRow>> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM grants WHERE tenant_id = $1 AND citizen_id = $2 AND revoked_at IS NULL AND valid_until >= $3"
    ))
    .bind(tenant_id)
    .bind(citizen_id)
    .bind(today)
    .fetch_all(db.pool())
    .await?;
    rows.iter().map(from_row).collect()
}

/// Revokes a citizen's grant at once; false if it is not theirs or already revoked.
pub async fn revoke(
    tx: &mut WriteTx,
    tenant_id: &str,
    citizen_id: &str,
    id: &str,
    now: i64,
) -> Result<bool> {
    let r = sqlx::query("UPDATE grants SET revoked_at = $1 WHERE tenant_id = $2 AND citizen_id = $3 AND id = $4 AND revoked_at IS NULL")
        .bind(now)
        .bind(tenant_id)
        .bind(citizen_id)
        .bind(id)
        .execute(tx.conn())
        .await?;
    Ok(r.rows_affected() > 0)
}

/// How many journal entries used each grant of a citizen (what each grant was used for).
pub async fn uses(
    db: &Db,
    tenant_id: &str,
    citizen_id: &str,
) -> Result<Vec<(String, String, String, i64)>> {
    let rows = sqlx::query(
        "SELECT basis_id, action, actor_label, at FROM journal WHERE tenant_id = $1 AND citizen_id = $2 AND basis_kind = 'grant' ORDER BY seq",
    )
    .bind(tenant_id)
    .bind(citizen_id)
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|r| {
            Ok((
                r.try_get("basis_id")?,
                r.try_get("action")?,
                r.try_get("actor_label")?,
                r.try_get("at")?,
            ))
        })
        .collect()
}
