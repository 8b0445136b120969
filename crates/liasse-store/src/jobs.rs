//! The life cycle's tables: the job queue, the outbox of e-mails and SMS, notification
//! preferences, documents kept beyond retention and the scheduler's cursors; and the few
//! queries the scheduler runs on documents and requests, each served by an index on a date so
//! that a sweep reads what is due, not the whole vault.

use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::{Any, Executor, Row};

use crate::db::{Backend, Db, WriteTx};
use crate::error::Result;
use crate::notifications::NotificationRow;

// ------------------------------------------------------------------------------------- jobs

/// A job to schedule; (kind, key) makes it idempotent.
pub struct NewJob<'a> {
    pub id: &'a str,
    pub tenant_id: &'a str,
    pub kind: &'a str,
    pub key: &'a str,
    pub payload: &'a serde_json::Value,
    pub run_at: i64,
}

#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct JobRow {
    pub id: String,
    pub tenant_id: String,
    pub kind: String,
    pub idem_key: String,
    pub payload: String,
    pub run_at: i64,
    pub state: String,
    pub attempts: i64,
    pub lease_until: Option<i64>,
    pub last_error: Option<String>,
    pub created_at: i64,
    pub done_at: Option<i64>,
}

const JOB_COLUMNS: &str = "id, tenant_id, kind, idem_key, payload, run_at, state, attempts, lease_until, last_error, created_at, done_at";

fn job_from_row(r: &AnyRow) -> Result<JobRow> {
    Ok(JobRow {
        id: r.try_get("id")?,
        tenant_id: r.try_get("tenant_id")?,
        kind: r.try_get("kind")?,
        idem_key: r.try_get("idem_key")?,
        payload: r.try_get("payload")?,
        run_at: r.try_get("run_at")?,
        state: r.try_get("state")?,
        attempts: r.try_get("attempts")?,
        lease_until: r.try_get("lease_until")?,
        last_error: r.try_get("last_error")?,
        created_at: r.try_get("created_at")?,
        done_at: r.try_get("done_at")?,
    })
}

/// Schedules a job unless one with the same kind and key exists (whatever its state): returns
/// whether it was inserted.
pub async fn enqueue(tx: &mut WriteTx, j: &NewJob<'_>, now: i64) -> Result<bool> {
    let r = sqlx::query(
        "INSERT INTO jobs (id, tenant_id, kind, idem_key, payload, run_at, state, attempts, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, 'pending', 0, $7) ON CONFLICT DO NOTHING",
    )
    .bind(j.id)
    .bind(j.tenant_id)
    .bind(j.kind)
    .bind(j.key)
    .bind(j.payload.to_string())
    .bind(j.run_at)
    .bind(now)
    .execute(tx.conn())
    .await?;
    Ok(r.rows_affected() > 0)
}

/// Claims up to `limit` due jobs (of one kind when `kind` is not empty) for `owner` until
/// `now + lease_ms`: pending jobs whose time has come, and running jobs whose lease expired
/// (their node died). Each claim counts as an attempt.
///
/// PostgreSQL skips rows another node is claiming (`FOR UPDATE SKIP LOCKED`), so two nodes
/// get disjoint batches without waiting; SQLite has one writer at a time, which serialises
/// the same statement.
pub async fn claim(
    db: &Db,
    now: i64,
    lease_ms: i64,
    owner: &str,
    limit: i64,
    kind: &str,
) -> Result<Vec<JobRow>> {
    let lock = match db.backend() {
        Backend::Postgres => " FOR UPDATE SKIP LOCKED",
        Backend::Sqlite => "",
    };
    let sql = format!(
        "UPDATE jobs SET state = 'running', lease_until = $1, lease_owner = $2, attempts = attempts + 1 \
         WHERE id IN (SELECT id FROM jobs WHERE state IN ('pending', 'running') AND run_at <= $3 \
         AND (state = 'pending' OR lease_until < $3) AND ($4 = '' OR kind = $4) \
         ORDER BY run_at, id LIMIT $5{lock}) RETURNING {JOB_COLUMNS}"
    );
    let mut tx = db.begin_write().await?;
    let rows = sqlx::query(&sql)
        .bind(now + lease_ms)
        .bind(owner)
        .bind(now)
        .bind(kind)
        .bind(limit)
        .fetch_all(tx.conn())
        .await?;
    tx.commit().await?;
    let mut jobs = rows.iter().map(job_from_row).collect::<Result<Vec<_>>>()?;
    jobs.sort_by(|a, b| (a.run_at, &a.id).cmp(&(b.run_at, &b.id)));
    Ok(jobs)
}

/// Marks a claimed job done inside the transaction that did its work, if `owner` still holds
/// it; `false` means the lease was lost and the caller must roll back.
pub async fn complete(tx: &mut WriteTx, id: &str, owner: &str, now: i64) -> Result<bool> {
    let r = sqlx::query(
        "UPDATE jobs SET state = 'done', done_at = $1, lease_until = NULL, last_error = NULL \
         WHERE id = $2 AND lease_owner = $3 AND state = 'running'",
    )
    .bind(now)
    .bind(id)
    .bind(owner)
    .execute(tx.conn())
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Records a failed attempt: back to `pending` at `retry_at`, or `failed` for good when
/// `retry_at` is `None`.
pub async fn fail(
    db: &Db,
    id: &str,
    owner: &str,
    error: &str,
    retry_at: Option<i64>,
) -> Result<()> {
    let mut tx = db.begin_write().await?;
    sqlx::query(
        "UPDATE jobs SET state = $1, run_at = COALESCE($2, run_at), last_error = $3, lease_until = NULL \
         WHERE id = $4 AND lease_owner = $5 AND state = 'running'",
    )
    .bind(if retry_at.is_some() { "pending" } else { "failed" })
    .bind(retry_at)
    .bind(error.chars().take(2000).collect::<String>())
    .bind(id)
    .bind(owner)
    .execute(tx.conn())
    .await?;
    tx.commit().await?;
    Ok(())
}

pub async fn get(db: &Db, kind: &str, key: &str) -> Result<Option<JobRow>> {
    let row = sqlx::query(&format!(
        "SELECT {JOB_COLUMNS} FROM jobs WHERE kind = $1 AND idem_key = $2"
    ))
    .bind(kind)
    .bind(key)
    .fetch_optional(db.pool())
    .await?;
    row.as_ref().map(job_from_row).transpose()
}

/// Jobs of a tenant in a state, oldest first (failed jobs are kept visible for operators).
pub async fn by_state(db: &Db, tenant_id: &str, state: &str, limit: i64) -> Result<Vec<JobRow>> {
    let rows = sqlx::query(&format!(
        "SELECT {JOB_COLUMNS} FROM jobs WHERE tenant_id = $1 AND state = $2 ORDER BY run_at, id LIMIT $3"
    ))
    .bind(tenant_id)
    .bind(state)
    .bind(limit)
    .fetch_all(db.pool())
    .await?;
    rows.iter().map(job_from_row).collect()
}

/// How many jobs are in each state, over the instance.
pub async fn counts(db: &Db) -> Result<Vec<(String, i64)>> {
    let rows = sqlx::query("SELECT state, COUNT(*) AS n FROM jobs GROUP BY state ORDER BY state")
        .fetch_all(db.pool())
        .await?;
    rows.iter()
        .map(|r| Ok((r.try_get("state")?, r.try_get("n")?)))
        .collect()
}

// ----------------------------------------------------------------------------------- outbox

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

const OUTBOX_COLUMNS: &str = "id, tenant_id, account_id, idem_key, channel, address, subject, body, state, attempts, \
     run_at, lease_until, last_error, created_at, sent_at";

fn outbox_from_row(r: &AnyRow) -> Result<OutboxRow> {
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

/// Queues a message unless one with the same key exists; returns whether it was inserted.
pub async fn outbox_insert(tx: &mut WriteTx, o: &OutboxRow) -> Result<bool> {
    let r = sqlx::query(&format!(
        "INSERT INTO outbox ({OUTBOX_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) \
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

/// Claims due messages of the enabled channels, like [`claim`] does for jobs.
pub async fn outbox_claim(
    db: &Db,
    now: i64,
    lease_ms: i64,
    owner: &str,
    limit: i64,
    email: bool,
    sms: bool,
) -> Result<Vec<OutboxRow>> {
    let lock = match db.backend() {
        Backend::Postgres => " FOR UPDATE SKIP LOCKED",
        Backend::Sqlite => "",
    };
    let sql = format!(
        "UPDATE outbox SET state = 'sending', lease_until = $1, lease_owner = $2, attempts = attempts + 1 \
         WHERE id IN (SELECT id FROM outbox WHERE state IN ('pending', 'sending') AND run_at <= $3 \
         AND (state = 'pending' OR lease_until < $3) AND ((channel = 'email' AND $4 = 1) OR (channel = 'sms' AND $5 = 1)) \
         ORDER BY run_at, id LIMIT $6{lock}) RETURNING {OUTBOX_COLUMNS}"
    );
    let mut tx = db.begin_write().await?;
    let rows = sqlx::query(&sql)
        .bind(now + lease_ms)
        .bind(owner)
        .bind(now)
        .bind(i64::from(email))
        .bind(i64::from(sms))
        .bind(limit)
        .fetch_all(tx.conn())
        .await?;
    tx.commit().await?;
    let mut out = rows
        .iter()
        .map(outbox_from_row)
        .collect::<Result<Vec<_>>>()?;
    out.sort_by(|a, b| (a.run_at, &a.id).cmp(&(b.run_at, &b.id)));
    Ok(out)
}

/// Marks a claimed message sent; `false` when another node took it back meanwhile.
pub async fn outbox_sent(db: &Db, id: &str, owner: &str, now: i64) -> Result<bool> {
    let mut tx = db.begin_write().await?;
    let r = sqlx::query(
        "UPDATE outbox SET state = 'sent', sent_at = $1, lease_until = NULL, last_error = NULL \
         WHERE id = $2 AND lease_owner = $3 AND state = 'sending'",
    )
    .bind(now)
    .bind(id)
    .bind(owner)
    .execute(tx.conn())
    .await?;
    tx.commit().await?;
    Ok(r.rows_affected() == 1)
}

/// Records a failed send: `pending` again at `retry_at`, or `failed` for good (a permanent
/// refusal such as an unknown address).
pub async fn outbox_failed(
    db: &Db,
    id: &str,
    owner: &str,
    error: &str,
    retry_at: Option<i64>,
) -> Result<()> {
    let mut tx = db.begin_write().await?;
    sqlx::query(
        "UPDATE outbox SET state = $1, run_at = COALESCE($2, run_at), last_error = $3, lease_until = NULL \
         WHERE id = $4 AND lease_owner = $5 AND state = 'sending'",
    )
    .bind(if retry_at.is_some() { "pending" } else { "failed" })
    .bind(retry_at)
    .bind(error.chars().take(2000).collect::<String>())
    .bind(id)
    .bind(owner)
    .execute(tx.conn())
    .await?;
    tx.commit().await?;
    Ok(())
}

/// An account's messages, newest first.
pub async fn outbox_for_account(
    db: &Db,
    tenant_id: &str,
    account_id: &str,
    limit: i64,
) -> Result<Vec<OutboxRow>> {
    let rows = sqlx::query(&format!(
        "SELECT {OUTBOX_COLUMNS} FROM outbox WHERE tenant_id = $1 AND account_id = $2 ORDER BY created_at DESC, id DESC LIMIT $3"
    ))
    .bind(tenant_id)
    .bind(account_id)
    .bind(limit)
    .fetch_all(db.pool())
    .await?;
    rows.iter().map(outbox_from_row).collect()
}

/// A tenant's messages in a state, oldest first.
pub async fn outbox_by_state(
    db: &Db,
    tenant_id: &str,
    state: &str,
    limit: i64,
) -> Result<Vec<OutboxRow>> {
    let rows = sqlx::query(&format!(
        "SELECT {OUTBOX_COLUMNS} FROM outbox WHERE tenant_id = $1 AND state = $2 ORDER BY created_at, id LIMIT $3"
    ))
    .bind(tenant_id)
    .bind(state)
    .bind(limit)
    .fetch_all(db.pool())
    .await?;
    rows.iter().map(outbox_from_row).collect()
}

/// Messages held for an account's digest, created up to `until`.
pub async fn outbox_held(
    tx: &mut WriteTx,
    tenant_id: &str,
    account_id: &str,
    until: i64,
) -> Result<Vec<OutboxRow>> {
    let rows = sqlx::query(&format!(
        "SELECT {OUTBOX_COLUMNS} FROM outbox WHERE tenant_id = $1 AND account_id = $2 AND state = 'held' \
         AND created_at <= $3 ORDER BY created_at, id"
    ))
    .bind(tenant_id)
    .bind(account_id)
    .bind(until)
    .fetch_all(tx.conn())
    .await?;
    rows.iter().map(outbox_from_row).collect()
}

/// Marks held messages as folded into a digest.
pub async fn outbox_digested(tx: &mut WriteTx, ids: &[String], now: i64) -> Result<()> {
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
pub async fn outbox_counts(db: &Db) -> Result<Vec<(String, i64)>> {
    let rows = sqlx::query("SELECT state, COUNT(*) AS n FROM outbox GROUP BY state ORDER BY state")
        .fetch_all(db.pool())
        .await?;
    rows.iter()
        .map(|r| Ok((r.try_get("state")?, r.try_get("n")?)))
        .collect()
}

// ----------------------------------------------------------------------- notifications

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

// ------------------------------------------------------------------------- kept documents

/// Records a citizen's wish to keep a document beyond retention; `false` if already kept.
pub async fn keep(
    tx: &mut WriteTx,
    tenant_id: &str,
    document_id: &str,
    by: &str,
    now: i64,
) -> Result<bool> {
    let r = sqlx::query(
        "INSERT INTO document_keeps (document_id, tenant_id, kept_by, kept_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
    )
    .bind(document_id)
    .bind(tenant_id)
    .bind(by)
    .bind(now)
    .execute(tx.conn())
    .await?;
    Ok(r.rows_affected() > 0)
}

pub async fn is_kept<'c, E: Executor<'c, Database = Any>>(
    e: E,
    tenant_id: &str,
    document_id: &str,
) -> Result<bool> {
    let r = sqlx::query(
        "SELECT COUNT(*) AS n FROM document_keeps WHERE tenant_id = $1 AND document_id = $2",
    )
    .bind(tenant_id)
    .bind(document_id)
    .fetch_one(e)
    .await?;
    Ok(r.try_get::<i64, _>("n")? > 0)
}

// -------------------------------------------------------------------------------- cursors

/// The last day a date scan covered, and when it ran.
pub async fn cursor(db: &Db, name: &str) -> Result<Option<(String, i64)>> {
    let row = sqlx::query("SELECT day, at FROM lifecycle_cursors WHERE name = $1")
        .bind(name)
        .fetch_optional(db.pool())
        .await?;
    match row {
        Some(r) => Ok(Some((r.try_get("day")?, r.try_get("at")?))),
        None => Ok(None),
    }
}

/// Moves a cursor forward (never back: a slower node finishing late does not undo progress).
pub async fn set_cursor(db: &Db, name: &str, day: &str, at: i64) -> Result<()> {
    let mut tx = db.begin_write().await?;
    sqlx::query(
        "INSERT INTO lifecycle_cursors (name, day, at) VALUES ($1, $2, $3) \
         ON CONFLICT (name) DO UPDATE SET day = excluded.day, at = excluded.at \
         WHERE lifecycle_cursors.day <= excluded.day",
    )
    .bind(name)
    .bind(day)
    .bind(at)
    .execute(tx.conn())
    .await?;
    tx.commit().await?;
    Ok(())
}

// ------------------------------------------------------------------- scheduler's queries

/// What the scheduler needs of a document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DatedDoc {
    pub id: String,
    pub tenant_id: String,
    pub owner_id: String,
    pub type_code: String,
    pub valid_until: String,
    pub updated_at: i64,
}

fn dated_from_row(r: &AnyRow) -> Result<DatedDoc> {
    Ok(DatedDoc {
        id: r.try_get("id")?,
        tenant_id: r.try_get("tenant_id")?,
        owner_id: r.try_get("owner_id")?,
        type_code: r.try_get("type_code")?,
        valid_until: r.try_get("valid_until")?,
        updated_at: r.try_get("updated_at")?,
    })
}

/// Live documents whose valid_until is in `[lo, hi]`, in (valid_until, id) order after
/// `after` (keyset paging). Served by the `documents_valid_until` index: the cost is the
/// number of documents on those days, whatever the size of the vault.
pub async fn documents_valid_between(
    db: &Db,
    lo: &str,
    hi: &str,
    after: Option<(&str, &str)>,
    limit: i64,
) -> Result<Vec<DatedDoc>> {
    let (after_day, after_id) = after.unwrap_or((lo, ""));
    let rows = sqlx::query(
        "SELECT id, tenant_id, owner_id, type_code, valid_until, updated_at FROM documents \
         WHERE valid_until >= $1 AND valid_until <= $2 AND deleted_at IS NULL \
         AND (valid_until > $3 OR (valid_until = $3 AND id > $4)) ORDER BY valid_until, id LIMIT $5",
    )
    .bind(lo)
    .bind(hi)
    .bind(after_day)
    .bind(after_id)
    .bind(limit)
    .fetch_all(db.pool())
    .await?;
    rows.iter().map(dated_from_row).collect()
}

/// Live dated documents changed (deposited, reviewed, replaced) since `since`, in
/// (updated_at, id) order after `after`; served by `documents_updated`.
pub async fn documents_changed_since(
    db: &Db,
    since: i64,
    after: Option<(i64, &str)>,
    limit: i64,
) -> Result<Vec<DatedDoc>> {
    let (after_at, after_id) = after.unwrap_or((since, ""));
    let rows = sqlx::query(
        "SELECT id, tenant_id, owner_id, type_code, valid_until, updated_at FROM documents \
         WHERE updated_at >= $1 AND deleted_at IS NULL AND valid_until IS NOT NULL \
         AND (updated_at > $2 OR (updated_at = $2 AND id > $3)) ORDER BY updated_at, id LIMIT $4",
    )
    .bind(since)
    .bind(after_at)
    .bind(after_id)
    .bind(limit)
    .fetch_all(db.pool())
    .await?;
    rows.iter().map(dated_from_row).collect()
}

/// Every document type definition of every tenant: (tenant_id, code, definition JSON).
pub async fn all_document_types(db: &Db) -> Result<Vec<(String, String, String)>> {
    let rows = sqlx::query("SELECT tenant_id, code, definition FROM document_types")
        .fetch_all(db.pool())
        .await?;
    rows.iter()
        .map(|r| {
            Ok((
                r.try_get("tenant_id")?,
                r.try_get("code")?,
                r.try_get("definition")?,
            ))
        })
        .collect()
}

/// A request as the scheduler sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DatedRequest {
    pub id: String,
    pub tenant_id: String,
    pub citizen_id: String,
    pub number: String,
    pub procedure_code: String,
    pub updated_at: i64,
    pub closed_at: Option<i64>,
}

fn request_from_row(r: &AnyRow) -> Result<DatedRequest> {
    Ok(DatedRequest {
        id: r.try_get("id")?,
        tenant_id: r.try_get("tenant_id")?,
        citizen_id: r.try_get("citizen_id")?,
        number: r.try_get("number")?,
        procedure_code: r.try_get("procedure_code")?,
        updated_at: r.try_get("updated_at")?,
        closed_at: r.try_get("closed_at")?,
    })
}

/// A tenant's drafts untouched since before `before` (served by `requests_state_updated`).
pub async fn drafts_idle_before(
    db: &Db,
    tenant_id: &str,
    before: i64,
    limit: i64,
) -> Result<Vec<DatedRequest>> {
    let rows = sqlx::query(
        "SELECT id, tenant_id, citizen_id, number, procedure_code, updated_at, closed_at FROM requests \
         WHERE tenant_id = $1 AND state = 'draft' AND updated_at < $2 ORDER BY updated_at, id LIMIT $3",
    )
    .bind(tenant_id)
    .bind(before)
    .bind(limit)
    .fetch_all(db.pool())
    .await?;
    rows.iter().map(request_from_row).collect()
}

/// A tenant's closed, not yet anonymised requests closed before `before`
/// (served by `requests_state_closed`).
pub async fn closed_before(
    db: &Db,
    tenant_id: &str,
    before: i64,
    limit: i64,
) -> Result<Vec<DatedRequest>> {
    let rows = sqlx::query(
        "SELECT id, tenant_id, citizen_id, number, procedure_code, updated_at, closed_at FROM requests \
         WHERE tenant_id = $1 AND state = 'closed' AND closed_at < $2 AND anonymised_at IS NULL \
         ORDER BY closed_at, id LIMIT $3",
    )
    .bind(tenant_id)
    .bind(before)
    .bind(limit)
    .fetch_all(db.pool())
    .await?;
    rows.iter().map(request_from_row).collect()
}

/// Deletes a draft with everything attached to it, only if it is still the draft that was
/// announced (same last change); returns whether it was deleted.
pub async fn delete_draft(
    tx: &mut WriteTx,
    tenant_id: &str,
    request_id: &str,
    updated_at: i64,
) -> Result<bool> {
    let still = sqlx::query(
        "SELECT COUNT(*) AS n FROM requests WHERE tenant_id = $1 AND id = $2 AND state = 'draft' AND updated_at = $3",
    )
    .bind(tenant_id)
    .bind(request_id)
    .bind(updated_at)
    .fetch_one(tx.conn())
    .await?;
    if still.try_get::<i64, _>("n")? == 0 {
        return Ok(false);
    }
    for table in ["request_attachments", "request_notes", "request_history"] {
        sqlx::query(&format!(
            "DELETE FROM {table} WHERE tenant_id = $1 AND request_id = $2"
        ))
        .bind(tenant_id)
        .bind(request_id)
        .execute(tx.conn())
        .await?;
    }
    sqlx::query("DELETE FROM requests WHERE tenant_id = $1 AND id = $2")
        .bind(tenant_id)
        .bind(request_id)
        .execute(tx.conn())
        .await?;
    Ok(true)
}

/// An open request (submitted or in progress) to which a document is attached.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpenRequest {
    pub id: String,
    pub number: String,
    pub domain: String,
    pub lock_holder: Option<String>,
    pub lock_until: Option<i64>,
}

pub async fn open_requests_with_document(
    db: &Db,
    tenant_id: &str,
    document_id: &str,
) -> Result<Vec<OpenRequest>> {
    let rows = sqlx::query(
        "SELECT r.id, r.number, r.domain, r.lock_holder, r.lock_until FROM request_attachments a \
         JOIN requests r ON r.id = a.request_id WHERE a.tenant_id = $1 AND a.document_id = $2 \
         AND r.state IN ('submitted', 'in_progress', 'complement') ORDER BY r.id",
    )
    .bind(tenant_id)
    .bind(document_id)
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(OpenRequest {
                id: r.try_get("id")?,
                number: r.try_get("number")?,
                domain: r.try_get("domain")?,
                lock_holder: r.try_get("lock_holder")?,
                lock_until: r.try_get("lock_until")?,
            })
        })
        .collect()
}

/// Active agents and managers with at least the modify right on a domain.
pub async fn staff_with_modify_right(
    db: &Db,
    tenant_id: &str,
    domain: &str,
) -> Result<Vec<String>> {
    let rows = sqlx::query(
        "SELECT a.id FROM accounts a JOIN account_rights r ON r.account_id = a.id \
         WHERE a.tenant_id = $1 AND r.domain = $2 AND r.level IN ('modify', 'manage') \
         AND a.disabled = 0 AND a.role IN ('agent', 'manager') ORDER BY a.id",
    )
    .bind(tenant_id)
    .bind(domain)
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|r| r.try_get::<String, _>("id").map_err(Into::into))
        .collect()
}
