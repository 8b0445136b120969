//! What the life cycle's scheduler reads and keeps: documents by validity date and by change,
//! idle drafts and closed requests, each served by an index on a date so that a sweep reads
//! what is due, not the whole vault; documents a citizen keeps beyond retention; and the
//! cursors of the date scans.

use sqlx::any::AnyRow;
use sqlx::{Any, Executor, FromRow, Row};

use crate::db::{Db, WriteTx};
use crate::error::Result;

// ------------------------------------------------------------------------- dated documents

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

impl FromRow<'_, AnyRow> for DatedDoc {
    fn from_row(r: &AnyRow) -> sqlx::Result<Self> {
        Ok(DatedDoc {
            id: r.try_get("id")?,
            tenant_id: r.try_get("tenant_id")?,
            owner_id: r.try_get("owner_id")?,
            type_code: r.try_get("type_code")?,
            valid_until: r.try_get("valid_until")?,
            updated_at: r.try_get("updated_at")?,
        })
    }
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
    Ok(sqlx::query_as(
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
    .await?)
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
    Ok(sqlx::query_as(
        "SELECT id, tenant_id, owner_id, type_code, valid_until, updated_at FROM documents \
         WHERE updated_at >= $1 AND deleted_at IS NULL AND valid_until IS NOT NULL \
         AND (updated_at > $2 OR (updated_at = $2 AND id > $3)) ORDER BY updated_at, id LIMIT $4",
    )
    .bind(since)
    .bind(after_at)
    .bind(after_id)
    .bind(limit)
    .fetch_all(db.pool())
    .await?)
}

// -------------------------------------------------------------------------- dated requests

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

impl FromRow<'_, AnyRow> for DatedRequest {
    fn from_row(r: &AnyRow) -> sqlx::Result<Self> {
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
}

/// A tenant's drafts untouched since before `before` (served by `requests_state_updated`).
pub async fn drafts_idle_before(
    db: &Db,
    tenant_id: &str,
    before: i64,
    limit: i64,
) -> Result<Vec<DatedRequest>> {
    Ok(sqlx::query_as(
        "SELECT id, tenant_id, citizen_id, number, procedure_code, updated_at, closed_at FROM requests \
         WHERE tenant_id = $1 AND state = 'draft' AND updated_at < $2 ORDER BY updated_at, id LIMIT $3",
    )
    .bind(tenant_id)
    .bind(before)
    .bind(limit)
    .fetch_all(db.pool())
    .await?)
}

/// A tenant's closed, not yet anonymised requests closed before `before`
/// (served by `requests_state_closed`).
pub async fn closed_before(
    db: &Db,
    tenant_id: &str,
    before: i64,
    limit: i64,
) -> Result<Vec<DatedRequest>> {
    Ok(sqlx::query_as(
        "SELECT id, tenant_id, citizen_id, number, procedure_code, updated_at, closed_at FROM requests \
         WHERE tenant_id = $1 AND state = 'closed' AND closed_at < $2 AND anonymised_at IS NULL \
         ORDER BY closed_at, id LIMIT $3",
    )
    .bind(tenant_id)
    .bind(before)
    .bind(limit)
    .fetch_all(db.pool())
    .await?)
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
    Ok(
        sqlx::query_as("SELECT day, at FROM lifecycle_cursors WHERE name = $1")
            .bind(name)
            .fetch_optional(db.pool())
            .await?,
    )
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
