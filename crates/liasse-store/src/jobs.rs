//! The job queue: work the scheduler plans (reminders, disposals, digests), claimed by one
//! node at a time under a lease; (kind, key) makes a job idempotent.

use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::{FromRow, Row};

use crate::db::{Db, WriteTx};
use crate::error::Result;
use crate::lease::{Claim, Param, Queue};

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

const JOBS: Queue = Queue {
    table: "jobs",
    columns: "id, tenant_id, kind, idem_key, payload, run_at, state, attempts, lease_until, last_error, created_at, done_at",
    claimed: "running",
};

impl FromRow<'_, AnyRow> for JobRow {
    fn from_row(r: &AnyRow) -> sqlx::Result<Self> {
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
/// `now + lease_ms` (see [`Queue::claim`]).
pub async fn claim(
    db: &Db,
    now: i64,
    lease_ms: i64,
    owner: &str,
    limit: i64,
    kind: &str,
) -> Result<Vec<JobRow>> {
    let claim = Claim {
        now,
        lease_ms,
        owner,
        limit,
    };
    JOBS.claim(
        db,
        &claim,
        "($4 = '' OR kind = $4)",
        &[Param::Text(kind)],
        |j: &JobRow| (j.run_at, &j.id),
    )
    .await
}

/// Marks a claimed job done inside the transaction that did its work, if `owner` still holds
/// it; `false` means the lease was lost and the caller must roll back.
pub async fn complete(tx: &mut WriteTx, id: &str, owner: &str, now: i64) -> Result<bool> {
    JOBS.finish(tx.conn(), "done", "done_at", id, owner, now)
        .await
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
    JOBS.fail(db, id, owner, error, retry_at).await
}

pub async fn get(db: &Db, kind: &str, key: &str) -> Result<Option<JobRow>> {
    let columns = JOBS.columns;
    Ok(sqlx::query_as(&format!(
        "SELECT {columns} FROM jobs WHERE kind = $1 AND idem_key = $2"
    ))
    .bind(kind)
    .bind(key)
    .fetch_optional(db.pool())
    .await?)
}

/// Jobs of a tenant in a state, oldest first (failed jobs are kept visible for operators).
pub async fn by_state(db: &Db, tenant_id: &str, state: &str, limit: i64) -> Result<Vec<JobRow>> {
    JOBS.by_state(db, tenant_id, state, "run_at", limit).await
}

/// How many jobs are in each state, over the instance.
pub async fn counts(db: &Db) -> Result<Vec<(String, i64)>> {
    JOBS.counts(db).await
}
