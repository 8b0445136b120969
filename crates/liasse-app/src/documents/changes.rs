//! Changing a document: a new version, deletion (crypto-shredding), and the integrity check.

use super::*;
use liasse_store::ledger::Deletion;

/// A document the principal may replace, decided once before the upload is read (its type
/// sets the upload's size limit); no key is unwrapped.
pub struct Replacement {
    pub(super) doc: DocumentRow,
    pub(super) basis: Basis,
}

impl Replacement {
    pub fn type_code(&self) -> &str {
        &self.doc.type_code
    }

    /// The document: its new version's upload is bound to it as it is read.
    pub fn document_id(&self) -> &str {
        &self.doc.id
    }
}

pub async fn replacement(app: &App, p: &Principal, id: &str) -> Result<Replacement> {
    let (doc, basis) = authorize(app, p, id, Action::Replace).await?;
    Ok(Replacement { doc, basis })
}

/// Uploads a new version; the previous ones stay listed and downloadable. The document goes
/// back to `submitted`: the new version has not been reviewed.
pub async fn replace(
    app: &App,
    p: &Principal,
    Replacement { doc, basis }: Replacement,
    file_name: Option<&str>,
    spooled: Spooled,
) -> Result<DocumentView> {
    let (t, _) = catalogue::get_any(app, &p.tenant_id, &doc.type_code)
        .await?
        .ok_or(AppError::NotFound)?;
    if spooled.size == 0 {
        return Err(AppError::Refused(liasse_inspect::Refusal::Empty));
    }
    let inspection = inspect(app, &spooled, &t).await?;
    crate::scan::scan(app, &spooled).await?;
    let current = documents::version(&app.db, &p.tenant_id, &doc.id, doc.current_version)
        .await?
        .ok_or(AppError::NotFound)?;
    let old_meta = open_version(app, &current)?
        .map(|(_, m)| m)
        .unwrap_or_default();
    let meta = SealedMeta {
        file_name: display_name(file_name, &t, inspection.format),
        ..old_meta
    };
    let number = doc.current_version + 1;
    let now = app.now();
    let version = write_version(app, p, &doc, number, spooled, inspection, &meta, now).await?;
    let mut tx = app.db.begin_write().await?;
    let committed = async {
        // Re-read inside the transaction: a concurrent replace or delete wins cleanly.
        let fresh = documents::get_for_update(&mut tx, &p.tenant_id, &doc.id)
            .await?
            .filter(|d| d.deleted_at.is_none() && d.current_version == doc.current_version);
        let Some(mut fresh) = fresh else {
            return Err(AppError::Conflict(
                "le document a été modifié entre-temps".into(),
            ));
        };
        fresh.current_version = number;
        fresh.updated_at = now;
        // Nobody has reviewed the new version: a validated, rejected or certified document
        // goes back to submitted (a citizen's file is not what an agent validated or what an
        // issuer certified).
        fresh.state = "submitted".into();
        fresh.review_reason = None;
        documents::insert_version(&mut tx, &version).await?;
        documents::update(&mut tx, &fresh).await?;
        journal::append(
            &mut tx,
            &p.tenant_id,
            now,
            &entry(
                p,
                "document.replace",
                &fresh,
                &basis,
                serde_json::json!({ "version": number, "size": version.size }),
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(fresh)
    }
    .await;
    match committed {
        Ok(fresh) => Ok(view(app, &fresh, &version, Some(&t), meta)),
        Err(e) => {
            let _ = app.blobs.delete(&version.blob_key).await;
            Err(e)
        }
    }
}

/// Deletes a document: a tombstone and a journal entry remain; every version's key is
/// destroyed so that the content cannot be recovered, then the blobs are removed.
pub async fn delete(app: &App, p: &Principal, id: &str) -> Result<()> {
    let (doc, basis) = authorize(app, p, id, Action::Delete).await?;
    destroy(
        app,
        &doc,
        entry(
            p,
            "document.delete",
            &doc,
            &basis,
            serde_json::json!({ "type": doc.type_code }),
        ),
    )
    .await
}

/// Destroys a document (deletion by the citizen or disposal at the end of retention).
pub async fn destroy(app: &App, doc: &DocumentRow, journal_entry: NewEntry) -> Result<()> {
    let now = app.now();
    let mut tx = app.db.begin_write().await?;
    let Some(mut fresh) = documents::get_for_update(&mut tx, &doc.tenant_id, &doc.id)
        .await?
        .filter(|d| d.deleted_at.is_none())
    else {
        return Err(AppError::NotFound);
    };
    fresh.deleted_at = Some(now);
    fresh.updated_at = now;
    fresh.state = "deleted".into();
    documents::update(&mut tx, &fresh).await?;
    let blobs = documents::destroy_versions(&mut tx, &doc.tenant_id, &doc.id, now).await?;
    journal::append(&mut tx, &doc.tenant_id, now, &journal_entry).await?;
    // On the disk before the keys are gone for good: a restore of an older backup replays it.
    app.ledger
        .record(&Deletion::new(
            now,
            &doc.tenant_id,
            &doc.id,
            &doc.owner_id,
            &journal_entry.action,
        ))
        .await?;
    tx.commit().await?;
    for key in blobs {
        if let Err(e) = app.blobs.delete(&key).await {
            // The key is already destroyed, so the leftover blob is unreadable noise that
            // `liasse verify --repair` removes.
            tracing::warn!(blob = %key, error = %e, "could not remove a destroyed document's blob");
        }
    }
    Ok(())
}

#[derive(Debug, Serialize)]
pub struct CheckReport {
    pub id: String,
    pub version: i64,
    pub intact: bool,
    /// Keyed fingerprints (`hmac-sha256:...`), recorded and recomputed.
    pub digest_expected: String,
    pub digest_actual: Option<String>,
}

/// Re-reads and decrypts a document's current version and compares its fingerprint.
pub async fn check(app: &App, p: &Principal, id: &str) -> Result<CheckReport> {
    let (doc, basis) = authorize(app, p, id, Action::Check).await?;
    let v = documents::version(&app.db, &p.tenant_id, &doc.id, doc.current_version)
        .await?
        .ok_or(AppError::NotFound)?;
    let actual = fingerprint(app, &v).await.ok();
    let report = CheckReport {
        id: doc.id.clone(),
        version: v.version,
        intact: actual.as_deref() == Some(v.digest.as_str()),
        digest_expected: v.digest.clone(),
        digest_actual: actual,
    };
    app.db
        .commit_grouped(GroupedWrite::entry(
            &p.tenant_id,
            app.now(),
            entry(
                p,
                "document.check",
                &doc,
                &basis,
                serde_json::json!({ "version": v.version, "intact": report.intact }),
            ),
        ))
        .await?;
    Ok(report)
}

#[derive(Debug, Serialize)]
pub struct KeepView {
    pub id: String,
    pub kept: bool,
}

/// A citizen keeps a document beyond its type's retention, where the type allows it.
pub async fn keep(app: &App, p: &Principal, id: &str) -> Result<KeepView> {
    // Only the owner may decide what happens to a document (deny = not found).
    let (doc, basis) = authorize(app, p, id, Action::Delete).await?;
    if basis != Basis::Owner {
        return Err(AppError::NotFound);
    }
    let (t, _) = catalogue::get_any(app, &p.tenant_id, &doc.type_code)
        .await?
        .ok_or(AppError::NotFound)?;
    if !t.keep_allowed {
        return Err(AppError::invalid(
            "keep-not-allowed",
            format!(
                "une pièce « {} » ne peut pas être conservée au-delà de sa durée de conservation",
                t.label
            ),
        ));
    }
    let now = app.now();
    let mut tx = app.db.begin_write().await?;
    if liasse_store::lifecycle::keep(&mut tx, &p.tenant_id, &doc.id, &p.account_id, now).await? {
        journal::append(
            &mut tx,
            &p.tenant_id,
            now,
            &entry(
                p,
                "document.keep",
                &doc,
                &basis,
                serde_json::json!({ "type": doc.type_code }),
            ),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(KeepView {
        id: doc.id,
        kept: true,
    })
}
