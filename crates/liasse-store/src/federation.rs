//! Federated login: a tenant's services at identity providers, the accounts linked to a
//! provider's subject, and the logins waiting for their callback or for the citizen's choice.

use sqlx::Row;
use sqlx::any::AnyRow;

use crate::db::{Db, WriteTx};
use crate::error::Result;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProviderRow {
    pub tenant_id: String,
    pub kind: String,
    pub issuer: String,
    pub client_id: String,
    pub acr: String,
    pub allowed_sirets: String,
    pub updated_at: i64,
}

const PROVIDER_COLUMNS: &str =
    "tenant_id, kind, issuer, client_id, acr, allowed_sirets, updated_at";

fn provider_from(r: &AnyRow) -> Result<ProviderRow> {
    Ok(ProviderRow {
        tenant_id: r.try_get("tenant_id")?,
        kind: r.try_get("kind")?,
        issuer: r.try_get("issuer")?,
        client_id: r.try_get("client_id")?,
        acr: r.try_get("acr")?,
        allowed_sirets: r.try_get("allowed_sirets")?,
        updated_at: r.try_get("updated_at")?,
    })
}

pub async fn put_provider(tx: &mut WriteTx, p: &ProviderRow) -> Result<()> {
    sqlx::query(&format!(
        "INSERT INTO identity_providers ({PROVIDER_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7) \
         ON CONFLICT (tenant_id, kind) DO UPDATE SET issuer = excluded.issuer, \
         client_id = excluded.client_id, acr = excluded.acr, \
         allowed_sirets = excluded.allowed_sirets, updated_at = excluded.updated_at"
    ))
    .bind(&p.tenant_id)
    .bind(&p.kind)
    .bind(&p.issuer)
    .bind(&p.client_id)
    .bind(&p.acr)
    .bind(&p.allowed_sirets)
    .bind(p.updated_at)
    .execute(tx.conn())
    .await?;
    Ok(())
}

pub async fn provider(db: &Db, tenant_id: &str, kind: &str) -> Result<Option<ProviderRow>> {
    let row = sqlx::query(&format!(
        "SELECT {PROVIDER_COLUMNS} FROM identity_providers WHERE tenant_id = $1 AND kind = $2"
    ))
    .bind(tenant_id)
    .bind(kind)
    .fetch_optional(db.pool())
    .await?;
    row.as_ref().map(provider_from).transpose()
}

pub async fn providers(db: &Db, tenant_id: &str) -> Result<Vec<ProviderRow>> {
    let rows = sqlx::query(&format!(
        "SELECT {PROVIDER_COLUMNS} FROM identity_providers WHERE tenant_id = $1 ORDER BY kind"
    ))
    .bind(tenant_id)
    .fetch_all(db.pool())
    .await?;
    rows.iter().map(provider_from).collect()
}

/// Removes a provider; `false` when the tenant had none of that kind.
pub async fn delete_provider(tx: &mut WriteTx, tenant_id: &str, kind: &str) -> Result<bool> {
    let r = sqlx::query("DELETE FROM identity_providers WHERE tenant_id = $1 AND kind = $2")
        .bind(tenant_id)
        .bind(kind)
        .execute(tx.conn())
        .await?;
    Ok(r.rows_affected() > 0)
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdentityRow {
    pub tenant_id: String,
    pub issuer: String,
    pub sub: String,
    pub kind: String,
    pub account_id: String,
    pub created_at: i64,
    pub last_login_at: i64,
}

const IDENTITY_COLUMNS: &str =
    "tenant_id, issuer, sub, kind, account_id, created_at, last_login_at";

fn identity_from(r: &AnyRow) -> Result<IdentityRow> {
    Ok(IdentityRow {
        tenant_id: r.try_get("tenant_id")?,
        issuer: r.try_get("issuer")?,
        sub: r.try_get("sub")?,
        kind: r.try_get("kind")?,
        account_id: r.try_get("account_id")?,
        created_at: r.try_get("created_at")?,
        last_login_at: r.try_get("last_login_at")?,
    })
}

pub async fn identity(
    db: &Db,
    tenant_id: &str,
    issuer: &str,
    sub: &str,
) -> Result<Option<IdentityRow>> {
    let row = sqlx::query(&format!(
        "SELECT {IDENTITY_COLUMNS} FROM federated_identities WHERE tenant_id = $1 AND issuer = $2 AND sub = $3"
    ))
    .bind(tenant_id)
    .bind(issuer)
    .bind(sub)
    .fetch_optional(db.pool())
    .await?;
    row.as_ref().map(identity_from).transpose()
}

/// The identities linked to an account (the admin's re-link page).
pub async fn identities_of(db: &Db, tenant_id: &str, account_id: &str) -> Result<Vec<IdentityRow>> {
    let rows = sqlx::query(&format!(
        "SELECT {IDENTITY_COLUMNS} FROM federated_identities WHERE tenant_id = $1 AND account_id = $2 ORDER BY kind, issuer"
    ))
    .bind(tenant_id)
    .bind(account_id)
    .fetch_all(db.pool())
    .await?;
    rows.iter().map(identity_from).collect()
}

/// Links (tenant, issuer, sub) to an account. A subject already linked is a conflict: the
/// caller decides, the database never silently moves a subject to another account.
pub async fn link(tx: &mut WriteTx, i: &IdentityRow) -> Result<()> {
    sqlx::query(&format!(
        "INSERT INTO federated_identities ({IDENTITY_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)"
    ))
    .bind(&i.tenant_id)
    .bind(&i.issuer)
    .bind(&i.sub)
    .bind(&i.kind)
    .bind(&i.account_id)
    .bind(i.created_at)
    .bind(i.last_login_at)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Removes the account's identities at one provider kind (before a re-link); how many.
pub async fn unlink_kind(
    tx: &mut WriteTx,
    tenant_id: &str,
    account_id: &str,
    kind: &str,
) -> Result<u64> {
    let r = sqlx::query(
        "DELETE FROM federated_identities WHERE tenant_id = $1 AND account_id = $2 AND kind = $3",
    )
    .bind(tenant_id)
    .bind(account_id)
    .bind(kind)
    .execute(tx.conn())
    .await?;
    Ok(r.rows_affected())
}

pub async fn touch_identity(
    tx: &mut WriteTx,
    tenant_id: &str,
    issuer: &str,
    sub: &str,
    at: i64,
) -> Result<()> {
    sqlx::query(
        "UPDATE federated_identities SET last_login_at = $1 WHERE tenant_id = $2 AND issuer = $3 AND sub = $4",
    )
    .bind(at)
    .bind(tenant_id)
    .bind(issuer)
    .bind(sub)
    .execute(tx.conn())
    .await?;
    Ok(())
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PendingRow {
    pub id_hash: String,
    pub tenant_id: String,
    pub kind: String,
    pub stage: String,
    pub browser_hash: String,
    pub payload: Vec<u8>,
    pub created_at: i64,
    pub expires_at: i64,
}

fn pending_from(r: &AnyRow) -> Result<PendingRow> {
    Ok(PendingRow {
        id_hash: r.try_get("id_hash")?,
        tenant_id: r.try_get("tenant_id")?,
        kind: r.try_get("kind")?,
        stage: r.try_get("stage")?,
        browser_hash: r.try_get("browser_hash")?,
        payload: r.try_get("payload")?,
        created_at: r.try_get("created_at")?,
        expires_at: r.try_get("expires_at")?,
    })
}

pub async fn insert_pending(tx: &mut WriteTx, p: &PendingRow) -> Result<()> {
    sqlx::query(
        "INSERT INTO pending_logins (id_hash, tenant_id, kind, stage, browser_hash, payload, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(&p.id_hash)
    .bind(&p.tenant_id)
    .bind(&p.kind)
    .bind(&p.stage)
    .bind(&p.browser_hash)
    .bind(&p.payload)
    .bind(p.created_at)
    .bind(p.expires_at)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Takes a pending login out (single use): the row is deleted in the same statement that
/// reads it, so two callbacks with the same state cannot both find it. Expired rows are
/// returned too, for the caller to say "expired" rather than "unknown".
pub async fn take_pending(
    tx: &mut WriteTx,
    id_hash: &str,
    stage: &str,
) -> Result<Option<PendingRow>> {
    let row = sqlx::query(
        "DELETE FROM pending_logins WHERE id_hash = $1 AND stage = $2 \
         RETURNING id_hash, tenant_id, kind, stage, browser_hash, payload, created_at, expires_at",
    )
    .bind(id_hash)
    .bind(stage)
    .fetch_optional(tx.conn())
    .await?;
    row.as_ref().map(pending_from).transpose()
}

/// Reads a pending row without taking it (the first-login choice page is shown, then posted).
pub async fn peek_pending(
    db: &Db,
    id_hash: &str,
    stage: &str,
    now: i64,
) -> Result<Option<PendingRow>> {
    let row = sqlx::query(
        "SELECT id_hash, tenant_id, kind, stage, browser_hash, payload, created_at, expires_at \
         FROM pending_logins WHERE id_hash = $1 AND stage = $2 AND expires_at > $3",
    )
    .bind(id_hash)
    .bind(stage)
    .bind(now)
    .fetch_optional(db.pool())
    .await?;
    row.as_ref().map(pending_from).transpose()
}

/// Forgets pending logins that expired before `now`; how many.
pub async fn purge_pending(tx: &mut WriteTx, now: i64) -> Result<u64> {
    let r = sqlx::query("DELETE FROM pending_logins WHERE expires_at <= $1")
        .bind(now)
        .execute(tx.conn())
        .await?;
    Ok(r.rows_affected())
}

/// The provider and ID token of a session (for the provider's logout).
pub async fn session_provider(
    db: &Db,
    id_hash: &str,
) -> Result<Option<(String, String, Option<String>)>> {
    let row = sqlx::query("SELECT tenant_id, provider, id_token FROM sessions WHERE id_hash = $1")
        .bind(id_hash)
        .fetch_optional(db.pool())
        .await?;
    row.map(|r| {
        Ok((
            r.try_get("tenant_id")?,
            r.try_get("provider")?,
            r.try_get("id_token")?,
        ))
    })
    .transpose()
}

/// Marks a new session as opened through a provider.
pub async fn set_session_provider(
    tx: &mut WriteTx,
    id_hash: &str,
    provider: &str,
    id_token: &str,
) -> Result<()> {
    sqlx::query("UPDATE sessions SET provider = $1, id_token = $2 WHERE id_hash = $3")
        .bind(provider)
        .bind(id_token)
        .bind(id_hash)
        .execute(tx.conn())
        .await?;
    Ok(())
}
