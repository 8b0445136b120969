//! The journal table: append inside the caller's transaction, read a citizen's entries, walk a
//! tenant's chain.

use futures::TryStreamExt;
use liasse_domain::journal::{Actor, Entry, NewEntry, canonical_bytes, chain_hash};
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::db::{Db, WriteTx};
use crate::error::{Result, StoreError};

/// Appends one entry to its tenant's chain, inside the caller's transaction, so the entry
/// exists exactly when the change it records does.
pub async fn append(tx: &mut WriteTx, tenant_id: &str, at: i64, e: &NewEntry) -> Result<Entry> {
    // Bumping the head first takes its lock before anything is read, so two concurrent
    // appends cannot both extend the same previous entry.
    let head = sqlx::query(
        "UPDATE journal_heads SET seq = seq + 1 WHERE tenant_id = $1 RETURNING seq, hash",
    )
    .bind(tenant_id)
    .fetch_optional(tx.conn())
    .await?
    .ok_or_else(|| StoreError::Corrupt(format!("tenant {tenant_id} has no journal head")))?;
    let seq: i64 = head.try_get("seq")?;
    let prev_hash: String = head.try_get("hash")?;
    let hash = chain_hash(&prev_hash, &canonical_bytes(tenant_id, seq, at, e));
    sqlx::query(
        "INSERT INTO journal (tenant_id, seq, at, actor_kind, actor_id, actor_label, actor_service, \
         action, object_kind, object_id, citizen_id, basis_kind, basis_id, details, prev_hash, hash) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
    )
    .bind(tenant_id)
    .bind(seq)
    .bind(at)
    .bind(&e.actor.kind)
    .bind(&e.actor.id)
    .bind(&e.actor.label)
    .bind(&e.actor.service)
    .bind(&e.action)
    .bind(&e.object_kind)
    .bind(&e.object_id)
    .bind(e.citizen_id.as_deref())
    .bind(&e.basis_kind)
    .bind(&e.basis_id)
    .bind(e.details.to_string())
    .bind(&prev_hash)
    .bind(&hash)
    .execute(tx.conn())
    .await?;
    sqlx::query("UPDATE journal_heads SET hash = $1 WHERE tenant_id = $2")
        .bind(&hash)
        .bind(tenant_id)
        .execute(tx.conn())
        .await?;
    Ok(Entry {
        tenant_id: tenant_id.to_string(),
        seq,
        at,
        entry: e.clone(),
        prev_hash,
        hash,
    })
}

/// Rows per multi-row INSERT of [`append_group`] (16 parameters each).
const INSERT_ROWS: usize = 32;

/// Appends several entries inside the caller's transaction, in the given order within each
/// tenant's chain, with three statements per tenant (head, rows, new head hash) whatever the
/// number of entries. Returns the entries in the order given.
///
/// Tenants' heads are taken in a fixed (sorted) order, so that two such transactions on
/// PostgreSQL cannot each hold the head the other waits for.
pub async fn append_group(
    tx: &mut WriteTx,
    items: &[(&str, i64, &NewEntry)],
) -> Result<Vec<Entry>> {
    let mut tenants: Vec<&str> = items.iter().map(|i| i.0).collect();
    tenants.sort_unstable();
    tenants.dedup();
    let mut out: Vec<Option<Entry>> = vec![None; items.len()];
    for tenant_id in tenants {
        let positions: Vec<usize> = (0..items.len())
            .filter(|&i| items[i].0 == tenant_id)
            .collect();
        let n = i64::try_from(positions.len())
            .map_err(|_| StoreError::Corrupt("too many journal entries at once".into()))?;
        // As in `append`: bumping the head first locks it before anything is read.
        let head = sqlx::query(
            "UPDATE journal_heads SET seq = seq + $2 WHERE tenant_id = $1 RETURNING seq, hash",
        )
        .bind(tenant_id)
        .bind(n)
        .fetch_optional(tx.conn())
        .await?
        .ok_or_else(|| StoreError::Corrupt(format!("tenant {tenant_id} has no journal head")))?;
        let last: i64 = head.try_get("seq")?;
        let mut prev_hash: String = head.try_get("hash")?;
        let mut seq = last - n;
        let mut entries = Vec::with_capacity(positions.len());
        for &i in &positions {
            let (_, at, e) = items[i];
            seq += 1;
            let hash = chain_hash(&prev_hash, &canonical_bytes(tenant_id, seq, at, e));
            entries.push(Entry {
                tenant_id: tenant_id.to_string(),
                seq,
                at,
                entry: e.clone(),
                prev_hash: std::mem::replace(&mut prev_hash, hash.clone()),
                hash,
            });
        }
        for chunk in entries.chunks(INSERT_ROWS) {
            insert_rows(tx, chunk).await?;
        }
        sqlx::query("UPDATE journal_heads SET hash = $1 WHERE tenant_id = $2")
            .bind(&prev_hash)
            .bind(tenant_id)
            .execute(tx.conn())
            .await?;
        for (&i, e) in positions.iter().zip(entries) {
            out[i] = Some(e);
        }
    }
    out.into_iter()
        .map(|e| e.ok_or_else(|| StoreError::Corrupt("journal entry not appended".into())))
        .collect()
}

async fn insert_rows(tx: &mut WriteTx, rows: &[Entry]) -> Result<()> {
    let mut sql = String::from(
        "INSERT INTO journal (tenant_id, seq, at, actor_kind, actor_id, actor_label, actor_service, \
         action, object_kind, object_id, citizen_id, basis_kind, basis_id, details, prev_hash, hash) VALUES ",
    );
    for r in 0..rows.len() {
        if r > 0 {
            sql.push_str(", ");
        }
        sql.push('(');
        for c in 1..=16 {
            if c > 1 {
                sql.push_str(", ");
            }
            sql.push_str(&format!("${}", r * 16 + c));
        }
        sql.push(')');
    }
    let mut q = sqlx::query(&sql);
    for r in rows {
        let e = &r.entry;
        q = q
            .bind(r.tenant_id.clone())
            .bind(r.seq)
            .bind(r.at)
            .bind(e.actor.kind.clone())
            .bind(e.actor.id.clone())
            .bind(e.actor.label.clone())
            .bind(e.actor.service.clone())
            .bind(e.action.clone())
            .bind(e.object_kind.clone())
            .bind(e.object_id.clone())
            .bind(e.citizen_id.clone())
            .bind(e.basis_kind.clone())
            .bind(e.basis_id.clone())
            .bind(e.details.to_string())
            .bind(r.prev_hash.clone())
            .bind(r.hash.clone());
    }
    q.execute(tx.conn()).await?;
    Ok(())
}

/// Creates the empty chain of a new tenant (called in the tenant's creation transaction).
pub async fn init_chain(tx: &mut WriteTx, tenant_id: &str) -> Result<()> {
    sqlx::query("INSERT INTO journal_heads (tenant_id, seq, hash) VALUES ($1, 0, $2)")
        .bind(tenant_id)
        .bind(liasse_domain::journal::GENESIS_HASH)
        .execute(tx.conn())
        .await?;
    Ok(())
}

const COLUMNS: &str = "tenant_id, seq, at, actor_kind, actor_id, actor_label, actor_service, action, \
     object_kind, object_id, citizen_id, basis_kind, basis_id, details, prev_hash, hash";

fn from_row(r: &AnyRow) -> Result<Entry> {
    let details: String = r.try_get("details")?;
    Ok(Entry {
        tenant_id: r.try_get("tenant_id")?,
        seq: r.try_get("seq")?,
        at: r.try_get("at")?,
        entry: NewEntry {
            actor: Actor {
                kind: r.try_get("actor_kind")?,
                id: r.try_get("actor_id")?,
                label: r.try_get("actor_label")?,
                service: r.try_get("actor_service")?,
            },
            action: r.try_get("action")?,
            object_kind: r.try_get("object_kind")?,
            object_id: r.try_get("object_id")?,
            citizen_id: r.try_get("citizen_id")?,
            basis_kind: r.try_get("basis_kind")?,
            basis_id: r.try_get("basis_id")?,
            // A details column that no longer parses is kept as a string so that the chain
            // check reports the hash mismatch instead of failing to read.
            details: serde_json::from_str(&details).unwrap_or(serde_json::Value::String(details)),
        },
        prev_hash: r.try_get("prev_hash")?,
        hash: r.try_get("hash")?,
    })
}

/// Everything that touched a citizen's account or documents, oldest first.
pub async fn for_citizen(db: &Db, tenant_id: &str, citizen_id: &str) -> Result<Vec<Entry>> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM journal WHERE tenant_id = $1 AND citizen_id = $2 ORDER BY seq"
    ))
    .bind(tenant_id)
    .bind(citizen_id)
    .fetch_all(db.pool())
    .await?;
    rows.iter().map(from_row).collect()
}

/// A page of one tenant's chain from sequence `after` (exclusive), in order.
pub async fn page(db: &Db, tenant_id: &str, after: i64, limit: i64) -> Result<Vec<Entry>> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM journal WHERE tenant_id = $1 AND seq > $2 ORDER BY seq LIMIT $3"
    ))
    .bind(tenant_id)
    .bind(after)
    .bind(limit)
    .fetch(db.pool())
    .try_collect::<Vec<_>>()
    .await?;
    rows.iter().map(from_row).collect()
}

/// The recorded head of a tenant's chain: last sequence and its hash.
pub async fn head(db: &Db, tenant_id: &str) -> Result<Option<(i64, String)>> {
    let row = sqlx::query("SELECT seq, hash FROM journal_heads WHERE tenant_id = $1")
        .bind(tenant_id)
        .fetch_optional(db.pool())
        .await?;
    match row {
        Some(r) => Ok(Some((r.try_get("seq")?, r.try_get("hash")?))),
        None => Ok(None),
    }
}

pub async fn count(db: &Db, tenant_id: &str) -> Result<i64> {
    let r = sqlx::query("SELECT COUNT(*) AS n FROM journal WHERE tenant_id = $1")
        .bind(tenant_id)
        .fetch_one(db.pool())
        .await?;
    Ok(r.try_get("n")?)
}

/// The latest entries about one object whose action starts with `action_prefix` (an
/// account's history without its logins), newest first.
pub async fn for_object(
    db: &Db,
    tenant_id: &str,
    object_kind: &str,
    object_id: &str,
    action_prefix: &str,
    limit: i64,
) -> Result<Vec<Entry>> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM journal WHERE tenant_id = $1 AND object_kind = $2 AND object_id = $3 \
         AND action LIKE $4 ORDER BY seq DESC LIMIT $5"
    ))
    .bind(tenant_id)
    .bind(object_kind)
    .bind(object_id)
    .bind(format!("{action_prefix}%"))
    .bind(limit)
    .fetch_all(db.pool())
    .await?;
    rows.iter().map(from_row).collect()
}
