//! Liasse's storage: one migration tree and one set of SQL for SQLite and PostgreSQL (through
//! sqlx's `Any` driver, chosen at run time from the URL), and the blob store (a local
//! directory or any S3-compatible endpoint, through object_store).

pub mod accounts;
pub mod blobs;
pub mod db;
pub mod doctypes;
pub mod documents;
pub mod error;
pub mod federation;
pub mod grants;
pub mod group;
pub mod jobs;
pub mod journal;
mod lease;
pub mod ledger;
pub mod lifecycle;
pub mod members;
pub mod notifications;
pub mod outbox;
pub mod pairwise;
pub mod requests;
pub mod reviews;
pub mod sealed;
pub mod second_factor;
pub mod signups;
pub mod snapshot;
pub mod spool;
pub mod staff;
pub mod tenants;

pub use blobs::{BlobReader, BlobStore};
pub use db::{Backend, Db, WriteTx};
pub use error::StoreError;
pub use spool::{BlobSpool, SpoolRead};
