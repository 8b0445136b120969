//! Spooling an upload while it arrives: bounded by a size limit, hashed on the way, kept in
//! an unnamed temporary file that disappears with the process, so no plaintext outlives a
//! crash or a refusal.

use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

use crate::error::{AppError, Result};

pub struct Spool {
    file: tokio::fs::File,
    hasher: Sha256,
    size: u64,
    limit: u64,
}

/// A complete upload, ready to be inspected and stored.
pub struct Spooled {
    pub file: std::fs::File,
    pub size: u64,
    pub sha256: String,
}

impl Spool {
    pub fn new(dir: &std::path::Path, limit: u64) -> Result<Self> {
        let file = tempfile::tempfile_in(dir)?;
        Ok(Spool {
            file: tokio::fs::File::from_std(file),
            hasher: Sha256::new(),
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

    /// Appends a chunk; refuses as soon as the limit is passed, before reading further.
    pub async fn write(&mut self, chunk: &[u8]) -> Result<()> {
        self.size += chunk.len() as u64;
        if self.size > self.limit {
            return Err(AppError::TooLarge { limit: self.limit });
        }
        self.hasher.update(chunk);
        self.file.write_all(chunk).await?;
        Ok(())
    }

    pub async fn finish(mut self) -> Result<Spooled> {
        self.file.flush().await?;
        let file = self.file.into_std().await;
        Ok(Spooled {
            file,
            size: self.size,
            sha256: hex::encode(self.hasher.finalize()),
        })
    }
}
