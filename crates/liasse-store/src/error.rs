//! The storage layer's one error type.

use thiserror::Error;

#[derive(Debug, Error)]
pub enum StoreError {
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
    #[error("migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("blob store: {0}")]
    Blob(#[from] object_store::Error),
    #[error("storage is full")]
    Full,
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
    #[error("not found")]
    NotFound,
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("configuration: {0}")]
    Config(String),
    #[error("corrupt row: {0}")]
    Corrupt(String),
}

impl StoreError {
    /// Whether the underlying cause is a full disk (or quota), whichever layer reported it;
    /// callers answer 507 to that and keep serving.
    pub fn is_full(&self) -> bool {
        if matches!(self, StoreError::Full) {
            return true;
        }
        // SQLite's SQLITE_FULL (13) and PostgreSQL's disk_full (53100).
        if let StoreError::Db(sqlx::Error::Database(e)) = self {
            if e.code().as_deref() == Some("53100") || e.code().as_deref() == Some("13") {
                return true;
            }
            if e.message().contains("database or disk is full") {
                return true;
            }
        }
        let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(self);
        while let Some(e) = cur {
            if let Some(io) = e.downcast_ref::<std::io::Error>()
                && (io.kind() == std::io::ErrorKind::StorageFull || io.raw_os_error() == Some(28))
            {
                return true;
            }
            if e.to_string().contains("No space left on device") {
                return true;
            }
            cur = e.source();
        }
        false
    }

    /// A unique-constraint violation, which callers turn into a conflict.
    pub fn is_unique_violation(&self) -> bool {
        match self {
            StoreError::Db(sqlx::Error::Database(e)) => e.is_unique_violation(),
            _ => false,
        }
    }
}

pub type Result<T> = std::result::Result<T, StoreError>;
