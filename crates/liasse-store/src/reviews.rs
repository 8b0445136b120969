//! The review history of documents.

use serde::Serialize;
use sqlx::Row;

use crate::db::{Db, WriteTx};
use crate::error::Result;

#[derive(Clone, Debug, Serialize)]
pub struct ReviewRow {
    pub id: String,
    #[serde(skip)]
    pub tenant_id: String,
    pub document_id: String,
    pub version: i64,
    pub decision: String,
    pub reason: Option<String>,
    pub valid_until: Option<String>,
    pub reviewer_id: String,
    pub basis_kind: String,
    pub basis_id: String,
    pub at: i64,
}

pub async fn insert(tx: &mut WriteTx, r: &ReviewRow) -> Result<()> {
    sqlx::query(
        "INSERT INTO document_reviews (id, tenant_id, document_id, version, decision, reason, valid_until, reviewer_id, basis_kind, basis_id, at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(&r.id)
    .bind(&r.tenant_id)
    .bind(&r.document_id)
    .bind(r.version)
    .bind(&r.decision)
    .bind(r.reason.as_deref())
    .bind(r.valid_until.as_deref())
    .bind(&r.reviewer_id)
    .bind(&r.basis_kind)
    .bind(&r.basis_id)
    .bind(r.at)
    .execute(tx.conn())
    .await?;
    Ok(())
}

pub async fn for_document(db: &Db, tenant_id: &str, document_id: &str) -> Result<Vec<ReviewRow>> {
    let rows = sqlx::query(
        "SELECT id, tenant_id, document_id, version, decision, reason, valid_until, reviewer_id, basis_kind, basis_id, at \
         FROM document_reviews WHERE tenant_id = $1 AND document_id = $2 ORDER BY at, id",
    )
    .bind(tenant_id)
    .bind(document_id)
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(ReviewRow {
                id: r.try_get("id")?,
                tenant_id: r.try_get("tenant_id")?,
                document_id: r.try_get("document_id")?,
                version: r.try_get("version")?,
                decision: r.try_get("decision")?,
                reason: r.try_get("reason")?,
                valid_until: r.try_get("valid_until")?,
                reviewer_id: r.try_get("reviewer_id")?,
                basis_kind: r.try_get("basis_kind")?,
                basis_id: r.try_get("basis_id")?,
                at: r.try_get("at")?,
            })
        })
        .collect()
}
