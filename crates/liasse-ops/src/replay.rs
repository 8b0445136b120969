//! After a restore: the deletion ledger replayed, so that every document destroyed after the
//! backup was taken is destroyed again (its wrapped keys and blobs), and each citizen's
//! journal told what came back and what was destroyed again.

use std::collections::BTreeMap;

use liasse_app::{App, AppError};
use liasse_domain::clock::rfc3339;
use liasse_domain::journal::{Actor, NewEntry};
use liasse_store::ledger::Deletion;
use liasse_store::{documents, journal, snapshot};
use serde::Serialize;

use crate::error::Result;

#[derive(Clone, Debug, Serialize)]
pub struct DestroyedAgain {
    pub tenant: String,
    pub document: String,
    pub citizen: String,
    pub reason: String,
    pub destroyed_at: String,
}

/// Destroys again each document of `deletions` that the restored database still holds live.
pub async fn replay(app: &App, deletions: &[Deletion]) -> Result<Vec<DestroyedAgain>> {
    let mut out = Vec::new();
    for d in deletions {
        let Some(doc) = documents::get(&app.db, &d.tenant, &d.document).await? else {
            continue;
        };
        if doc.deleted_at.is_some() {
            continue;
        }
        let entry = NewEntry::new(
            Actor::operator(),
            "document.destroy_again",
            "document",
            &doc.id,
        )
        .citizen(Some(doc.owner_id.clone()))
        .basis("deletion-ledger", &d.reason)
        .details(serde_json::json!({
            "type": doc.type_code,
            "reason": d.reason,
            "destroyed_at": rfc3339(d.at),
        }));
        match liasse_app::documents::destroy(app, &doc, entry).await {
            Ok(()) | Err(AppError::NotFound) => {}
            Err(e) => return Err(e.into()),
        }
        out.push(DestroyedAgain {
            tenant: d.tenant.clone(),
            document: d.document.clone(),
            citizen: doc.owner_id.clone(),
            reason: d.reason.clone(),
            destroyed_at: rfc3339(d.at),
        });
    }
    Ok(out)
}

/// One `vault.restore` entry in the journal of every citizen who has documents or had one
/// destroyed again: the backup's date, how many documents they have, how many were destroyed
/// again. Returns how many entries were written.
pub async fn tell_citizens(
    app: &App,
    backup_taken_at: &str,
    destroyed: &[DestroyedAgain],
) -> Result<u64> {
    let mut per: BTreeMap<(String, String), (i64, i64)> = BTreeMap::new();
    for (tenant, owner, n) in snapshot::live_documents_by_owner(&app.db).await? {
        per.entry((tenant, owner)).or_default().0 = n;
    }
    for d in destroyed {
        per.entry((d.tenant.clone(), d.citizen.clone()))
            .or_default()
            .1 += 1;
    }
    let now = app.now();
    let mut written = 0;
    let mut tx = app.db.begin_write().await?;
    for ((tenant, owner), (live, again)) in &per {
        let entry = NewEntry::new(Actor::operator(), "vault.restore", "account", owner)
            .citizen(Some(owner.clone()))
            .basis("backup", backup_taken_at)
            .details(serde_json::json!({
                "backup_taken_at": backup_taken_at,
                "documents": live,
                "destroyed_again": again,
            }));
        journal::append(&mut tx, tenant, now, &entry).await?;
        written += 1;
    }
    tx.commit().await?;
    Ok(written)
}
