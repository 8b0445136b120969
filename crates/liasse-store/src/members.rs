//! Household members: people a citizen manages documents for (children, dependents).

use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::db::{Db, WriteTx};
use crate::error::Result;

#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct MemberRow {
    pub id: String,
    #[serde(skip)]
    pub tenant_id: String,
    #[serde(skip)]
    pub account_id: String,
    pub name: String,
    pub birth_date: Option<String>,
    pub relation: String,
    pub created_at: i64,
}

fn from_row(r: &AnyRow) -> Result<MemberRow> {
    Ok(MemberRow {
        id: r.try_get("id")?,
        tenant_id: r.try_get("tenant_id")?,
        account_id: r.try_get("account_id")?,
        name: r.try_get("name")?,
        birth_date: r.try_get("birth_date")?,
        relation: r.try_get("relation")?,
        created_at: r.try_get("created_at")?,
    })
}

pub async fn insert(tx: &mut WriteTx, m: &MemberRow) -> Result<()> {
    sqlx::query(
        "INSERT INTO household_members (id, tenant_id, account_id, name, birth_date, relation, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&m.id)
    .bind(&m.tenant_id)
    .bind(&m.account_id)
    .bind(&m.name)
    .bind(m.birth_date.as_deref())
    .bind(&m.relation)
    .bind(m.created_at)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// A citizen's current household members.
pub async fn list(db: &Db, tenant_id: &str, account_id: &str) -> Result<Vec<MemberRow>> {
    let rows = sqlx::query(
        "SELECT id, tenant_id, account_id, name, birth_date, relation, created_at FROM household_members \
         WHERE tenant_id = $1 AND account_id = $2 AND removed_at IS NULL ORDER BY created_at, id",
    )
    .bind(tenant_id)
    .bind(account_id)
    .fetch_all(db.pool())
    .await?;
    rows.iter().map(from_row).collect()
}

pub async fn remove(
    tx: &mut WriteTx,
    tenant_id: &str,
    account_id: &str,
    id: &str,
    now: i64,
) -> Result<bool> {
    let r = sqlx::query(
        "UPDATE household_members SET removed_at = $1 WHERE tenant_id = $2 AND account_id = $3 AND id = $4 AND removed_at IS NULL",
    )
    .bind(now)
    .bind(tenant_id)
    .bind(account_id)
    .bind(id)
    .execute(tx.conn())
    .await?;
    Ok(r.rows_affected() > 0)
}
