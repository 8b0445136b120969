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

mod archive;
mod contents;
mod csv;

use archive::*;
use contents::*;
pub use csv::*;

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

use liasse_app::app::App;
use liasse_app::auth::Principal;
use liasse_app::documents::{self, doc_types, open_version, view};
use liasse_app::error::{AppError, Result};
use liasse_app::journal::{self, JournalItem};

/// Version of the archive layout, so that tools reading exports can tell layouts apart.
const FORMAT_VERSION: u32 = 1;

/// How the export was asked for; recorded in the journal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Via {
    Api,
    /// The citizen's page.
    Web,
    Cli,
}

impl Via {
    fn code(self) -> &'static str {
        match self {
            Via::Api => "api",
            Via::Web => "web",
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
        &NewEntry::new(p.actor(), "account.export", "account", &p.account_id)
            .citizen(Some(p.account_id.clone()))
            .basis(Basis::Owner.kind(), Basis::Owner.id())
            .details(serde_json::json!({
                "documents": documents,
                "versions": versions,
                "via": via.code(),
            })),
    )
    .await?;
    tx.commit().await?;
    Ok(())
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
