//! The pseudonymous ids service clients know citizens by (`pairwise_ids`), recorded when they
//! are first handed out so that an id a client sends back resolves to its citizen, for that
//! client only; and which of a set of ids are citizens' or household members' (what an answer
//! to a service client must not carry as they are).

use sqlx::Row;

use crate::db::{Db, WriteTx};
use crate::error::Result;

/// At most this many ids per `IN (...)` list: far below both backends' bind limits.
const BATCH: usize = 500;

/// `$first, $first+1, ...` for `n` values.
fn placeholders(first: usize, n: usize) -> String {
    (first..first + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The citizen that `client_id` knows as `pairwise_id`, if it was handed out to that client.
pub async fn citizen_of(
    db: &Db,
    tenant_id: &str,
    client_id: &str,
    pairwise_id: &str,
) -> Result<Option<String>> {
    let row = sqlx::query(
        "SELECT citizen_id FROM pairwise_ids \
         WHERE tenant_id = $1 AND client_id = $2 AND pairwise_id = $3",
    )
    .bind(tenant_id)
    .bind(client_id)
    .bind(pairwise_id)
    .fetch_optional(db.pool())
    .await?;
    row.map(|r| r.try_get("citizen_id").map_err(Into::into))
        .transpose()
}

/// Of these citizens, those whose id was already handed out to `client_id`, as
/// `(citizen_id, pairwise_id)`.
pub async fn recorded(
    db: &Db,
    tenant_id: &str,
    client_id: &str,
    citizen_ids: &[String],
) -> Result<Vec<(String, String)>> {
    let mut out = Vec::new();
    for chunk in citizen_ids.chunks(BATCH) {
        let sql = format!(
            "SELECT citizen_id, pairwise_id FROM pairwise_ids \
             WHERE tenant_id = $1 AND client_id = $2 AND citizen_id IN ({})",
            placeholders(3, chunk.len())
        );
        let mut q = sqlx::query(&sql).bind(tenant_id).bind(client_id);
        for id in chunk {
            q = q.bind(id);
        }
        for r in q.fetch_all(db.pool()).await? {
            out.push((r.try_get("citizen_id")?, r.try_get("pairwise_id")?));
        }
    }
    Ok(out)
}

/// Records that `client_id` knows `citizen_id` as `pairwise_id`; a row already there (two
/// first hand-outs at once) is left as it is, the id being the same.
pub async fn record(
    tx: &mut WriteTx,
    tenant_id: &str,
    client_id: &str,
    citizen_id: &str,
    pairwise_id: &str,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO pairwise_ids (tenant_id, client_id, pairwise_id, citizen_id, created_at) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
    )
    .bind(tenant_id)
    .bind(client_id)
    .bind(pairwise_id)
    .bind(citizen_id)
    .bind(now)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Which of `ids` name an account of the tenant (with its role, for the policy to say whether
/// it is a citizen's) or a household member: `(accounts, members)`.
pub async fn people_among(
    db: &Db,
    tenant_id: &str,
    ids: &[String],
) -> Result<(Vec<(String, String)>, Vec<String>)> {
    let mut accounts = Vec::new();
    let mut members = Vec::new();
    for chunk in ids.chunks(BATCH) {
        let list = placeholders(2, chunk.len());
        let sql = format!("SELECT id, role FROM accounts WHERE tenant_id = $1 AND id IN ({list})");
        let mut q = sqlx::query(&sql).bind(tenant_id);
        for id in chunk {
            q = q.bind(id);
        }
        for r in q.fetch_all(db.pool()).await? {
            accounts.push((r.try_get("id")?, r.try_get("role")?));
        }
        // Removed members too: a document stays about the person it was about.
        let sql =
            format!("SELECT id FROM household_members WHERE tenant_id = $1 AND id IN ({list})");
        let mut q = sqlx::query(&sql).bind(tenant_id);
        for id in chunk {
            q = q.bind(id);
        }
        for r in q.fetch_all(db.pool()).await? {
            members.push(r.try_get("id")?);
        }
    }
    Ok((accounts, members))
}
