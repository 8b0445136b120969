//! A consistent picture of the database for a backup: the snapshot itself (SQLite's
//! `VACUUM INTO`; on PostgreSQL, an exported snapshot that `pg_dump --snapshot` reads) and,
//! read from that same picture, the facts a backup's manifest records: each tenant's journal
//! head and counts, and the blobs of the live document versions.

use sqlx::AnyConnection;
use sqlx::{Connection, Row};

use crate::db::{Backend, Db};
use crate::error::{Result, StoreError};

/// What a snapshot says of one tenant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TenantFacts {
    pub id: String,
    pub slug: String,
    pub journal_seq: i64,
    pub journal_hash: String,
    /// Live (not deleted) documents and their live versions.
    pub documents: i64,
    pub versions: i64,
}

/// The blob of a live version, with its size as recorded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LiveBlob {
    pub key: String,
    pub size: i64,
}

/// The facts of the database that `conn` sees (one transaction, or a snapshot file).
pub async fn facts(conn: &mut AnyConnection) -> Result<(Vec<TenantFacts>, Vec<LiveBlob>)> {
    let rows = sqlx::query(
        "SELECT t.id, t.slug, COALESCE(h.seq, 0) AS seq, COALESCE(h.hash, '') AS hash, \
         (SELECT COUNT(*) FROM documents d WHERE d.tenant_id = t.id AND d.deleted_at IS NULL) AS docs, \
         (SELECT COUNT(*) FROM document_versions v WHERE v.tenant_id = t.id AND v.destroyed_at IS NULL) AS versions \
         FROM tenants t LEFT JOIN journal_heads h ON h.tenant_id = t.id ORDER BY t.id",
    )
    .fetch_all(&mut *conn)
    .await?;
    let mut tenants = Vec::with_capacity(rows.len());
    for r in &rows {
        tenants.push(TenantFacts {
            id: r.try_get("id")?,
            slug: r.try_get("slug")?,
            journal_seq: r.try_get("seq")?,
            journal_hash: r.try_get("hash")?,
            documents: r.try_get("docs")?,
            versions: r.try_get("versions")?,
        });
    }
    let rows = sqlx::query(
        "SELECT blob_key, size FROM document_versions WHERE destroyed_at IS NULL ORDER BY blob_key",
    )
    .fetch_all(&mut *conn)
    .await?;
    let mut blobs = Vec::with_capacity(rows.len());
    for r in &rows {
        blobs.push(LiveBlob {
            key: r.try_get("blob_key")?,
            size: r.try_get("size")?,
        });
    }
    Ok((tenants, blobs))
}

/// Writes a consistent copy of a SQLite database to `out` (which must not exist) while the
/// server keeps writing: `VACUUM INTO` reads one read transaction's view of the WAL database.
pub async fn sqlite_copy(db: &Db, out: &std::path::Path) -> Result<()> {
    if db.backend() != Backend::Sqlite {
        return Err(StoreError::Config("not a SQLite database".into()));
    }
    let path = out
        .to_str()
        .ok_or_else(|| StoreError::Config(format!("not a UTF-8 path: {}", out.display())))?;
    // A literal, not a parameter: the statement takes an expression, quoted here.
    let quoted = path.replace('\'', "''");
    sqlx::query(&format!("VACUUM INTO '{quoted}'"))
        .execute(db.pool())
        .await?;
    std::fs::File::open(out)?.sync_all()?;
    Ok(())
}

/// Opens a SQLite file read-only and unchanged (`immutable`: no journal, no lock, nothing
/// written next to it), to read a snapshot's facts.
pub async fn open_sqlite_file(path: &std::path::Path) -> Result<AnyConnection> {
    sqlx::any::install_default_drivers();
    let url = format!("sqlite://{}?mode=ro&immutable=true", path.display());
    Ok(AnyConnection::connect(&url).await?)
}

/// A PostgreSQL snapshot held open: a repeatable-read transaction whose snapshot is exported
/// for `pg_dump --snapshot`, so the dump and the facts read here are the same picture.
pub struct PgSnapshot {
    tx: sqlx::Transaction<'static, sqlx::Any>,
    pub id: String,
}

impl PgSnapshot {
    pub async fn begin(db: &Db) -> Result<Self> {
        if db.backend() != Backend::Postgres {
            return Err(StoreError::Config("not a PostgreSQL database".into()));
        }
        let mut tx = db
            .pool()
            .begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            .await?;
        let id: String = sqlx::query("SELECT pg_export_snapshot() AS id")
            .fetch_one(&mut *tx)
            .await?
            .try_get("id")?;
        Ok(PgSnapshot { tx, id })
    }

    pub fn conn(&mut self) -> &mut AnyConnection {
        &mut self.tx
    }

    /// Ends the transaction (after `pg_dump` has taken the snapshot).
    pub async fn end(self) -> Result<()> {
        self.tx.commit().await?;
        Ok(())
    }
}

/// Whether a database holds no table of ours (a restore's target must be empty).
pub async fn is_empty(db: &Db) -> Result<bool> {
    let sql = match db.backend() {
        Backend::Sqlite => {
            "SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        }
        Backend::Postgres => {
            "SELECT COUNT(*) AS n FROM information_schema.tables WHERE table_schema = current_schema()"
        }
    };
    let n: i64 = sqlx::query(sql).fetch_one(db.pool()).await?.try_get("n")?;
    Ok(n == 0)
}

/// The hash of a tenant's journal entry `seq`, if there is one (a restore drill checks the
/// manifest's head against the restored chain).
pub async fn journal_hash_at(db: &Db, tenant_id: &str, seq: i64) -> Result<Option<String>> {
    let row = sqlx::query("SELECT hash FROM journal WHERE tenant_id = $1 AND seq = $2")
        .bind(tenant_id)
        .bind(seq)
        .fetch_optional(db.pool())
        .await?;
    row.map(|r| r.try_get("hash"))
        .transpose()
        .map_err(Into::into)
}

/// How many live documents each citizen owns, by tenant (a restore tells each one).
pub async fn live_documents_by_owner(db: &Db) -> Result<Vec<(String, String, i64)>> {
    let rows = sqlx::query(
        "SELECT tenant_id, owner_id, COUNT(*) AS n FROM documents WHERE deleted_at IS NULL \
         GROUP BY tenant_id, owner_id ORDER BY tenant_id, owner_id",
    )
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|r| {
            Ok((
                r.try_get("tenant_id")?,
                r.try_get("owner_id")?,
                r.try_get("n")?,
            ))
        })
        .collect()
}
