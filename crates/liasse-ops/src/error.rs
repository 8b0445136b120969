//! The operations layer's one error type. `Refused` is bad input (a backup that does not
//! check, a share that does not fit): its message names the problem for the operator, and
//! nothing was written.

use liasse_app::AppError;
use liasse_crypto::CryptoError;
use liasse_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum OpsError {
    #[error("{message}")]
    Refused {
        /// A stable name of the problem (tests and scripts match it).
        code: &'static str,
        message: String,
    },
    #[error("{0}")]
    App(#[from] AppError),
    #[error("storage: {0}")]
    Store(#[from] StoreError),
    #[error("keys: {0}")]
    Crypto(#[from] CryptoError),
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
}

impl OpsError {
    pub fn refused(code: &'static str, message: impl Into<String>) -> Self {
        OpsError::Refused {
            code,
            message: message.into(),
        }
    }

    /// The stable name of a refusal, if it is one.
    pub fn code(&self) -> Option<&'static str> {
        match self {
            OpsError::Refused { code, .. } => Some(code),
            _ => None,
        }
    }
}

pub type Result<T> = std::result::Result<T, OpsError>;
