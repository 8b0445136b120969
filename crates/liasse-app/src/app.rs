//! The application context shared by the HTTP handlers, the commands and the jobs.

use std::path::PathBuf;
use std::sync::Arc;

use liasse_domain::clock::Clock;
use liasse_store::blobs::S3Options;
use liasse_store::ledger::Ledger;
use liasse_store::{BlobStore, Db};

use crate::config::Config;
use crate::error::{AppError, Result};
use crate::keys::{KeyOrigin, KeyStore};

#[derive(Clone)]
pub struct App(Arc<Inner>);

pub struct Inner {
    pub config: Config,
    pub db: Db,
    pub blobs: BlobStore,
    pub keys: KeyStore,
    /// The deletion ledger, beside the key file: what a restore destroys again.
    pub ledger: Ledger,
    pub clock: Clock,
    /// Where uploads are spooled (as unnamed temporary files) while they are inspected.
    pub spool_dir: PathBuf,
    pub login_limiter: crate::auth::LoginLimiter,
    pub signup_limiter: crate::signup::SignupLimiter,
    /// Inspections running at once. They are CPU-bound, and a small file is held in memory
    /// while it is inspected: more at once than there are cores only costs memory.
    pub inspections: tokio::sync::Semaphore,
}

impl std::ops::Deref for App {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl App {
    /// Opens storage and keys and applies migrations; creates the data directory of the
    /// embedded default when needed.
    pub async fn open(config: Config, clock: Clock) -> Result<App> {
        let data_dir = config.data_dir();
        std::fs::create_dir_all(&data_dir)?;
        restrict_dir(&data_dir);
        let spool_dir = data_dir.join("tmp");
        std::fs::create_dir_all(&spool_dir)?;
        let url = config
            .database_url()
            .map_err(|e| AppError::Internal(e.to_string()))?;
        let db = Db::connect(&url, config.database_max_connections.unwrap_or(16)).await?;
        db.migrate().await?;
        let s3 = S3Options {
            endpoint: config.s3_endpoint.clone(),
            region: config.s3_region.clone(),
            access_key_id: config.s3_access_key_id.clone(),
            secret_access_key: config
                .s3_secret()
                .map_err(|e| AppError::Internal(e.to_string()))?,
        };
        let blobs = BlobStore::open(&config.blob_url(), &s3)?;
        let (keys, origin) = KeyStore::open(&config)?;
        match origin {
            KeyOrigin::Created(path) => tracing::warn!(
                key_file = %path.display(),
                "created a new encryption key file; back it up separately: losing it loses every document"
            ),
            KeyOrigin::File(path) => tracing::info!(key_file = %path.display(), "loaded key file"),
            KeyOrigin::Secret => tracing::info!("using the master key given as a secret"),
        }
        let app = App(Arc::new(Inner {
            config,
            db,
            blobs,
            keys,
            ledger: Ledger::in_dir(&data_dir),
            clock,
            spool_dir,
            login_limiter: Default::default(),
            signup_limiter: Default::default(),
            inspections: tokio::sync::Semaphore::new(
                std::thread::available_parallelism().map_or(2, |n| n.get()),
            ),
        }));
        // Needs the key ring, so it runs after the SQL migrations rather than as one.
        crate::verify::convert_legacy_digests(&app).await?;
        Ok(app)
    }

    pub fn now(&self) -> i64 {
        self.clock.now()
    }
}

/// The data directory holds keys and documents: only its owner should enter it.
fn restrict_dir(dir: &std::path::Path) {
    use std::os::unix::fs::PermissionsExt;
    let _ = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700));
}
