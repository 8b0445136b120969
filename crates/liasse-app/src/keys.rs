//! The server's view of the key ring: loaded from the key file (or a master key given as a
//! secret), reloaded when the file changes so that a `liasse keys rotate` run beside the server
//! takes effect without a restart.

use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use std::time::SystemTime;

use liasse_crypto::KeyRing;

use crate::config::Config;
use crate::error::{AppError, Result};

pub struct KeyStore {
    file: Option<PathBuf>,
    cached: RwLock<(Arc<KeyRing>, Option<SystemTime>)>,
}

/// What opening the key store did, so the caller can warn the operator.
pub enum KeyOrigin {
    Created(PathBuf),
    File(PathBuf),
    Secret,
}

impl KeyStore {
    pub fn open(config: &Config) -> Result<(Self, KeyOrigin)> {
        if let Some(b64) = config
            .master_key()
            .map_err(|e| AppError::Internal(e.to_string()))?
        {
            let ring = KeyRing::from_base64_key(&b64)?;
            return Ok((
                KeyStore {
                    file: None,
                    cached: RwLock::new((Arc::new(ring), None)),
                },
                KeyOrigin::Secret,
            ));
        }
        let path = config.key_file();
        let (ring, created) = KeyRing::load_or_create(&path)?;
        let mtime = std::fs::metadata(&path).and_then(|m| m.modified()).ok();
        let origin = if created {
            KeyOrigin::Created(path.clone())
        } else {
            KeyOrigin::File(path.clone())
        };
        Ok((
            KeyStore {
                file: Some(path),
                cached: RwLock::new((Arc::new(ring), mtime)),
            },
            origin,
        ))
    }

    /// The current key ring, re-read from disk if the file changed since last time.
    pub fn ring(&self) -> Result<Arc<KeyRing>> {
        let Some(path) = &self.file else {
            return self.cached_ring();
        };
        let mtime = std::fs::metadata(path).and_then(|m| m.modified()).ok();
        {
            let cached = self
                .cached
                .read()
                .map_err(|_| AppError::Internal("key cache poisoned".into()))?;
            if cached.1 == mtime {
                return Ok(cached.0.clone());
            }
        }
        let ring = Arc::new(KeyRing::load(path)?);
        let mut cached = self
            .cached
            .write()
            .map_err(|_| AppError::Internal("key cache poisoned".into()))?;
        *cached = (ring.clone(), mtime);
        Ok(ring)
    }

    fn cached_ring(&self) -> Result<Arc<KeyRing>> {
        let cached = self
            .cached
            .read()
            .map_err(|_| AppError::Internal("key cache poisoned".into()))?;
        Ok(cached.0.clone())
    }

    pub fn file(&self) -> Option<&PathBuf> {
        self.file.as_ref()
    }
}
