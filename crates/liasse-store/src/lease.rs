//! Leased work queues: the job queue and the outbox are both tables of rows that a node claims
//! for a while (a lease), finishes, or gives back for a retry. The statements are written once
//! here; each queue names its table, its columns and the state a claimed row is in.

use sqlx::any::AnyRow;
use sqlx::{AnyConnection, FromRow};

use crate::db::{Backend, Db};
use crate::error::Result;

/// One leased queue: a table whose rows go `pending` -> `claimed` -> a final state.
pub(crate) struct Queue {
    pub table: &'static str,
    /// The columns a claim returns, in the order the row type reads them.
    pub columns: &'static str,
    /// The state of a row while a node holds its lease (`running`, `sending`).
    pub claimed: &'static str,
}

/// Who claims, until when, and how many rows at most.
pub(crate) struct Claim<'a> {
    pub now: i64,
    pub lease_ms: i64,
    pub owner: &'a str,
    pub limit: i64,
}

/// A parameter of a queue's own filter.
pub(crate) enum Param<'a> {
    Text(&'a str),
    Int(i64),
}

impl Queue {
    /// A tenant's rows in a state (failed work is kept visible for operators), oldest first by
    /// `time` (a column), at most `limit`.
    pub async fn by_state<T>(
        &self,
        db: &Db,
        tenant_id: &str,
        state: &str,
        time: &str,
        limit: i64,
    ) -> Result<Vec<T>>
    where
        T: for<'r> FromRow<'r, AnyRow> + Send + Unpin,
    {
        let Queue { table, columns, .. } = self;
        Ok(sqlx::query_as(&format!(
            "SELECT {columns} FROM {table} WHERE tenant_id = $1 AND state = $2 \
             ORDER BY {time}, id LIMIT $3"
        ))
        .bind(tenant_id)
        .bind(state)
        .bind(limit)
        .fetch_all(db.pool())
        .await?)
    }

    /// Claims due rows for `c.owner` until `c.now + c.lease_ms`: pending rows whose time has
    /// come, and claimed rows whose lease expired (their node died). Each claim counts as an
    /// attempt. `filter` narrows the rows further with `params`, numbered from `$4` on; the batch comes back in (run_at, id) order.
    ///
    /// PostgreSQL skips rows another node is claiming (`FOR UPDATE SKIP LOCKED`), so two nodes
    /// get disjoint batches without waiting; SQLite has one writer at a time, which serialises
    /// the same statement.
    pub async fn claim<T>(
        &self,
        db: &Db,
        c: &Claim<'_>,
        filter: &str,
        params: &[Param<'_>],
        order: impl Fn(&T) -> (i64, &str),
    ) -> Result<Vec<T>>
    where
        T: for<'r> FromRow<'r, AnyRow> + Send + Unpin,
    {
        let Queue {
            table,
            columns,
            claimed,
        } = self;
        let lock = match db.backend() {
            Backend::Postgres => " FOR UPDATE SKIP LOCKED",
            Backend::Sqlite => "",
        };
        let limit = 4 + params.len();
        let sql = format!(
            "UPDATE {table} SET state = '{claimed}', lease_until = $1, lease_owner = $2, attempts = attempts + 1 \
             WHERE id IN (SELECT id FROM {table} WHERE state IN ('pending', '{claimed}') AND run_at <= $3 \
             AND (state = 'pending' OR lease_until < $3) AND {filter} \
             ORDER BY run_at, id LIMIT ${limit}{lock}) RETURNING {columns}"
        );
        let mut tx = db.begin_write().await?;
        let mut query = sqlx::query_as::<_, T>(&sql)
            .bind(c.now + c.lease_ms)
            .bind(c.owner)
            .bind(c.now);
        for param in params {
            query = match *param {
                Param::Text(text) => query.bind(text),
                Param::Int(n) => query.bind(n),
            };
        }
        let mut rows = query.bind(c.limit).fetch_all(tx.conn()).await?;
        tx.commit().await?;
        rows.sort_by(|a, b| order(a).cmp(&order(b)));
        Ok(rows)
    }

    /// Moves a claimed row to its final `state`, stamping `stamp` (a column) with `now`, if
    /// `owner` still holds it; `false` means the lease was lost meanwhile.
    pub async fn finish(
        &self,
        conn: &mut AnyConnection,
        state: &str,
        stamp: &str,
        id: &str,
        owner: &str,
        now: i64,
    ) -> Result<bool> {
        let Queue { table, claimed, .. } = self;
        let r = sqlx::query(&format!(
            "UPDATE {table} SET state = '{state}', {stamp} = $1, lease_until = NULL, last_error = NULL \
             WHERE id = $2 AND lease_owner = $3 AND state = '{claimed}'"
        ))
        .bind(now)
        .bind(id)
        .bind(owner)
        .execute(conn)
        .await?;
        Ok(r.rows_affected() == 1)
    }

    /// Records a failed attempt: back to `pending` at `retry_at`, or `failed` for good when
    /// `retry_at` is `None`.
    pub async fn fail(
        &self,
        db: &Db,
        id: &str,
        owner: &str,
        error: &str,
        retry_at: Option<i64>,
    ) -> Result<()> {
        let Queue { table, claimed, .. } = self;
        let mut tx = db.begin_write().await?;
        sqlx::query(&format!(
            "UPDATE {table} SET state = $1, run_at = COALESCE($2, run_at), last_error = $3, lease_until = NULL \
             WHERE id = $4 AND lease_owner = $5 AND state = '{claimed}'"
        ))
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

    /// How many rows are in each state, over the instance.
    pub async fn counts(&self, db: &Db) -> Result<Vec<(String, i64)>> {
        let table = self.table;
        Ok(sqlx::query_as(&format!(
            "SELECT state, COUNT(*) AS n FROM {table} GROUP BY state ORDER BY state"
        ))
        .fetch_all(db.pool())
        .await?)
    }
}
