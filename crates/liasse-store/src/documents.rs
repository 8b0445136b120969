//! Documents and their versions.

use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::db::{Db, WriteTx};
use crate::error::Result;

#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct DocumentRow {
    pub id: String,
    pub tenant_id: String,
    pub owner_id: String,
    pub subject_member_id: Option<String>,
    pub type_code: String,
    pub channel: String,
    pub origin: String,
    pub depositor_id: String,
    /// The id of the service (`services`) whose member deposited it, empty for none: the
    /// deposit basis compares it with the reader's service id.
    pub depositor_service: String,
    pub state: String,
    pub valid_until: Option<String>,
    pub review_reason: Option<String>,
    pub current_version: i64,
    pub created_at: i64,
    pub updated_at: i64,
    pub deleted_at: Option<i64>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VersionRow {
    pub id: String,
    pub tenant_id: String,
    pub document_id: String,
    pub version: i64,
    pub blob_key: String,
    pub size: i64,
    pub media_type: String,
    /// The keyed fingerprint of the plaintext (`hmac-sha256:...`, see
    /// `liasse_crypto::digest`), in the `sha256` column; a row left by an older release may
    /// still hold a plain SHA-256 until [`legacy_digests_page`]'s rows are converted.
    pub digest: String,
    /// `None` once destroyed.
    pub key_id: Option<String>,
    pub wrapped_key: Option<Vec<u8>>,
    pub sealed_meta: Option<Vec<u8>>,
    pub created_at: i64,
    pub created_by: String,
    pub destroyed_at: Option<i64>,
}

const DOC_COLUMNS: &str = "id, tenant_id, owner_id, subject_member_id, type_code, channel, origin, \
     depositor_id, depositor_service, state, valid_until, review_reason, current_version, created_at, updated_at, deleted_at";
const VERSION_COLUMNS: &str = "id, tenant_id, document_id, version, blob_key, size, media_type, sha256, \
     key_id, wrapped_key, sealed_meta, created_at, created_by, destroyed_at";

fn doc_from_row(r: &AnyRow) -> Result<DocumentRow> {
    Ok(DocumentRow {
        id: r.try_get("id")?,
        tenant_id: r.try_get("tenant_id")?,
        owner_id: r.try_get("owner_id")?,
        subject_member_id: r.try_get("subject_member_id")?,
        type_code: r.try_get("type_code")?,
        channel: r.try_get("channel")?,
        origin: r.try_get("origin")?,
        depositor_id: r.try_get("depositor_id")?,
        depositor_service: r.try_get("depositor_service")?,
        state: r.try_get("state")?,
        valid_until: r.try_get("valid_until")?,
        review_reason: r.try_get("review_reason")?,
        current_version: r.try_get("current_version")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
        deleted_at: r.try_get("deleted_at")?,
    })
}

fn version_from_row(r: &AnyRow) -> Result<VersionRow> {
    Ok(VersionRow {
        id: r.try_get("id")?,
        tenant_id: r.try_get("tenant_id")?,
        document_id: r.try_get("document_id")?,
        version: r.try_get("version")?,
        blob_key: r.try_get("blob_key")?,
        size: r.try_get("size")?,
        media_type: r.try_get("media_type")?,
        digest: r.try_get("sha256")?,
        key_id: r.try_get("key_id")?,
        wrapped_key: r.try_get("wrapped_key")?,
        sealed_meta: r.try_get("sealed_meta")?,
        created_at: r.try_get("created_at")?,
        created_by: r.try_get("created_by")?,
        destroyed_at: r.try_get("destroyed_at")?,
    })
}

pub async fn insert(tx: &mut WriteTx, d: &DocumentRow) -> Result<()> {
    insert_many(tx, &[d]).await
}

/// Rows per multi-row INSERT of [`insert_many`] and [`insert_versions_many`].
const ROWS_PER_INSERT: usize = 32;

/// `($1, ..., $cols), (...)` for `rows` rows.
fn values_list(rows: usize, cols: usize) -> String {
    let mut sql = String::new();
    for r in 0..rows {
        if r > 0 {
            sql.push_str(", ");
        }
        sql.push('(');
        for c in 1..=cols {
            if c > 1 {
                sql.push_str(", ");
            }
            sql.push_str(&format!("${}", r * cols + c));
        }
        sql.push(')');
    }
    sql
}

/// Inserts several documents with one statement per 32 rows (group commit of deposits).
pub async fn insert_many(tx: &mut WriteTx, docs: &[&DocumentRow]) -> Result<()> {
    for chunk in docs.chunks(ROWS_PER_INSERT) {
        let sql = format!(
            "INSERT INTO documents ({DOC_COLUMNS}) VALUES {}",
            values_list(chunk.len(), 16)
        );
        let mut q = sqlx::query(&sql);
        for d in chunk {
            q = q
                .bind(&d.id)
                .bind(&d.tenant_id)
                .bind(&d.owner_id)
                .bind(d.subject_member_id.as_deref())
                .bind(&d.type_code)
                .bind(&d.channel)
                .bind(&d.origin)
                .bind(&d.depositor_id)
                .bind(&d.depositor_service)
                .bind(&d.state)
                .bind(d.valid_until.as_deref())
                .bind(d.review_reason.as_deref())
                .bind(d.current_version)
                .bind(d.created_at)
                .bind(d.updated_at)
                .bind(d.deleted_at);
        }
        q.execute(tx.conn()).await?;
    }
    Ok(())
}

/// Inserts several versions with one statement per 32 rows (group commit of deposits).
pub async fn insert_versions_many(tx: &mut WriteTx, versions: &[&VersionRow]) -> Result<()> {
    for chunk in versions.chunks(ROWS_PER_INSERT) {
        let sql = format!(
            "INSERT INTO document_versions ({VERSION_COLUMNS}) VALUES {}",
            values_list(chunk.len(), 14)
        );
        let mut q = sqlx::query(&sql);
        for v in chunk {
            q = q
                .bind(&v.id)
                .bind(&v.tenant_id)
                .bind(&v.document_id)
                .bind(v.version)
                .bind(&v.blob_key)
                .bind(v.size)
                .bind(&v.media_type)
                .bind(&v.digest)
                .bind(v.key_id.as_deref())
                .bind(v.wrapped_key.clone())
                .bind(v.sealed_meta.clone())
                .bind(v.created_at)
                .bind(&v.created_by)
                .bind(v.destroyed_at);
        }
        q.execute(tx.conn()).await?;
    }
    Ok(())
}

/// Rewrites the mutable fields of a document (state, validity, current version, deletion).
pub async fn update(tx: &mut WriteTx, d: &DocumentRow) -> Result<()> {
    sqlx::query(
        "UPDATE documents SET subject_member_id = $1, type_code = $2, state = $3, valid_until = $4, \
         review_reason = $5, current_version = $6, updated_at = $7, deleted_at = $8 \
         WHERE tenant_id = $9 AND id = $10",
    )
    .bind(d.subject_member_id.as_deref())
    .bind(&d.type_code)
    .bind(&d.state)
    .bind(d.valid_until.as_deref())
    .bind(d.review_reason.as_deref())
    .bind(d.current_version)
    .bind(d.updated_at)
    .bind(d.deleted_at)
    .bind(&d.tenant_id)
    .bind(&d.id)
    .execute(tx.conn())
    .await?;
    Ok(())
}

pub async fn insert_version(tx: &mut WriteTx, v: &VersionRow) -> Result<()> {
    insert_versions_many(tx, &[v]).await
}

/// A document of a tenant, deleted or not.
pub async fn get(db: &Db, tenant_id: &str, id: &str) -> Result<Option<DocumentRow>> {
    let row = sqlx::query(&format!(
        "SELECT {DOC_COLUMNS} FROM documents WHERE tenant_id = $1 AND id = $2"
    ))
    .bind(tenant_id)
    .bind(id)
    .fetch_optional(db.pool())
    .await?;
    row.as_ref().map(doc_from_row).transpose()
}

/// The same, read inside a write transaction so that the change is based on the latest row.
pub async fn get_for_update(
    tx: &mut WriteTx,
    tenant_id: &str,
    id: &str,
) -> Result<Option<DocumentRow>> {
    let row = sqlx::query(&format!(
        "SELECT {DOC_COLUMNS} FROM documents WHERE tenant_id = $1 AND id = $2"
    ))
    .bind(tenant_id)
    .bind(id)
    .fetch_optional(tx.conn())
    .await?;
    row.as_ref().map(doc_from_row).transpose()
}

/// The live documents an account owns, newest first.
pub async fn list_owned(db: &Db, tenant_id: &str, owner_id: &str) -> Result<Vec<DocumentRow>> {
    let rows = sqlx::query(&format!(
        "SELECT {DOC_COLUMNS} FROM documents WHERE tenant_id = $1 AND owner_id = $2 \
         AND deleted_at IS NULL ORDER BY created_at DESC, id DESC"
    ))
    .bind(tenant_id)
    .bind(owner_id)
    .fetch_all(db.pool())
    .await?;
    rows.iter().map(doc_from_row).collect()
}

pub async fn versions(db: &Db, tenant_id: &str, document_id: &str) -> Result<Vec<VersionRow>> {
    let rows = sqlx::query(&format!(
        "SELECT {VERSION_COLUMNS} FROM document_versions WHERE tenant_id = $1 AND document_id = $2 ORDER BY version"
    ))
    .bind(tenant_id)
    .bind(document_id)
    .fetch_all(db.pool())
    .await?;
    rows.iter().map(version_from_row).collect()
}

pub async fn version(
    db: &Db,
    tenant_id: &str,
    document_id: &str,
    version: i64,
) -> Result<Option<VersionRow>> {
    let row = sqlx::query(&format!(
        "SELECT {VERSION_COLUMNS} FROM document_versions WHERE tenant_id = $1 AND document_id = $2 AND version = $3"
    ))
    .bind(tenant_id)
    .bind(document_id)
    .bind(version)
    .fetch_optional(db.pool())
    .await?;
    row.as_ref().map(version_from_row).transpose()
}

/// A page of every version row of the instance, in id order after `after_id` (for verify).
pub async fn all_versions_page(db: &Db, after_id: &str, limit: i64) -> Result<Vec<VersionRow>> {
    let rows = sqlx::query(&format!(
        "SELECT {VERSION_COLUMNS} FROM document_versions WHERE id > $1 ORDER BY id LIMIT $2"
    ))
    .bind(after_id)
    .bind(limit)
    .fetch_all(db.pool())
    .await?;
    rows.iter().map(version_from_row).collect()
}

/// The greatest version id of the instance: where a verify that runs beside a server stops,
/// instead of chasing the versions uploaded while it reads.
pub async fn max_version_id(db: &Db) -> Result<Option<String>> {
    let r = sqlx::query("SELECT MAX(id) AS m FROM document_versions")
        .fetch_one(db.pool())
        .await?;
    Ok(r.try_get::<Option<String>, _>("m")?)
}

pub async fn count_versions(db: &Db) -> Result<i64> {
    let r = sqlx::query("SELECT COUNT(*) AS n FROM document_versions")
        .fetch_one(db.pool())
        .await?;
    Ok(r.try_get("n")?)
}

/// Live versions whose key is wrapped by a key other than `current_key_id` (for rotation).
pub async fn versions_not_wrapped_with(
    db: &Db,
    current_key_id: &str,
    limit: i64,
) -> Result<Vec<VersionRow>> {
    let rows = sqlx::query(&format!(
        "SELECT {VERSION_COLUMNS} FROM document_versions \
         WHERE key_id IS NOT NULL AND key_id <> $1 ORDER BY id LIMIT $2"
    ))
    .bind(current_key_id)
    .bind(limit)
    .fetch_all(db.pool())
    .await?;
    rows.iter().map(version_from_row).collect()
}

pub async fn count_not_wrapped_with(db: &Db, current_key_id: &str) -> Result<i64> {
    let r = sqlx::query(
        "SELECT COUNT(*) AS n FROM document_versions WHERE key_id IS NOT NULL AND key_id <> $1",
    )
    .bind(current_key_id)
    .fetch_one(db.pool())
    .await?;
    Ok(r.try_get("n")?)
}

/// Replaces a version's wrapped key, only if it is still the one that was read (so a rotation
/// never overwrites a concurrent destruction).
pub async fn set_wrapped_key(
    tx: &mut WriteTx,
    version_id: &str,
    old_key_id: &str,
    key_id: &str,
    wrapped: &[u8],
) -> Result<bool> {
    let r = sqlx::query(
        "UPDATE document_versions SET key_id = $1, wrapped_key = $2 WHERE id = $3 AND key_id = $4",
    )
    .bind(key_id)
    .bind(wrapped.to_vec())
    .bind(version_id)
    .bind(old_key_id)
    .execute(tx.conn())
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Versions whose `sha256` column still holds a plain SHA-256 (no `hmac-sha256:` prefix),
/// after `after_id` in id order, so that a row that cannot be converted is passed over. The
/// condition is the partial index `document_versions_plain_digest`'s, term for term: with no
/// plain value left, this reads an empty index rather than every version.
pub async fn legacy_digests_page(db: &Db, after_id: &str, limit: i64) -> Result<Vec<VersionRow>> {
    let rows = sqlx::query(&format!(
        "SELECT {VERSION_COLUMNS} FROM document_versions \
         WHERE id > $1 AND substr(sha256, 1, 12) <> 'hmac-sha256:' AND sha256 <> '' \
         ORDER BY id LIMIT $2"
    ))
    .bind(after_id)
    .bind(limit)
    .fetch_all(db.pool())
    .await?;
    rows.iter().map(version_from_row).collect()
}

/// Replaces a version's stored fingerprint if it is still `old`; returns whether it did.
pub async fn set_digest(tx: &mut WriteTx, version_id: &str, old: &str, new: &str) -> Result<bool> {
    let r = sqlx::query("UPDATE document_versions SET sha256 = $1 WHERE id = $2 AND sha256 = $3")
        .bind(new)
        .bind(version_id)
        .bind(old)
        .execute(tx.conn())
        .await?;
    Ok(r.rows_affected() == 1)
}

/// Destroys a version's key material and metadata: the content becomes unrecoverable even
/// from a backup of the blob store.
pub async fn destroy_versions(
    tx: &mut WriteTx,
    tenant_id: &str,
    document_id: &str,
    now: i64,
) -> Result<Vec<String>> {
    let rows = sqlx::query(
        "UPDATE document_versions SET key_id = NULL, wrapped_key = NULL, sealed_meta = NULL, destroyed_at = $1 \
         WHERE tenant_id = $2 AND document_id = $3 AND destroyed_at IS NULL RETURNING blob_key",
    )
    .bind(now)
    .bind(tenant_id)
    .bind(document_id)
    .fetch_all(tx.conn())
    .await?;
    rows.iter()
        .map(|r| r.try_get::<String, _>("blob_key").map_err(Into::into))
        .collect()
}

/// Whether a blob key belongs to a live (not destroyed) version.
pub async fn blob_referenced(db: &Db, blob_key: &str) -> Result<bool> {
    let r = sqlx::query(
        "SELECT COUNT(*) AS n FROM document_versions WHERE blob_key = $1 AND destroyed_at IS NULL",
    )
    .bind(blob_key)
    .fetch_one(db.pool())
    .await?;
    Ok(r.try_get::<i64, _>("n")? > 0)
}

/// The current version of each live document an account owns.
pub async fn current_versions_owned(
    db: &Db,
    tenant_id: &str,
    owner_id: &str,
) -> Result<Vec<VersionRow>> {
    let cols = VERSION_COLUMNS
        .split(", ")
        .map(|c| format!("v.{c}"))
        .collect::<Vec<_>>()
        .join(", ");
    let rows = sqlx::query(&format!(
        "SELECT {cols} FROM document_versions v JOIN documents d ON d.id = v.document_id \
         AND d.current_version = v.version WHERE d.tenant_id = $1 AND d.owner_id = $2 AND d.deleted_at IS NULL"
    ))
    .bind(tenant_id)
    .bind(owner_id)
    .fetch_all(db.pool())
    .await?;
    rows.iter().map(version_from_row).collect()
}

/// What a count of a vault keeps (each `None` keeps all).
#[derive(Clone, Debug, Default)]
pub struct VaultFilter<'a> {
    pub type_code: Option<&'a str>,
    /// `Some(None)`: documents about the owner themself; `Some(Some(id))`: about a member.
    pub subject: Option<Option<&'a str>>,
    /// Valid on that day (`YYYY-MM-DD`), rejected ones excluded.
    pub valid_on: Option<&'a str>,
    /// The stored state, or `expired` for those past their validity on `today`.
    pub state: Option<&'a str>,
    pub today: &'a str,
}

/// How many documents of a vault match the filter, as the listing would show them.
pub async fn count_owned(
    db: &Db,
    tenant_id: &str,
    owner_id: &str,
    f: &VaultFilter<'_>,
) -> Result<i64> {
    let row = sqlx::query(
        "SELECT COUNT(*) AS n FROM documents d JOIN document_versions v ON v.document_id = d.id \
         AND v.version = d.current_version \
         WHERE d.tenant_id = $1 AND d.owner_id = $2 AND d.deleted_at IS NULL \
         AND ($3 IS NULL OR d.type_code = $3) \
         AND ($4 = 0 OR ($5 IS NULL AND d.subject_member_id IS NULL) OR d.subject_member_id = $5) \
         AND ($6 IS NULL OR ((d.valid_until IS NULL OR d.valid_until >= $6) AND d.state <> 'rejected')) \
         AND ($7 IS NULL OR d.state = $7 OR ($7 = 'expired' AND d.valid_until < $8 AND d.state <> 'rejected'))",
    )
    .bind(tenant_id)
    .bind(owner_id)
    .bind(f.type_code)
    .bind(i64::from(f.subject.is_some()))
    .bind(f.subject.flatten())
    .bind(f.valid_on)
    .bind(f.state)
    .bind(f.today)
    .fetch_one(db.pool())
    .await?;
    Ok(row.try_get("n")?)
}

/// Row counts of the document tables (tests compare them before and after a refusal).
pub async fn counts(db: &Db) -> Result<(i64, i64)> {
    let d = sqlx::query("SELECT COUNT(*) AS n FROM documents")
        .fetch_one(db.pool())
        .await?;
    let v = sqlx::query("SELECT COUNT(*) AS n FROM document_versions")
        .fetch_one(db.pool())
        .await?;
    Ok((d.try_get("n")?, v.try_get("n")?))
}
