//! A blob being received: the ciphertext of an upload, written as it arrives, kept until the
//! upload is inspected, then published as the blob (or discarded).
//!
//! On a local directory the spool is the blob's own staging file, `{tenant}/{version}#0`
//! beside where the blob will be: publishing it is an fsync, a rename and a directory fsync,
//! so each blob is written once. The name is one of object_store's staging names (`#` and
//! digits; its own start at 1), so listings never show it and `verify` removes one that a
//! crash left behind. On S3 the spool is an
//! unnamed temporary file (gone with the process), sent as one PUT or one multipart upload.
//!
//! Only ciphertext is ever given to a spool: the caller encrypts first.

use std::os::unix::fs::FileExt;
use std::path::{Path as FsPath, PathBuf};
use std::sync::Arc;

use object_store::path::Path;
use tokio::task::JoinHandle;

use crate::blobs::BlobStore;
use crate::error::{Result, StoreError};

/// Bytes read per step when a spool is sent to S3.
const UPLOAD_CHUNK: usize = 1024 * 1024;

pub struct BlobSpool {
    store: BlobStore,
    key: String,
    file: Arc<std::fs::File>,
    /// The local staging file, removed unless published.
    staged: Option<PathBuf>,
    written: u64,
    /// The write in flight, which gives its buffer back for reuse.
    pending: Option<JoinHandle<std::io::Result<Vec<u8>>>>,
}

fn join_error(e: tokio::task::JoinError) -> StoreError {
    StoreError::Io(std::io::Error::other(e))
}

impl BlobStore {
    /// Starts receiving the object `key`; `spool_dir` holds the temporary file when the store
    /// is not a local directory.
    pub fn spool(&self, key: &str, spool_dir: &FsPath) -> Result<BlobSpool> {
        let (file, staged) = match self.local_root() {
            Some(root) => {
                let path = root.join(Path::from(key).as_ref());
                let name = path
                    .file_name()
                    .map(|n| format!("{}#0", n.to_string_lossy()))
                    .ok_or_else(|| StoreError::Config(format!("bad blob key {key}")))?;
                let staged = path.with_file_name(name);
                if let Some(parent) = staged.parent() {
                    std::fs::create_dir_all(parent)?;
                }
                let file = std::fs::OpenOptions::new()
                    .read(true)
                    .write(true)
                    .create_new(true)
                    .open(&staged)?;
                (file, Some(staged))
            }
            None => (tempfile::tempfile_in(spool_dir)?, None),
        };
        Ok(BlobSpool {
            store: self.clone(),
            key: key.to_string(),
            file: Arc::new(file),
            staged,
            written: 0,
            pending: None,
        })
    }
}

impl BlobSpool {
    pub fn key(&self) -> &str {
        &self.key
    }

    /// Bytes handed to [`BlobSpool::write`] so far.
    pub fn written(&self) -> u64 {
        self.written
    }

    /// Appends `data` in the background and returns a buffer to fill next (the one of the
    /// previous write, emptied): one write is in flight while the caller gathers the next.
    pub async fn write(&mut self, data: Vec<u8>) -> Result<Vec<u8>> {
        let back = self.wait().await?;
        let file = self.file.clone();
        let at = self.written;
        self.written += data.len() as u64;
        self.pending = Some(tokio::task::spawn_blocking(move || {
            file.write_all_at(&data, at)?;
            Ok(data)
        }));
        Ok(back.unwrap_or_default())
    }

    /// Waits for the write in flight; returns its buffer, emptied.
    async fn wait(&mut self) -> Result<Option<Vec<u8>>> {
        match self.pending.take() {
            None => Ok(None),
            Some(handle) => {
                let mut buf = handle.await.map_err(join_error)??;
                buf.clear();
                Ok(Some(buf))
            }
        }
    }

    /// Waits until everything written is in the file.
    pub async fn flush(&mut self) -> Result<()> {
        self.wait().await.map(drop)
    }

    /// A reader of what was written, with its own position (reads do not move the writer).
    pub fn reader(&self) -> SpoolRead {
        SpoolRead {
            file: self.file.clone(),
            pos: 0,
        }
    }

    /// Makes the spool the blob, durable: only then may the caller commit a row naming it.
    /// On failure nothing is left behind.
    pub async fn publish(mut self) -> Result<()> {
        self.flush().await?;
        let Some(staged) = self.staged.clone() else {
            return self.upload().await;
        };
        let Some(root) = self.store.local_root().map(FsPath::to_path_buf) else {
            return Err(StoreError::Config(
                "local spool without a local store".into(),
            ));
        };
        let target = root.join(Path::from(self.key.as_str()).as_ref());
        let file = self.file.clone();
        let store = self.store.clone();
        let published = tokio::task::spawn_blocking(move || {
            file.sync_all()?;
            std::fs::rename(&staged, &target)?;
            if let Err(e) = store.sync_names(&root, &target) {
                // Visible but not known to be durable: the caller will not commit its row.
                let _ = std::fs::remove_file(&target);
                return Err(e);
            }
            Ok(())
        })
        .await
        .map_err(join_error)?;
        // Renamed (or failed before): the staging name is gone either way, or Drop removes it.
        if published.is_ok() {
            self.staged = None;
        }
        published.map_err(StoreError::from)
    }

    /// Sends the spool to the object store (one PUT, or a multipart upload when large).
    async fn upload(&mut self) -> Result<()> {
        let mut writer = self.store.writer(&self.key);
        let mut at = 0u64;
        let total = self.written;
        let sent = async {
            let mut buf = Vec::new();
            while at < total {
                let file = self.file.clone();
                let n = usize::try_from(total - at).map_or(UPLOAD_CHUNK, |n| n.min(UPLOAD_CHUNK));
                buf = tokio::task::spawn_blocking(move || {
                    buf.resize(n, 0);
                    file.read_exact_at(&mut buf, at)?;
                    Ok::<_, std::io::Error>(buf)
                })
                .await
                .map_err(join_error)??;
                writer.write(&buf).await?;
                at += n as u64;
            }
            Ok::<_, StoreError>(())
        }
        .await;
        match sent {
            Ok(()) => writer.finish().await,
            Err(e) => {
                let _ = writer.abort().await;
                Err(e)
            }
        }
    }

    /// Gives the upload up: nothing of it stays (the staging file is removed).
    pub async fn discard(mut self) {
        let _ = self.flush().await;
        if let Some(staged) = self.staged.take() {
            let _ = tokio::task::spawn_blocking(move || std::fs::remove_file(staged)).await;
        }
    }
}

impl Drop for BlobSpool {
    /// A spool dropped unpublished (a refused upload, a cut connection) leaves nothing: its
    /// staging file is removed; an unnamed temporary file goes with its last handle.
    fn drop(&mut self) {
        if let Some(staged) = self.staged.take() {
            let _ = std::fs::remove_file(staged);
        }
    }
}

/// Reads a spool's bytes from its own position (positional reads on the shared file).
pub struct SpoolRead {
    file: Arc<std::fs::File>,
    pos: u64,
}

impl std::io::Read for SpoolRead {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.file.read_at(buf, self.pos)?;
        self.pos += n as u64;
        Ok(n)
    }
}

impl std::io::Seek for SpoolRead {
    fn seek(&mut self, to: std::io::SeekFrom) -> std::io::Result<u64> {
        let target = match to {
            std::io::SeekFrom::Start(n) => Some(n),
            std::io::SeekFrom::End(d) => self.file.metadata()?.len().checked_add_signed(d),
            std::io::SeekFrom::Current(d) => self.pos.checked_add_signed(d),
        };
        self.pos = target.ok_or_else(|| {
            std::io::Error::new(std::io::ErrorKind::InvalidInput, "seek before the start")
        })?;
        Ok(self.pos)
    }
}
