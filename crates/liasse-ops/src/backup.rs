//! `liasse backup --out DIR`, while the server runs: a consistent snapshot of the database,
//! then the blobs that snapshot refers to (immutable: those already in DIR are not copied
//! again), then the deletion ledger, then the manifest, written last and atomically, so that
//! DIR always holds one complete backup: the previous one until the new manifest replaces it.
//!
//! The order matters for deletions made during the backup: a document live in the snapshot
//! whose blob is removed before it is copied is destroyed by then, and its line is in the
//! ledger copied after the blobs, which a restore replays.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use futures::{StreamExt, TryStreamExt};
use liasse_app::App;
use liasse_app::progress::Progress;
use liasse_domain::clock::rfc3339;
use liasse_store::snapshot::{self, LiveBlob, PgSnapshot, TenantFacts};
use liasse_store::{Backend, StoreError};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::error::{OpsError, Result};
use crate::files::{self, commit, copy_atomic, hash_file, partial, private_dir};
use crate::manifest::{BLOBS_DIR, Counts, FileEntry, KEY_FILE, Manifest, TenantEntry};

#[derive(Clone, Debug)]
pub struct Options {
    pub out: PathBuf,
    /// Put the key file in the backup too. Off by default: a backup that carries its keys
    /// is a stolen backup that reads (see `docs/backups.md`).
    pub include_keys: bool,
}

#[derive(Debug, Serialize)]
pub struct Report {
    pub dir: PathBuf,
    pub taken_at: String,
    pub tenants: usize,
    pub documents: i64,
    pub blobs: u64,
    /// Blobs copied by this run, and those already in the directory from an earlier one.
    pub copied: u64,
    pub skipped: u64,
    pub bytes_copied: u64,
    pub gone: usize,
}

const CONCURRENT_COPIES: usize = 4;

pub async fn run(app: &App, opts: &Options) -> Result<Report> {
    let out = &opts.out;
    private_dir(out)?;
    private_dir(&out.join(BLOBS_DIR))?;
    // What an earlier backup into this directory recorded, to skip hashing blobs again.
    let previous: HashMap<String, FileEntry> = Manifest::read(out)
        .map(|m| m.blobs.into_iter().map(|b| (b.path.clone(), b)).collect())
        .unwrap_or_default();
    // Names unique to this run: the previous backup's files stay whole until the new
    // manifest replaces the old one.
    let run_id = liasse_domain::ids::new_id();
    let taken_at = app.now();
    let backend = app.db.backend();
    let (db_name, tenants, live) = match backend {
        Backend::Sqlite => {
            let name = format!("database-{run_id}.sqlite");
            let tmp = partial(&out.join(&name));
            let _ = std::fs::remove_file(&tmp);
            snapshot::sqlite_copy(&app.db, &tmp).await?;
            let mut conn = snapshot::open_sqlite_file(&tmp).await?;
            let (tenants, live) = snapshot::facts(&mut conn).await?;
            drop(conn);
            commit(&tmp, &out.join(&name))?;
            (name, tenants, live)
        }
        Backend::Postgres => {
            let name = format!("database-{run_id}.pgdump");
            let tmp = partial(&out.join(&name));
            let mut snap = PgSnapshot::begin(&app.db).await?;
            let (tenants, live) = snapshot::facts(snap.conn()).await?;
            let url = app
                .config
                .database_url()
                .map_err(|e| OpsError::refused("config", e.to_string()))?;
            pg_dump(&url, &snap.id, &tmp).await?;
            snap.end().await?;
            commit(&tmp, &out.join(&name))?;
            (name, tenants, live)
        }
    };
    let (db_sum, db_len) = hash_file(&out.join(&db_name))?;

    let mut progress = Progress::new("blobs", live.len() as u64);
    let mut copies = futures::stream::iter(live)
        .map(|b| {
            let previous = &previous;
            async move {
                let r = backup_blob(app, out, &b, previous).await;
                (b, r)
            }
        })
        .buffered(CONCURRENT_COPIES);
    let mut blobs = Vec::new();
    let mut gone = Vec::new();
    let (mut copied, mut skipped, mut bytes_copied) = (0u64, 0u64, 0u64);
    while let Some((b, r)) = copies.next().await {
        progress.inc(1);
        match r? {
            Copied::New(entry) => {
                copied += 1;
                bytes_copied += entry.bytes;
                blobs.push(entry);
            }
            Copied::Present(entry) => {
                skipped += 1;
                blobs.push(entry);
            }
            Copied::Gone => gone.push(b.key),
        }
    }
    drop(copies);
    progress.finish();

    let ledger_name = format!("deletions-{run_id}.jsonl");
    let (l_sum, l_len) = copy_atomic(app.ledger.path(), &out.join(&ledger_name))?;
    let deletions = liasse_store::ledger::read_file(&out.join(&ledger_name))?.len() as u64;
    let key_ring = if opts.include_keys {
        let file = app.keys.file().ok_or_else(|| {
            OpsError::refused(
                "no-key-file",
                "--include-keys needs a key file (the master key is given as a secret: back the secret up where it is kept)",
            )
        })?;
        let (sum, len) = copy_atomic(file, &out.join(KEY_FILE))?;
        Some(FileEntry {
            path: KEY_FILE.into(),
            sha256: sum,
            bytes: len,
        })
    } else {
        let _ = std::fs::remove_file(out.join(KEY_FILE));
        None
    };

    let ring = app.keys.ring()?;
    let mut manifest = Manifest {
        format: crate::manifest::FORMAT,
        liasse: env!("CARGO_PKG_VERSION").into(),
        taken_at,
        taken_at_text: rfc3339(taken_at),
        backend: backend.name().into(),
        schema: liasse_store::db::latest_schema(),
        key_id: String::new(),
        instance: String::new(),
        database: FileEntry {
            path: db_name.clone(),
            sha256: db_sum,
            bytes: db_len,
        },
        ledger: FileEntry {
            path: ledger_name.clone(),
            sha256: l_sum,
            bytes: l_len,
        },
        key_ring,
        counts: Counts {
            tenants: tenants.len() as u64,
            documents: tenants.iter().map(|t| t.documents).sum(),
            versions: tenants.iter().map(|t| t.versions).sum(),
            blobs: blobs.len() as u64,
            deletions,
        },
        tenants: tenants.iter().map(tenant_entry).collect(),
        blobs,
        gone,
        hmac: String::new(),
    };
    manifest.seal(&ring)?;
    let json = serde_json::to_vec_pretty(&manifest)
        .map_err(|e| OpsError::refused("manifest", e.to_string()))?;
    files::write_atomic(&out.join(crate::manifest::MANIFEST), &json)?;
    remove_stale(out, &[&db_name, &ledger_name]);
    Ok(Report {
        dir: out.clone(),
        taken_at: manifest.taken_at_text.clone(),
        tenants: manifest.tenants.len(),
        documents: manifest.counts.documents,
        blobs: manifest.counts.blobs,
        copied,
        skipped,
        bytes_copied,
        gone: manifest.gone.len(),
    })
}

fn tenant_entry(t: &TenantFacts) -> TenantEntry {
    TenantEntry {
        id: t.id.clone(),
        slug: t.slug.clone(),
        journal_seq: t.journal_seq,
        journal_hash: t.journal_hash.clone(),
        documents: t.documents,
        versions: t.versions,
    }
}

/// Removes the database and ledger files of earlier runs (the manifest no longer names them).
fn remove_stale(out: &Path, keep: &[&str]) {
    let Ok(entries) = std::fs::read_dir(out) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let ours = name.starts_with("database-") || name.starts_with("deletions-");
        if ours && !keep.contains(&name.as_str()) {
            let _ = std::fs::remove_file(e.path());
        }
    }
}

enum Copied {
    New(FileEntry),
    Present(FileEntry),
    /// Deleted since the snapshot (its document is in the ledger).
    Gone,
}

/// A blob key as a relative path of plain components (it comes from the database).
pub fn blob_path(key: &str) -> Result<PathBuf> {
    let rel = Path::new(key);
    if key.is_empty()
        || rel
            .components()
            .any(|c| !matches!(c, std::path::Component::Normal(_)))
    {
        return Err(OpsError::refused(
            "bad-blob-key",
            format!("unexpected blob key {key:?}"),
        ));
    }
    Ok(Path::new(BLOBS_DIR).join(rel))
}

async fn backup_blob(
    app: &App,
    out: &Path,
    b: &LiveBlob,
    previous: &HashMap<String, FileEntry>,
) -> Result<Copied> {
    let rel = blob_path(&b.key)?;
    let rel_text = rel.to_string_lossy().into_owned();
    let dest = out.join(&rel);
    if let Ok(meta) = std::fs::metadata(&dest) {
        // Blobs never change once written: one present under its name is the same blob.
        if let Some(p) = previous.get(&rel_text).filter(|p| p.bytes == meta.len()) {
            return Ok(Copied::Present(p.clone()));
        }
        let (sum, len) = hash_file(&dest)?;
        return Ok(Copied::Present(FileEntry {
            path: rel_text,
            sha256: sum,
            bytes: len,
        }));
    }
    let mut stream = match app.blobs.get_stream(&b.key).await {
        Ok(s) => s,
        Err(StoreError::NotFound) => return Ok(Copied::Gone),
        Err(e) => return Err(e.into()),
    };
    if let Some(dir) = dest.parent() {
        private_dir(dir)?;
    }
    let tmp = partial(&dest);
    let mut file = std::fs::File::create(&tmp)?;
    let mut hasher = Sha256::new();
    let mut len = 0u64;
    while let Some(chunk) = stream.try_next().await.map_err(OpsError::from)? {
        hasher.update(&chunk);
        len += chunk.len() as u64;
        file.write_all(&chunk)?;
    }
    drop(file);
    commit(&tmp, &dest)?;
    Ok(Copied::New(FileEntry {
        path: rel_text,
        sha256: hex::encode(hasher.finalize()),
        bytes: len,
    }))
}

/// `pg_dump` of the exported snapshot, in its custom format (what `pg_restore` reads).
async fn pg_dump(url: &str, snapshot_id: &str, out: &Path) -> Result<()> {
    let args = vec![
        "--format=custom".to_string(),
        "--no-owner".to_string(),
        "--no-privileges".to_string(),
        format!("--snapshot={snapshot_id}"),
        format!("--file={}", out.display()),
        format!("--dbname={url}"),
    ];
    run_tool("pg_dump", args).await
}

/// Runs a PostgreSQL client tool (from `PATH`, else Debian's PostgreSQL 15 directory).
pub async fn run_tool(name: &'static str, args: Vec<String>) -> Result<()> {
    tokio::task::spawn_blocking(move || {
        let program = find_tool(name);
        let output = std::process::Command::new(&program)
            .args(&args)
            .output()
            .map_err(|e| {
                OpsError::refused(
                    "no-pg-tools",
                    format!(
                        "cannot run {name} ({e}): install PostgreSQL's client tools (Debian: postgresql-client), or use your own PostgreSQL backups as docs/backups.md says"
                    ),
                )
            })?;
        if !output.status.success() {
            return Err(OpsError::refused(
                "pg-tool-failed",
                format!(
                    "{name} failed: {}",
                    String::from_utf8_lossy(&output.stderr).trim()
                ),
            ));
        }
        Ok(())
    })
    .await
    .map_err(|e| OpsError::Io(std::io::Error::other(e)))?
}

fn find_tool(name: &str) -> PathBuf {
    let in_path = std::env::var_os("PATH").into_iter().flat_map(|p| {
        std::env::split_paths(&p)
            .map(|d| d.join(name))
            .collect::<Vec<_>>()
    });
    in_path
        .chain(std::iter::once(
            Path::new("/usr/lib/postgresql/15/bin").join(name),
        ))
        .find(|p| p.is_file())
        .unwrap_or_else(|| PathBuf::from(name))
}
