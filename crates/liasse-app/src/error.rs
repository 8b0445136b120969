//! The service layer's error type; the HTTP layer maps it to problem+json.

use liasse_crypto::CryptoError;
use liasse_inspect::Refusal;
use liasse_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// Also what a caller gets for something that exists but that they may not see, so that
    /// existence never leaks.
    #[error("not found")]
    NotFound,
    #[error("authentication required")]
    Unauthorized,
    #[error("forbidden")]
    Forbidden,
    /// Bad input: `code` is the stable problem type, `detail` a French sentence.
    #[error("{code}: {detail}")]
    Invalid { code: &'static str, detail: String },
    #[error("upload refused: {0:?}")]
    Refused(Refusal),
    #[error("file too large (limit {limit} bytes)")]
    TooLarge { limit: u64 },
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("too many attempts")]
    RateLimited { retry_after_secs: u64 },
    #[error("storage full")]
    StorageFull,
    #[error("unavailable: {0}")]
    Unavailable(String),
    #[error("store: {0}")]
    Store(StoreError),
    #[error("crypto: {0}")]
    Crypto(#[from] CryptoError),
    #[error("internal: {0}")]
    Internal(String),
    /// Input that is well-formed but not enough to go on (a request sent with gaps): every
    /// gap with its field, answered 422.
    #[error("{code}: {detail}")]
    Incomplete {
        code: &'static str,
        detail: String,
        errors: Vec<liasse_domain::procedure::Gap>,
    },
    /// A conflict with its own stable problem type (a request locked by an agent), 409.
    #[error("{code}: {detail}")]
    ConflictOf { code: &'static str, detail: String },
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        if e.is_full() {
            AppError::StorageFull
        } else {
            match e {
                StoreError::NotFound => AppError::NotFound,
                StoreError::Conflict(m) => AppError::Conflict(m),
                e => AppError::Store(e),
            }
        }
    }
}

impl From<std::io::Error> for AppError {
    fn from(e: std::io::Error) -> Self {
        AppError::from(StoreError::Io(e))
    }
}

impl AppError {
    pub fn invalid(code: &'static str, detail: impl Into<String>) -> Self {
        AppError::Invalid {
            code,
            detail: detail.into(),
        }
    }
}

pub type Result<T> = std::result::Result<T, AppError>;

/// A JSON body that must be an object (serde would also read a struct from an array, so that
/// `[null, null]` would pass for `{}`).
pub fn json_object<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T> {
    let invalid = |e: serde_json::Error| {
        AppError::invalid("invalid-json", format!("le corps JSON est invalide : {e}"))
    };
    let value: serde_json::Value = serde_json::from_slice(body).map_err(invalid)?;
    if !value.is_object() {
        return Err(AppError::invalid(
            "invalid-json",
            "le corps JSON est invalide : un objet { ... } est attendu",
        ));
    }
    serde_json::from_value(value).map_err(invalid)
}
