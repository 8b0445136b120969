//! `liasse restore FROM`: a checked backup into an empty target (the data directory's SQLite
//! file, or an empty PostgreSQL database, and an empty blob store), then the deletion ledger
//! replayed. Everything that can be refused is refused before the first write: a backup that
//! does not check, a target that is not empty, a backend that differs, no key ring.

use std::path::{Path, PathBuf};

use futures::StreamExt;
use liasse_app::App;
use liasse_app::config::Config;
use liasse_crypto::KeyRing;
use liasse_domain::clock::Clock;
use liasse_store::blobs::S3Options;
use liasse_store::ledger::{self, Ledger};
use liasse_store::{Backend, BlobStore, Db, snapshot};
use serde::Serialize;

use crate::backup::run_tool;
use crate::check::{self, CheckReport};
use crate::error::{OpsError, Result};
use crate::files::{copy_atomic, private_dir};
use crate::manifest::{BLOBS_DIR, Manifest};
use crate::replay::{self, DestroyedAgain};

#[derive(Clone, Debug, Default)]
pub struct Options {
    pub from: PathBuf,
    /// Other copies of the deletion ledger to replay, besides the backup's and the one
    /// already in the target data directory (kept beside the key file).
    pub ledgers: Vec<PathBuf>,
}

#[derive(Debug, Serialize)]
pub struct Report {
    pub backup_taken_at: String,
    pub tenants: usize,
    pub documents: i64,
    pub blobs: u64,
    pub destroyed_again: Vec<DestroyedAgain>,
    pub journal_entries: u64,
    pub key_ring_from_backup: bool,
}

/// Restores and returns the opened application on the restored data with the report.
pub async fn run(config: &Config, clock: Clock, opts: &Options) -> Result<(App, Report)> {
    let from = &opts.from;
    let (ring, ring_from_backup) = key_ring(config, from)?;
    let checked: CheckReport = check::check(from, &ring)?;
    let manifest = checked.manifest;
    let url = config
        .database_url()
        .map_err(|e| OpsError::refused("config", e.to_string()))?;
    let backend = Backend::from_url(&url)?;
    if backend.name() != manifest.backend {
        return Err(OpsError::refused(
            "backend-mismatch",
            format!(
                "this backup is of a {} database and the target is {}: restore it into the same kind of database",
                manifest.backend,
                backend.name()
            ),
        ));
    }
    let blobs = open_blobs(config)?;
    ensure_empty(&url, backend, &blobs).await?;
    // Read before anything is written: the ledger that outlived the server, if it was put
    // back beside the key file.
    let target_ledger = Ledger::in_dir(&config.data_dir());
    let mut ledgers = vec![
        target_ledger.read()?,
        ledger::read_file(&from.join(&manifest.ledger.path))?,
    ];
    for l in &opts.ledgers {
        if !l.is_file() {
            return Err(OpsError::refused(
                "no-ledger",
                format!("no deletion ledger at {}", l.display()),
            ));
        }
        ledgers.push(ledger::read_file(l)?);
    }
    let deletions = ledger::merge(ledgers);

    // From here on the target is written.
    private_dir(&config.data_dir())?;
    if ring_from_backup && let Some(k) = &manifest.key_ring {
        let path = config.key_file();
        if let Some(dir) = path.parent() {
            private_dir(dir)?;
        }
        copy_atomic(&from.join(&k.path), &path)?;
    }
    match backend {
        Backend::Sqlite => {
            let path = sqlite_path(&url)?;
            if let Some(dir) = path.parent() {
                private_dir(dir)?;
            }
            copy_atomic(&from.join(&manifest.database.path), &path)?;
        }
        Backend::Postgres => {
            run_tool(
                "pg_restore",
                vec![
                    "--no-owner".into(),
                    "--no-privileges".into(),
                    "--exit-on-error".into(),
                    format!("--dbname={url}"),
                    from.join(&manifest.database.path).display().to_string(),
                ],
            )
            .await?;
        }
    }
    restore_blobs(&blobs, from, &manifest).await?;

    let app = App::open(config.clone(), clock).await?;
    let destroyed = replay::replay(&app, &deletions).await?;
    let journal_entries = replay::tell_citizens(&app, &manifest.taken_at_text, &destroyed).await?;
    // The target's ledger learns what the others knew, for the next restore.
    let known = app.ledger.read()?;
    let missing: Vec<_> = deletions
        .iter()
        .filter(|d| {
            !known
                .iter()
                .any(|k| k.tenant == d.tenant && k.document == d.document)
        })
        .collect();
    for d in missing {
        app.ledger.record(d).await?;
    }
    let report = Report {
        backup_taken_at: manifest.taken_at_text.clone(),
        tenants: manifest.tenants.len(),
        documents: manifest.counts.documents,
        blobs: manifest.counts.blobs,
        destroyed_again: destroyed,
        journal_entries,
        key_ring_from_backup: ring_from_backup,
    };
    Ok((app, report))
}

/// The key ring to check and restore with: the target's (a secret, or its key file), else
/// the one the backup carries.
fn key_ring(config: &Config, from: &Path) -> Result<(KeyRing, bool)> {
    if let Some(b64) = config
        .master_key()
        .map_err(|e| OpsError::refused("config", e.to_string()))?
    {
        return Ok((KeyRing::from_base64_key(&b64)?, false));
    }
    let path = config.key_file();
    if path.exists() {
        return Ok((KeyRing::load(&path)?, false));
    }
    let manifest = Manifest::read(from)?;
    if let Some(k) = &manifest.key_ring {
        return Ok((KeyRing::load(&from.join(&k.path))?, true));
    }
    Err(OpsError::refused(
        "no-key-ring",
        format!(
            "no key ring at {}: put the instance's key file there (or rebuild it with `liasse keys recover`) before restoring; backups do not carry it",
            path.display()
        ),
    ))
}

pub fn open_blobs(config: &Config) -> Result<BlobStore> {
    let s3 = S3Options {
        endpoint: config.s3_endpoint.clone(),
        region: config.s3_region.clone(),
        access_key_id: config.s3_access_key_id.clone(),
        secret_access_key: config
            .s3_secret()
            .map_err(|e| OpsError::refused("config", e.to_string()))?,
    };
    Ok(BlobStore::open(&config.blob_url(), &s3)?)
}

/// The file of a `sqlite://PATH?...` URL.
fn sqlite_path(url: &str) -> Result<PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url);
    let path = rest.split('?').next().unwrap_or(rest);
    if path.is_empty() || path.contains(":memory:") {
        return Err(OpsError::refused(
            "config",
            "restore needs a SQLite database file",
        ));
    }
    Ok(PathBuf::from(path))
}

async fn ensure_empty(url: &str, backend: Backend, blobs: &BlobStore) -> Result<()> {
    let not_empty = |what: String| {
        OpsError::refused(
            "target-not-empty",
            format!("{what} is not empty: restore only into an empty target (nothing was written)"),
        )
    };
    match backend {
        Backend::Sqlite => {
            let path = sqlite_path(url)?;
            if std::fs::metadata(&path).is_ok_and(|m| m.len() > 0) {
                return Err(not_empty(format!("the database {}", path.display())));
            }
        }
        Backend::Postgres => {
            let db = Db::connect(url, 2).await?;
            let empty = snapshot::is_empty(&db).await;
            db.close().await;
            if !empty? {
                return Err(not_empty("the PostgreSQL database".into()));
            }
        }
    }
    if blobs.list().next().await.transpose()?.is_some() {
        return Err(not_empty(format!("the blob store {}", blobs.description())));
    }
    Ok(())
}

async fn restore_blobs(blobs: &BlobStore, from: &Path, manifest: &Manifest) -> Result<()> {
    use std::io::Read;
    let mut progress = liasse_app::progress::Progress::new("blobs", manifest.blobs.len() as u64);
    for b in &manifest.blobs {
        let key = b
            .path
            .strip_prefix(&format!("{BLOBS_DIR}/"))
            .ok_or_else(|| {
                OpsError::refused("manifest-altered", format!("not a blob: {}", b.path))
            })?;
        let mut file = std::fs::File::open(from.join(&b.path))?;
        let mut w = blobs.writer(key);
        let mut buf = vec![0u8; 1024 * 1024];
        loop {
            let n = file.read(&mut buf)?;
            if n == 0 {
                break;
            }
            w.write(&buf[..n]).await?;
        }
        w.finish().await?;
        progress.inc(1);
    }
    progress.finish();
    Ok(())
}
