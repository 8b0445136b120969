//! `liasse restore --drill FROM`: the backup restored into a temporary directory, then
//! `verify` run on it and its counts and journal heads compared with the manifest, and a
//! one-page report; the temporary copy is removed at the end. Run it monthly (or from a
//! scheduled job): a backup that was never restored is a hope, not a backup.

use std::path::PathBuf;

use liasse_app::config::Config;
use liasse_app::verify;
use liasse_domain::clock::Clock;
use liasse_store::snapshot;
use serde::Serialize;

use crate::error::{OpsError, Result};
use crate::manifest::Manifest;
use crate::restore;

#[derive(Clone, Debug, Default)]
pub struct Options {
    pub from: PathBuf,
    /// The live instance's configuration: its key ring (read, never written) and its
    /// deletion ledger (replayed in the copy, to show what a real restore would destroy).
    pub live: Config,
    /// For a PostgreSQL backup: an empty scratch database to restore into.
    pub scratch_database_url: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct Report {
    pub backup_taken_at: String,
    pub tenants: usize,
    pub documents_expected: i64,
    pub documents_restored: i64,
    pub blobs: u64,
    pub destroyed_again: usize,
    pub versions_checked: u64,
    pub verify_clean: bool,
    pub verify_faults: Vec<String>,
    /// Problems found comparing the copy with the manifest (empty: it matches).
    pub mismatches: Vec<String>,
}

impl Report {
    pub fn passed(&self) -> bool {
        self.verify_clean && self.mismatches.is_empty()
    }

    /// The one-page report.
    pub fn lines(&self) -> Vec<String> {
        let mut l = vec![
            "Liasse restore drill".to_string(),
            format!("backup taken at:        {}", self.backup_taken_at),
            format!("tenants:                {}", self.tenants),
            format!(
                "documents:              {} restored of {} in the backup ({} destroyed again from the deletion ledger)",
                self.documents_restored, self.documents_expected, self.destroyed_again
            ),
            format!("blobs restored:         {}", self.blobs),
            format!(
                "versions decrypted:     {} (verify {})",
                self.versions_checked,
                if self.verify_clean { "clean" } else { "FAULTS" }
            ),
        ];
        for f in &self.verify_faults {
            l.push(format!("  verify: {f}"));
        }
        for m in &self.mismatches {
            l.push(format!("  mismatch: {m}"));
        }
        l.push(format!(
            "drill: {}",
            if self.passed() { "PASSED" } else { "FAILED" }
        ));
        l
    }
}

pub async fn run(opts: &Options) -> Result<Report> {
    let manifest = Manifest::read(&opts.from)?;
    let scratch = tempfile::Builder::new().prefix("liasse-drill-").tempdir()?;
    let database_url = match manifest.backend.as_str() {
        "postgres" => Some(opts.scratch_database_url.clone().ok_or_else(|| {
            OpsError::refused(
                "no-scratch-database",
                "a drill of a PostgreSQL backup needs an empty scratch database: --scratch-database-url postgres://...",
            )
        })?),
        _ => None,
    };
    let config = Config {
        data_dir: Some(scratch.path().to_path_buf()),
        database_url,
        key_file: Some(opts.live.key_file()),
        master_key: opts.live.master_key.clone(),
        master_key_file: opts.live.master_key_file.clone(),
        ..Config::default()
    };
    let live_ledger = opts.live.data_dir().join(liasse_store::ledger::FILE_NAME);
    let restore_opts = restore::Options {
        from: opts.from.clone(),
        ledgers: if live_ledger.is_file() {
            vec![live_ledger]
        } else {
            Vec::new()
        },
    };
    let (app, restored) = restore::run(&config, Clock::System, &restore_opts).await?;
    let verified = verify::run(&app, false).await?;
    let mut mismatches = Vec::new();
    let mut documents_restored = 0;
    let live_now = snapshot::facts(
        &mut *app
            .db
            .pool()
            .acquire()
            .await
            .map_err(liasse_store::StoreError::from)?,
    )
    .await?
    .0;
    for t in &manifest.tenants {
        let Some(now) = live_now.iter().find(|n| n.id == t.id) else {
            mismatches.push(format!("tenant {} is missing", t.slug));
            continue;
        };
        documents_restored += now.documents;
        let again = restored
            .destroyed_again
            .iter()
            .filter(|d| d.tenant == t.id)
            .count() as i64;
        if now.documents + again != t.documents {
            mismatches.push(format!(
                "tenant {}: {} documents restored and {again} destroyed again, the backup has {}",
                t.slug, now.documents, t.documents
            ));
        }
        if t.journal_seq > 0 {
            let hash = snapshot::journal_hash_at(&app.db, &t.id, t.journal_seq).await?;
            if hash.as_deref() != Some(t.journal_hash.as_str()) {
                mismatches.push(format!(
                    "tenant {}: journal entry {} does not have the head hash of the manifest",
                    t.slug, t.journal_seq
                ));
            }
        }
    }
    app.db.close().await;
    let verify_faults: Vec<String> = verified
        .journal_faults
        .iter()
        .chain(&verified.corrupt_blobs)
        .chain(&verified.missing_blobs)
        .chain(&verified.orphan_blobs)
        .cloned()
        .collect();
    Ok(Report {
        backup_taken_at: manifest.taken_at_text.clone(),
        tenants: manifest.tenants.len(),
        documents_expected: manifest.counts.documents,
        documents_restored,
        blobs: restored.blobs,
        destroyed_again: restored.destroyed_again.len(),
        versions_checked: verified.versions_checked,
        verify_clean: verified.is_clean(),
        verify_faults,
        mismatches,
    })
}
