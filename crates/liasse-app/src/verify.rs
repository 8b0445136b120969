//! `liasse verify`: recompute every journal chain, decrypt every stored blob and compare its
//! keyed fingerprint, and list orphan and missing blobs. Also the conversion of fingerprints
//! stored by older releases as plain SHA-256 (see `liasse_crypto::digest`).

use std::collections::HashMap;
use std::time::Duration;

use futures::{StreamExt, TryStreamExt};
use liasse_domain::journal::ChainChecker;
use liasse_store::documents::VersionRow;
use liasse_store::{documents, journal, tenants};
use serde::Serialize;

use crate::app::App;
use crate::documents::fingerprint;
use crate::error::Result;
use crate::progress::Progress;

#[derive(Debug, Default, Serialize)]
pub struct Report {
    pub tenants: usize,
    pub journal_entries: u64,
    pub journal_faults: Vec<String>,
    pub versions_checked: u64,
    pub corrupt_blobs: Vec<String>,
    pub missing_blobs: Vec<String>,
    pub orphan_blobs: Vec<String>,
    pub removed_orphans: Vec<String>,
    /// Unreferenced blobs (and partial uploads) younger than the minimum orphan age: they may
    /// belong to an upload whose row is about to commit, so they are neither faults nor removed.
    pub recent_unreferenced: Vec<String>,
}

impl Report {
    pub fn is_clean(&self) -> bool {
        self.journal_faults.is_empty()
            && self.corrupt_blobs.is_empty()
            && self.missing_blobs.is_empty()
            && self.orphan_blobs.is_empty()
    }
}

const PAGE: i64 = 1000;
const CONCURRENT_CHECKS: usize = 8;

enum Checked {
    Intact,
    Missing,
    Corrupt(String),
    /// Deleted while we read (its blob removed with its key): not a fault.
    Deleted,
}

/// Decrypts one live version and compares its fingerprint. `listed`: the blob was in the
/// listing taken at the start; if not, it may have been written since, by an upload that
/// committed meanwhile, so its absence is checked directly.
async fn check_version(app: &App, v: &VersionRow, listed: bool) -> Result<Checked> {
    let present = listed || app.blobs.exists(&v.blob_key).await?;
    let fault = if !present {
        Checked::Missing
    } else {
        match fingerprint(app, v).await {
            Ok(sum) if sum == v.digest => return Ok(Checked::Intact),
            Ok(_) => Checked::Corrupt("fingerprint differs".into()),
            Err(e) => Checked::Corrupt(e.to_string()),
        }
    };
    if !documents::blob_referenced(&app.db, &v.blob_key).await? {
        return Ok(Checked::Deleted);
    }
    Ok(fault)
}

/// Replaces every plain SHA-256 left in `document_versions` by its keyed digest, without
/// decrypting any content (the digest is a MAC over the SHA-256). Runs at every start and
/// `liasse migrate`; once done, it is one query that finds nothing. Concurrent runs (several
/// nodes starting) compute the same values, and an update applies only to the value it read.
/// Returns how many rows were converted.
pub async fn convert_legacy_digests(app: &App) -> Result<u64> {
    let mut converted = 0u64;
    let mut after = String::new();
    loop {
        let page = documents::legacy_digests_page(&app.db, &after, PAGE).await?;
        let Some(last) = page.last() else { break };
        after = last.id.clone();
        let mut tx = app.db.begin_write().await?;
        for v in &page {
            // A destroyed version has no key left to compute a digest with: its plain
            // SHA-256 is only a way to tell that someone held a known file, so it goes.
            let new = if v.wrapped_key.is_none() {
                Some(String::new())
            } else {
                match crate::documents::open_version(app, v) {
                    Ok(Some((key, _))) => key.digester().of_sha256_hex(&v.digest),
                    Ok(None) => Some(String::new()),
                    Err(e) => {
                        // Left as it is: `liasse verify` reports the version as corrupt.
                        tracing::warn!(version = %v.id, error = %e, "cannot convert a version's fingerprint");
                        None
                    }
                }
            };
            let Some(new) = new else { continue };
            if documents::set_digest(&mut tx, &v.id, &v.digest, &new).await? {
                converted += 1;
            }
        }
        tx.commit().await?;
    }
    if converted > 0 {
        tracing::info!(
            versions = converted,
            "converted plain SHA-256 fingerprints to keyed digests"
        );
    }
    Ok(converted)
}

/// What `liasse verify` may do.
#[derive(Clone, Copy, Debug)]
pub struct Options {
    /// Remove orphan blobs: objects no live document version refers to (a crashed upload's
    /// blob, a deleted document's blob whose removal failed) and, on a local directory,
    /// partial objects left by a write interrupted by a crash. Nothing else is ever changed:
    /// no row, no journal entry, no referenced blob (corrupt or not).
    pub repair: bool,
    /// An upload writes its blob before it commits the row that refers to it, so while a
    /// server runs a young unreferenced blob may be an upload in progress: below this age
    /// it is listed apart and never removed.
    pub min_orphan_age: Duration,
}

/// The default minimum age of an orphan for the command: far longer than an upload's window
/// between its blob and its row.
pub const DEFAULT_MIN_ORPHAN_AGE: Duration = Duration::from_secs(3600);

/// Runs every check with no minimum orphan age (nothing may be uploading: tests, or a
/// stopped server). With `repair`, orphan blobs are removed and reported as such.
pub async fn run(app: &App, repair: bool) -> Result<Report> {
    run_with(
        app,
        Options {
            repair,
            min_orphan_age: Duration::ZERO,
        },
    )
    .await
}

/// Runs every check; see [`Options`].
pub async fn run_with(app: &App, options: Options) -> Result<Report> {
    let repair = options.repair;
    let mut report = Report::default();
    let all_tenants = tenants::list(&app.db).await?;
    report.tenants = all_tenants.len();

    let mut total = 0;
    for t in &all_tenants {
        total += journal::count(&app.db, &t.id).await?;
    }
    let mut progress = Progress::new("journal", total as u64);
    for t in &all_tenants {
        let mut checker = ChainChecker::new(&t.id);
        // The head first: a running server appends while we read, and an entry is committed
        // with the head that names it, so the entries up to this head are a complete chain.
        let head = journal::head(&app.db, &t.id).await?;
        let upto = head.as_ref().map_or(i64::MAX, |(seq, _)| *seq);
        let mut after = 0;
        'pages: loop {
            let page = journal::page(&app.db, &t.id, after, PAGE).await?;
            let Some(last) = page.last() else { break };
            after = last.seq;
            for e in &page {
                if e.seq > upto {
                    break 'pages;
                }
                checker.check(e);
                report.journal_entries += 1;
                progress.inc(1);
            }
        }
        for f in checker.finish(head) {
            report.journal_faults.push(format!(
                "tenant {} ({}), entry {}: {}",
                t.slug, f.tenant_id, f.seq, f.problem
            ));
        }
    }
    progress.finish();

    // Taken before the versions are read: a blob written after this instant is not listed,
    // and one listed here whose row commits later is re-checked before it is called orphan.
    // The versions that exist now; those uploaded while we read are for the next run (ids
    // grow with time), else a busy server would keep us reading forever.
    let last_version = documents::max_version_id(&app.db).await?;
    let mut stored: HashMap<String, i64> = app.blobs.list_meta().try_collect().await?;
    let mut progress = Progress::new("blobs", documents::count_versions(&app.db).await? as u64);
    let mut after = String::new();
    'versions: while let Some(upto) = &last_version {
        let page = documents::all_versions_page(&app.db, &after, PAGE).await?;
        let Some(last) = page.last() else { break };
        after = last.id.clone();
        let mut todo = Vec::with_capacity(page.len());
        let mut done = false;
        for v in page {
            if &v.id > upto {
                done = true;
                break;
            }
            progress.inc(1);
            if v.destroyed_at.is_some() {
                continue;
            }
            let listed = stored.remove(&v.blob_key).is_some();
            todo.push((v, listed));
        }
        // Blobs are fetched and decrypted a few at a time: on S3 each one is a round trip.
        let mut checks = futures::stream::iter(todo)
            .map(|(v, listed)| async move {
                let outcome = check_version(app, &v, listed).await;
                (v, outcome)
            })
            .buffered(CONCURRENT_CHECKS);
        while let Some((v, outcome)) = checks.next().await {
            let label = format!(
                "{} (document {} version {})",
                v.blob_key, v.document_id, v.version
            );
            match outcome? {
                Checked::Deleted => {}
                Checked::Intact => report.versions_checked += 1,
                Checked::Missing => report.missing_blobs.push(label),
                Checked::Corrupt(why) => {
                    report.versions_checked += 1;
                    report.corrupt_blobs.push(format!("{label}: {why}"));
                }
            }
        }
        if done {
            break 'versions;
        }
    }
    progress.finish();

    // Blob times come from the store (a file's mtime, an object's LastModified): compare
    // them with the wall clock, not with the application's clock.
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
    let min_age_ms = i64::try_from(options.min_orphan_age.as_millis()).unwrap_or(i64::MAX);
    let is_recent = |modified: i64| now_ms.saturating_sub(modified) < min_age_ms;

    let mut orphans: Vec<(String, i64)> = stored.into_iter().collect();
    orphans.sort();
    for (key, modified) in orphans {
        // A blob whose row commits right now would look orphaned: check again before acting.
        if documents::blob_referenced(&app.db, &key).await? {
            continue;
        }
        if is_recent(modified) {
            report.recent_unreferenced.push(key);
        } else if repair {
            app.blobs.delete(&key).await?;
            report.removed_orphans.push(key);
        } else {
            report.orphan_blobs.push(key);
        }
    }
    // Staging files of writes that a crash interrupted (local directory only); a write in
    // progress has one too, hence the same age rule.
    for (name, modified) in app.blobs.partial_uploads().await? {
        if is_recent(modified) {
            report.recent_unreferenced.push(name);
        } else if repair {
            app.blobs.remove_partial(&name).await?;
            report.removed_orphans.push(name);
        } else {
            report.orphan_blobs.push(name);
        }
    }
    Ok(report)
}
