//! The export of a citizen's vault: one ZIP with the original of every live document version,
//! a `manifest.json` describing them, and the citizen's journal as JSON and CSV.
//!
//! Over HTTP the archive is streamed as it is written (`ZipWriter::new_stream`, data
//! descriptors after each entry): no clear copy of any document ever touches a disk. Each
//! original is decrypted chunk by chunk into the archive and checked against its keyed
//! fingerprint once written; the manifest and the journal come last. Memory is bounded by two
//! small queues: decrypted chunks to the blocking thread that owns the (synchronous) ZIP
//! writer, and archive bytes from that thread to the response body.
//!
//! A failure before the first byte leaves is an ordinary error (a problem+json answer); after
//! it, the body ends in an error, so that the client sees a failed download rather than a
//! truncated archive (no end-of-archive record is ever written after a failure). Nothing
//! leaves before the export is journalled: the journal may say a little more than what was
//! received (a dropped download), never less.
//!
//! One export at a time per account: each one decrypts the whole vault.
//!
//! `liasse export --out FILE.zip` writes the same stream into `FILE.zip.partial` (the output
//! the operator chose, mode 0600), then renames it once complete and flushed.

use std::collections::HashSet;
use std::io::{BufWriter, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, LazyLock, Mutex};

use bytes::Bytes;
use futures::StreamExt;
use futures::stream::BoxStream;
use liasse_domain::clock::{date_of, rfc3339};
use liasse_domain::doctype::format_date;
use liasse_domain::journal::NewEntry;
use liasse_domain::policy::{Access, Action, Basis};
use liasse_inspect::Format;
use liasse_store::documents::{self as doc_store, DocumentRow, VersionRow};
use liasse_store::tenants::{self, Tenant};
use serde::Serialize;
use sha2::{Digest, Sha256};
use tokio::sync::mpsc;
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

use crate::app::App;
use crate::auth::Principal;
use crate::documents::{self, doc_types, open_version, view};
use crate::error::{AppError, Result};
use crate::journal::{self, JournalItem};

/// Version of the archive layout, so that tools reading exports can tell layouts apart.
const FORMAT_VERSION: u32 = 1;

/// Chunks waiting in each queue (decrypted chunks, archive bytes): bounds memory whatever
/// the size of the documents.
const QUEUE: usize = 8;

/// Archive bytes gathered before they are handed to the response body.
const OUT_CHUNK: usize = 64 * 1024;

/// How the export was asked for; recorded in the journal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Via {
    Api,
    Cli,
}

impl Via {
    fn code(self) -> &'static str {
        match self {
            Via::Api => "api",
            Via::Cli => "cli",
        }
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct ExportSummary {
    pub tenant: String,
    pub login: String,
    pub generated_at: String,
    pub documents: usize,
    pub versions: usize,
    pub journal_entries: usize,
    /// Size of the ZIP file.
    pub bytes: u64,
    /// `liasse-export-{login}-{date}.zip`, the name offered for download.
    pub file_name: String,
}

/// A streamed export: the body yields the archive's bytes, and ends in an error if the
/// export fails midway.
pub struct Download {
    pub file_name: String,
    pub body: BoxStream<'static, std::io::Result<Bytes>>,
}

#[derive(Serialize)]
struct Manifest<'a> {
    format: &'static str,
    format_version: u32,
    tenant: &'a str,
    tenant_name: &'a str,
    account_id: &'a str,
    login: &'a str,
    generated_at: &'a str,
    documents: &'a [ManifestDocument],
    journal: ManifestJournal,
}

#[derive(Serialize)]
struct ManifestJournal {
    entries: usize,
    json: &'static str,
    csv: &'static str,
}

#[derive(Serialize)]
struct ManifestDocument {
    id: String,
    #[serde(rename = "type")]
    type_code: String,
    type_label: String,
    domain: String,
    /// `null` for the citizen themself, or a household member's id.
    subject: Option<String>,
    title: Option<String>,
    /// The file name given at deposit (informative: the archive never uses it as a path).
    file_name: String,
    state: String,
    review_state: String,
    review_reason: Option<String>,
    valid_until: Option<String>,
    expired: bool,
    channel: String,
    origin: String,
    metadata: serde_json::Value,
    created_at: String,
    updated_at: String,
    current_version: i64,
    /// Path in the archive of the current version.
    path: String,
    versions: Vec<ManifestVersion>,
}

#[derive(Serialize)]
struct ManifestVersion {
    version: i64,
    current: bool,
    path: String,
    size: i64,
    media_type: String,
    /// The plain SHA-256 of the entry, computed as it is written: the citizen's own
    /// integrity value for the file beside it (the database keeps only a keyed digest).
    sha256: String,
    file_name: String,
    created_at: String,
}

/// What goes into one export, decided (and counted, for the journal) before any byte.
struct Plan {
    tenant: Tenant,
    now: i64,
    documents: Vec<ManifestDocument>,
    /// The rows of each document's versions, in the order of its `versions`.
    rows: Vec<Vec<VersionRow>>,
}

impl Plan {
    fn versions(&self) -> usize {
        self.rows.iter().map(Vec::len).sum()
    }

    fn file_name(&self, login: &str) -> String {
        format!(
            "liasse-export-{}-{}.zip",
            safe_name(login),
            format_date(date_of(self.now))
        )
    }
}

/// Only a citizen has a vault to export; other roles are refused outright.
fn ensure_citizen(p: &Principal) -> Result<()> {
    p.authorize(&Access::ExportVault).map(drop)
}

/// The refusal of a second export while one runs (the API gives it its own problem type).
pub const EXPORT_BUSY: &str = "Un export de votre porte-documents est déjà en cours. Attendez la fin \
     du téléchargement, puis réessayez.";

/// Accounts with an export under way in this process (a second node has its own: the limit
/// is per node, which still bounds the work one account can start at once).
static RUNNING: LazyLock<Mutex<HashSet<String>>> = LazyLock::new(Default::default);

/// An account's turn to export; released when dropped (export done, failed or abandoned).
struct Turn(String);

impl Turn {
    fn take(p: &Principal) -> Result<Turn> {
        let mut running = RUNNING.lock().unwrap_or_else(|e| e.into_inner());
        if !running.insert(p.account_id.clone()) {
            return Err(AppError::Conflict(EXPORT_BUSY.into()));
        }
        Ok(Turn(p.account_id.clone()))
    }
}

impl Drop for Turn {
    fn drop(&mut self) {
        RUNNING
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&self.0);
    }
}

/// Starts an export streamed to the caller (the API and the citizen's page). Returns once
/// the first bytes are ready and the export is journalled.
pub async fn download(app: &App, p: &Principal, via: Via) -> Result<Download> {
    ensure_citizen(p)?;
    let turn = Turn::take(p)?;
    let plan = plan(app, p).await?;
    let file_name = plan.file_name(&p.login);
    let counts = (plan.documents.len(), plan.versions());
    let (tx, mut rx) = mpsc::channel::<Result<Bytes>>(QUEUE);
    let writer = ChannelWriter {
        tx: tx.clone(),
        buf: Vec::with_capacity(OUT_CHUNK),
    };
    let (task_app, task_p) = (app.clone(), p.clone());
    tokio::spawn(async move {
        let outcome = write_archive(&task_app, &task_p, plan, writer).await;
        // The turn ends before the body does, so that a client which has read the whole
        // archive can start another export at once.
        drop(turn);
        if let Err(e) = outcome {
            tracing::warn!(account = %task_p.account_id, error = %e, "export failed");
            let _ = tx.send(Err(e)).await;
        }
    });
    let first = match rx.recv().await {
        Some(Ok(bytes)) => bytes,
        Some(Err(e)) => return Err(e),
        None => return Err(AppError::Internal(WRITER_STOPPED.into())),
    };
    journal_export(app, p, counts, via).await?;
    let rest = futures::stream::unfold(rx, |mut rx| async move {
        let item = rx.recv().await?;
        Some((item.map_err(std::io::Error::other), rx))
    });
    Ok(Download {
        file_name,
        body: futures::stream::once(async move { Ok(first) })
            .chain(rest)
            .boxed(),
    })
}

/// Writes the export to `path` atomically: into `path.partial` (mode 0600, it holds personal
/// documents), flushed to disk, then renamed; a failed export leaves nothing behind.
pub async fn export_to_path(
    app: &App,
    p: &Principal,
    path: &Path,
    via: Via,
) -> Result<ExportSummary> {
    ensure_citizen(p)?;
    let _turn = Turn::take(p)?;
    let plan = plan(app, p).await?;
    let mut partial = path.as_os_str().to_owned();
    partial.push(".partial");
    let partial = PathBuf::from(partial);
    let file = BufWriter::new(create_private(&partial)?);
    let tenant = plan.tenant.slug.clone();
    let generated_at = rfc3339(plan.now);
    let file_name = plan.file_name(&p.login);
    let (documents, versions) = (plan.documents.len(), plan.versions());
    let (file, bytes, journal_entries) = match write_archive(app, p, plan, file).await {
        Ok(done) => done,
        Err(e) => {
            let _ = std::fs::remove_file(&partial);
            return Err(e);
        }
    };
    if let Err(e) = journal_export(app, p, (documents, versions), via).await {
        let _ = std::fs::remove_file(&partial);
        return Err(e);
    }
    let target = path.to_path_buf();
    let placed = tokio::task::spawn_blocking(move || {
        let placed = file
            .into_inner()
            .map_err(|e| e.into_error())
            .and_then(|file| place(file, &partial, &target));
        if placed.is_err() {
            let _ = std::fs::remove_file(&partial);
        }
        placed
    })
    .await
    .map_err(|e| AppError::Internal(e.to_string()))?;
    placed?;
    Ok(ExportSummary {
        tenant,
        login: p.login.clone(),
        generated_at,
        documents,
        versions,
        journal_entries,
        bytes,
        file_name,
    })
}

fn create_private(path: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    // A leftover from an interrupted run may have other permissions: start afresh.
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
        _ => {}
    }
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
}

/// Makes the finished file durable under its final name.
fn place(file: std::fs::File, partial: &Path, target: &Path) -> std::io::Result<()> {
    file.sync_all()?;
    drop(file);
    std::fs::rename(partial, target)?;
    let dir = match target.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    // The rename itself survives a power cut only once the directory is flushed.
    std::fs::File::open(dir)?.sync_all()
}

async fn journal_export(
    app: &App,
    p: &Principal,
    (documents, versions): (usize, usize),
    via: Via,
) -> Result<()> {
    let mut tx = app.db.begin_write().await?;
    liasse_store::journal::append(
        &mut tx,
        &p.tenant_id,
        app.now(),
        &NewEntry {
            actor: p.actor(),
            action: "account.export".into(),
            object_kind: "account".into(),
            object_id: p.account_id.clone(),
            citizen_id: Some(p.account_id.clone()),
            basis_kind: Basis::Owner.kind().into(),
            basis_id: Basis::Owner.id().into(),
            details: serde_json::json!({
                "documents": documents,
                "versions": versions,
                "via": via.code(),
            }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Lists what the export holds: every document the citizen may read, with its live versions.
async fn plan(app: &App, p: &Principal) -> Result<Plan> {
    let tenant = tenants::by_id(&app.db, &p.tenant_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let now = app.now();
    let types = doc_types(app, &p.tenant_id).await?;
    let docs = doc_store::list_owned(&app.db, &p.tenant_id, &p.account_id).await?;
    let mut stems = HashSet::new();
    let mut listed = Vec::with_capacity(docs.len());
    let mut rows = Vec::with_capacity(docs.len());
    let bases = crate::access::Bases::load(app, p, &p.account_id).await?;
    for d in docs {
        if bases.decide(p, Action::ReadContent, &d).is_none() {
            continue;
        }
        let versions = doc_store::versions(&app.db, &p.tenant_id, &d.id).await?;
        // A document deleted since the listing has no live current version: it is no longer
        // part of the vault, so it is left out rather than failing the export. (A deletion in
        // the middle of copying its bytes does fail the export; trying again then succeeds.)
        let Some(current) = versions
            .iter()
            .find(|v| v.version == d.current_version && v.destroyed_at.is_none())
        else {
            continue;
        };
        let Some((_, current_meta)) = open_version(app, current)? else {
            continue;
        };
        let stem = unique_stem(&d, &mut stems);
        let mut listed_versions = Vec::with_capacity(versions.len());
        let mut version_rows = Vec::with_capacity(versions.len());
        for v in &versions {
            let Some((_, meta)) = open_version(app, v)? else {
                continue;
            };
            let is_current = v.version == d.current_version;
            let path = format!(
                "{}/{}-v{}.{}",
                if is_current { "documents" } else { "versions" },
                stem,
                v.version,
                extension(&v.media_type)
            );
            listed_versions.push(ManifestVersion {
                version: v.version,
                current: is_current,
                path,
                size: v.size,
                media_type: v.media_type.clone(),
                sha256: String::new(),
                file_name: meta.file_name,
                created_at: rfc3339(v.created_at),
            });
            version_rows.push(v.clone());
        }
        let item = view(app, &d, current, types.get(&d.type_code), current_meta);
        let path = listed_versions
            .iter()
            .find(|v| v.current)
            .map(|v| v.path.clone())
            .unwrap_or_default();
        listed.push(ManifestDocument {
            id: item.id,
            type_code: item.type_code,
            type_label: item.type_label,
            domain: item.domain,
            subject: item.subject,
            title: item.title,
            file_name: item.file_name,
            state: item.state,
            review_state: item.review_state,
            review_reason: item.review_reason,
            valid_until: item.valid_until,
            expired: item.expired,
            channel: item.channel,
            origin: item.origin,
            metadata: item.metadata,
            created_at: item.created_at,
            updated_at: item.updated_at,
            current_version: d.current_version,
            path,
            versions: listed_versions,
        });
        rows.push(version_rows);
    }
    Ok(Plan {
        tenant,
        now,
        documents: listed,
        rows,
    })
}

/// Writes the whole archive into `out`; returns `out`, the archive's size and the number of
/// journal entries in it. On failure the archive is left without its end record.
async fn write_archive<W: Write + Send + 'static>(
    app: &App,
    p: &Principal,
    plan: Plan,
    out: W,
) -> Result<(W, u64, usize)> {
    let sink = ZipSink::start(out);
    let produced = write_contents(app, p, plan, &sink).await;
    let written = sink.finish(produced.is_ok()).await;
    match (produced, written) {
        (Ok(entries), Ok((out, bytes))) => Ok((out, bytes, entries)),
        // The producer only saw that the writer stopped; the writer knows why.
        (Err(AppError::Internal(m)), Err(w)) if m == WRITER_STOPPED => Err(w),
        (Err(e), _) | (Ok(_), Err(e)) => Err(e),
    }
}

/// Writes every entry; returns the number of journal entries written.
async fn write_contents<W>(
    app: &App,
    p: &Principal,
    mut plan: Plan,
    sink: &ZipSink<W>,
) -> Result<usize> {
    for (doc, rows) in plan.documents.iter_mut().zip(&plan.rows) {
        for (listed, v) in doc.versions.iter_mut().zip(rows) {
            listed.sha256 = copy_verified(app, sink, v, &listed.path).await?;
        }
    }
    let now = plan.now;
    let entries = journal::for_principal(app, p).await?;
    let generated_at = rfc3339(now);
    let manifest = Manifest {
        format: "liasse-export",
        format_version: FORMAT_VERSION,
        tenant: &plan.tenant.slug,
        tenant_name: &plan.tenant.name,
        account_id: &p.account_id,
        login: &p.login,
        generated_at: &generated_at,
        documents: &plan.documents,
        journal: ManifestJournal {
            entries: entries.len(),
            json: "journal.json",
            csv: "journal.csv",
        },
    };
    sink.text("manifest.json", json_bytes(&manifest)?, now)
        .await?;
    sink.text("journal.json", json_bytes(&entries)?, now)
        .await?;
    sink.text("journal.csv", journal_csv(&entries).into_bytes(), now)
        .await?;
    Ok(entries.len())
}

fn json_bytes<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>> {
    let mut bytes =
        serde_json::to_vec_pretty(value).map_err(|e| AppError::Internal(e.to_string()))?;
    bytes.push(b'\n');
    Ok(bytes)
}

/// Decrypts a version into the archive, uncompressed so that the entry is the original byte
/// for byte, and fails unless what was written matches the recorded size and keyed digest.
/// Returns the plain SHA-256 of what was written.
async fn copy_verified<W>(
    app: &App,
    sink: &ZipSink<W>,
    v: &VersionRow,
    path: &str,
) -> Result<String> {
    // Deleted since the plan was made: the export fails, and trying again leaves it out.
    let (key, _) = open_version(app, v)?.ok_or_else(|| {
        AppError::Conflict("Un document a été supprimé pendant l'export : réessayez.".into())
    })?;
    let digester = key.digester();
    let options = SimpleFileOptions::default()
        .compression_method(CompressionMethod::Stored)
        .last_modified_time(zip_time(v.created_at))
        .unix_permissions(0o600)
        .large_file(u64::try_from(v.size).unwrap_or(u64::MAX) >= zip::ZIP64_BYTES_THR);
    sink.send(Op::File {
        name: path.to_string(),
        options,
    })
    .await?;
    let mut body = documents::decrypt_stream(app, v, key).await?;
    let mut hash = Sha256::new();
    let mut size: u64 = 0;
    while let Some(chunk) = body.next().await {
        let chunk = chunk?;
        hash.update(&chunk);
        size += chunk.len() as u64;
        sink.send(Op::Data(chunk)).await?;
    }
    let sum = hash.finalize();
    if !digester.matches(&v.digest, &sum) || i64::try_from(size).ok() != Some(v.size) {
        return Err(AppError::Internal(format!(
            "export: document {} version {} does not match its fingerprint \
             (recorded {} bytes; read {size} bytes)",
            v.document_id, v.version, v.size
        )));
    }
    Ok(hex::encode(sum))
}

/// `{subject}/{type}-{short id}` for a document: built from codes and ids only, never from a
/// name the client chose. The short id is the random tail of the UUIDv7 (its head is a
/// timestamp shared by documents created in the same millisecond); on a clash the full id is
/// used instead.
fn unique_stem(d: &DocumentRow, used: &mut HashSet<String>) -> String {
    let subject = d
        .subject_member_id
        .as_deref()
        .map(safe_name)
        .unwrap_or_else(|| "moi".into());
    let type_code = match safe_name(&d.type_code) {
        t if t.is_empty() => "document".to_string(),
        t => t,
    };
    let id = safe_name(&d.id);
    let short: String = {
        let tail: Vec<char> = id.chars().rev().take(8).collect();
        tail.into_iter().rev().collect()
    };
    let stem = format!("{subject}/{type_code}-{short}");
    if used.insert(stem.clone()) {
        return stem;
    }
    let stem = format!("{subject}/{type_code}-{id}");
    used.insert(stem.clone());
    stem
}

/// Keeps the characters that are safe in a path component and a download name.
fn safe_name(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' || c == '@' {
                c
            } else {
                '_'
            }
        })
        .collect::<String>()
        .trim_start_matches('.')
        .to_string()
}

fn extension(media_type: &str) -> &'static str {
    Format::DEFAULT_ALLOWED
        .iter()
        .find(|f| f.media_type() == media_type)
        .map(|f| f.extension())
        .unwrap_or("bin")
}

/// ZIP entries carry a DOS time without a zone: UTC is written (the manifest has the exact
/// RFC 3339 times); instants outside 1980..2107 get the format's default.
fn zip_time(ms: i64) -> zip::DateTime {
    let Ok(t) = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000) else {
        return zip::DateTime::default();
    };
    u16::try_from(t.year())
        .ok()
        .and_then(|year| {
            zip::DateTime::from_date_and_time(
                year,
                u8::from(t.month()),
                t.day(),
                t.hour(),
                t.minute(),
                t.second(),
            )
            .ok()
        })
        .unwrap_or_default()
}

const CSV_COLUMNS: [&str; 12] = [
    "seq",
    "at",
    "actor_kind",
    "actor_name",
    "actor_service",
    "action",
    "object_kind",
    "object_id",
    "basis_kind",
    "basis_id",
    "details",
    "hash",
];

/// The journal as CSV (RFC 4180: comma separated, CRLF line ends, fields quoted when needed).
pub fn journal_csv(entries: &[JournalItem]) -> String {
    let mut out = String::new();
    push_row(&mut out, CSV_COLUMNS.iter().map(|c| c.to_string()));
    for e in entries {
        push_row(
            &mut out,
            [
                e.seq.to_string(),
                e.at.clone(),
                e.actor_kind.clone(),
                e.actor_name.clone(),
                e.actor_service.clone(),
                e.action.clone(),
                e.object_kind.clone(),
                e.object_id.clone(),
                e.basis_kind.clone(),
                e.basis_id.clone(),
                e.details.to_string(),
                e.hash.clone(),
            ],
        );
    }
    out
}

fn push_row(out: &mut String, fields: impl IntoIterator<Item = String>) {
    for (i, f) in fields.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&csv_field(&f));
    }
    out.push_str("\r\n");
}

fn csv_field(s: &str) -> String {
    // Names come from other people (an agent's display name): a leading =, +, - or @ would
    // make a spreadsheet run it as a formula, so such a cell is prefixed with an apostrophe
    // (OWASP's advice). journal.json keeps the exact text.
    let s = if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_string()
    };
    if s.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

/// What the async side asks the ZIP writer thread to do.
enum Op {
    File {
        name: String,
        options: SimpleFileOptions,
    },
    Data(Bytes),
    Finish,
}

/// The message of a send to a writer thread that has stopped; its own error says why.
const WRITER_STOPPED: &str = "export: the archive writer stopped";

/// A ZIP writer on a blocking thread, fed through a bounded channel.
struct ZipSink<W> {
    tx: mpsc::Sender<Op>,
    task: tokio::task::JoinHandle<Result<(W, u64)>>,
}

impl<W> ZipSink<W> {
    async fn send(&self, op: Op) -> Result<()> {
        self.tx
            .send(op)
            .await
            .map_err(|_| AppError::Internal(WRITER_STOPPED.into()))
    }

    async fn text(&self, name: &str, bytes: Vec<u8>, now: i64) -> Result<()> {
        let options = SimpleFileOptions::default()
            .compression_method(CompressionMethod::Deflated)
            .last_modified_time(zip_time(now))
            .unix_permissions(0o600);
        self.send(Op::File {
            name: name.to_string(),
            options,
        })
        .await?;
        self.send(Op::Data(Bytes::from(bytes))).await
    }
}

impl<W: Write + Send + 'static> ZipSink<W> {
    fn start(out: W) -> Self {
        let (tx, mut rx) = mpsc::channel::<Op>(QUEUE);
        let task = tokio::task::spawn_blocking(move || {
            let shut = Arc::new(AtomicBool::new(false));
            let mut zip = ZipWriter::new_stream(Gated {
                inner: out,
                shut: Arc::clone(&shut),
            });
            let mut run = || -> Result<bool> {
                while let Some(op) = rx.blocking_recv() {
                    match op {
                        Op::File { name, options } => {
                            zip.start_file(name, options).map_err(zip_error)?
                        }
                        Op::Data(bytes) => zip.write_all(&bytes)?,
                        Op::Finish => return Ok(true),
                    }
                }
                Ok(false)
            };
            match run() {
                Ok(true) => {
                    let mut out = zip.finish().map_err(zip_error)?;
                    // A stream writer knows how much it wrote: "seeking" to the end asks it.
                    let len = out.seek(SeekFrom::End(0))?;
                    let mut out = out.into_inner().inner;
                    out.flush()?;
                    Ok((out, len))
                }
                outcome => {
                    // The producer gave up (an error, or a client that went away). Dropping
                    // a ZipWriter writes the end of the archive, which would make what was
                    // sent look complete: the gate swallows it.
                    shut.store(true, Ordering::SeqCst);
                    drop(zip);
                    outcome.and(Err(AppError::Internal("export: abandoned".into())))
                }
            }
        });
        ZipSink { tx, task }
    }

    /// Closes the archive if the producer succeeded (otherwise abandons it) and returns the
    /// writer's result.
    async fn finish(self, produced: bool) -> Result<(W, u64)> {
        let ZipSink { tx, task } = self;
        if produced {
            // A failed send means the writer stopped; its result below says why.
            let _ = tx.send(Op::Finish).await;
        }
        drop(tx);
        task.await
            .map_err(|e| AppError::Internal(format!("export: archive writer: {e}")))?
    }
}

/// The ZIP writer's output, which discards everything once shut (see [`ZipSink::start`]).
struct Gated<W> {
    inner: W,
    shut: Arc<AtomicBool>,
}

impl<W: Write> Write for Gated<W> {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        if self.shut.load(Ordering::SeqCst) {
            return Ok(data.len());
        }
        self.inner.write(data)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if self.shut.load(Ordering::SeqCst) {
            return Ok(());
        }
        self.inner.flush()
    }
}

/// The ZIP writer's output when streaming: bytes gathered into chunks and handed to the
/// response body through a bounded channel (the writer thread waits while the client is
/// slow). Fails once the body is gone, which stops the export.
struct ChannelWriter {
    tx: mpsc::Sender<Result<Bytes>>,
    buf: Vec<u8>,
}

impl ChannelWriter {
    fn send_buffered(&mut self) -> std::io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::replace(
            &mut self.buf,
            Vec::with_capacity(OUT_CHUNK),
        ));
        self.tx
            .blocking_send(Ok(chunk))
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::BrokenPipe, "download dropped"))
    }
}

impl Write for ChannelWriter {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        let room = OUT_CHUNK.saturating_sub(self.buf.len()).max(1);
        let n = data.len().min(room);
        self.buf.extend_from_slice(&data[..n]);
        if self.buf.len() >= OUT_CHUNK {
            self.send_buffered()?;
        }
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.send_buffered()
    }
}

fn zip_error(e: zip::result::ZipError) -> AppError {
    match e {
        zip::result::ZipError::Io(e) => AppError::from(e),
        e => AppError::Internal(format!("export: zip: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_are_quoted_per_rfc_4180() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("two\nlines"), "\"two\nlines\"");
        assert_eq!(csv_field("=HYPERLINK(1)"), "'=HYPERLINK(1)");
        assert_eq!(
            csv_field("{\"documents\":2,\"via\":\"api\"}"),
            "\"{\"\"documents\"\":2,\"\"via\"\":\"\"api\"\"}\""
        );
    }

    #[test]
    fn archive_names_use_codes_and_ids_only() {
        assert_eq!(safe_name("../../etc/passwd"), "_.._etc_passwd");
        assert_eq!(safe_name("justificatif-domicile"), "justificatif-domicile");
        assert_eq!(extension("application/pdf"), "pdf");
        assert_eq!(extension("text/html"), "bin");
    }

    #[test]
    fn zip_times_are_utc_and_clamped() {
        // 2026-01-15 10:20:30 UTC
        let t = zip_time(1_768_472_430_000);
        assert_eq!(
            (
                t.year(),
                t.month(),
                t.day(),
                t.hour(),
                t.minute(),
                t.second()
            ),
            (2026, 1, 15, 10, 20, 30)
        );
        assert_eq!(zip_time(0), zip::DateTime::default());
    }
}
