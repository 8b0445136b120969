//! `liasse backup verify FROM`: a backup checked without restoring it. The manifest is
//! authenticated with the key ring, its schema compared with this build's, and every file it
//! names read back and compared (length, then SHA-256).

use std::path::Path;

use liasse_crypto::KeyRing;
use serde::Serialize;

use crate::error::{OpsError, Result};
use crate::files::hash_file;
use crate::manifest::{FORMAT, Manifest};

#[derive(Debug, Serialize)]
pub struct CheckReport {
    pub files: u64,
    pub bytes: u64,
    pub manifest: Manifest,
}

/// Checks the manifest alone: format, authenticity, schema.
pub fn check_manifest(dir: &Path, ring: &KeyRing) -> Result<Manifest> {
    let manifest = Manifest::read(dir)?;
    if manifest.format != FORMAT {
        return Err(OpsError::refused(
            "unknown-format",
            format!(
                "backup format {} is not known to this liasse (format {FORMAT}): upgrade liasse",
                manifest.format
            ),
        ));
    }
    manifest.authenticate(ring)?;
    let latest = liasse_store::db::latest_schema();
    if manifest.schema > latest {
        return Err(OpsError::refused(
            "newer-schema",
            format!(
                "this backup has a newer database schema ({}) than this liasse knows ({latest}): restore it with liasse {} or later",
                manifest.schema, manifest.liasse
            ),
        ));
    }
    Ok(manifest)
}

/// Checks the whole backup; the first fault found is the error.
pub fn check(dir: &Path, ring: &KeyRing) -> Result<CheckReport> {
    let manifest = check_manifest(dir, ring)?;
    let mut files = 0;
    let mut bytes = 0;
    for f in manifest.files() {
        let rel = Path::new(&f.path);
        if rel.is_absolute()
            || rel
                .components()
                .any(|c| !matches!(c, std::path::Component::Normal(_)))
        {
            return Err(OpsError::refused(
                "manifest-altered",
                format!("the manifest names a file outside the backup: {}", f.path),
            ));
        }
        let path = dir.join(rel);
        let (sum, len) = match hash_file(&path) {
            Ok(v) => v,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(OpsError::refused(
                    "truncated",
                    format!("the backup is truncated: {} is missing", f.path),
                ));
            }
            Err(e) => return Err(e.into()),
        };
        if len != f.bytes {
            return Err(OpsError::refused(
                if len < f.bytes {
                    "truncated"
                } else {
                    "altered"
                },
                format!(
                    "{} has {len} bytes where the manifest says {}: the backup is {}",
                    f.path,
                    f.bytes,
                    if len < f.bytes {
                        "truncated"
                    } else {
                        "altered"
                    }
                ),
            ));
        }
        if sum != f.sha256 {
            return Err(OpsError::refused(
                "altered",
                format!(
                    "{} was altered in the backup (its SHA-256 differs from the manifest's)",
                    f.path
                ),
            ));
        }
        files += 1;
        bytes += len;
    }
    Ok(CheckReport {
        files,
        bytes,
        manifest,
    })
}

/// Compares the live journal with the heads a backup recorded: the entry at each recorded
/// head must still have the recorded hash. A chain rewritten as a whole (an entry changed and
/// every hash after it recomputed) passes `liasse verify`, which only checks that the chain
/// holds together, but not this: the backup, kept elsewhere, anchors the chain as it was.
/// Returns one line per tenant whose journal differs.
pub async fn live_journal(app: &liasse_app::App, manifest: &Manifest) -> Result<Vec<String>> {
    let mut faults = Vec::new();
    for t in &manifest.tenants {
        if t.journal_seq == 0 {
            continue;
        }
        match liasse_store::snapshot::journal_hash_at(&app.db, &t.id, t.journal_seq).await? {
            Some(h) if h == t.journal_hash => {}
            Some(_) => faults.push(format!(
                "tenant {}: journal entry {} is not the one the backup of {} recorded: the journal was rewritten since",
                t.slug, t.journal_seq, manifest.taken_at_text
            )),
            None => faults.push(format!(
                "tenant {}: journal entry {} recorded by the backup of {} is missing: the journal was cut since",
                t.slug, t.journal_seq, manifest.taken_at_text
            )),
        }
    }
    Ok(faults)
}
