//! The citizen's journal: everything that touched their account or documents.

use liasse_domain::clock::rfc3339;
use serde::Serialize;

use crate::app::App;
use crate::auth::Principal;
use crate::error::Result;

#[derive(Debug, Serialize)]
pub struct JournalItem {
    pub seq: i64,
    pub at: String,
    pub actor_kind: String,
    pub actor_name: String,
    pub actor_service: String,
    pub action: String,
    pub object_kind: String,
    pub object_id: String,
    pub basis_kind: String,
    pub basis_id: String,
    pub details: serde_json::Value,
    pub hash: String,
}

pub async fn for_principal(app: &App, p: &Principal) -> Result<Vec<JournalItem>> {
    let entries = liasse_store::journal::for_citizen(&app.db, &p.tenant_id, &p.account_id).await?;
    Ok(entries
        .into_iter()
        .map(|e| JournalItem {
            seq: e.seq,
            at: rfc3339(e.at),
            actor_kind: e.entry.actor.kind,
            actor_name: e.entry.actor.label,
            actor_service: e.entry.actor.service,
            action: e.entry.action,
            object_kind: e.entry.object_kind,
            object_id: e.entry.object_id,
            basis_kind: e.entry.basis_kind,
            basis_id: e.entry.basis_id,
            details: e.entry.details,
            hash: e.hash,
        })
        .collect())
}
