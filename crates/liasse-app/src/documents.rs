//! The citizen vault: deposit, list, read, download, replace, delete and check documents.
//!
//! Every access goes through `liasse_domain::policy::decide`; a denial is answered as "not
//! found" so that nobody learns that a document exists. Every content read is journalled with
//! the basis that allowed it.

use std::collections::HashMap;
use std::io::{Read, Seek, SeekFrom};

use bytes::Bytes;
use futures::stream::BoxStream;
use futures::{StreamExt, TryStreamExt};
use liasse_crypto::{Binding, DataKey, Decryptor, Encryptor, WrappedKey};
use liasse_domain::clock::{date_of, rfc3339};
use liasse_domain::doctype::{DocumentType, Validity, format_date, parse_date};
use liasse_domain::ids::{is_valid_id, new_id};
use liasse_domain::journal::NewEntry;
use liasse_domain::policy::{Access, Action, Basis, VaultOp};
use liasse_inspect::{Format, Inspection, Limits};
use liasse_store::documents::{self, DocumentRow, VersionRow};
use liasse_store::group::GroupedWrite;
use liasse_store::{BlobReader, BlobStore, journal};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tokio::io::AsyncReadExt;

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

fn binding<'a>(tenant_id: &'a str, document_id: &'a str, version_id: &'a str) -> Binding<'a> {
    Binding {
        tenant: tenant_id,
        document: document_id,
        version: version_id,
    }
}

/// Computes valid_until from the type's rule; the dates come from the citizen, so every
/// problem is a clear refusal.
pub(crate) fn compute_validity(
    t: &DocumentType,
    today: time::Date,
    issued_on: Option<&str>,
    printed: Option<&str>,
) -> Result<Option<String>> {
    let issued = match issued_on.filter(|s| !s.trim().is_empty()) {
        Some(s) => {
            let d = parse_date(s).map_err(|m| AppError::invalid("invalid-date", m))?;
            if d > today {
                return Err(AppError::invalid(
                    "invalid-date",
                    "la date d'émission ne peut pas être dans le futur",
                ));
            }
            d
        }
        None => today,
    };
    let printed = match printed.filter(|s| !s.trim().is_empty()) {
        Some(s) if t.validity == Validity::PrintedDate => {
            Some(parse_date(s).map_err(|m| AppError::invalid("invalid-date", m))?)
        }
        _ => None,
    };
    t.validity
        .valid_until(issued, printed)
        .map(|d| d.map(format_date))
        .map_err(|m| AppError::invalid("valid-until-required", m))
}

fn formats_of(t: &DocumentType) -> Vec<Format> {
    t.formats
        .iter()
        .filter_map(|f| Format::from_code(f))
        .collect()
}

/// Inspects the spooled file against the type's rules, off the async threads, a few at a time.
pub(crate) async fn inspect(
    app: &App,
    spooled: &mut Spooled,
    t: &DocumentType,
) -> Result<Inspection> {
    if spooled.size > t.max_size {
        return Err(AppError::TooLarge { limit: t.max_size });
    }
    let allowed = formats_of(t);
    // The type's pixel limit, never above the inspector's own.
    let limits = Limits {
        max_pixels: t.max_pixels.min(Limits::default().max_pixels),
        ..Limits::default()
    };
    let mut file = spooled.file.try_clone()?;
    let size = spooled.size;
    let _turn = app
        .inspections
        .acquire()
        .await
        .map_err(|e| AppError::Internal(e.to_string()))?;
    let result = tokio::task::spawn_blocking(move || {
        file.seek(SeekFrom::Start(0))?;
        Ok::<_, std::io::Error>(liasse_inspect::inspect(&mut file, size, &allowed, &limits))
    })
    .await
    .map_err(|e| AppError::Internal(e.to_string()))??;
    result.map_err(AppError::Refused)
}

/// Encrypts the spooled file into a new blob and makes it durable. The caller commits the
/// row afterwards and deletes the blob if that fails.
async fn store_blob(
    app: &App,
    tenant_id: &str,
    document_id: &str,
    version_id: &str,
    spooled: &Spooled,
) -> Result<(String, DataKey)> {
    let key = DataKey::generate();
    let blob_key = BlobStore::key(tenant_id, version_id);
    let mut enc = Encryptor::new(&key, &binding(tenant_id, document_id, version_id));
    let mut writer = app.blobs.writer(&blob_key);
    let mut file = tokio::fs::File::from_std(spooled.file.try_clone()?);
    let stored = async {
        tokio::io::AsyncSeekExt::seek(&mut file, SeekFrom::Start(0)).await?;
        writer.write(&enc.header()).await?;
        let mut buf = vec![0u8; 256 * 1024];
        loop {
            let n = file.read(&mut buf).await?;
            if n == 0 {
                break;
            }
            let out = enc.push(&buf[..n])?;
            if !out.is_empty() {
                writer.write(&out).await?;
            }
        }
        writer.write(&enc.finish()?).await?;
        Ok::<_, AppError>(())
    }
    .await;
    match stored {
        // `finish` leaves nothing behind when it fails (a full disk included).
        Ok(()) => {
            writer.finish().await?;
            Ok((blob_key, key))
        }
        Err(e) => {
            // Release what a multipart upload already sent.
            let _ = writer.abort().await;
            Err(e)
        }
    }
}

fn seal_meta(key: &DataKey, b: &Binding, meta: &SealedMeta) -> Result<Vec<u8>> {
    let json = serde_json::to_vec(meta).map_err(|e| AppError::Internal(e.to_string()))?;
    Ok(liasse_crypto::seal(key, b, &json)?)
}

/// Opens a version's key and metadata; `None` for destroyed versions.
pub(crate) fn open_version(app: &App, v: &VersionRow) -> Result<Option<(DataKey, SealedMeta)>> {
    let Some(wrapped) = &v.wrapped_key else {
        return Ok(None);
    };
    let b = binding(&v.tenant_id, &v.document_id, &v.id);
    let ring = app.keys.ring()?;
    let key = ring.unwrap(&WrappedKey::from_bytes(wrapped)?, &b)?;
    let meta = match &v.sealed_meta {
        Some(sealed) => {
            serde_json::from_slice(&liasse_crypto::open(&key, &b, sealed)?).unwrap_or_default()
        }
        None => SealedMeta::default(),
    };
    Ok(Some((key, meta)))
}

pub(crate) async fn doc_types(app: &App, tenant_id: &str) -> Result<HashMap<String, DocumentType>> {
    let mut map = HashMap::new();
    for t in catalogue::list(app, tenant_id).await? {
        map.insert(t.code.clone(), t);
    }
    Ok(map)
}

pub(crate) fn view(
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

pub(crate) fn display_name(given: Option<&str>, t: &DocumentType, format: Format) -> String {
    match given.filter(|s| !s.trim().is_empty()) {
        Some(n) => liasse_inspect::sanitize_filename(n),
        None => format!("{}.{}", t.code, format.extension()),
    }
}

/// Stores the blob of a new version and returns its (not yet committed) row, made at `now`.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn write_version(
    app: &App,
    p: &Principal,
    doc: &DocumentRow,
    number: i64,
    spooled: &Spooled,
    inspection: Inspection,
    meta: &SealedMeta,
    now: i64,
) -> Result<VersionRow> {
    let version_id = new_id();
    let (blob_key, key) = store_blob(app, &doc.tenant_id, &doc.id, &version_id, spooled).await?;
    let b = binding(&doc.tenant_id, &doc.id, &version_id);
    let sealed = seal_meta(&key, &b, meta);
    let wrapped = app.keys.ring().and_then(|r| Ok(r.wrap(&key, &b)?));
    let digest = key
        .digester()
        .of_sha256_hex(&spooled.sha256)
        .ok_or_else(|| AppError::Internal("upload: malformed SHA-256".into()));
    let (sealed, wrapped, digest) = match (sealed, wrapped, digest) {
        (Ok(s), Ok(w), Ok(d)) => (s, w, d),
        (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => {
            let _ = app.blobs.delete(&blob_key).await;
            return Err(e);
        }
    };
    Ok(VersionRow {
        id: version_id,
        tenant_id: doc.tenant_id.clone(),
        document_id: doc.id.clone(),
        version: number,
        blob_key,
        size: spooled.size as i64,
        media_type: inspection.media_type.to_string(),
        digest,
        key_id: Some(wrapped.key_id.clone()),
        wrapped_key: Some(wrapped.to_bytes()),
        sealed_meta: Some(sealed),
        created_at: now,
        created_by: p.account_id.clone(),
        destroyed_at: None,
    })
}

/// The caller's own vault.
pub async fn list(app: &App, p: &Principal, filter: &ListFilter) -> Result<Vec<DocumentView>> {
    // The filter is checked first: a bad date is refused whoever asks.
    let valid_on = match filter.valid_on.as_deref().filter(|s| !s.is_empty()) {
        Some(s) => Some(format_date(
            parse_date(s).map_err(|m| AppError::invalid("invalid-date", m))?,
        )),
        None => None,
    };
    if !p.allows(&Access::OwnVault(VaultOp::List)) {
        return Ok(Vec::new());
    }
    let docs = documents::list_owned(&app.db, &p.tenant_id, &p.account_id).await?;
    let mut versions: HashMap<String, VersionRow> =
        documents::current_versions_owned(&app.db, &p.tenant_id, &p.account_id)
            .await?
            .into_iter()
            .map(|v| (v.document_id.clone(), v))
            .collect();
    let types = doc_types(app, &p.tenant_id).await?;
    let mut out = Vec::with_capacity(docs.len());
    for d in docs {
        if filter
            .type_code
            .as_deref()
            .is_some_and(|t| !t.is_empty() && t != d.type_code)
        {
            continue;
        }
        if let Some(s) = filter.subject.as_deref().filter(|s| !s.is_empty()) {
            let matches = if s == "self" {
                d.subject_member_id.is_none()
            } else {
                d.subject_member_id.as_deref() == Some(s)
            };
            if !matches {
                continue;
            }
        }
        if let Some(day) = &valid_on {
            let valid =
                d.valid_until.as_deref().is_none_or(|u| u >= day.as_str()) && d.state != "rejected";
            if !valid {
                continue;
            }
        }
        let Some(v) = versions.remove(&d.id) else {
            continue;
        };
        let meta = open_version(app, &v)?.map(|(_, m)| m).unwrap_or_default();
        let item = view(app, &d, &v, types.get(&d.type_code), meta);
        if filter
            .state
            .as_deref()
            .is_some_and(|s| !s.is_empty() && s != item.state && s != item.review_state)
        {
            continue;
        }
        out.push(item);
    }
    Ok(out)
}

/// How many documents of the caller's own vault the listing would show, counted by the
/// database (no metadata is opened).
pub async fn count(app: &App, p: &Principal, filter: &ListFilter) -> Result<i64> {
    let valid_on = match filter.valid_on.as_deref().filter(|s| !s.is_empty()) {
        Some(s) => Some(format_date(
            parse_date(s).map_err(|m| AppError::invalid("invalid-date", m))?,
        )),
        None => None,
    };
    if !p.allows(&Access::OwnVault(VaultOp::List)) {
        return Ok(0);
    }
    let some = |s: &Option<String>| s.as_deref().filter(|s| !s.is_empty()).map(str::to_string);
    let (type_code, subject, state) = (
        some(&filter.type_code),
        some(&filter.subject),
        some(&filter.state),
    );
    let today = format_date(date_of(app.now()));
    let f = documents::VaultFilter {
        type_code: type_code.as_deref(),
        subject: subject.as_deref().map(|s| (s != "self").then_some(s)),
        valid_on: valid_on.as_deref(),
        state: state.as_deref(),
        today: &today,
    };
    Ok(documents::count_owned(&app.db, &p.tenant_id, &p.account_id, &f).await?)
}

/// One document with its versions.
pub async fn get(app: &App, p: &Principal, id: &str) -> Result<DocumentView> {
    let (doc, _) = authorize(app, p, id, Action::ReadMetadata).await?;
    let versions = documents::versions(&app.db, &p.tenant_id, &doc.id).await?;
    let current = versions
        .iter()
        .find(|v| v.version == doc.current_version)
        .ok_or(AppError::NotFound)?;
    let meta = open_version(app, current)?
        .map(|(_, m)| m)
        .unwrap_or_default();
    let t = catalogue::get_any(app, &p.tenant_id, &doc.type_code)
        .await?
        .map(|(t, _)| t);
    let mut v = view(app, &doc, current, t.as_ref(), meta);
    let mut list = Vec::new();
    for ver in &versions {
        let name = open_version(app, ver)?
            .map(|(_, m)| m.file_name)
            .unwrap_or_default();
        list.push(VersionView {
            version: ver.version,
            size: ver.size,
            media_type: ver.media_type.clone(),
            digest: ver.digest.clone(),
            file_name: name,
            created_at: rfc3339(ver.created_at),
            destroyed: ver.destroyed_at.is_some(),
        });
    }
    v.versions = Some(list);
    Ok(v)
}

/// Decrypts a stored version as a stream; every segment is authenticated before its bytes
/// are released.
pub async fn decrypt_stream(
    app: &App,
    v: &VersionRow,
    key: DataKey,
) -> Result<BoxStream<'static, Result<Bytes>>> {
    let b = binding(&v.tenant_id, &v.document_id, &v.id);
    let dec = Decryptor::new(&key, &b);
    let blob = match app.blobs.open_read(&v.blob_key).await? {
        BlobReader::File(file) => {
            // A small document needs a buffer of its own size, not of a whole chunk.
            let blob_len = liasse_crypto::ciphertext_len(u64::try_from(v.size).unwrap_or(0));
            let chunk = usize::try_from(blob_len).map_or(DECRYPT_CHUNK, |n| n.min(DECRYPT_CHUNK));
            return Ok(decrypt_file(file, dec, chunk));
        }
        BlobReader::Stream(blob) => blob,
    };
    let stream = futures::stream::try_unfold((blob, Some(dec)), |(mut blob, dec)| async move {
        let Some(mut dec) = dec else { return Ok(None) };
        loop {
            match blob.next().await {
                Some(chunk) => {
                    let out = dec.push(&chunk?)?;
                    if !out.is_empty() {
                        return Ok(Some((Bytes::from(out), (blob, Some(dec)))));
                    }
                }
                None => {
                    let out = dec.finish()?;
                    return Ok(Some((Bytes::from(out), (blob, None))));
                }
            }
        }
    });
    Ok(stream.map_err(|e: AppError| e).boxed())
}

/// Ciphertext read and decrypted per blocking call for a local blob: eight sealed segments,
/// so each call releases about half a MiB of plaintext.
const DECRYPT_CHUNK: usize = 8 * (liasse_crypto::SEGMENT_SIZE + 16);

/// Decrypts a local blob: each step reads a chunk and decrypts it on a blocking thread (the
/// decryption of half a MiB would otherwise hold an async worker), and hands out only
/// verified plaintext.
fn decrypt_file(
    file: std::fs::File,
    dec: Decryptor,
    chunk: usize,
) -> BoxStream<'static, Result<Bytes>> {
    struct State {
        file: std::fs::File,
        dec: Decryptor,
        buf: Vec<u8>,
        chunk: usize,
    }
    let first = Some(State {
        file,
        dec,
        buf: Vec::with_capacity(chunk),
        chunk,
    });
    futures::stream::try_unfold(first, |state| async move {
        let Some(mut st) = state else {
            return Ok(None);
        };
        let step = tokio::task::spawn_blocking(move || {
            loop {
                st.buf.clear();
                liasse_store::blobs::read_up_to(&mut st.file, &mut st.buf, st.chunk.max(1))?;
                if st.buf.is_empty() {
                    return Ok::<_, AppError>((st.dec.finish()?, None));
                }
                let out = st.dec.push(&st.buf)?;
                if !out.is_empty() {
                    return Ok((out, Some(st)));
                }
            }
        })
        .await
        .map_err(|e| AppError::Internal(e.to_string()))??;
        Ok(match step {
            (out, None) if out.is_empty() => None,
            (out, next) => Some((Bytes::from(out), next)),
        })
    })
    .boxed()
}

/// Downloads a version (the current one by default) and journals the read.
pub async fn content(app: &App, p: &Principal, id: &str, version: Option<i64>) -> Result<Content> {
    let (doc, basis) = authorize(app, p, id, Action::ReadContent).await?;
    let number = version.unwrap_or(doc.current_version);
    let v = documents::version(&app.db, &p.tenant_id, &doc.id, number)
        .await?
        .ok_or(AppError::NotFound)?;
    let (key, meta) = open_version(app, &v)?.ok_or(AppError::NotFound)?;
    let body = decrypt_stream(app, &v, key).await?;
    // The read is journalled, durably, before any content goes out (possibly in one commit
    // with other reads and deposits: group commit).
    app.db
        .commit_grouped(GroupedWrite::entry(
            &p.tenant_id,
            app.now(),
            entry(
                p,
                "document.read",
                &doc,
                &basis,
                serde_json::json!({ "version": number }),
            ),
        ))
        .await?;
    Ok(Content {
        media_type: v.media_type.clone(),
        file_name: meta.file_name,
        size: v.size,
        body,
    })
}

/// A document the principal may replace, decided once before the upload is read (its type
/// sets the upload's size limit); no key is unwrapped.
pub struct Replacement {
    doc: DocumentRow,
    basis: Basis,
}

impl Replacement {
    pub fn type_code(&self) -> &str {
        &self.doc.type_code
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
    mut spooled: Spooled,
) -> Result<DocumentView> {
    let (t, _) = catalogue::get_any(app, &p.tenant_id, &doc.type_code)
        .await?
        .ok_or(AppError::NotFound)?;
    if spooled.size == 0 {
        return Err(AppError::Refused(liasse_inspect::Refusal::Empty));
    }
    let inspection = inspect(app, &mut spooled, &t).await?;
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
    let version = write_version(app, p, &doc, number, &spooled, inspection, &meta, now).await?;
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

/// Decrypts a version fully and returns its keyed fingerprint (verify and check).
pub async fn fingerprint(app: &App, v: &VersionRow) -> Result<String> {
    let (key, _) = open_version(app, v)?.ok_or(AppError::NotFound)?;
    let digester = key.digester();
    let mut stream = decrypt_stream(app, v, key).await?;
    let mut h = Sha256::new();
    while let Some(chunk) = stream.next().await {
        h.update(&chunk?);
    }
    Ok(digester.of_sha256(&h.finalize()))
}

/// Reads a whole spooled file (tests and small conversions).
pub fn read_all(spooled: &mut Spooled) -> Result<Vec<u8>> {
    let mut buf = Vec::new();
    spooled.file.seek(SeekFrom::Start(0))?;
    spooled.file.read_to_end(&mut buf)?;
    Ok(buf)
}
