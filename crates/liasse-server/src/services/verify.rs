//! `liasse verify`: recompute every journal chain, decrypt every stored blob and compare its
//! fingerprint, and list orphan and missing blobs.

use std::collections::HashSet;

use futures::TryStreamExt;
use liasse_domain::journal::ChainChecker;
use liasse_store::{documents, journal, tenants};
use serde::Serialize;

use crate::app::App;
use crate::error::Result;
use crate::progress::Progress;
use crate::services::documents::fingerprint;

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

/// Runs every check. With `repair`, orphan blobs (no live version refers to them) are
/// removed and reported as such; nothing else is ever changed.
pub async fn run(app: &App, repair: bool) -> Result<Report> {
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
        let mut after = 0;
        loop {
            let page = journal::page(&app.db, &t.id, after, PAGE).await?;
            let Some(last) = page.last() else { break };
            after = last.seq;
            for e in &page {
                checker.check(e);
            }
            report.journal_entries += page.len() as u64;
            progress.inc(page.len() as u64);
        }
        let head = journal::head(&app.db, &t.id).await?;
        for f in checker.finish(head) {
            report.journal_faults.push(format!(
                "tenant {} ({}), entry {}: {}",
                t.slug, f.tenant_id, f.seq, f.problem
            ));
        }
    }
    progress.finish();

    let mut stored: HashSet<String> = app.blobs.list().try_collect().await?;
    let mut progress = Progress::new("blobs", documents::count_versions(&app.db).await? as u64);
    let mut after = String::new();
    loop {
        let page = documents::all_versions_page(&app.db, &after, PAGE).await?;
        let Some(last) = page.last() else { break };
        after = last.id.clone();
        for v in &page {
            progress.inc(1);
            if v.destroyed_at.is_some() {
                continue;
            }
            let present = stored.remove(&v.blob_key);
            let label = format!(
                "{} (document {} version {})",
                v.blob_key, v.document_id, v.version
            );
            if !present {
                report.missing_blobs.push(label);
                continue;
            }
            report.versions_checked += 1;
            match fingerprint(app, v).await {
                Ok(sum) if sum == v.sha256 => {}
                Ok(_) => report
                    .corrupt_blobs
                    .push(format!("{label}: fingerprint differs")),
                Err(e) => report.corrupt_blobs.push(format!("{label}: {e}")),
            }
        }
    }
    progress.finish();

    let mut orphans: Vec<String> = stored.into_iter().collect();
    orphans.sort();
    for key in orphans {
        // A blob whose row commits right now would look orphaned: check again before acting.
        if documents::blob_referenced(&app.db, &key).await? {
            continue;
        }
        if repair {
            app.blobs.delete(&key).await?;
            report.removed_orphans.push(key);
        } else {
            report.orphan_blobs.push(key);
        }
    }
    Ok(report)
}
