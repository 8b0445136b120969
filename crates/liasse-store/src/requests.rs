//! Procedures and requests: rows, attachments, notes, history.

use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::{FromRow, Row};

use crate::db::{Db, WriteTx};
use crate::error::Result;

pub async fn upsert_procedure(
    tx: &mut WriteTx,
    tenant_id: &str,
    code: &str,
    definition: &str,
    now: i64,
) -> Result<bool> {
    let updated = sqlx::query("UPDATE procedures SET definition = $1, active = 1, updated_at = $2 WHERE tenant_id = $3 AND code = $4")
        .bind(definition)
        .bind(now)
        .bind(tenant_id)
        .bind(code)
        .execute(tx.conn())
        .await?;
    if updated.rows_affected() > 0 {
        return Ok(true);
    }
    sqlx::query("INSERT INTO procedures (tenant_id, code, definition, active, created_at, updated_at) VALUES ($1, $2, $3, 1, $4, $4)")
        .bind(tenant_id)
        .bind(code)
        .bind(definition)
        .bind(now)
        .execute(tx.conn())
        .await?;
    Ok(false)
}

pub async fn procedure(db: &Db, tenant_id: &str, code: &str) -> Result<Option<String>> {
    let row = sqlx::query(
        "SELECT definition FROM procedures WHERE tenant_id = $1 AND code = $2 AND active = 1",
    )
    .bind(tenant_id)
    .bind(code)
    .fetch_optional(db.pool())
    .await?;
    row.map(|r| r.try_get("definition").map_err(Into::into))
        .transpose()
}

pub async fn procedures(db: &Db, tenant_id: &str) -> Result<Vec<String>> {
    let rows = sqlx::query(
        "SELECT definition FROM procedures WHERE tenant_id = $1 AND active = 1 ORDER BY code",
    )
    .bind(tenant_id)
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|r| r.try_get("definition").map_err(Into::into))
        .collect()
}

#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct RequestRow {
    pub id: String,
    #[serde(skip)]
    pub tenant_id: String,
    pub number: String,
    pub procedure_code: String,
    pub domain: String,
    pub citizen_id: String,
    pub state: String,
    pub answers: String,
    pub members: String,
    #[serde(skip)]
    pub tracking_hash: Option<String>,
    pub lock_holder: Option<String>,
    pub lock_until: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
    pub submitted_at: Option<i64>,
    pub closed_at: Option<i64>,
    pub anonymised_at: Option<i64>,
}

const COLUMNS: &str = "id, tenant_id, number, procedure_code, domain, citizen_id, state, answers, members, tracking_hash, \
     lock_holder, lock_until, created_at, updated_at, submitted_at, closed_at, anonymised_at";

fn from_row(r: &AnyRow) -> Result<RequestRow> {
    Ok(RequestRow {
        id: r.try_get("id")?,
        tenant_id: r.try_get("tenant_id")?,
        number: r.try_get("number")?,
        procedure_code: r.try_get("procedure_code")?,
        domain: r.try_get("domain")?,
        citizen_id: r.try_get("citizen_id")?,
        state: r.try_get("state")?,
        answers: r.try_get("answers")?,
        members: r.try_get("members")?,
        tracking_hash: r.try_get("tracking_hash")?,
        lock_holder: r.try_get("lock_holder")?,
        lock_until: r.try_get("lock_until")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
        submitted_at: r.try_get("submitted_at")?,
        closed_at: r.try_get("closed_at")?,
        anonymised_at: r.try_get("anonymised_at")?,
    })
}

pub async fn next_number(tx: &mut WriteTx, tenant_id: &str, year: i32) -> Result<String> {
    let prefix = format!("{year}-");
    let r =
        sqlx::query("SELECT COUNT(*) AS n FROM requests WHERE tenant_id = $1 AND number LIKE $2")
            .bind(tenant_id)
            .bind(format!("{prefix}%"))
            .fetch_one(tx.conn())
            .await?;
    let n: i64 = r.try_get("n")?;
    Ok(format!("{prefix}{:06}", n + 1))
}

pub async fn insert(tx: &mut WriteTx, r: &RequestRow) -> Result<()> {
    sqlx::query(&format!(
        "INSERT INTO requests ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)"
    ))
    .bind(&r.id)
    .bind(&r.tenant_id)
    .bind(&r.number)
    .bind(&r.procedure_code)
    .bind(&r.domain)
    .bind(&r.citizen_id)
    .bind(&r.state)
    .bind(&r.answers)
    .bind(&r.members)
    .bind(r.tracking_hash.as_deref())
    .bind(r.lock_holder.as_deref())
    .bind(r.lock_until)
    .bind(r.created_at)
    .bind(r.updated_at)
    .bind(r.submitted_at)
    .bind(r.closed_at)
    .bind(r.anonymised_at)
    .execute(tx.conn())
    .await?;
    Ok(())
}

pub async fn update(tx: &mut WriteTx, r: &RequestRow) -> Result<()> {
    sqlx::query(
        "UPDATE requests SET state = $1, answers = $2, members = $3, tracking_hash = $4, lock_holder = $5, lock_until = $6, \
         updated_at = $7, submitted_at = $8, closed_at = $9, anonymised_at = $10 WHERE tenant_id = $11 AND id = $12",
    )
    .bind(&r.state)
    .bind(&r.answers)
    .bind(&r.members)
    .bind(r.tracking_hash.as_deref())
    .bind(r.lock_holder.as_deref())
    .bind(r.lock_until)
    .bind(r.updated_at)
    .bind(r.submitted_at)
    .bind(r.closed_at)
    .bind(r.anonymised_at)
    .bind(&r.tenant_id)
    .bind(&r.id)
    .execute(tx.conn())
    .await?;
    Ok(())
}

pub async fn get(db: &Db, tenant_id: &str, id: &str) -> Result<Option<RequestRow>> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM requests WHERE tenant_id = $1 AND id = $2"
    ))
    .bind(tenant_id)
    .bind(id)
    .fetch_optional(db.pool())
    .await?;
    row.as_ref().map(from_row).transpose()
}

pub async fn get_in(tx: &mut WriteTx, tenant_id: &str, id: &str) -> Result<Option<RequestRow>> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM requests WHERE tenant_id = $1 AND id = $2"
    ))
    .bind(tenant_id)
    .bind(id)
    .fetch_optional(tx.conn())
    .await?;
    row.as_ref().map(from_row).transpose()
}

pub async fn by_tracking(db: &Db, tracking_hash: &str) -> Result<Option<RequestRow>> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM requests WHERE tracking_hash = $1"
    ))
    .bind(tracking_hash)
    .fetch_optional(db.pool())
    .await?;
    row.as_ref().map(from_row).transpose()
}

pub async fn for_citizen(db: &Db, tenant_id: &str, citizen_id: &str) -> Result<Vec<RequestRow>> {
    let rows = sqlx::query(&format!("SELECT {COLUMNS} FROM requests WHERE tenant_id = $1 AND citizen_id = $2 ORDER BY created_at DESC, id DESC"))
        .bind(tenant_id)
        .bind(citizen_id)
        .fetch_all(db.pool())
        .await?;
    rows.iter().map(from_row).collect()
}

/// Requests of some domains that are not drafts (the agents' lists).
pub async fn for_domains(db: &Db, tenant_id: &str, domains: &[String]) -> Result<Vec<RequestRow>> {
    let mut out = Vec::new();
    for d in domains {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM requests WHERE tenant_id = $1 AND domain = $2 AND state <> 'draft' ORDER BY created_at DESC, id DESC LIMIT 1000"
        ))
        .bind(tenant_id)
        .bind(d)
        .fetch_all(db.pool())
        .await?;
        for r in &rows {
            out.push(from_row(r)?);
        }
    }
    Ok(out)
}

#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct AttachmentRow {
    pub requirement: String,
    pub document_id: String,
    pub version: i64,
    pub attached_at: i64,
}

pub async fn attachments(db: &Db, tenant_id: &str, request_id: &str) -> Result<Vec<AttachmentRow>> {
    let rows = sqlx::query("SELECT requirement, document_id, version, attached_at FROM request_attachments WHERE tenant_id = $1 AND request_id = $2 ORDER BY requirement")
        .bind(tenant_id)
        .bind(request_id)
        .fetch_all(db.pool())
        .await?;
    rows.iter()
        .map(|r| {
            Ok(AttachmentRow {
                requirement: r.try_get("requirement")?,
                document_id: r.try_get("document_id")?,
                version: r.try_get("version")?,
                attached_at: r.try_get("attached_at")?,
            })
        })
        .collect()
}

pub async fn attach(
    tx: &mut WriteTx,
    tenant_id: &str,
    request_id: &str,
    requirement: &str,
    document_id: &str,
    version: i64,
    now: i64,
) -> Result<()> {
    detach(tx, tenant_id, request_id, requirement).await?;
    sqlx::query("INSERT INTO request_attachments (tenant_id, request_id, requirement, document_id, version, attached_at) VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(tenant_id)
        .bind(request_id)
        .bind(requirement)
        .bind(document_id)
        .bind(version)
        .bind(now)
        .execute(tx.conn())
        .await?;
    Ok(())
}

pub async fn detach(
    tx: &mut WriteTx,
    tenant_id: &str,
    request_id: &str,
    requirement: &str,
) -> Result<bool> {
    let r = sqlx::query("DELETE FROM request_attachments WHERE tenant_id = $1 AND request_id = $2 AND requirement = $3")
        .bind(tenant_id)
        .bind(request_id)
        .bind(requirement)
        .execute(tx.conn())
        .await?;
    Ok(r.rows_affected() > 0)
}

pub async fn release_attachments(
    tx: &mut WriteTx,
    tenant_id: &str,
    request_id: &str,
) -> Result<()> {
    sqlx::query("DELETE FROM request_attachments WHERE tenant_id = $1 AND request_id = $2")
        .bind(tenant_id)
        .bind(request_id)
        .execute(tx.conn())
        .await?;
    Ok(())
}

/// Documents attached to requests other than `request_id` (single-use types are offered once).
pub async fn documents_attached_elsewhere(
    db: &Db,
    tenant_id: &str,
    citizen_id: &str,
    request_id: &str,
) -> Result<Vec<String>> {
    let rows = sqlx::query(
        "SELECT a.document_id FROM request_attachments a JOIN requests r ON r.id = a.request_id \
         WHERE a.tenant_id = $1 AND r.citizen_id = $2 AND a.request_id <> $3",
    )
    .bind(tenant_id)
    .bind(citizen_id)
    .bind(request_id)
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|r| r.try_get("document_id").map_err(Into::into))
        .collect()
}

/// (request id, domain, state, document id) for every attachment of a citizen's requests.
pub async fn attachment_bases(
    db: &Db,
    tenant_id: &str,
    citizen_id: &str,
) -> Result<Vec<(String, String, String, String)>> {
    let rows = sqlx::query(
        "SELECT r.id, r.domain, r.state, a.document_id FROM requests r JOIN request_attachments a ON a.request_id = r.id \
         WHERE r.tenant_id = $1 AND r.citizen_id = $2",
    )
    .bind(tenant_id)
    .bind(citizen_id)
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|r| {
            Ok((
                r.try_get("id")?,
                r.try_get("domain")?,
                r.try_get("state")?,
                r.try_get("document_id")?,
            ))
        })
        .collect()
}

#[derive(Clone, Debug, Serialize)]
pub struct NoteRow {
    pub id: String,
    pub author_label: String,
    pub visible: bool,
    pub body: String,
    pub at: i64,
}

/// A note to add to a request.
pub struct NewNoteRow<'a> {
    pub id: &'a str,
    pub tenant_id: &'a str,
    pub request_id: &'a str,
    pub author_id: &'a str,
    pub author_label: &'a str,
    pub visible: bool,
    pub body: &'a str,
    pub at: i64,
}

pub async fn add_note(tx: &mut WriteTx, n: &NewNoteRow<'_>) -> Result<()> {
    sqlx::query("INSERT INTO request_notes (id, tenant_id, request_id, author_id, author_label, visible, body, at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
        .bind(n.id)
        .bind(n.tenant_id)
        .bind(n.request_id)
        .bind(n.author_id)
        .bind(n.author_label)
        .bind(i64::from(n.visible))
        .bind(n.body)
        .bind(n.at)
        .execute(tx.conn())
        .await?;
    Ok(())
}

pub async fn notes(db: &Db, tenant_id: &str, request_id: &str) -> Result<Vec<NoteRow>> {
    let rows = sqlx::query("SELECT id, author_label, visible, body, at FROM request_notes WHERE tenant_id = $1 AND request_id = $2 ORDER BY at, id")
        .bind(tenant_id)
        .bind(request_id)
        .fetch_all(db.pool())
        .await?;
    rows.iter()
        .map(|r| {
            Ok(NoteRow {
                id: r.try_get("id")?,
                author_label: r.try_get("author_label")?,
                visible: r.try_get::<i64, _>("visible")? != 0,
                body: r.try_get("body")?,
                at: r.try_get("at")?,
            })
        })
        .collect()
}

pub async fn erase_notes(tx: &mut WriteTx, tenant_id: &str, request_id: &str) -> Result<()> {
    sqlx::query("DELETE FROM request_notes WHERE tenant_id = $1 AND request_id = $2")
        .bind(tenant_id)
        .bind(request_id)
        .execute(tx.conn())
        .await?;
    Ok(())
}

#[derive(Clone, Debug, Serialize)]
pub struct HistoryRow {
    pub at: i64,
    pub actor_label: String,
    pub event: String,
    pub details: serde_json::Value,
}

#[allow(clippy::too_many_arguments)]
pub async fn add_history(
    tx: &mut WriteTx,
    id: &str,
    tenant_id: &str,
    request_id: &str,
    now: i64,
    actor_id: &str,
    actor_label: &str,
    event: &str,
    details: &serde_json::Value,
) -> Result<()> {
    sqlx::query("INSERT INTO request_history (id, tenant_id, request_id, at, actor_id, actor_label, event, details) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
        .bind(id)
        .bind(tenant_id)
        .bind(request_id)
        .bind(now)
        .bind(actor_id)
        .bind(actor_label)
        .bind(event)
        .bind(details.to_string())
        .execute(tx.conn())
        .await?;
    Ok(())
}

pub async fn history(db: &Db, tenant_id: &str, request_id: &str) -> Result<Vec<HistoryRow>> {
    let rows = sqlx::query("SELECT at, actor_label, event, details FROM request_history WHERE tenant_id = $1 AND request_id = $2 ORDER BY at, id")
        .bind(tenant_id)
        .bind(request_id)
        .fetch_all(db.pool())
        .await?;
    rows.iter()
        .map(|r| {
            let details: String = r.try_get("details")?;
            Ok(HistoryRow {
                at: r.try_get("at")?,
                actor_label: r.try_get("actor_label")?,
                event: r.try_get("event")?,
                details: serde_json::from_str(&details).unwrap_or_default(),
            })
        })
        .collect()
}

/// Closed requests not yet anonymised, oldest first.
pub async fn closed_not_anonymised(db: &Db, limit: i64) -> Result<Vec<RequestRow>> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM requests WHERE state = 'closed' AND anonymised_at IS NULL ORDER BY closed_at LIMIT $1"
    ))
    .bind(limit)
    .fetch_all(db.pool())
    .await?;
    rows.iter().map(from_row).collect()
}

/// Erases a request's personal content: answers, members, notes, attachments and the details
/// of its history; keeps its number, procedure, states and dates.
pub async fn anonymise(
    tx: &mut WriteTx,
    tenant_id: &str,
    request_id: &str,
    now: i64,
) -> Result<()> {
    sqlx::query("UPDATE requests SET answers = '{}', members = '[]', tracking_hash = NULL, lock_holder = NULL, lock_until = NULL, anonymised_at = $1, updated_at = $1 WHERE tenant_id = $2 AND id = $3")
        .bind(now)
        .bind(tenant_id)
        .bind(request_id)
        .execute(tx.conn())
        .await?;
    release_attachments(tx, tenant_id, request_id).await?;
    erase_notes(tx, tenant_id, request_id).await?;
    sqlx::query(
        "UPDATE request_history SET details = '{}' WHERE tenant_id = $1 AND request_id = $2",
    )
    .bind(tenant_id)
    .bind(request_id)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Deletes a draft with everything attached to it, only if it is still the draft that was
/// announced (same last change); returns whether it was deleted.
pub async fn delete_draft(
    tx: &mut WriteTx,
    tenant_id: &str,
    request_id: &str,
    updated_at: i64,
) -> Result<bool> {
    let still = sqlx::query(
        "SELECT COUNT(*) AS n FROM requests WHERE tenant_id = $1 AND id = $2 AND state = 'draft' AND updated_at = $3",
    )
    .bind(tenant_id)
    .bind(request_id)
    .bind(updated_at)
    .fetch_one(tx.conn())
    .await?;
    if still.try_get::<i64, _>("n")? == 0 {
        return Ok(false);
    }
    for table in ["request_attachments", "request_notes", "request_history"] {
        sqlx::query(&format!(
            "DELETE FROM {table} WHERE tenant_id = $1 AND request_id = $2"
        ))
        .bind(tenant_id)
        .bind(request_id)
        .execute(tx.conn())
        .await?;
    }
    sqlx::query("DELETE FROM requests WHERE tenant_id = $1 AND id = $2")
        .bind(tenant_id)
        .bind(request_id)
        .execute(tx.conn())
        .await?;
    Ok(true)
}

/// An open request (submitted or in progress) to which a document is attached.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpenRequest {
    pub id: String,
    pub number: String,
    pub domain: String,
    pub lock_holder: Option<String>,
    pub lock_until: Option<i64>,
}

impl FromRow<'_, AnyRow> for OpenRequest {
    fn from_row(r: &AnyRow) -> sqlx::Result<Self> {
        Ok(OpenRequest {
            id: r.try_get("id")?,
            number: r.try_get("number")?,
            domain: r.try_get("domain")?,
            lock_holder: r.try_get("lock_holder")?,
            lock_until: r.try_get("lock_until")?,
        })
    }
}

pub async fn open_requests_with_document(
    db: &Db,
    tenant_id: &str,
    document_id: &str,
) -> Result<Vec<OpenRequest>> {
    let rows = sqlx::query_as(
        "SELECT r.id, r.number, r.domain, r.lock_holder, r.lock_until FROM request_attachments a \
         JOIN requests r ON r.id = a.request_id WHERE a.tenant_id = $1 AND a.document_id = $2 \
         AND r.state IN ('submitted', 'in_progress', 'complement') ORDER BY r.id",
    )
    .bind(tenant_id)
    .bind(document_id)
    .fetch_all(db.pool())
    .await?;
    Ok(rows)
}
