//! Accounts of a tenant, their rights per domain, API tokens (stored as hashes) and sessions.

use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::db::{Db, WriteTx};
use crate::error::{Result, StoreError};

#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct AccountRow {
    pub id: String,
    pub tenant_id: String,
    pub login: String,
    pub role: String,
    pub display_name: String,
    pub email: Option<String>,
    pub service: String,
    #[serde(skip)]
    pub password_hash: Option<String>,
    pub disabled: bool,
    pub created_at: i64,
}

const COLUMNS: &str =
    "id, tenant_id, login, role, display_name, email, service, password_hash, disabled, created_at";

fn from_row(r: &AnyRow) -> Result<AccountRow> {
    Ok(AccountRow {
        id: r.try_get("id")?,
        tenant_id: r.try_get("tenant_id")?,
        login: r.try_get("login")?,
        role: r.try_get("role")?,
        display_name: r.try_get("display_name")?,
        email: r.try_get("email")?,
        service: r.try_get("service")?,
        password_hash: r.try_get("password_hash")?,
        disabled: r.try_get::<i64, _>("disabled")? != 0,
        created_at: r.try_get("created_at")?,
    })
}

pub async fn insert(tx: &mut WriteTx, a: &AccountRow) -> Result<()> {
    let r = sqlx::query(&format!(
        "INSERT INTO accounts ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
    ))
    .bind(&a.id)
    .bind(&a.tenant_id)
    .bind(&a.login)
    .bind(&a.role)
    .bind(&a.display_name)
    .bind(a.email.as_deref())
    .bind(&a.service)
    .bind(a.password_hash.as_deref())
    .bind(i64::from(a.disabled))
    .bind(a.created_at)
    .execute(tx.conn())
    .await;
    match r {
        Ok(_) => Ok(()),
        Err(e) => {
            let e = StoreError::from(e);
            if e.is_unique_violation() {
                Err(StoreError::Conflict(format!(
                    "login {} already exists",
                    a.login
                )))
            } else {
                Err(e)
            }
        }
    }
}

pub async fn by_login(db: &Db, tenant_id: &str, login: &str) -> Result<Option<AccountRow>> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM accounts WHERE tenant_id = $1 AND login = $2"
    ))
    .bind(tenant_id)
    .bind(login)
    .fetch_optional(db.pool())
    .await?;
    row.as_ref().map(from_row).transpose()
}

pub async fn by_id(db: &Db, tenant_id: &str, id: &str) -> Result<Option<AccountRow>> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM accounts WHERE tenant_id = $1 AND id = $2"
    ))
    .bind(tenant_id)
    .bind(id)
    .fetch_optional(db.pool())
    .await?;
    row.as_ref().map(from_row).transpose()
}

pub async fn set_password(tx: &mut WriteTx, tenant_id: &str, id: &str, hash: &str) -> Result<()> {
    sqlx::query("UPDATE accounts SET password_hash = $1 WHERE tenant_id = $2 AND id = $3")
        .bind(hash)
        .bind(tenant_id)
        .bind(id)
        .execute(tx.conn())
        .await?;
    Ok(())
}

/// Disables or re-enables an account. Logins, sessions and tokens all check the flag, so a
/// disabled account is shut out at once, everywhere.
pub async fn set_disabled(
    tx: &mut WriteTx,
    tenant_id: &str,
    id: &str,
    disabled: bool,
) -> Result<()> {
    sqlx::query("UPDATE accounts SET disabled = $1 WHERE tenant_id = $2 AND id = $3")
        .bind(i64::from(disabled))
        .bind(tenant_id)
        .bind(id)
        .execute(tx.conn())
        .await?;
    Ok(())
}

/// Sets an account's right on a domain (replacing any previous level).
pub async fn set_right(
    tx: &mut WriteTx,
    tenant_id: &str,
    account_id: &str,
    domain: &str,
    level: &str,
) -> Result<()> {
    sqlx::query("DELETE FROM account_rights WHERE account_id = $1 AND domain = $2")
        .bind(account_id)
        .bind(domain)
        .execute(tx.conn())
        .await?;
    sqlx::query(
        "INSERT INTO account_rights (tenant_id, account_id, domain, level) VALUES ($1, $2, $3, $4)",
    )
    .bind(tenant_id)
    .bind(account_id)
    .bind(domain)
    .bind(level)
    .execute(tx.conn())
    .await?;
    Ok(())
}

pub async fn rights(db: &Db, tenant_id: &str, account_id: &str) -> Result<Vec<(String, String)>> {
    let rows = sqlx::query("SELECT domain, level FROM account_rights WHERE tenant_id = $1 AND account_id = $2 ORDER BY domain")
        .bind(tenant_id)
        .bind(account_id)
        .fetch_all(db.pool())
        .await?;
    rows.iter()
        .map(|r| Ok((r.try_get("domain")?, r.try_get("level")?)))
        .collect()
}

#[derive(Clone, Debug)]
pub struct TokenRow {
    pub id: String,
    pub tenant_id: String,
    pub account_id: String,
    pub token_hash: String,
    pub label: String,
    pub scopes: String,
    pub created_at: i64,
    pub expires_at: Option<i64>,
}

pub async fn insert_token(tx: &mut WriteTx, t: &TokenRow) -> Result<()> {
    sqlx::query(
        "INSERT INTO api_tokens (id, tenant_id, account_id, token_hash, label, scopes, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(&t.id)
    .bind(&t.tenant_id)
    .bind(&t.account_id)
    .bind(&t.token_hash)
    .bind(&t.label)
    .bind(&t.scopes)
    .bind(t.created_at)
    .bind(t.expires_at)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// The account behind a live token hash, with the token's scopes.
pub async fn by_token_hash(
    db: &Db,
    token_hash: &str,
    now: i64,
) -> Result<Option<(AccountRow, String)>> {
    let row = sqlx::query(
        "SELECT a.id, a.tenant_id, a.login, a.role, a.display_name, a.email, a.service, a.password_hash, \
         a.disabled, a.created_at, t.scopes FROM api_tokens t JOIN accounts a ON a.id = t.account_id \
         AND a.tenant_id = t.tenant_id WHERE t.token_hash = $1 AND t.revoked_at IS NULL \
         AND (t.expires_at IS NULL OR t.expires_at > $2)",
    )
    .bind(token_hash)
    .bind(now)
    .fetch_optional(db.pool())
    .await?;
    match row {
        Some(r) => Ok(Some((from_row(&r)?, r.try_get("scopes")?))),
        None => Ok(None),
    }
}

/// A token as its owner and the operator see it: never its secret nor its hash.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct TokenInfo {
    pub id: String,
    pub account_id: String,
    pub login: String,
    pub label: String,
    pub scopes: String,
    pub created_at: i64,
    pub expires_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

fn token_info(r: &AnyRow) -> Result<TokenInfo> {
    Ok(TokenInfo {
        id: r.try_get("id")?,
        account_id: r.try_get("account_id")?,
        login: r.try_get("login")?,
        label: r.try_get("label")?,
        scopes: r.try_get("scopes")?,
        created_at: r.try_get("created_at")?,
        expires_at: r.try_get("expires_at")?,
        revoked_at: r.try_get("revoked_at")?,
    })
}

const TOKEN_INFO: &str = "SELECT t.id, t.account_id, a.login, t.label, t.scopes, t.created_at, \
     t.expires_at, t.revoked_at FROM api_tokens t JOIN accounts a ON a.id = t.account_id \
     AND a.tenant_id = t.tenant_id WHERE t.tenant_id = $1";

/// The tokens of a tenant, or of one of its accounts, newest first.
pub async fn tokens(db: &Db, tenant_id: &str, account_id: Option<&str>) -> Result<Vec<TokenInfo>> {
    let rows = match account_id {
        Some(account) => {
            sqlx::query(&format!(
                "{TOKEN_INFO} AND t.account_id = $2 ORDER BY t.created_at DESC, t.id DESC"
            ))
            .bind(tenant_id)
            .bind(account)
            .fetch_all(db.pool())
            .await?
        }
        None => {
            sqlx::query(&format!(
                "{TOKEN_INFO} ORDER BY a.login, t.created_at DESC, t.id DESC"
            ))
            .bind(tenant_id)
            .fetch_all(db.pool())
            .await?
        }
    };
    rows.iter().map(token_info).collect()
}

pub async fn token_by_id(db: &Db, tenant_id: &str, id: &str) -> Result<Option<TokenInfo>> {
    let row = sqlx::query(&format!("{TOKEN_INFO} AND t.id = $2"))
        .bind(tenant_id)
        .bind(id)
        .fetch_optional(db.pool())
        .await?;
    row.as_ref().map(token_info).transpose()
}

/// Marks a token revoked; `false` when it was revoked already (or is not of this tenant).
pub async fn revoke_token(tx: &mut WriteTx, tenant_id: &str, id: &str, now: i64) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE api_tokens SET revoked_at = $1 WHERE tenant_id = $2 AND id = $3 AND revoked_at IS NULL",
    )
    .bind(now)
    .bind(tenant_id)
    .bind(id)
    .execute(tx.conn())
    .await?;
    Ok(done.rows_affected() > 0)
}

pub async fn insert_session(
    tx: &mut WriteTx,
    id_hash: &str,
    tenant_id: &str,
    account_id: &str,
    csrf: &str,
    now: i64,
    expires_at: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO sessions (id_hash, tenant_id, account_id, csrf_token, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(id_hash)
    .bind(tenant_id)
    .bind(account_id)
    .bind(csrf)
    .bind(now)
    .bind(expires_at)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// The account and CSRF token of a live session.
pub async fn by_session(db: &Db, id_hash: &str, now: i64) -> Result<Option<(AccountRow, String)>> {
    let row = sqlx::query(
        "SELECT a.id, a.tenant_id, a.login, a.role, a.display_name, a.email, a.service, a.password_hash, \
         a.disabled, a.created_at, s.csrf_token FROM sessions s JOIN accounts a ON a.id = s.account_id \
         AND a.tenant_id = s.tenant_id WHERE s.id_hash = $1 AND s.expires_at > $2",
    )
    .bind(id_hash)
    .bind(now)
    .fetch_optional(db.pool())
    .await?;
    match row {
        Some(r) => Ok(Some((from_row(&r)?, r.try_get("csrf_token")?))),
        None => Ok(None),
    }
}

pub async fn delete_session(tx: &mut WriteTx, id_hash: &str) -> Result<()> {
    sqlx::query("DELETE FROM sessions WHERE id_hash = $1")
        .bind(id_hash)
        .execute(tx.conn())
        .await?;
    Ok(())
}

/// Service-client accounts of a tenant.
pub async fn services(db: &Db, tenant_id: &str) -> Result<Vec<AccountRow>> {
    let rows = sqlx::query(&format!("SELECT {COLUMNS} FROM accounts WHERE tenant_id = $1 AND role = 'service' AND disabled = 0 ORDER BY display_name"))
        .bind(tenant_id)
        .fetch_all(db.pool())
        .await?;
    rows.iter().map(from_row).collect()
}

/// Agents and managers of a tenant (the admin pages), with disabled ones.
pub async fn staff(db: &Db, tenant_id: &str) -> Result<Vec<AccountRow>> {
    let rows = sqlx::query(&format!("SELECT {COLUMNS} FROM accounts WHERE tenant_id = $1 AND role IN ('agent', 'manager') ORDER BY display_name, login"))
        .bind(tenant_id)
        .fetch_all(db.pool())
        .await?;
    rows.iter().map(from_row).collect()
}

/// The staff accounts (agents, managers, admins) of a tenant with this e-mail address, case
/// ignored: how a ProConnect agent's first login finds the account an admin created.
pub async fn staff_by_email(db: &Db, tenant_id: &str, email: &str) -> Result<Vec<AccountRow>> {
    let rows = sqlx::query(&format!("SELECT {COLUMNS} FROM accounts WHERE tenant_id = $1 AND role IN ('agent', 'manager', 'admin') AND lower(email) = lower($2) ORDER BY created_at"))
        .bind(tenant_id)
        .bind(email)
        .fetch_all(db.pool())
        .await?;
    rows.iter().map(from_row).collect()
}

/// Every account of the tenant whose address or login is this e-mail (case aside).
pub async fn by_email(db: &Db, tenant_id: &str, email: &str) -> Result<Vec<AccountRow>> {
    let rows = sqlx::query(&format!("SELECT {COLUMNS} FROM accounts WHERE tenant_id = $1 AND (lower(email) = lower($2) OR lower(login) = lower($2)) ORDER BY created_at"))
        .bind(tenant_id)
        .bind(email)
        .fetch_all(db.pool())
        .await?;
    rows.iter().map(from_row).collect()
}

/// Completes a signed-up account: its names, its password, and it is let in.
pub async fn complete_signup(
    tx: &mut WriteTx,
    tenant_id: &str,
    id: &str,
    display_name: &str,
    password_hash: &str,
) -> Result<()> {
    sqlx::query(
        "UPDATE accounts SET display_name = $3, password_hash = $4, disabled = $5 WHERE tenant_id = $1 AND id = $2",
    )
    .bind(tenant_id)
    .bind(id)
    .bind(display_name)
    .bind(password_hash)
    .bind(0_i64)
    .execute(tx.conn())
    .await?;
    Ok(())
}
