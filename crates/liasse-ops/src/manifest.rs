//! A backup's manifest: what it holds (every file with its SHA-256 and length), when it was
//! taken, the schema, each tenant's journal head and counts, and an HMAC over all of it with
//! a key derived from the key ring, so that a backup altered at rest (a file, or the manifest
//! itself) is detected before anything is restored from it.
//!
//! The HMAC key is `KeyRing::derived_secret_with(key_id, "backup-manifest", "")`: the manifest
//! names the master key it used, so a later rotation leaves old backups verifiable as long as
//! that key is kept (or its shares are). The `instance` tag is derived the same way with
//! another purpose: it tells "a backup of another instance" apart from "an altered backup".

use std::path::Path;

use hmac::{Hmac, Mac};
use liasse_crypto::{CryptoError, KeyRing};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::error::{OpsError, Result};

pub const FORMAT: u32 = 1;
pub const MANIFEST: &str = "manifest.json";
pub const BLOBS_DIR: &str = "blobs";
pub const KEY_FILE: &str = "keys.json";

/// A file of the backup, by its path relative to the backup's directory.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileEntry {
    pub path: String,
    pub sha256: String,
    pub bytes: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TenantEntry {
    pub id: String,
    pub slug: String,
    pub journal_seq: i64,
    pub journal_hash: String,
    pub documents: i64,
    pub versions: i64,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    pub tenants: u64,
    pub documents: i64,
    pub versions: i64,
    pub blobs: u64,
    pub deletions: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub format: u32,
    /// The version of the `liasse` that wrote it.
    pub liasse: String,
    /// When the database snapshot was taken (milliseconds since the epoch, and RFC 3339).
    pub taken_at: i64,
    pub taken_at_text: String,
    /// `sqlite` or `postgres`: how `database` was written (a SQLite file or a `pg_dump`
    /// archive in its custom format).
    pub backend: String,
    /// The newest migration applied to the database (`liasse-store/migrations`).
    pub schema: i64,
    /// The master key the HMAC key is derived from, and the instance tag under it.
    pub key_id: String,
    pub instance: String,
    pub database: FileEntry,
    /// The deletion ledger as it was when the blobs had been copied.
    pub ledger: FileEntry,
    /// The key file, only when asked for (`--include-keys`): see `docs/backups.md`.
    pub key_ring: Option<FileEntry>,
    pub tenants: Vec<TenantEntry>,
    pub blobs: Vec<FileEntry>,
    /// Blobs of versions live in the snapshot but deleted before they could be copied (their
    /// documents are in the ledger, and a restore destroys them again).
    pub gone: Vec<String>,
    pub counts: Counts,
    /// HMAC-SHA256 (hex) of this manifest serialised with this field empty.
    pub hmac: String,
}

fn mac_key(ring: &KeyRing, key_id: &str) -> std::result::Result<[u8; 32], CryptoError> {
    Ok(*ring.derived_secret_with(key_id, "backup-manifest", "")?)
}

/// The instance tag of a key ring under `key_id`.
pub fn instance_tag(ring: &KeyRing, key_id: &str) -> std::result::Result<String, CryptoError> {
    let tag = ring.derived_secret_with(key_id, "backup-instance", "")?;
    Ok(hex::encode(&tag[..8]))
}

impl Manifest {
    fn mac(&self, ring: &KeyRing) -> Result<Hmac<Sha256>> {
        let mut unsigned = self.clone();
        unsigned.hmac = String::new();
        let bytes = serde_json::to_vec(&unsigned)
            .map_err(|e| OpsError::refused("manifest-unreadable", e.to_string()))?;
        let key = mac_key(ring, &self.key_id)?;
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&key)
            .map_err(|e| OpsError::refused("manifest-unreadable", e.to_string()))?;
        mac.update(&bytes);
        Ok(mac)
    }

    /// Sets `key_id`, `instance` and `hmac` with the ring's current key.
    pub fn seal(&mut self, ring: &KeyRing) -> Result<()> {
        self.key_id = ring.current_id();
        self.instance = instance_tag(ring, &self.key_id)?;
        self.hmac = hex::encode(self.mac(ring)?.finalize().into_bytes());
        Ok(())
    }

    /// Checks that this manifest was written by this instance and not changed since.
    pub fn authenticate(&self, ring: &KeyRing) -> Result<()> {
        if !ring.ids().contains(&self.key_id) {
            return Err(OpsError::refused(
                "other-instance",
                format!(
                    "this backup was authenticated with key {}, which this key ring does not hold: it is the backup of another instance, or this key ring lacks an old key (recover it from its shares)",
                    self.key_id
                ),
            ));
        }
        let ours = instance_tag(ring, &self.key_id)?;
        if ours != self.instance {
            return Err(OpsError::refused(
                "other-instance",
                format!(
                    "this backup belongs to another Liasse instance (instance {}, this key ring is instance {ours} under key {}): restore it with that instance's key ring",
                    self.instance, self.key_id
                ),
            ));
        }
        let expected = hex::decode(&self.hmac).unwrap_or_default();
        self.mac(ring)?.verify_slice(&expected).map_err(|_| {
            OpsError::refused(
                "manifest-altered",
                "the backup's manifest was altered (its authentication code does not match): do not restore from it",
            )
        })
    }

    /// Reads `DIR/manifest.json`.
    pub fn read(dir: &Path) -> Result<Manifest> {
        let path = dir.join(MANIFEST);
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(OpsError::refused(
                    "not-a-backup",
                    format!(
                        "{} has no {MANIFEST}: not a Liasse backup, or a backup that never finished",
                        dir.display()
                    ),
                ));
            }
            Err(e) => return Err(e.into()),
        };
        serde_json::from_slice(&bytes).map_err(|e| {
            OpsError::refused(
                "manifest-unreadable",
                format!(
                    "the manifest {} cannot be read ({e}): the backup is truncated or damaged",
                    path.display()
                ),
            )
        })
    }

    /// Every file the manifest names, the database first.
    pub fn files(&self) -> impl Iterator<Item = &FileEntry> {
        [&self.database, &self.ledger]
            .into_iter()
            .chain(self.key_ring.iter())
            .chain(self.blobs.iter())
    }
}
