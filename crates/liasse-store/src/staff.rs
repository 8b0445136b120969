//! Staff accounts as an admin manages them: the tenant's services (an account belongs to one
//! by id, which is what the deposit basis compares) and enrolment links (a staff member
//! chooses their own password through a single-use link; only its hash is stored).

use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::db::{Db, WriteTx};
use crate::error::{Result, StoreError};

#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct ServiceRow {
    pub id: String,
    pub tenant_id: String,
    pub name: String,
    pub created_at: i64,
}

fn service_from_row(r: &AnyRow) -> Result<ServiceRow> {
    Ok(ServiceRow {
        id: r.try_get("id")?,
        tenant_id: r.try_get("tenant_id")?,
        name: r.try_get("name")?,
        created_at: r.try_get("created_at")?,
    })
}

fn name_taken(e: sqlx::Error, name: &str) -> StoreError {
    let e = StoreError::from(e);
    if e.is_unique_violation() {
        StoreError::Conflict(format!("service {name} already exists"))
    } else {
        e
    }
}

/// The tenant's services, by name.
pub async fn services(db: &Db, tenant_id: &str) -> Result<Vec<ServiceRow>> {
    let rows = sqlx::query(
        "SELECT id, tenant_id, name, created_at FROM services WHERE tenant_id = $1 ORDER BY name",
    )
    .bind(tenant_id)
    .fetch_all(db.pool())
    .await?;
    rows.iter().map(service_from_row).collect()
}

pub async fn service(db: &Db, tenant_id: &str, id: &str) -> Result<Option<ServiceRow>> {
    let row = sqlx::query(
        "SELECT id, tenant_id, name, created_at FROM services WHERE tenant_id = $1 AND id = $2",
    )
    .bind(tenant_id)
    .bind(id)
    .fetch_optional(db.pool())
    .await?;
    row.as_ref().map(service_from_row).transpose()
}

pub async fn service_by_name(db: &Db, tenant_id: &str, name: &str) -> Result<Option<ServiceRow>> {
    let row = sqlx::query(
        "SELECT id, tenant_id, name, created_at FROM services WHERE tenant_id = $1 AND name = $2",
    )
    .bind(tenant_id)
    .bind(name)
    .fetch_optional(db.pool())
    .await?;
    row.as_ref().map(service_from_row).transpose()
}

/// Adds a service; a name already used in the tenant is a conflict.
pub async fn insert_service(tx: &mut WriteTx, s: &ServiceRow) -> Result<()> {
    sqlx::query("INSERT INTO services (id, tenant_id, name, created_at) VALUES ($1, $2, $3, $4)")
        .bind(&s.id)
        .bind(&s.tenant_id)
        .bind(&s.name)
        .bind(s.created_at)
        .execute(tx.conn())
        .await
        .map_err(|e| name_taken(e, &s.name))?;
    Ok(())
}

/// Renames a service, and the name its members' accounts carry as a label.
pub async fn rename_service(tx: &mut WriteTx, tenant_id: &str, id: &str, name: &str) -> Result<()> {
    sqlx::query("UPDATE services SET name = $1 WHERE tenant_id = $2 AND id = $3")
        .bind(name)
        .bind(tenant_id)
        .bind(id)
        .execute(tx.conn())
        .await
        .map_err(|e| name_taken(e, name))?;
    sqlx::query("UPDATE accounts SET service = $1 WHERE tenant_id = $2 AND service_id = $3")
        .bind(name)
        .bind(tenant_id)
        .bind(id)
        .execute(tx.conn())
        .await?;
    Ok(())
}

/// The service an account belongs to, if any.
pub async fn service_of(db: &Db, tenant_id: &str, account_id: &str) -> Result<Option<ServiceRow>> {
    let row = sqlx::query(
        "SELECT s.id, s.tenant_id, s.name, s.created_at FROM accounts a \
         JOIN services s ON s.id = a.service_id AND s.tenant_id = a.tenant_id \
         WHERE a.tenant_id = $1 AND a.id = $2",
    )
    .bind(tenant_id)
    .bind(account_id)
    .fetch_optional(db.pool())
    .await?;
    row.as_ref().map(service_from_row).transpose()
}

/// Puts an account in a service (or in none), keeping the service's name as its label.
pub async fn assign(
    tx: &mut WriteTx,
    tenant_id: &str,
    account_id: &str,
    service: Option<&ServiceRow>,
) -> Result<()> {
    sqlx::query(
        "UPDATE accounts SET service_id = $1, service = $2 WHERE tenant_id = $3 AND id = $4",
    )
    .bind(service.map(|s| s.id.as_str()))
    .bind(service.map(|s| s.name.as_str()).unwrap_or_default())
    .bind(tenant_id)
    .bind(account_id)
    .execute(tx.conn())
    .await?;
    Ok(())
}

pub async fn set_email(
    tx: &mut WriteTx,
    tenant_id: &str,
    account_id: &str,
    email: &str,
) -> Result<()> {
    sqlx::query("UPDATE accounts SET email = $1 WHERE tenant_id = $2 AND id = $3")
        .bind(email)
        .bind(tenant_id)
        .bind(account_id)
        .execute(tx.conn())
        .await?;
    Ok(())
}

/// Takes an account's password away, ends its sessions and revokes its API tokens: until it
/// enrols again, nobody can act as it, whoever knew the old password or held a token.
pub async fn clear_credentials(
    tx: &mut WriteTx,
    tenant_id: &str,
    account_id: &str,
    now: i64,
) -> Result<()> {
    sqlx::query("UPDATE accounts SET password_hash = NULL WHERE tenant_id = $1 AND id = $2")
        .bind(tenant_id)
        .bind(account_id)
        .execute(tx.conn())
        .await?;
    sqlx::query("DELETE FROM sessions WHERE tenant_id = $1 AND account_id = $2")
        .bind(tenant_id)
        .bind(account_id)
        .execute(tx.conn())
        .await?;
    sqlx::query(
        "UPDATE api_tokens SET revoked_at = $1 WHERE tenant_id = $2 AND account_id = $3 \
         AND revoked_at IS NULL",
    )
    .bind(now)
    .bind(tenant_id)
    .bind(account_id)
    .execute(tx.conn())
    .await?;
    Ok(())
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EnrolmentRow {
    pub id: String,
    pub tenant_id: String,
    pub account_id: String,
    pub secret_hash: String,
    /// The account id of whoever asked for the link (empty for the operator).
    pub created_by: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub used_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

const ENROLMENT_COLUMNS: &str = "id, tenant_id, account_id, secret_hash, created_by, created_at, expires_at, used_at, revoked_at";

fn enrolment_from_row(r: &AnyRow) -> Result<EnrolmentRow> {
    Ok(EnrolmentRow {
        id: r.try_get("id")?,
        tenant_id: r.try_get("tenant_id")?,
        account_id: r.try_get("account_id")?,
        secret_hash: r.try_get("secret_hash")?,
        created_by: r.try_get("created_by")?,
        created_at: r.try_get("created_at")?,
        expires_at: r.try_get("expires_at")?,
        used_at: r.try_get("used_at")?,
        revoked_at: r.try_get("revoked_at")?,
    })
}

/// Records a new link and revokes the account's earlier unused ones: only the last link sent
/// works.
pub async fn insert_enrolment(tx: &mut WriteTx, e: &EnrolmentRow) -> Result<()> {
    sqlx::query(
        "UPDATE enrolments SET revoked_at = $1 WHERE tenant_id = $2 AND account_id = $3 \
         AND used_at IS NULL AND revoked_at IS NULL",
    )
    .bind(e.created_at)
    .bind(&e.tenant_id)
    .bind(&e.account_id)
    .execute(tx.conn())
    .await?;
    sqlx::query(&format!(
        "INSERT INTO enrolments ({ENROLMENT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
    ))
    .bind(&e.id)
    .bind(&e.tenant_id)
    .bind(&e.account_id)
    .bind(&e.secret_hash)
    .bind(&e.created_by)
    .bind(e.created_at)
    .bind(e.expires_at)
    .bind(e.used_at)
    .bind(e.revoked_at)
    .execute(tx.conn())
    .await?;
    Ok(())
}

pub async fn enrolment_by_hash(db: &Db, secret_hash: &str) -> Result<Option<EnrolmentRow>> {
    let row = sqlx::query(&format!(
        "SELECT {ENROLMENT_COLUMNS} FROM enrolments WHERE secret_hash = $1"
    ))
    .bind(secret_hash)
    .fetch_optional(db.pool())
    .await?;
    row.as_ref().map(enrolment_from_row).transpose()
}

/// Uses a link once: false when it was used, revoked or expired meanwhile (two tabs, two
/// nodes), so exactly one use succeeds.
pub async fn use_enrolment(tx: &mut WriteTx, id: &str, now: i64) -> Result<bool> {
    let r = sqlx::query(
        "UPDATE enrolments SET used_at = $1 WHERE id = $2 AND used_at IS NULL \
         AND revoked_at IS NULL AND expires_at > $1",
    )
    .bind(now)
    .bind(id)
    .execute(tx.conn())
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Points a link that can still be used at a new secret's hash (its secret is derived again
/// at delivery, under the key ring's current key); false when the link is used, revoked or
/// expired, and nothing changes.
pub async fn refresh_enrolment_hash(
    tx: &mut WriteTx,
    id: &str,
    secret_hash: &str,
    now: i64,
) -> Result<bool> {
    let r = sqlx::query(
        "UPDATE enrolments SET secret_hash = $1 WHERE id = $2 AND used_at IS NULL \
         AND revoked_at IS NULL AND expires_at > $3",
    )
    .bind(secret_hash)
    .bind(id)
    .bind(now)
    .execute(tx.conn())
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Active agents and managers with at least the modify right on a domain.
pub async fn staff_with_modify_right(
    db: &Db,
    tenant_id: &str,
    domain: &str,
) -> Result<Vec<String>> {
    Ok(sqlx::query_scalar(
        "SELECT a.id FROM accounts a JOIN account_rights r ON r.account_id = a.id \
         WHERE a.tenant_id = $1 AND r.domain = $2 AND r.level IN ('modify', 'manage') \
         AND a.disabled = 0 AND a.role IN ('agent', 'manager') ORDER BY a.id",
    )
    .bind(tenant_id)
    .bind(domain)
    .fetch_all(db.pool())
    .await?)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use sqlx::{Executor, Row};

    use crate::db::Db;

    /// The migration turns the service names in use (on accounts and on deposits) into
    /// services, and points accounts and deposits at them by id.
    #[tokio::test]
    async fn service_names_in_use_become_services() {
        let db = Db::connect("sqlite::memory:", 1).await.unwrap();
        let pool = db.pool();
        for sql in [
            include_str!("../migrations/20261126000001_init.sql"),
            include_str!("../migrations/20261126000002_agents.sql"),
            include_str!("../migrations/20261126000003_requests.sql"),
            include_str!("../migrations/20261126000004_jobs.sql"),
        ] {
            pool.execute(sql).await.unwrap();
        }
        pool.execute(
            "INSERT INTO tenants (id, slug, name, created_at) VALUES ('t1', 'a', 'A', 1), ('t2', 'b', 'B', 1);
             INSERT INTO accounts (id, tenant_id, login, role, display_name, service, created_at) VALUES
               ('01-a', 't1', 'ccas1', 'agent', 'x', 'CCAS', 5),
               ('02-a', 't1', 'ccas2', 'agent', 'x', 'CCAS', 6),
               ('03-a', 't1', 'urba', 'manager', 'x', 'Urbanisme', 7),
               ('04-a', 't1', 'camille', 'citizen', 'x', '', 8),
               ('05-a', 't2', 'ccas', 'agent', 'x', 'CCAS', 9);
             INSERT INTO documents (id, tenant_id, owner_id, type_code, channel, origin, depositor_id,
               depositor_service, state, current_version, created_at, updated_at) VALUES
               ('00-d', 't1', '04-a', 'courrier', 'web', 'agent', '01-a', 'CCAS', 'validated', 1, 2, 2),
               ('06-d', 't1', '04-a', 'courrier', 'web', 'agent', 'gone', 'Ancien service', 'validated', 1, 3, 3),
               ('07-d', 't1', '04-a', 'rib', 'web', 'citizen', '04-a', '', 'submitted', 1, 4, 4);",
        )
        .await
        .unwrap();
        pool.execute(include_str!("../migrations/20261203000002_services.sql"))
            .await
            .unwrap();

        let services: Vec<(String, String, String)> =
            sqlx::query("SELECT id, tenant_id, name FROM services ORDER BY tenant_id, name")
                .fetch_all(pool)
                .await
                .unwrap()
                .iter()
                .map(|r| (r.get("id"), r.get("tenant_id"), r.get("name")))
                .collect();
        let s = |id: &str, t: &str, n: &str| (id.to_string(), t.to_string(), n.to_string());
        assert_eq!(
            services,
            vec![
                s("06-d", "t1", "Ancien service"),
                s("00-d", "t1", "CCAS"),
                s("03-a", "t1", "Urbanisme"),
                s("05-a", "t2", "CCAS"),
            ]
        );
        let accounts: Vec<(String, Option<String>)> =
            sqlx::query("SELECT id, service_id FROM accounts ORDER BY id")
                .fetch_all(pool)
                .await
                .unwrap()
                .iter()
                .map(|r| (r.get("id"), r.get("service_id")))
                .collect();
        let a = |id: &str, s: Option<&str>| (id.to_string(), s.map(String::from));
        assert_eq!(
            accounts,
            vec![
                a("01-a", Some("00-d")),
                a("02-a", Some("00-d")),
                a("03-a", Some("03-a")),
                a("04-a", None),
                a("05-a", Some("05-a")),
            ]
        );
        let deposits: Vec<String> =
            sqlx::query("SELECT depositor_service FROM documents ORDER BY id")
                .fetch_all(pool)
                .await
                .unwrap()
                .iter()
                .map(|r| r.get("depositor_service"))
                .collect();
        assert_eq!(deposits, vec!["00-d", "06-d", ""]);
    }
}
