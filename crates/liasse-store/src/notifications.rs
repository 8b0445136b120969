//! In-app notifications and providers' opt-ins.

use serde::Serialize;
use sqlx::{Any, Executor, Row};

use crate::db::{Db, WriteTx};
use crate::error::Result;

#[derive(Clone, Debug, Serialize)]
pub struct NotificationRow {
    pub id: String,
    #[serde(skip)]
    pub tenant_id: String,
    #[serde(skip)]
    pub account_id: String,
    pub kind: String,
    pub title: String,
    pub body: String,
    pub object_id: Option<String>,
    pub created_at: i64,
    pub read_at: Option<i64>,
}

pub async fn insert(tx: &mut WriteTx, n: &NotificationRow) -> Result<()> {
    sqlx::query(
        "INSERT INTO notifications (id, tenant_id, account_id, kind, title, body, object_id, created_at, read_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(&n.id)
    .bind(&n.tenant_id)
    .bind(&n.account_id)
    .bind(&n.kind)
    .bind(&n.title)
    .bind(&n.body)
    .bind(n.object_id.as_deref())
    .bind(n.created_at)
    .bind(n.read_at)
    .execute(tx.conn())
    .await?;
    Ok(())
}

pub async fn for_account(
    db: &Db,
    tenant_id: &str,
    account_id: &str,
) -> Result<Vec<NotificationRow>> {
    let rows = sqlx::query(
        "SELECT id, tenant_id, account_id, kind, title, body, object_id, created_at, read_at FROM notifications \
         WHERE tenant_id = $1 AND account_id = $2 ORDER BY created_at DESC, id DESC LIMIT 500",
    )
    .bind(tenant_id)
    .bind(account_id)
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(NotificationRow {
                id: r.try_get("id")?,
                tenant_id: r.try_get("tenant_id")?,
                account_id: r.try_get("account_id")?,
                kind: r.try_get("kind")?,
                title: r.try_get("title")?,
                body: r.try_get("body")?,
                object_id: r.try_get("object_id")?,
                created_at: r.try_get("created_at")?,
                read_at: r.try_get("read_at")?,
            })
        })
        .collect()
}

pub async fn mark_read(
    tx: &mut WriteTx,
    tenant_id: &str,
    account_id: &str,
    id: &str,
    now: i64,
) -> Result<bool> {
    let r = sqlx::query("UPDATE notifications SET read_at = $1 WHERE tenant_id = $2 AND account_id = $3 AND id = $4 AND read_at IS NULL")
        .bind(now)
        .bind(tenant_id)
        .bind(account_id)
        .bind(id)
        .execute(tx.conn())
        .await?;
    Ok(r.rows_affected() > 0)
}

pub async fn set_optin(
    tx: &mut WriteTx,
    tenant_id: &str,
    citizen_id: &str,
    provider_id: &str,
    now: i64,
    on: bool,
) -> Result<()> {
    sqlx::query("DELETE FROM provider_optins WHERE citizen_id = $1 AND provider_id = $2")
        .bind(citizen_id)
        .bind(provider_id)
        .execute(tx.conn())
        .await?;
    if on {
        sqlx::query("INSERT INTO provider_optins (tenant_id, citizen_id, provider_id, created_at) VALUES ($1, $2, $3, $4)")
            .bind(tenant_id)
            .bind(citizen_id)
            .bind(provider_id)
            .bind(now)
            .execute(tx.conn())
            .await?;
    }
    Ok(())
}

pub async fn has_optin(
    db: &Db,
    tenant_id: &str,
    citizen_id: &str,
    provider_id: &str,
) -> Result<bool> {
    let r = sqlx::query("SELECT COUNT(*) AS n FROM provider_optins WHERE tenant_id = $1 AND citizen_id = $2 AND provider_id = $3 AND revoked_at IS NULL")
        .bind(tenant_id)
        .bind(citizen_id)
        .bind(provider_id)
        .fetch_one(db.pool())
        .await?;
    Ok(r.try_get::<i64, _>("n")? > 0)
}

/// Records an in-app notification once per key; returns whether it was inserted.
pub async fn notify_once(tx: &mut WriteTx, n: &NotificationRow, key: &str) -> Result<bool> {
    let r = sqlx::query(
        "INSERT INTO notifications (id, tenant_id, account_id, kind, title, body, object_id, created_at, read_at, idem_key) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT DO NOTHING",
    )
    .bind(&n.id)
    .bind(&n.tenant_id)
    .bind(&n.account_id)
    .bind(&n.kind)
    .bind(&n.title)
    .bind(&n.body)
    .bind(n.object_id.as_deref())
    .bind(n.created_at)
    .bind(n.read_at)
    .bind(key)
    .execute(tx.conn())
    .await?;
    Ok(r.rows_affected() > 0)
}

/// How many notifications carry a key starting with `prefix` (tests and the benchmark).
pub async fn notifications_with_key_prefix(db: &Db, prefix: &str) -> Result<i64> {
    let r = sqlx::query("SELECT COUNT(*) AS n FROM notifications WHERE idem_key LIKE $1")
        .bind(format!("{prefix}%"))
        .fetch_one(db.pool())
        .await?;
    Ok(r.try_get("n")?)
}

// --------------------------------------------------------------------------- preferences

/// An account's notification preferences.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Prefs {
    pub email: bool,
    pub sms: bool,
    pub in_app: bool,
    /// Receive notices that are not mandatory (expiry reminders); disposal notices are always sent.
    pub optional: bool,
    /// Agents: one e-mail a day instead of one per event.
    pub digest: bool,
    /// Where to send e-mails instead of the account's address.
    pub email_address: Option<String>,
    /// Mobile number for SMS.
    pub phone: Option<String>,
}

impl Default for Prefs {
    fn default() -> Self {
        Prefs {
            email: true,
            sms: false,
            in_app: true,
            optional: true,
            digest: false,
            email_address: None,
            phone: None,
        }
    }
}

pub async fn prefs<'c, E: Executor<'c, Database = Any>>(
    e: E,
    tenant_id: &str,
    account_id: &str,
) -> Result<Prefs> {
    let row = sqlx::query(
        "SELECT email, sms, in_app, optional, digest, email_address, phone FROM notification_prefs \
         WHERE tenant_id = $1 AND account_id = $2",
    )
    .bind(tenant_id)
    .bind(account_id)
    .fetch_optional(e)
    .await?;
    let Some(r) = row else {
        return Ok(Prefs::default());
    };
    Ok(Prefs {
        email: r.try_get::<i64, _>("email")? != 0,
        sms: r.try_get::<i64, _>("sms")? != 0,
        in_app: r.try_get::<i64, _>("in_app")? != 0,
        optional: r.try_get::<i64, _>("optional")? != 0,
        digest: r.try_get::<i64, _>("digest")? != 0,
        email_address: r.try_get("email_address")?,
        phone: r.try_get("phone")?,
    })
}

pub async fn set_prefs(
    tx: &mut WriteTx,
    tenant_id: &str,
    account_id: &str,
    p: &Prefs,
    now: i64,
) -> Result<()> {
    sqlx::query("DELETE FROM notification_prefs WHERE tenant_id = $1 AND account_id = $2")
        .bind(tenant_id)
        .bind(account_id)
        .execute(tx.conn())
        .await?;
    sqlx::query(
        "INSERT INTO notification_prefs (account_id, tenant_id, email, sms, in_app, optional, digest, email_address, phone, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(account_id)
    .bind(tenant_id)
    .bind(i64::from(p.email))
    .bind(i64::from(p.sms))
    .bind(i64::from(p.in_app))
    .bind(i64::from(p.optional))
    .bind(i64::from(p.digest))
    .bind(p.email_address.as_deref())
    .bind(p.phone.as_deref())
    .bind(now)
    .execute(tx.conn())
    .await?;
    Ok(())
}
