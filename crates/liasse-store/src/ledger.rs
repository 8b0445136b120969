//! The deletion ledger: an append-only file, one JSON line per destroyed document, written and
//! flushed to disk before the transaction that destroys the document's keys commits.
//!
//! A database backup taken before a deletion still holds the wrapped keys of the deleted
//! document. The ledger is what a restore replays to destroy them again (see
//! `docs/backups.md`). It lives in the data directory beside the key file, never in the
//! database: a restore brings back an old database, but the ledger that outlived the server
//! (kept and copied like the key file) knows about the deletions made since.
//!
//! Lines hold identifiers and times only (no title, no file name, no content). A line torn by
//! a crash during its write is skipped when read; the document it named was not destroyed
//! either, since the ledger is flushed before the destroying commit.

use std::collections::BTreeSet;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::error::{Result, StoreError};

/// The file name of the ledger in the data directory.
pub const FILE_NAME: &str = "deletions.jsonl";

/// One destroyed document.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deletion {
    /// Format of the line.
    pub v: u32,
    /// When it was destroyed (milliseconds since the epoch, the application's clock).
    pub at: i64,
    pub tenant: String,
    pub document: String,
    /// The owner of the document, whose journal says it was destroyed again after a restore.
    pub citizen: String,
    /// The journal action that destroyed it: `document.delete`, `document.dispose`...
    pub reason: String,
}

impl Deletion {
    pub fn new(at: i64, tenant: &str, document: &str, citizen: &str, reason: &str) -> Self {
        Deletion {
            v: 1,
            at,
            tenant: tenant.into(),
            document: document.into(),
            citizen: citizen.into(),
            reason: reason.into(),
        }
    }
}

/// The ledger file of one data directory. Appends from several tasks (and from a command
/// running beside the server) never interleave: each line is one `write` on a file opened
/// with `O_APPEND`.
#[derive(Clone, Debug)]
pub struct Ledger {
    path: Arc<PathBuf>,
}

impl Ledger {
    pub fn at(path: PathBuf) -> Self {
        Ledger {
            path: Arc::new(path),
        }
    }

    /// The ledger of a data directory.
    pub fn in_dir(dir: &Path) -> Self {
        Ledger::at(dir.join(FILE_NAME))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends one line and flushes it (and, when the file is new, its directory entry) to
    /// the disk. Only once this returns may the destroying transaction commit.
    pub async fn record(&self, d: &Deletion) -> Result<()> {
        // A newline first as well: a line torn by a crash then never swallows the next one.
        let mut line = vec![b'\n'];
        serde_json::to_writer(&mut line, d)
            .map_err(|e| StoreError::Corrupt(format!("ledger line: {e}")))?;
        line.push(b'\n');
        let path = self.path.clone();
        tokio::task::spawn_blocking(move || append(&path, &line))
            .await
            .map_err(|e| StoreError::Io(std::io::Error::other(e)))??;
        Ok(())
    }

    /// Every complete line, oldest first; a missing file is an empty ledger.
    pub fn read(&self) -> Result<Vec<Deletion>> {
        read_file(&self.path)
    }
}

fn append(path: &Path, line: &[u8]) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let existed = path.exists();
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(line)?;
    file.sync_data()?;
    if !existed && let Some(dir) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::File::open(dir)?.sync_all()?;
    }
    Ok(())
}

/// Reads a ledger file (the data directory's, or a copy kept elsewhere).
pub fn read_file(path: &Path) -> Result<Vec<Deletion>> {
    let file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e.into()),
    };
    let mut out = Vec::new();
    for (n, line) in std::io::BufReader::new(file).split(b'\n').enumerate() {
        let line = line?;
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        match serde_json::from_slice::<Deletion>(&line) {
            Ok(d) => out.push(d),
            Err(e) => tracing::warn!(
                ledger = %path.display(),
                line = n + 1,
                error = %e,
                "skipping an unreadable line of the deletion ledger (torn by a crash?)"
            ),
        }
    }
    Ok(out)
}

/// The union of several ledgers, one entry per document (the earliest), in time order.
pub fn merge(ledgers: impl IntoIterator<Item = Vec<Deletion>>) -> Vec<Deletion> {
    let mut all: Vec<Deletion> = ledgers.into_iter().flatten().collect();
    all.sort_by(|a, b| (a.at, &a.tenant, &a.document).cmp(&(b.at, &b.tenant, &b.document)));
    let mut seen = BTreeSet::new();
    all.retain(|d| seen.insert((d.tenant.clone(), d.document.clone())));
    all
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    #[tokio::test]
    async fn appends_reads_and_skips_a_torn_line() {
        let dir = tempfile::tempdir().unwrap();
        let ledger = Ledger::in_dir(dir.path());
        assert!(ledger.read().unwrap().is_empty());
        let a = Deletion::new(1, "t", "d1", "c", "document.delete");
        let b = Deletion::new(2, "t", "d2", "c", "document.dispose");
        ledger.record(&a).await.unwrap();
        ledger.record(&b).await.unwrap();
        // A crash in the middle of a third line.
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(ledger.path())
            .unwrap();
        f.write_all(b"{\"v\":1,\"at\":3,\"ten").unwrap();
        let c = Deletion::new(4, "t", "d3", "c", "document.delete");
        ledger.record(&c).await.unwrap();
        assert_eq!(ledger.read().unwrap(), vec![a.clone(), b.clone(), c]);
        let merged = merge([vec![b.clone()], vec![a.clone(), b.clone()]]);
        assert_eq!(merged, vec![a, b]);
    }
}
