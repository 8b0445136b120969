//! What an operator needs to keep a Liasse instance for years: backups taken while the server
//! runs (`backup`), checked without restoring (`check`), restored into an empty target with
//! the deletion ledger replayed (`restore`), rehearsed (`drill`), and the key ring split into
//! Shamir shares (`shares`). The design is in `docs/backups.md`.

pub mod backup;
pub mod check;
pub mod drill;
pub mod error;
pub mod files;
pub mod manifest;
pub mod replay;
pub mod restore;
pub mod shares;

pub use error::{OpsError, Result};
