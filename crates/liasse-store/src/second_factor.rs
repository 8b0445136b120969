//! A staff member's second factor: the state of their TOTP (the seed is a sealed secret), their
//! recovery codes (hashes only), and password logins waiting for a code.

use sqlx::Row;

use crate::db::{Db, WriteTx};
use crate::error::Result;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TotpRow {
    pub tenant_id: String,
    pub account_id: String,
    pub created_at: i64,
    pub confirmed_at: Option<i64>,
    pub last_step: Option<i64>,
}

fn totp_from(r: &sqlx::any::AnyRow) -> Result<TotpRow> {
    Ok(TotpRow {
        tenant_id: r.try_get("tenant_id")?,
        account_id: r.try_get("account_id")?,
        created_at: r.try_get("created_at")?,
        confirmed_at: r.try_get("confirmed_at")?,
        last_step: r.try_get("last_step")?,
    })
}

const TOTP_COLUMNS: &str = "tenant_id, account_id, created_at, confirmed_at, last_step";

pub async fn totp(db: &Db, tenant_id: &str, account_id: &str) -> Result<Option<TotpRow>> {
    let row = sqlx::query(&format!(
        "SELECT {TOTP_COLUMNS} FROM totp_factors WHERE tenant_id = $1 AND account_id = $2"
    ))
    .bind(tenant_id)
    .bind(account_id)
    .fetch_optional(db.pool())
    .await?;
    row.as_ref().map(totp_from).transpose()
}

/// Whether the account has a confirmed TOTP (what a password login asks).
pub async fn has_confirmed_totp(db: &Db, tenant_id: &str, account_id: &str) -> Result<bool> {
    Ok(totp(db, tenant_id, account_id)
        .await?
        .is_some_and(|t| t.confirmed_at.is_some()))
}

/// Starts (or restarts) an enrolment: an unconfirmed factor, whatever was there before.
pub async fn begin_totp(
    tx: &mut WriteTx,
    tenant_id: &str,
    account_id: &str,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO totp_factors (tenant_id, account_id, created_at, confirmed_at, last_step) \
         VALUES ($1, $2, $3, NULL, NULL) ON CONFLICT (tenant_id, account_id) DO UPDATE SET \
         created_at = excluded.created_at, confirmed_at = NULL, last_step = NULL",
    )
    .bind(tenant_id)
    .bind(account_id)
    .bind(now)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Records `step` as used, only when it is later than the last used one: `false` when another
/// login used this step (or a later one) first, so a code opens at most one session.
pub async fn use_step(
    tx: &mut WriteTx,
    tenant_id: &str,
    account_id: &str,
    step: i64,
) -> Result<bool> {
    let r = sqlx::query(
        "UPDATE totp_factors SET last_step = $3 WHERE tenant_id = $1 AND account_id = $2 \
         AND (last_step IS NULL OR last_step < $3)",
    )
    .bind(tenant_id)
    .bind(account_id)
    .bind(step)
    .execute(tx.conn())
    .await?;
    Ok(r.rows_affected() > 0)
}

/// Marks the factor confirmed (its first code was right).
pub async fn confirm_totp(
    tx: &mut WriteTx,
    tenant_id: &str,
    account_id: &str,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "UPDATE totp_factors SET confirmed_at = $3 WHERE tenant_id = $1 AND account_id = $2",
    )
    .bind(tenant_id)
    .bind(account_id)
    .bind(now)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Removes the factor and its recovery codes; `true` when there was one.
pub async fn delete_totp(tx: &mut WriteTx, tenant_id: &str, account_id: &str) -> Result<bool> {
    sqlx::query("DELETE FROM recovery_codes WHERE tenant_id = $1 AND account_id = $2")
        .bind(tenant_id)
        .bind(account_id)
        .execute(tx.conn())
        .await?;
    let r = sqlx::query("DELETE FROM totp_factors WHERE tenant_id = $1 AND account_id = $2")
        .bind(tenant_id)
        .bind(account_id)
        .execute(tx.conn())
        .await?;
    Ok(r.rows_affected() > 0)
}

/// Replaces the account's recovery codes by these hashes.
pub async fn set_recovery_codes(
    tx: &mut WriteTx,
    tenant_id: &str,
    account_id: &str,
    hashes: &[String],
    now: i64,
) -> Result<()> {
    sqlx::query("DELETE FROM recovery_codes WHERE tenant_id = $1 AND account_id = $2")
        .bind(tenant_id)
        .bind(account_id)
        .execute(tx.conn())
        .await?;
    for h in hashes {
        sqlx::query(
            "INSERT INTO recovery_codes (tenant_id, account_id, code_hash, created_at, used_at) \
             VALUES ($1, $2, $3, $4, NULL)",
        )
        .bind(tenant_id)
        .bind(account_id)
        .bind(h)
        .bind(now)
        .execute(tx.conn())
        .await?;
    }
    Ok(())
}

/// The hashes of the account's recovery codes not used yet.
pub async fn unused_recovery_codes(
    db: &Db,
    tenant_id: &str,
    account_id: &str,
) -> Result<Vec<String>> {
    let rows = sqlx::query(
        "SELECT code_hash FROM recovery_codes WHERE tenant_id = $1 AND account_id = $2 \
         AND used_at IS NULL ORDER BY code_hash",
    )
    .bind(tenant_id)
    .bind(account_id)
    .fetch_all(db.pool())
    .await?;
    rows.iter().map(|r| Ok(r.try_get("code_hash")?)).collect()
}

/// Spends a recovery code: `false` when it was used meanwhile (a code works once).
pub async fn spend_recovery_code(
    tx: &mut WriteTx,
    tenant_id: &str,
    account_id: &str,
    hash: &str,
    now: i64,
) -> Result<bool> {
    let r = sqlx::query(
        "UPDATE recovery_codes SET used_at = $4 WHERE tenant_id = $1 AND account_id = $2 \
         AND code_hash = $3 AND used_at IS NULL",
    )
    .bind(tenant_id)
    .bind(account_id)
    .bind(hash)
    .bind(now)
    .execute(tx.conn())
    .await?;
    Ok(r.rows_affected() > 0)
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PendingLogin {
    pub id_hash: String,
    pub tenant_id: String,
    pub account_id: String,
    pub stage: String,
    pub failures: i64,
    pub created_at: i64,
    pub expires_at: i64,
}

const PENDING_COLUMNS: &str =
    "id_hash, tenant_id, account_id, stage, failures, created_at, expires_at";

fn pending_from(r: &sqlx::any::AnyRow) -> Result<PendingLogin> {
    Ok(PendingLogin {
        id_hash: r.try_get("id_hash")?,
        tenant_id: r.try_get("tenant_id")?,
        account_id: r.try_get("account_id")?,
        stage: r.try_get("stage")?,
        failures: r.try_get("failures")?,
        created_at: r.try_get("created_at")?,
        expires_at: r.try_get("expires_at")?,
    })
}

/// Keeps a login waiting for its second factor; expired ones are purged first.
pub async fn insert_pending(tx: &mut WriteTx, p: &PendingLogin) -> Result<()> {
    sqlx::query("DELETE FROM second_factor_logins WHERE expires_at <= $1")
        .bind(p.created_at)
        .execute(tx.conn())
        .await?;
    sqlx::query(&format!(
        "INSERT INTO second_factor_logins ({PENDING_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)"
    ))
    .bind(&p.id_hash)
    .bind(&p.tenant_id)
    .bind(&p.account_id)
    .bind(&p.stage)
    .bind(p.failures)
    .bind(p.created_at)
    .bind(p.expires_at)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// The waiting login of a cookie's hash, unless it expired.
pub async fn pending(db: &Db, id_hash: &str, now: i64) -> Result<Option<PendingLogin>> {
    let row = sqlx::query(&format!(
        "SELECT {PENDING_COLUMNS} FROM second_factor_logins WHERE id_hash = $1 AND expires_at > $2"
    ))
    .bind(id_hash)
    .bind(now)
    .fetch_optional(db.pool())
    .await?;
    row.as_ref().map(pending_from).transpose()
}

/// Takes the waiting login out, in the transaction that opens its session: `false` when
/// another request took it first (single use).
pub async fn take_pending(tx: &mut WriteTx, id_hash: &str) -> Result<bool> {
    let r = sqlx::query("DELETE FROM second_factor_logins WHERE id_hash = $1")
        .bind(id_hash)
        .execute(tx.conn())
        .await?;
    Ok(r.rows_affected() > 0)
}

/// Counts a wrong code against the waiting login; past `max` failures it is deleted (the
/// password must be typed again). The failures counted now.
pub async fn pending_failed(tx: &mut WriteTx, id_hash: &str, max: i64) -> Result<i64> {
    sqlx::query("UPDATE second_factor_logins SET failures = failures + 1 WHERE id_hash = $1")
        .bind(id_hash)
        .execute(tx.conn())
        .await?;
    let n: i64 = sqlx::query("SELECT failures FROM second_factor_logins WHERE id_hash = $1")
        .bind(id_hash)
        .fetch_optional(tx.conn())
        .await?
        .map(|r| r.try_get("failures"))
        .transpose()?
        .unwrap_or(max);
    if n >= max {
        take_pending(tx, id_hash).await?;
    }
    Ok(n)
}

/// Moves a waiting login to another stage (an enrolment done, the code step next).
pub async fn set_pending_stage(tx: &mut WriteTx, id_hash: &str, stage: &str) -> Result<()> {
    sqlx::query("UPDATE second_factor_logins SET stage = $2 WHERE id_hash = $1")
        .bind(id_hash)
        .bind(stage)
        .execute(tx.conn())
        .await?;
    Ok(())
}

/// Forgets every waiting login of an account (its factor was reset).
pub async fn delete_pending_of(tx: &mut WriteTx, tenant_id: &str, account_id: &str) -> Result<()> {
    sqlx::query("DELETE FROM second_factor_logins WHERE tenant_id = $1 AND account_id = $2")
        .bind(tenant_id)
        .bind(account_id)
        .execute(tx.conn())
        .await?;
    Ok(())
}
