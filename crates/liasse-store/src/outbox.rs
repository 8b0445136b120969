//! The outbox: e-mails and SMS waiting to be sent, claimed by one node at a time under a
//! lease like jobs are, or held for an agent's daily digest.

use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::{FromRow, Row};

use crate::db::{Db, WriteTx};
use crate::error::Result;
use crate::lease::{Claim, Param, Queue};

#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct OutboxRow {
    pub id: String,
    pub tenant_id: String,
    pub account_id: String,
    pub idem_key: String,
    /// `email` or `sms`.
    pub channel: String,
    pub address: String,
    pub subject: String,
    pub body: String,
    /// `pending`, `sending`, `sent`, `failed`, `held` (waiting for a digest), `digested`.
    pub state: String,
    pub attempts: i64,
    pub run_at: i64,
    pub lease_until: Option<i64>,
    pub last_error: Option<String>,
    pub created_at: i64,
    pub sent_at: Option<i64>,
}

/// A message to send through `channel` (`email`, `sms`).
pub struct NewMessage<'a> {
    pub tenant_id: &'a str,
    pub account_id: &'a str,
    /// The same key is queued once: a notice sent twice records nothing new.
    pub idem_key: String,
    pub channel: &'a str,
    pub address: String,
    pub subject: String,
    pub body: String,
}

impl OutboxRow {
    /// A message due now, never tried.
    pub fn pending(m: NewMessage<'_>, now: i64) -> OutboxRow {
        OutboxRow {
            id: liasse_domain::ids::new_id(),
            tenant_id: m.tenant_id.into(),
            account_id: m.account_id.into(),
            idem_key: m.idem_key,
            channel: m.channel.into(),
            address: m.address,
            subject: m.subject,
            body: m.body,
            state: "pending".into(),
            attempts: 0,
            run_at: now,
            lease_until: None,
            last_error: None,
            created_at: now,
            sent_at: None,
        }
    }
}

const OUTBOX: Queue = Queue {
    table: "outbox",
    columns: "id, tenant_id, account_id, idem_key, channel, address, subject, body, state, attempts, \
     run_at, lease_until, last_error, created_at, sent_at",
    claimed: "sending",
};

impl FromRow<'_, AnyRow> for OutboxRow {
    fn from_row(r: &AnyRow) -> sqlx::Result<Self> {
        Ok(OutboxRow {
            id: r.try_get("id")?,
            tenant_id: r.try_get("tenant_id")?,
            account_id: r.try_get("account_id")?,
            idem_key: r.try_get("idem_key")?,
            channel: r.try_get("channel")?,
            address: r.try_get("address")?,
            subject: r.try_get("subject")?,
            body: r.try_get("body")?,
            state: r.try_get("state")?,
            attempts: r.try_get("attempts")?,
            run_at: r.try_get("run_at")?,
            lease_until: r.try_get("lease_until")?,
            last_error: r.try_get("last_error")?,
            created_at: r.try_get("created_at")?,
            sent_at: r.try_get("sent_at")?,
        })
    }
}

/// Queues a message unless one with the same key exists; returns whether it was inserted.
pub async fn insert(tx: &mut WriteTx, o: &OutboxRow) -> Result<bool> {
    let columns = OUTBOX.columns;
    let r = sqlx::query(&format!(
        "INSERT INTO outbox ({columns}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) \
         ON CONFLICT DO NOTHING"
    ))
    .bind(&o.id)
    .bind(&o.tenant_id)
    .bind(&o.account_id)
    .bind(&o.idem_key)
    .bind(&o.channel)
    .bind(&o.address)
    .bind(&o.subject)
    .bind(&o.body)
    .bind(&o.state)
    .bind(o.attempts)
    .bind(o.run_at)
    .bind(o.lease_until)
    .bind(o.last_error.as_deref())
    .bind(o.created_at)
    .bind(o.sent_at)
    .execute(tx.conn())
    .await?;
    Ok(r.rows_affected() > 0)
}

/// Claims due messages of the enabled channels, like [`crate::jobs::claim`] does for jobs.
pub async fn claim(
    db: &Db,
    now: i64,
    lease_ms: i64,
    owner: &str,
    limit: i64,
    email: bool,
    sms: bool,
) -> Result<Vec<OutboxRow>> {
    let claim = Claim {
        now,
        lease_ms,
        owner,
        limit,
    };
    OUTBOX
        .claim(
            db,
            &claim,
            "((channel = 'email' AND $4 = 1) OR (channel = 'sms' AND $5 = 1))",
            &[Param::Int(i64::from(email)), Param::Int(i64::from(sms))],
            |o: &OutboxRow| (o.run_at, &o.id),
        )
        .await
}

/// Marks a claimed message sent; `false` when another node took it back meanwhile.
pub async fn sent(db: &Db, id: &str, owner: &str, now: i64) -> Result<bool> {
    let mut tx = db.begin_write().await?;
    let sent = OUTBOX
        .finish(tx.conn(), "sent", "sent_at", id, owner, now)
        .await?;
    tx.commit().await?;
    Ok(sent)
}

/// Records a failed send: `pending` again at `retry_at`, or `failed` for good (a permanent
/// refusal such as an unknown address).
pub async fn failed(
    db: &Db,
    id: &str,
    owner: &str,
    error: &str,
    retry_at: Option<i64>,
) -> Result<()> {
    OUTBOX.fail(db, id, owner, error, retry_at).await
}

/// An account's messages, newest first.
pub async fn for_account(
    db: &Db,
    tenant_id: &str,
    account_id: &str,
    limit: i64,
) -> Result<Vec<OutboxRow>> {
    let columns = OUTBOX.columns;
    Ok(sqlx::query_as(&format!(
        "SELECT {columns} FROM outbox WHERE tenant_id = $1 AND account_id = $2 ORDER BY created_at DESC, id DESC LIMIT $3"
    ))
    .bind(tenant_id)
    .bind(account_id)
    .bind(limit)
    .fetch_all(db.pool())
    .await?)
}

/// A tenant's messages in a state, oldest first.
pub async fn by_state(db: &Db, tenant_id: &str, state: &str, limit: i64) -> Result<Vec<OutboxRow>> {
    OUTBOX
        .by_state(db, tenant_id, state, "created_at", limit)
        .await
}

/// Messages held for an account's digest, created up to `until`.
pub async fn held(
    tx: &mut WriteTx,
    tenant_id: &str,
    account_id: &str,
    until: i64,
) -> Result<Vec<OutboxRow>> {
    let columns = OUTBOX.columns;
    Ok(sqlx::query_as(&format!(
        "SELECT {columns} FROM outbox WHERE tenant_id = $1 AND account_id = $2 AND state = 'held' \
         AND created_at <= $3 ORDER BY created_at, id"
    ))
    .bind(tenant_id)
    .bind(account_id)
    .bind(until)
    .fetch_all(tx.conn())
    .await?)
}

/// Marks held messages as folded into a digest.
pub async fn digested(tx: &mut WriteTx, ids: &[String], now: i64) -> Result<()> {
    for id in ids {
        sqlx::query(
            "UPDATE outbox SET state = 'digested', sent_at = $1 WHERE id = $2 AND state = 'held'",
        )
        .bind(now)
        .bind(id)
        .execute(tx.conn())
        .await?;
    }
    Ok(())
}

/// How many messages are in each state, over the instance.
pub async fn counts(db: &Db) -> Result<Vec<(String, i64)>> {
    OUTBOX.counts(db).await
}
