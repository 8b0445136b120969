//! Receiving an upload in one pass: each chunk is counted against the size limit, hashed, and
//! encrypted with the new version's own data key before anything is written, into the spool
//! that becomes the version's blob (`liasse_store::spool`). No plaintext reaches a disk: what
//! needs the clear bytes afterwards (inspection, antivirus, page assembly) reads them back
//! through the decrypting reader, one segment at a time.
//!
//! The version's identity (tenant, document, version) is chosen here, because the blob's
//! segments are bound to it; a deposit takes the document id the spool chose. A spool dropped
//! without being published (a refusal, a cut connection) removes its ciphertext.

use liasse_crypto::{Binding, DataKey, DecryptingReader, Encryptor};
use liasse_domain::ids::new_id;
use liasse_store::{BlobSpool, BlobStore, SpoolRead};
use ring::digest::{Context, SHA256};

use crate::app::App;
use crate::error::{AppError, Result};

/// Ciphertext gathered before one write to the spool: the body arrives in pieces of a few
/// KiB, and each write is a hand-off to a blocking thread (one in flight while the next fills).
const WRITE_BUF: usize = 256 * 1024;

/// Whom a spooled version belongs to: its blob's segments are bound to these ids.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SpoolIds {
    pub tenant_id: String,
    pub document_id: String,
    pub version_id: String,
}

impl SpoolIds {
    pub fn binding(&self) -> Binding<'_> {
        Binding::new(&self.tenant_id, &self.document_id, &self.version_id)
    }
}

pub struct Spool {
    blob: BlobSpool,
    enc: Encryptor,
    key: DataKey,
    ids: SpoolIds,
    /// SHA-256 of the plaintext (ring's, in assembly: about twice as fast as `sha2` on CPUs
    /// without SHA-NI).
    hasher: Context,
    /// Ciphertext waiting for its write.
    out: Vec<u8>,
    size: u64,
    limit: u64,
}

/// A complete upload, encrypted in its spool, ready to be inspected and published.
pub struct Spooled {
    pub size: u64,
    pub sha256: String,
    pub(crate) key: DataKey,
    pub(crate) ids: SpoolIds,
    pub(crate) blob: BlobSpool,
}

impl Spool {
    /// Spools a new document's first version in `tenant_id`.
    pub fn new(app: &App, tenant_id: &str, limit: u64) -> Result<Self> {
        Self::for_document(app, tenant_id, &new_id(), limit)
    }

    /// Spools a new version of the document `document_id` (a replacement).
    pub fn for_document(app: &App, tenant_id: &str, document_id: &str, limit: u64) -> Result<Self> {
        let ids = SpoolIds {
            tenant_id: tenant_id.to_string(),
            document_id: document_id.to_string(),
            version_id: new_id(),
        };
        let key = DataKey::generate();
        let enc = Encryptor::new(&key, &ids.binding());
        let blob_key = BlobStore::key(&ids.tenant_id, &ids.version_id);
        let blob = app.blobs.spool(&blob_key, &app.spool_dir)?;
        let mut out = Vec::with_capacity(WRITE_BUF + liasse_crypto::SEGMENT_SIZE);
        out.extend_from_slice(&enc.header());
        Ok(Spool {
            blob,
            enc,
            key,
            ids,
            hasher: Context::new(&SHA256),
            out,
            size: 0,
            limit,
        })
    }

    /// Lowers the limit once the document type is known; fails at once if already exceeded.
    pub fn set_limit(&mut self, limit: u64) -> Result<()> {
        self.limit = self.limit.min(limit);
        if self.size > self.limit {
            return Err(AppError::TooLarge { limit: self.limit });
        }
        Ok(())
    }

    /// Takes a chunk; refuses as soon as the limit is passed, before reading further.
    pub async fn write(&mut self, chunk: &[u8]) -> Result<()> {
        self.size += chunk.len() as u64;
        if self.size > self.limit {
            return Err(AppError::TooLarge { limit: self.limit });
        }
        self.hasher.update(chunk);
        self.enc.push_into(chunk, &mut self.out)?;
        if self.out.len() >= WRITE_BUF {
            let full = std::mem::take(&mut self.out);
            self.out = self.blob.write(full).await?;
            if self.out.capacity() == 0 {
                self.out
                    .reserve_exact(WRITE_BUF + liasse_crypto::SEGMENT_SIZE);
            }
        }
        Ok(())
    }

    pub async fn finish(mut self) -> Result<Spooled> {
        let tail = self.enc.finish()?;
        self.out.extend_from_slice(&tail);
        let rest = std::mem::take(&mut self.out);
        self.blob.write(rest).await?;
        self.blob.flush().await?;
        Ok(Spooled {
            size: self.size,
            sha256: hex::encode(self.hasher.finish()),
            key: self.key,
            ids: self.ids,
            blob: self.blob,
        })
    }
}

impl Spooled {
    /// The document the version is bound to (a new id for a first deposit).
    pub fn document_id(&self) -> &str {
        &self.ids.document_id
    }

    /// The clear bytes, decrypted as they are read (blocking reads: use it off the async
    /// threads).
    pub fn reader(&self) -> Result<DecryptingReader<SpoolRead>> {
        Ok(DecryptingReader::new(
            &self.key,
            &self.ids.binding(),
            self.blob.reader(),
        )?)
    }

    /// Removes the ciphertext of an upload that will not be stored.
    pub async fn discard(self) {
        self.blob.discard().await;
    }

    /// Spools the same bytes again, bound to another document of the same tenant (a new
    /// version of a document whose upload was spooled for a new one). The clear bytes pass
    /// through the decrypting reader, one chunk at a time.
    pub(crate) async fn rebind(self, app: &App, document_id: &str) -> Result<Spooled> {
        let mut spool = Spool::for_document(app, &self.ids.tenant_id, document_id, self.size)?;
        let mut reader = Some(self.reader()?);
        loop {
            let Some(mut r) = reader.take() else { break };
            let (r, chunk) = tokio::task::spawn_blocking(move || {
                let mut buf = zeroize::Zeroizing::new(vec![0u8; WRITE_BUF]);
                let n = std::io::Read::read(&mut r, &mut buf)?;
                buf.truncate(n);
                Ok::<_, std::io::Error>((r, buf))
            })
            .await
            .map_err(|e| AppError::Internal(e.to_string()))??;
            if chunk.is_empty() {
                break;
            }
            spool.write(&chunk).await?;
            reader = Some(r);
        }
        self.discard().await;
        spool.finish().await
    }
}
