//! The blob store: encrypted document versions as opaque objects, on a local directory or
//! any S3-compatible endpoint.
//!
//! Object names are `{tenant id}/{version id}` and never contain anything a client sent.
//! A blob becomes visible only once it is complete (object_store stages local writes in a
//! temporary file and renames; S3 shows an object only after its PUT or multipart completes),
//! and on the local directory we fsync the file and its directories before returning, because
//! object_store does not.

use std::path::{Path as FsPath, PathBuf};
use std::sync::Arc;

use bytes::Bytes;
use futures::stream::BoxStream;
use futures::{StreamExt, TryStreamExt};
use object_store::aws::AmazonS3Builder;
use object_store::local::LocalFileSystem;
use object_store::path::Path;
use object_store::{GetResultPayload, ObjectStore, PutPayload, WriteMultipart};

use crate::error::{Result, StoreError};

/// Objects up to this size are written with one PUT; larger ones stream as multipart uploads,
/// so memory stays bounded whatever the file size.
const SINGLE_PUT_LIMIT: usize = 8 * 1024 * 1024;
const PART_SIZE: usize = 8 * 1024 * 1024;
/// Bytes read per blocking call when a local object is streamed. object_store's own stream
/// reads 8 KiB per call, each on a blocking thread, which made downloads cost more in thread
/// hand-offs than in decryption.
const LOCAL_READ_CHUNK: usize = 1024 * 1024;

/// An object opened for reading: on the local directory, the file itself (read it with
/// blocking calls, in chunks of the caller's choosing); elsewhere, the store's stream.
pub enum BlobReader {
    File(std::fs::File),
    Stream(BoxStream<'static, Result<Bytes>>),
}

impl BlobReader {
    /// The object as a stream of chunks (about 1 MiB each from a local file).
    pub fn into_stream(self) -> BoxStream<'static, Result<Bytes>> {
        match self {
            BlobReader::Stream(s) => s,
            BlobReader::File(file) => futures::stream::try_unfold(file, |file| async move {
                let (file, buf) = tokio::task::spawn_blocking(move || {
                    let mut file = file;
                    let mut buf = Vec::with_capacity(LOCAL_READ_CHUNK);
                    read_up_to(&mut file, &mut buf, LOCAL_READ_CHUNK)?;
                    Ok::<_, std::io::Error>((file, buf))
                })
                .await
                .map_err(|e| StoreError::Io(std::io::Error::other(e)))??;
                if buf.is_empty() {
                    return Ok(None);
                }
                Ok(Some((Bytes::from(buf), file)))
            })
            .boxed(),
        }
    }
}

/// Appends up to `limit` bytes of `file` to `buf`, fewer only at the end of the file.
pub fn read_up_to(
    file: &mut std::fs::File,
    buf: &mut Vec<u8>,
    limit: usize,
) -> std::io::Result<()> {
    use std::io::Read;
    file.take(limit as u64).read_to_end(buf)?;
    Ok(())
}

/// S3 connection settings; the secret comes from configuration, never from the URL.
#[derive(Clone, Debug, Default)]
pub struct S3Options {
    pub endpoint: Option<String>,
    pub region: Option<String>,
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<String>,
}

#[derive(Clone)]
pub struct BlobStore {
    inner: Arc<dyn ObjectStore>,
    local_root: Option<PathBuf>,
    description: String,
    /// Local directories whose own name is known to be on the disk, by device and inode.
    durable_dirs: Arc<std::sync::Mutex<std::collections::HashMap<PathBuf, (u64, u64)>>>,
}

impl std::fmt::Debug for BlobStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.description)
    }
}

impl BlobStore {
    /// Opens `url`: `s3://bucket[/prefix]` with `s3` options, `file:///dir` or a plain path.
    pub fn open(url: &str, s3: &S3Options) -> Result<Self> {
        if let Some(rest) = url.strip_prefix("s3://") {
            let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
            if bucket.is_empty() {
                return Err(StoreError::Config(
                    "s3 URL needs a bucket: s3://BUCKET".into(),
                ));
            }
            let mut b = AmazonS3Builder::new()
                .with_bucket_name(bucket)
                .with_region(s3.region.clone().unwrap_or_else(|| "us-east-1".into()))
                .with_virtual_hosted_style_request(false);
            if let Some(ep) = &s3.endpoint {
                b = b
                    .with_endpoint(ep)
                    .with_allow_http(ep.starts_with("http://"));
            }
            if let Some(k) = &s3.access_key_id {
                b = b.with_access_key_id(k);
            }
            if let Some(s) = &s3.secret_access_key {
                b = b.with_secret_access_key(s);
            }
            let store: Arc<dyn ObjectStore> = Arc::new(b.build()?);
            let store: Arc<dyn ObjectStore> = if prefix.trim_matches('/').is_empty() {
                store
            } else {
                Arc::new(object_store::prefix::PrefixStore::new(
                    store,
                    prefix.trim_matches('/'),
                ))
            };
            return Ok(BlobStore {
                inner: store,
                local_root: None,
                description: format!("s3://{bucket}/{}", prefix.trim_matches('/')),
                durable_dirs: Arc::default(),
            });
        }
        let dir = url.strip_prefix("file://").unwrap_or(url);
        Self::local(FsPath::new(dir))
    }

    /// A store on a local directory, created if missing.
    pub fn local(dir: &FsPath) -> Result<Self> {
        std::fs::create_dir_all(dir)?;
        let root = dir.canonicalize()?;
        Ok(BlobStore {
            inner: Arc::new(LocalFileSystem::new_with_prefix(&root)?),
            description: format!("file://{}", root.display()),
            local_root: Some(root),
            durable_dirs: Arc::default(),
        })
    }

    pub fn description(&self) -> &str {
        &self.description
    }

    pub fn key(tenant_id: &str, version_id: &str) -> String {
        format!("{tenant_id}/{version_id}")
    }

    /// Starts writing an object; nothing is visible until [`BlobWriter::finish`] returns.
    pub fn writer(&self, key: &str) -> BlobWriter {
        BlobWriter {
            store: self.clone(),
            path: Path::from(key),
            buf: Vec::new(),
            multipart: None,
            written: 0,
        }
    }

    /// Writes a whole object at once (small objects, tests).
    pub async fn put(&self, key: &str, data: Bytes) -> Result<()> {
        let mut w = self.writer(key);
        w.write(&data).await?;
        w.finish().await
    }

    /// Streams an object's bytes.
    pub async fn get_stream(&self, key: &str) -> Result<BoxStream<'static, Result<Bytes>>> {
        Ok(self.open_read(key).await?.into_stream())
    }

    /// Opens an object for reading (see [`BlobReader`]).
    pub async fn open_read(&self, key: &str) -> Result<BlobReader> {
        let got = self.inner.get(&Path::from(key)).await.map_err(not_found)?;
        let whole = got.range.start == 0 && got.range.end == got.meta.size;
        match got.payload {
            // A fresh handle on the whole object, positioned at its start.
            GetResultPayload::File(file, _) if whole => Ok(BlobReader::File(file)),
            payload => Ok(BlobReader::Stream(
                object_store::GetResult { payload, ..got }
                    .into_stream()
                    .map_err(StoreError::from)
                    .boxed(),
            )),
        }
    }

    pub async fn get_all(&self, key: &str) -> Result<Bytes> {
        let got = self.inner.get(&Path::from(key)).await.map_err(not_found)?;
        Ok(got.bytes().await?)
    }

    pub async fn exists(&self, key: &str) -> Result<bool> {
        match self.inner.head(&Path::from(key)).await {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// Deletes an object; deleting a missing object is not an error.
    pub async fn delete(&self, key: &str) -> Result<()> {
        match self.inner.delete(&Path::from(key)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
            Err(e) => return Err(e.into()),
        }
        if let Some(parent) = self
            .local_root
            .as_ref()
            .and_then(|root| root.join(key).parent().map(|p| p.to_path_buf()))
        {
            sync_dir(&parent).await?;
        }
        Ok(())
    }

    /// Every object name in the store.
    pub fn list(&self) -> BoxStream<'static, Result<String>> {
        self.inner
            .list(None)
            .map_ok(|m| m.location.to_string())
            .map_err(StoreError::from)
            .boxed()
    }

    /// Every object name with its last modification time (milliseconds since the epoch, by
    /// the store's clock).
    pub fn list_meta(&self) -> BoxStream<'static, Result<(String, i64)>> {
        self.inner
            .list(None)
            .map_ok(|m| (m.location.to_string(), m.last_modified.timestamp_millis()))
            .map_err(StoreError::from)
            .boxed()
    }

    /// Partial objects of the local directory: the staging files (`NAME#N`) in which
    /// object_store writes a blob before renaming it into place. One outlives its write only
    /// when the process died during it; listings never show them. Returns each one's path
    /// relative to the root and its modification time (milliseconds since the epoch). Always
    /// empty on S3, where an unfinished upload is invisible (and expires by the bucket's
    /// lifecycle rule for incomplete multipart uploads).
    pub async fn partial_uploads(&self) -> Result<Vec<(String, i64)>> {
        let Some(root) = self.local_root.clone() else {
            return Ok(Vec::new());
        };
        tokio::task::spawn_blocking(move || {
            let mut found = Vec::new();
            let mut dirs = vec![root.clone()];
            while let Some(dir) = dirs.pop() {
                let entries = match std::fs::read_dir(&dir) {
                    Ok(e) => e,
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                    Err(e) => return Err(e),
                };
                for entry in entries {
                    let entry = entry?;
                    let ty = entry.file_type()?;
                    if ty.is_dir() {
                        dirs.push(entry.path());
                    } else if entry.file_name().to_string_lossy().contains('#') {
                        let modified = entry
                            .metadata()?
                            .modified()
                            .ok()
                            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                            .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
                        if let Ok(rel) = entry.path().strip_prefix(&root) {
                            found.push((rel.to_string_lossy().into_owned(), modified));
                        }
                    }
                }
            }
            found.sort();
            Ok(found)
        })
        .await
        .map_err(|e| StoreError::Io(std::io::Error::other(e)))?
        .map_err(StoreError::from)
    }

    /// Removes a partial object found by [`BlobStore::partial_uploads`].
    pub async fn remove_partial(&self, name: &str) -> Result<()> {
        let Some(root) = &self.local_root else {
            return Ok(());
        };
        if !name.contains('#')
            || FsPath::new(name)
                .components()
                .any(|c| !matches!(c, std::path::Component::Normal(_)))
        {
            return Err(StoreError::Config(format!("not a partial upload: {name}")));
        }
        let file = root.join(name);
        match tokio::fs::remove_file(&file).await {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e.into()),
        }
        if let Some(parent) = file.parent() {
            sync_dir(parent).await?;
        }
        Ok(())
    }

    /// Checks that the store answers (for `/readyz`).
    pub async fn ping(&self) -> Result<()> {
        match self.inner.head(&Path::from("readyz-probe")).await {
            Ok(_) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Flushes a new local object to the disk: its content, its name in its directory, and
    /// the names of the directories above it up to the root. A directory's own name is
    /// flushed once (when first seen, or when it was recreated since) rather than with every
    /// object, so each new object costs two fsyncs (file, directory) instead of one per level.
    async fn make_durable(&self, path: &Path) -> Result<()> {
        let Some(root) = self.local_root.clone() else {
            return Ok(());
        };
        let file = root.join(path.as_ref());
        let this = self.clone();
        tokio::task::spawn_blocking(move || {
            std::fs::File::open(&file)?.sync_all()?;
            this.sync_names(&root, &file)
        })
        .await
        .map_err(|e| StoreError::Io(std::io::Error::other(e)))??;
        Ok(())
    }

    /// Flushes the name of `file` (whose content is on the disk already) in its directory,
    /// and the directories above it that were not flushed yet (blocking).
    pub(crate) fn sync_names(&self, root: &FsPath, file: &FsPath) -> std::io::Result<()> {
        let Some(parent) = file.parent() else {
            return Ok(());
        };
        fsync_dir(parent)?;
        let known = &self.durable_dirs;
        let mut dir = parent;
        while dir != root {
            let Some(above) = dir.parent() else { break };
            let id = dir_id(dir)?;
            let seen = known
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .get(dir)
                == Some(&id);
            if seen {
                break;
            }
            fsync_dir(above)?;
            known
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .insert(dir.to_path_buf(), id);
            dir = above;
        }
        Ok(())
    }

    /// The local directory's root, if the store is one.
    pub(crate) fn local_root(&self) -> Option<&FsPath> {
        self.local_root.as_deref()
    }
}

fn fsync_dir(dir: &FsPath) -> std::io::Result<()> {
    std::fs::File::open(dir)?.sync_all()
}

/// Identifies a directory (device and inode), so that one removed and recreated under the same
/// name is flushed again.
fn dir_id(dir: &FsPath) -> std::io::Result<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    let m = std::fs::metadata(dir)?;
    Ok((m.dev(), m.ino()))
}

async fn sync_dir(dir: &FsPath) -> Result<()> {
    let d = dir.to_path_buf();
    tokio::task::spawn_blocking(move || match std::fs::File::open(&d) {
        Ok(f) => f.sync_all(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    })
    .await
    .map_err(|e| StoreError::Io(std::io::Error::other(e)))??;
    Ok(())
}

fn not_found(e: object_store::Error) -> StoreError {
    match e {
        object_store::Error::NotFound { .. } => StoreError::NotFound,
        e => e.into(),
    }
}

/// Writes one object in bounded memory: small objects in one PUT, large ones as a multipart
/// upload. Dropping a writer without `finish` leaves nothing visible; call `abort` to also
/// release the parts already sent.
pub struct BlobWriter {
    store: BlobStore,
    path: Path,
    buf: Vec<u8>,
    multipart: Option<WriteMultipart>,
    written: u64,
}

impl BlobWriter {
    pub async fn write(&mut self, data: &[u8]) -> Result<()> {
        self.written += data.len() as u64;
        if let Some(mp) = &mut self.multipart {
            mp.wait_for_capacity(4).await?;
            mp.write(data);
            return Ok(());
        }
        self.buf.extend_from_slice(data);
        if self.buf.len() > SINGLE_PUT_LIMIT {
            let upload = self.store.inner.put_multipart(&self.path).await?;
            let mut mp = WriteMultipart::new_with_chunk_size(upload, PART_SIZE);
            mp.write(&std::mem::take(&mut self.buf));
            self.multipart = Some(mp);
        }
        Ok(())
    }

    pub fn written(&self) -> u64 {
        self.written
    }

    /// Completes the object and makes it durable; only then may the caller commit the row
    /// that refers to it. On failure (a full disk, an unreachable store) nothing is left
    /// behind: no partial object, no object that is not known to be durable.
    pub async fn finish(self) -> Result<()> {
        let BlobWriter {
            store,
            path,
            buf,
            multipart,
            ..
        } = self;
        match multipart {
            Some(mp) => {
                // WriteMultipart aborts the upload itself when the completion fails, but not
                // when a part fails.
                let mut mp = mp;
                if let Err(e) = mp.wait_for_capacity(0).await {
                    let _ = mp.abort().await;
                    return Err(e.into());
                }
                mp.finish().await?;
            }
            None => {
                store
                    .inner
                    .put(&path, PutPayload::from(Bytes::from(buf)))
                    .await?;
            }
        }
        if let Err(e) = store.make_durable(&path).await {
            // Visible but maybe not durable: the caller will not commit a row for it.
            let _ = store.inner.delete(&path).await;
            return Err(e);
        }
        Ok(())
    }

    /// Gives up the object: the parts already sent (multipart upload, staging file) are
    /// released. Nothing was visible yet.
    pub async fn abort(self) -> Result<()> {
        if let Some(mp) = self.multipart {
            mp.abort().await?;
        }
        Ok(())
    }
}
