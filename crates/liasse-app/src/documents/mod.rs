//! The citizen vault: deposit, list, read, download, replace, delete and check documents.
//!
//! Every access goes through `liasse_domain::policy::decide`; a denial is answered as "not
//! found" so that nobody learns that a document exists. Every content read is journalled with
//! the basis that allowed it.

mod changes;
mod intake;
mod reading;
mod sealed;

pub use changes::*;
pub use intake::*;
pub use reading::*;
pub use sealed::*;

use std::collections::HashMap;
use std::io::Read;

use bytes::Bytes;
use futures::stream::BoxStream;
use futures::{StreamExt, TryStreamExt};
use liasse_crypto::{Binding, DataKey, Decryptor, WrappedKey};
use liasse_domain::clock::{date_of, rfc3339};
use liasse_domain::doctype::{DocumentType, Validity, format_date, parse_date};
use liasse_domain::ids::is_valid_id;
use liasse_domain::journal::NewEntry;
use liasse_domain::policy::{Access, Action, Basis, VaultOp};
use liasse_inspect::{Format, Inspection, Limits};
use liasse_store::documents::{self, DocumentRow, VersionRow};
use liasse_store::group::GroupedWrite;
use liasse_store::{BlobReader, journal};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::app::App;
use crate::auth::Principal;
use crate::catalogue;
use crate::error::{AppError, Result};
use crate::upload::Spooled;

/// Confidential metadata, sealed with the version's own key.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct SealedMeta {
    pub title: Option<String>,
    pub file_name: String,
    #[serde(default)]
    pub metadata: serde_json::Value,
}

#[derive(Clone, Debug, Serialize)]
pub struct VersionView {
    pub version: i64,
    pub size: i64,
    pub media_type: String,
    /// The keyed fingerprint (`hmac-sha256:...`, under the version's own key), never a plain
    /// SHA-256 that could be looked up.
    pub digest: String,
    pub file_name: String,
    pub created_at: String,
    pub destroyed: bool,
}

#[derive(Clone, Debug, Serialize)]
pub struct DocumentView {
    pub id: String,
    #[serde(rename = "type")]
    pub type_code: String,
    pub type_label: String,
    pub domain: String,
    /// `null` for the citizen themself, or a household member's id.
    pub subject: Option<String>,
    pub title: Option<String>,
    pub file_name: String,
    /// `submitted`, `validated`, `rejected`, `certified`, or `expired` once valid_until passed.
    pub state: String,
    /// The review state, whatever the validity.
    pub review_state: String,
    pub review_reason: Option<String>,
    pub valid_until: Option<String>,
    pub expired: bool,
    pub channel: String,
    pub origin: String,
    pub version: i64,
    pub size: i64,
    pub media_type: String,
    /// The current version's keyed fingerprint (see [`VersionView::digest`]).
    pub digest: String,
    pub metadata: serde_json::Value,
    pub created_at: String,
    pub updated_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub versions: Option<Vec<VersionView>>,
}

/// What a deposit carries besides the file.
#[derive(Clone, Debug, Default)]
pub struct DepositInput {
    pub type_code: String,
    pub subject: Option<String>,
    pub title: Option<String>,
    /// The date printed on the document, for types whose validity is that date.
    pub valid_until: Option<String>,
    /// The issue date printed on the document, from which durations count.
    pub issued_on: Option<String>,
    pub file_name: Option<String>,
    pub metadata: Option<serde_json::Value>,
    pub channel: Option<String>,
    /// The active type of code `type_code`, when the form reader already looked it up (to
    /// bound the upload's size): the deposit does not read it again.
    pub doc_type: Option<DocumentType>,
}

#[derive(Clone, Debug, Default, Deserialize)]
pub struct ListFilter {
    #[serde(rename = "type")]
    pub type_code: Option<String>,
    pub state: Option<String>,
    pub subject: Option<String>,
    pub valid_on: Option<String>,
}

/// Plaintext content as it is decrypted, with what a download needs to present it.
pub struct Content {
    pub media_type: String,
    pub file_name: String,
    pub size: i64,
    pub body: BoxStream<'static, Result<Bytes>>,
}

pub async fn doc_types(app: &App, tenant_id: &str) -> Result<HashMap<String, DocumentType>> {
    let mut map = HashMap::new();
    for t in catalogue::list(app, tenant_id).await? {
        map.insert(t.code.clone(), t);
    }
    Ok(map)
}

pub fn view(
    app: &App,
    d: &DocumentRow,
    v: &VersionRow,
    t: Option<&DocumentType>,
    meta: SealedMeta,
) -> DocumentView {
    let today = format_date(date_of(app.now()));
    let expired = d.valid_until.as_deref().is_some_and(|u| u < today.as_str());
    let state = if expired && d.state != "rejected" {
        "expired".to_string()
    } else {
        d.state.clone()
    };
    DocumentView {
        id: d.id.clone(),
        type_code: d.type_code.clone(),
        type_label: t
            .map(|t| t.label.clone())
            .unwrap_or_else(|| d.type_code.clone()),
        domain: t.map(|t| t.domain.clone()).unwrap_or_default(),
        subject: d.subject_member_id.clone(),
        title: meta.title,
        file_name: meta.file_name,
        state,
        review_state: d.state.clone(),
        review_reason: d.review_reason.clone(),
        valid_until: d.valid_until.clone(),
        expired,
        channel: d.channel.clone(),
        origin: d.origin.clone(),
        version: v.version,
        size: v.size,
        media_type: v.media_type.clone(),
        digest: v.digest.clone(),
        metadata: meta.metadata,
        created_at: rfc3339(d.created_at),
        updated_at: rfc3339(d.updated_at),
        versions: None,
    }
}

/// Loads a document and checks the principal's access; anything refused is "not found".
pub async fn authorize(
    app: &App,
    p: &Principal,
    id: &str,
    action: Action,
) -> Result<(DocumentRow, Basis)> {
    if !is_valid_id(id) {
        return Err(AppError::NotFound);
    }
    let doc = documents::get(&app.db, &p.tenant_id, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let bases = crate::access::Bases::load(app, p, &doc.owner_id).await?;
    let basis = bases.decide(p, action, &doc).ok_or(AppError::NotFound)?;
    Ok((doc, basis))
}

pub fn entry(
    p: &Principal,
    action: &str,
    doc: &DocumentRow,
    basis: &Basis,
    details: serde_json::Value,
) -> NewEntry {
    NewEntry {
        actor: p.actor(),
        action: action.into(),
        object_kind: "document".into(),
        object_id: doc.id.clone(),
        citizen_id: Some(doc.owner_id.clone()),
        basis_kind: basis.kind().into(),
        basis_id: basis.id().into(),
        details,
    }
}
