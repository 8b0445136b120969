//! Residents' sign-ups waiting for their address to be verified.

use sqlx::Row;

use crate::db::{Db, WriteTx};
use crate::error::Result;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignupRow {
    pub id: String,
    pub tenant_id: String,
    pub account_id: String,
    pub email: String,
    pub secret_hash: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub used_at: Option<i64>,
}

const COLUMNS: &str =
    "id, tenant_id, account_id, email, secret_hash, created_at, expires_at, used_at";

fn from_row(r: &sqlx::any::AnyRow) -> Result<SignupRow> {
    Ok(SignupRow {
        id: r.try_get("id")?,
        tenant_id: r.try_get("tenant_id")?,
        account_id: r.try_get("account_id")?,
        email: r.try_get("email")?,
        secret_hash: r.try_get("secret_hash")?,
        created_at: r.try_get("created_at")?,
        expires_at: r.try_get("expires_at")?,
        used_at: r.try_get("used_at")?,
    })
}

/// Records a sign-up; expired ones are purged first (nothing else reads them).
pub async fn insert(tx: &mut WriteTx, s: &SignupRow) -> Result<()> {
    sqlx::query("DELETE FROM signups WHERE expires_at <= $1")
        .bind(s.created_at)
        .execute(tx.conn())
        .await?;
    sqlx::query(&format!(
        "INSERT INTO signups ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
    ))
    .bind(&s.id)
    .bind(&s.tenant_id)
    .bind(&s.account_id)
    .bind(&s.email)
    .bind(&s.secret_hash)
    .bind(s.created_at)
    .bind(s.expires_at)
    .bind(s.used_at)
    .execute(tx.conn())
    .await?;
    Ok(())
}

pub async fn by_hash(db: &Db, secret_hash: &str) -> Result<Option<SignupRow>> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM signups WHERE secret_hash = $1"
    ))
    .bind(secret_hash)
    .fetch_optional(db.pool())
    .await?;
    row.as_ref().map(from_row).transpose()
}

pub async fn by_id(db: &Db, id: &str) -> Result<Option<SignupRow>> {
    let row = sqlx::query(&format!("SELECT {COLUMNS} FROM signups WHERE id = $1"))
        .bind(id)
        .fetch_optional(db.pool())
        .await?;
    row.as_ref().map(from_row).transpose()
}

/// The hash of the link's secret as derived under the current key (after a rotation).
pub async fn refresh_hash(tx: &mut WriteTx, id: &str, secret_hash: &str, now: i64) -> Result<bool> {
    let r = sqlx::query(
        "UPDATE signups SET secret_hash = $2 WHERE id = $1 AND used_at IS NULL AND expires_at > $3",
    )
    .bind(id)
    .bind(secret_hash)
    .bind(now)
    .execute(tx.conn())
    .await?;
    Ok(r.rows_affected() > 0)
}

/// Uses the sign-up up: `false` when it was used (or expired) meanwhile.
pub async fn use_up(tx: &mut WriteTx, id: &str, now: i64) -> Result<bool> {
    let r = sqlx::query(
        "UPDATE signups SET used_at = $2 WHERE id = $1 AND used_at IS NULL AND expires_at > $2",
    )
    .bind(id)
    .bind(now)
    .execute(tx.conn())
    .await?;
    Ok(r.rows_affected() > 0)
}

/// The sign-up still waiting for this account's address, if any (a second sign-up reuses its
/// account).
pub async fn pending_of(db: &Db, tenant_id: &str, account_id: &str) -> Result<Option<SignupRow>> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM signups WHERE tenant_id = $1 AND account_id = $2 AND used_at IS NULL \
         ORDER BY created_at DESC LIMIT 1"
    ))
    .bind(tenant_id)
    .bind(account_id)
    .fetch_optional(db.pool())
    .await?;
    row.as_ref().map(from_row).transpose()
}

/// Whether the account was made by a sign-up that was never completed.
pub async fn never_completed(db: &Db, tenant_id: &str, account_id: &str) -> Result<bool> {
    let row = sqlx::query(
        "SELECT COUNT(*) AS n FROM signups WHERE tenant_id = $1 AND account_id = $2 AND used_at IS NOT NULL",
    )
    .bind(tenant_id)
    .bind(account_id)
    .fetch_one(db.pool())
    .await?;
    let used: i64 = row.try_get("n")?;
    let any =
        sqlx::query("SELECT COUNT(*) AS n FROM signups WHERE tenant_id = $1 AND account_id = $2")
            .bind(tenant_id)
            .bind(account_id)
            .fetch_one(db.pool())
            .await?;
    let any: i64 = any.try_get("n")?;
    Ok(any > 0 && used == 0)
}
