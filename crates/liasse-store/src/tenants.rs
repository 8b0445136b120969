//! Tenants (collectivités).

use liasse_domain::journal::{Actor, NewEntry};
use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::db::{Db, WriteTx};
use crate::error::{Result, StoreError};
use crate::journal;

#[derive(Clone, Debug, Serialize)]
pub struct Tenant {
    pub id: String,
    pub slug: String,
    pub name: String,
    pub settings: serde_json::Value,
    pub created_at: i64,
}

fn from_row(r: &AnyRow) -> Result<Tenant> {
    let settings: String = r.try_get("settings")?;
    Ok(Tenant {
        id: r.try_get("id")?,
        slug: r.try_get("slug")?,
        name: r.try_get("name")?,
        settings: serde_json::from_str(&settings)
            .map_err(|e| StoreError::Corrupt(format!("tenant settings: {e}")))?,
        created_at: r.try_get("created_at")?,
    })
}

/// Creates a tenant with its empty journal chain and a first entry recording the creation.
pub async fn create(db: &Db, id: &str, slug: &str, name: &str, now: i64) -> Result<Tenant> {
    let mut tx = db.begin_write().await?;
    let inserted = sqlx::query(
        "INSERT INTO tenants (id, slug, name, settings, created_at) VALUES ($1, $2, $3, '{}', $4)",
    )
    .bind(id)
    .bind(slug)
    .bind(name)
    .bind(now)
    .execute(tx.conn())
    .await;
    if let Err(e) = inserted {
        let e = StoreError::from(e);
        return Err(if e.is_unique_violation() {
            StoreError::Conflict(format!("tenant {slug} already exists"))
        } else {
            e
        });
    }
    journal::init_chain(&mut tx, id).await?;
    journal::append(
        &mut tx,
        id,
        now,
        &NewEntry::new(Actor::operator(), "tenant.create", "tenant", id)
            .basis("operator", "")
            .details(serde_json::json!({ "slug": slug })),
    )
    .await?;
    tx.commit().await?;
    by_slug(db, slug).await?.ok_or(StoreError::NotFound)
}

pub async fn by_slug(db: &Db, slug: &str) -> Result<Option<Tenant>> {
    let row =
        sqlx::query("SELECT id, slug, name, settings, created_at FROM tenants WHERE slug = $1")
            .bind(slug)
            .fetch_optional(db.pool())
            .await?;
    row.as_ref().map(from_row).transpose()
}

pub async fn by_id(db: &Db, id: &str) -> Result<Option<Tenant>> {
    let row = sqlx::query("SELECT id, slug, name, settings, created_at FROM tenants WHERE id = $1")
        .bind(id)
        .fetch_optional(db.pool())
        .await?;
    row.as_ref().map(from_row).transpose()
}

pub async fn list(db: &Db) -> Result<Vec<Tenant>> {
    let rows =
        sqlx::query("SELECT id, slug, name, settings, created_at FROM tenants ORDER BY slug")
            .fetch_all(db.pool())
            .await?;
    rows.iter().map(from_row).collect()
}

/// Replaces a tenant's settings object, recording who did it.
pub async fn set_settings(tx: &mut WriteTx, id: &str, settings: &serde_json::Value) -> Result<()> {
    sqlx::query("UPDATE tenants SET settings = $1 WHERE id = $2")
        .bind(settings.to_string())
        .bind(id)
        .execute(tx.conn())
        .await?;
    Ok(())
}
