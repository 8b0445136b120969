//! Master key ring and its key file.
//!
//! The master keys never enter the database or the object store: they live in a key file
//! (created with mode 0600) or come from a secret file or environment variable. Each tenant's
//! key-encryption key is derived from a master key with HKDF, so tenants never share a KEK and
//! no per-tenant secret needs storing.

use std::collections::BTreeMap;
use std::fmt;
use std::fs::{self, DirBuilder, File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::DecodePaddingMode;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};
use hkdf::Hkdf;
use rand::RngCore;
use rand::rngs::OsRng;
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use zeroize::{Zeroize, Zeroizing};

use crate::error::CryptoError;
use crate::keys::{Binding, DataKey, Secret};
use crate::wrap::{WrappedKey, unwrap_with, wrap_with};

const KEK_SALT: &[u8] = b"liasse-kek-v1";
/// Salt of [`KeyRing::derived_secret`], apart from the KEKs'.
const DERIVED_SALT: &[u8] = b"liasse-derived-v1";
const KEY_FILE_FORMAT: u32 = 1;
/// A key file is a few hundred bytes; the cap keeps a wrong path from reading a huge file.
const MAX_KEY_FILE_LEN: u64 = 1024 * 1024;
/// Leaves room above any loaded version so that [`KeyRing::rotate`] can never overflow.
const MAX_VERSION: u32 = i32::MAX as u32;

/// Padding-tolerant, so that keys pasted by hand (with or without `=`) are accepted.
const LENIENT_B64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// The versioned master keys; one of them is current and wraps every new data key.
///
/// Key ids are `"v{N}"`. The KEK of a tenant under version N is
/// `HKDF-SHA256(ikm = master[N], salt = "liasse-kek-v1", info = tenant id)`, 32 bytes.
pub struct KeyRing {
    current: u32,
    keys: BTreeMap<u32, Secret>,
}

impl fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyRing")
            .field("current", &self.current_id())
            .field("ids", &self.ids())
            .finish_non_exhaustive()
    }
}

/// On-disk form. Wiped on drop because it holds the encoded master keys.
#[derive(Serialize, Deserialize)]
struct KeyFile {
    format: u32,
    current: u32,
    keys: BTreeMap<String, String>,
}

impl Drop for KeyFile {
    fn drop(&mut self) {
        for value in self.keys.values_mut() {
            value.zeroize();
        }
    }
}

fn format_id(version: u32) -> String {
    format!("v{version}")
}

/// Parses a canonical decimal version (no sign, no leading zero) in `1..=MAX_VERSION`.
fn parse_version(digits: &str) -> Option<u32> {
    if digits.is_empty() || digits.starts_with('0') || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits
        .parse()
        .ok()
        .filter(|v| (1..=MAX_VERSION).contains(v))
}

fn parse_id(id: &str) -> Option<u32> {
    id.strip_prefix('v').and_then(parse_version)
}

impl KeyRing {
    /// A ring with one fresh random master key, `v1`, current.
    pub fn generate() -> Self {
        Self {
            current: 1,
            keys: BTreeMap::from([(1, Secret::random())]),
        }
    }

    /// A ring made of one master key given in base64 (standard alphabet, padding optional,
    /// surrounding whitespace ignored), as `v1`. For keys supplied by environment or secret file.
    pub fn from_base64_key(b64: &str) -> Result<Self, CryptoError> {
        let key = decode_key(b64.trim()).ok_or_else(|| {
            CryptoError::KeyFile("master key must be 32 bytes encoded in base64".into())
        })?;
        Ok(Self {
            current: 1,
            keys: BTreeMap::from([(1, key)]),
        })
    }

    /// Reads a key file `{"format":1,"current":N,"keys":{"1":"<base64>",...}}`.
    /// A missing file is reported as [`CryptoError::Io`] with kind `NotFound`.
    pub fn load(path: &Path) -> Result<Self, CryptoError> {
        let file = File::open(path)?;
        let mut text = Zeroizing::new(Vec::new());
        file.take(MAX_KEY_FILE_LEN + 1).read_to_end(&mut text)?;
        if text.len() as u64 > MAX_KEY_FILE_LEN {
            return Err(CryptoError::KeyFile("key file too large".into()));
        }
        // serde_json messages can quote the offending value, which could be key material:
        // report only the position.
        let repr: KeyFile = serde_json::from_slice(&text).map_err(|e| {
            CryptoError::KeyFile(format!(
                "invalid JSON ({:?} error at line {}, column {})",
                e.classify(),
                e.line(),
                e.column()
            ))
        })?;
        Self::from_repr(&repr)
    }

    fn from_repr(repr: &KeyFile) -> Result<Self, CryptoError> {
        if repr.format != KEY_FILE_FORMAT {
            return Err(CryptoError::KeyFile(format!(
                "unsupported key file format {}",
                repr.format
            )));
        }
        let mut keys = BTreeMap::new();
        for (id, value) in &repr.keys {
            let version = parse_version(id).ok_or_else(|| {
                CryptoError::KeyFile(format!("invalid key version {id:?} (expected 1, 2, ...)"))
            })?;
            let key = decode_key(value).ok_or_else(|| {
                CryptoError::KeyFile(format!("key {id}: expected 32 bytes in base64"))
            })?;
            keys.insert(version, key);
        }
        if !keys.contains_key(&repr.current) {
            return Err(CryptoError::KeyFile(format!(
                "current key version {} is not in the key file",
                repr.current
            )));
        }
        Ok(Self {
            current: repr.current,
            keys,
        })
    }

    fn to_repr(&self) -> KeyFile {
        KeyFile {
            format: KEY_FILE_FORMAT,
            current: self.current,
            keys: self
                .keys
                .iter()
                .map(|(v, k)| (v.to_string(), STANDARD.encode(k.as_bytes())))
                .collect(),
        }
    }

    fn to_json(&self) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        // Sized up front so the buffer never reallocates and leaves unwiped copies behind.
        let mut out = Zeroizing::new(Vec::with_capacity(256 + 96 * self.keys.len()));
        serde_json::to_writer_pretty(&mut *out, &self.to_repr())
            .map_err(|e| CryptoError::KeyFile(format!("cannot encode key file: {e}")))?;
        out.push(b'\n');
        Ok(out)
    }

    /// Writes the key file atomically: a new file with mode 0600 from its creation in the same
    /// directory, flushed to disk, renamed over `path`, then the directory flushed.
    pub fn save(&self, path: &Path) -> Result<(), CryptoError> {
        let tmp = write_temp(path, &self.to_json()?)?;
        if let Err(e) = fs::rename(&tmp, path) {
            let _ = fs::remove_file(&tmp);
            return Err(e.into());
        }
        sync_dir(path)
    }

    /// Loads the key file, or creates it with a fresh ring (and its parent directory, mode
    /// 0700) if it does not exist. Returns whether it was created.
    ///
    /// Creation never replaces a file that appeared meanwhile (e.g. another node starting on
    /// the same volume): that file wins and is loaded, so no two processes ever use different
    /// master keys for the same data.
    pub fn load_or_create(path: &Path) -> Result<(Self, bool), CryptoError> {
        match Self::load(path) {
            Ok(ring) => return Ok((ring, false)),
            Err(CryptoError::Io(e)) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(parent)?;
        }
        let ring = Self::generate();
        let tmp = write_temp(path, &ring.to_json()?)?;
        // A hard link fails if the target exists, which makes "create unless present" atomic.
        let linked = fs::hard_link(&tmp, path);
        let outcome = match linked {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(false),
            // Some file systems have no hard links; fall back to a rename, accepting a race
            // window there.
            Err(_) => match fs::symlink_metadata(path) {
                Ok(_) => Ok(false),
                Err(_) => fs::rename(&tmp, path).map(|()| true),
            },
        };
        let _ = fs::remove_file(&tmp);
        if outcome? {
            sync_dir(path)?;
            Ok((ring, true))
        } else {
            Ok((Self::load(path)?, false))
        }
    }

    /// Id of the current master key, e.g. `"v3"`.
    pub fn current_id(&self) -> String {
        format_id(self.current)
    }

    /// Ids of all master keys, in ascending version order.
    pub fn ids(&self) -> Vec<String> {
        self.keys.keys().map(|v| format_id(*v)).collect()
    }

    /// Adds a new random master key with the next version, makes it current and returns its id.
    /// Existing wrapped keys keep working until they are re-wrapped with [`KeyRing::rewrap`].
    pub fn rotate(&mut self) -> String {
        let highest = self.keys.keys().next_back().copied().unwrap_or(0);
        // Loaded versions are at most MAX_VERSION (2^31 - 1), so this cannot saturate short of
        // two billion rotations in one process.
        let version = highest.saturating_add(1);
        self.keys.insert(version, Secret::random());
        self.current = version;
        format_id(version)
    }

    /// Forgets a master key, which makes every key still wrapped under it unrecoverable.
    /// The current key cannot be removed.
    pub fn remove(&mut self, id: &str) -> Result<(), CryptoError> {
        let version = parse_id(id)
            .filter(|v| self.keys.contains_key(v))
            .ok_or_else(|| CryptoError::UnknownKey(id.to_owned()))?;
        if version == self.current {
            return Err(CryptoError::KeyFile(format!(
                "refusing to remove the current key {id}"
            )));
        }
        self.keys.remove(&version);
        Ok(())
    }

    /// A secret the server can compute again whenever it needs it, but never stores: for
    /// `purpose` and `id`, under the current master key. An enrolment link is made of one, so
    /// that the message waiting in the outbox holds no usable link (it is put in at delivery).
    /// After `rotate`, the same call gives another value: callers that stored a hash of the
    /// old one refresh it.
    pub fn derived_secret(
        &self,
        purpose: &str,
        id: &str,
    ) -> Result<Zeroizing<[u8; 32]>, CryptoError> {
        let master = self
            .keys
            .get(&self.current)
            .ok_or_else(|| CryptoError::UnknownKey(self.current_id()))?;
        let hk = Hkdf::<Sha256>::new(Some(DERIVED_SALT), master.as_bytes());
        let mut out = Zeroizing::new([0u8; 32]);
        let info = [purpose.as_bytes(), b"\0", id.as_bytes()].concat();
        hk.expand(&info, out.as_mut())
            .map_err(|_| CryptoError::Format("secret derivation failed".into()))?;
        Ok(out)
    }

    /// [`KeyRing::derived_secret`] under the master key `key_id` rather than the current one:
    /// for values checked long after they were made (a backup's manifest records the key id
    /// it was authenticated with, and a rotation since must not make it unverifiable).
    pub fn derived_secret_with(
        &self,
        key_id: &str,
        purpose: &str,
        id: &str,
    ) -> Result<Zeroizing<[u8; 32]>, CryptoError> {
        let master = parse_id(key_id)
            .and_then(|v| self.keys.get(&v))
            .ok_or_else(|| CryptoError::UnknownKey(key_id.to_owned()))?;
        let hk = Hkdf::<Sha256>::new(Some(DERIVED_SALT), master.as_bytes());
        let mut out = Zeroizing::new([0u8; 32]);
        let info = [purpose.as_bytes(), b"\0", id.as_bytes()].concat();
        hk.expand(&info, out.as_mut())
            .map_err(|_| CryptoError::Format("secret derivation failed".into()))?;
        Ok(out)
    }

    /// The whole ring in a compact binary form, to be split into shares: a format byte, the
    /// current version, then each version (4 bytes, big-endian) and its 32-byte key.
    pub fn to_secret_bytes(&self) -> Zeroizing<Vec<u8>> {
        let mut out = Zeroizing::new(Vec::with_capacity(5 + 36 * self.keys.len()));
        out.push(1);
        out.extend_from_slice(&self.current.to_be_bytes());
        for (v, k) in &self.keys {
            out.extend_from_slice(&v.to_be_bytes());
            out.extend_from_slice(k.as_bytes());
        }
        out
    }

    /// The inverse of [`KeyRing::to_secret_bytes`].
    pub fn from_secret_bytes(bytes: &[u8]) -> Result<Self, CryptoError> {
        let bad = || CryptoError::KeyFile("not a key ring in its compact form".into());
        let (&format, rest) = bytes.split_first().ok_or_else(bad)?;
        if format != 1 || rest.len() < 4 || (rest.len() - 4) % 36 != 0 {
            return Err(bad());
        }
        let (cur, mut rest) = rest.split_at(4);
        let current = u32::from_be_bytes([cur[0], cur[1], cur[2], cur[3]]);
        let mut keys = BTreeMap::new();
        while rest.len() >= 36 {
            let (entry, tail) = rest.split_at(36);
            let version = u32::from_be_bytes([entry[0], entry[1], entry[2], entry[3]]);
            if !(1..=MAX_VERSION).contains(&version) {
                return Err(bad());
            }
            keys.insert(version, Secret::from_slice(&entry[4..]).ok_or_else(bad)?);
            rest = tail;
        }
        if !keys.contains_key(&current) {
            return Err(bad());
        }
        Ok(Self { current, keys })
    }

    fn kek(&self, version: u32, tenant: &str) -> Result<Secret, CryptoError> {
        let master = self
            .keys
            .get(&version)
            .ok_or_else(|| CryptoError::UnknownKey(format_id(version)))?;
        let hk = Hkdf::<Sha256>::new(Some(KEK_SALT), master.as_bytes());
        let mut kek = Secret::zeroed();
        hk.expand(tenant.as_bytes(), kek.as_mut())
            .map_err(|_| CryptoError::Format("KEK derivation failed".into()))?;
        Ok(kek)
    }

    /// Wraps `key` under the current KEK of `binding.tenant`.
    pub fn wrap(&self, key: &DataKey, binding: &Binding<'_>) -> Result<WrappedKey, CryptoError> {
        let kek = self.kek(self.current, binding.tenant)?;
        wrap_with(&kek, &self.current_id(), key, binding)
    }

    /// Unwraps with the master key named in `wrapped.key_id`.
    pub fn unwrap(
        &self,
        wrapped: &WrappedKey,
        binding: &Binding<'_>,
    ) -> Result<DataKey, CryptoError> {
        let version = parse_id(&wrapped.key_id)
            .ok_or_else(|| CryptoError::UnknownKey(wrapped.key_id.clone()))?;
        let kek = self.kek(version, binding.tenant)?;
        unwrap_with(&kek, wrapped, binding)
    }

    /// Unwraps with the key it names and wraps again under the current key: rotation without
    /// re-encrypting content.
    pub fn rewrap(
        &self,
        wrapped: &WrappedKey,
        binding: &Binding<'_>,
    ) -> Result<WrappedKey, CryptoError> {
        let key = self.unwrap(wrapped, binding)?;
        self.wrap(&key, binding)
    }
}

fn decode_key(b64: &str) -> Option<Secret> {
    let bytes = Zeroizing::new(LENIENT_B64.decode(b64).ok()?);
    Secret::from_slice(&bytes)
}

/// Creates `.<name>.<random>.tmp` next to `path` with mode 0600 (never wider, not even
/// briefly), writes `contents` and flushes it to disk. Removes it again on failure.
fn write_temp(path: &Path, contents: &[u8]) -> Result<PathBuf, CryptoError> {
    let name = path
        .file_name()
        .ok_or_else(|| CryptoError::KeyFile(format!("{} is not a file path", path.display())))?;
    let mut suffix = [0u8; 8];
    OsRng.fill_bytes(&mut suffix);
    let mut tmp_name = std::ffi::OsString::from(".");
    tmp_name.push(name);
    tmp_name.push(format!(".{}.tmp", hex::encode(suffix)));
    let tmp = path.with_file_name(tmp_name);
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp)?;
    let written = file.write_all(contents).and_then(|()| file.sync_all());
    drop(file);
    if let Err(e) = written {
        let _ = fs::remove_file(&tmp);
        return Err(e.into());
    }
    Ok(tmp)
}

/// Flushes the directory entry of `path`, so a rename or link survives a power cut.
fn sync_dir(path: &Path) -> Result<(), CryptoError> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    File::open(dir)?.sync_all()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    #[test]
    fn id_parsing_is_canonical() {
        assert_eq!(parse_id("v1"), Some(1));
        assert_eq!(parse_id("v42"), Some(42));
        for bad in [
            "",
            "v",
            "1",
            "v0",
            "v01",
            "v+1",
            "v-1",
            "V1",
            "v1 ",
            "v2147483648",
        ] {
            assert_eq!(parse_id(bad), None, "{bad:?}");
        }
        assert_eq!(parse_id("v2147483647"), Some(MAX_VERSION));
    }

    #[test]
    fn rotate_numbers_after_the_highest_version() {
        let mut ring = KeyRing::generate();
        assert_eq!(ring.rotate(), "v2");
        assert_eq!(ring.rotate(), "v3");
        ring.remove("v2").unwrap();
        ring.remove("v1").unwrap();
        assert_eq!(ring.ids(), ["v3"]);
        assert_eq!(ring.rotate(), "v4");
        assert_eq!(ring.current_id(), "v4");
    }

    #[test]
    fn kek_differs_per_tenant_and_version() {
        let mut ring = KeyRing::generate();
        ring.rotate();
        let a = ring.kek(1, "tenant-a").unwrap();
        let b = ring.kek(1, "tenant-b").unwrap();
        let a2 = ring.kek(2, "tenant-a").unwrap();
        assert_ne!(a.as_bytes(), b.as_bytes());
        assert_ne!(a.as_bytes(), a2.as_bytes());
        assert_eq!(a.as_bytes(), ring.kek(1, "tenant-a").unwrap().as_bytes());
        assert!(matches!(ring.kek(9, "x"), Err(CryptoError::UnknownKey(id)) if id == "v9"));
    }
}
