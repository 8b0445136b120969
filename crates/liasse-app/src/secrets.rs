//! A tenant's secrets in the database, sealed: an identity provider's client secret, the key
//! of service clients' pairwise ids, a staff member's TOTP seed. Each is sealed under its own
//! data key, and that key is wrapped by the key ring as a document's is, so a copy of the
//! database reveals none of them, `keys rotate` re-wraps them and `keys retire` waits for them.

use liasse_crypto::{Binding, DataKey, WrappedKey};
use liasse_store::WriteTx;
use liasse_store::sealed::{self, SealedRow};
use rand::RngCore;
use zeroize::Zeroizing;

use crate::app::App;
use crate::error::Result;

/// What a sealed secret is bound to: the tenant and its name, so that a row copied to another
/// tenant or name does not open.
fn binding<'a>(tenant_id: &'a str, name: &'a str) -> Binding<'a> {
    Binding::new(tenant_id, "sealed-secret", name)
}

/// Seals `value` as the tenant's secret `name` (replacing any previous one), in `tx`.
pub async fn put(
    app: &App,
    tx: &mut WriteTx,
    tenant_id: &str,
    name: &str,
    value: &[u8],
) -> Result<()> {
    let ring = app.keys.ring()?;
    let key = DataKey::generate();
    let b = binding(tenant_id, name);
    let wrapped = ring.wrap(&key, &b)?;
    let sealed_value = liasse_crypto::seal(&key, &b, value)?;
    sealed::put(
        tx,
        &SealedRow {
            tenant_id: tenant_id.into(),
            name: name.into(),
            key_id: wrapped.key_id.clone(),
            wrapped_key: wrapped.to_bytes(),
            sealed: sealed_value,
            updated_at: app.now(),
        },
    )
    .await?;
    Ok(())
}

fn open_row(app: &App, row: &SealedRow) -> Result<Zeroizing<Vec<u8>>> {
    let ring = app.keys.ring()?;
    let b = binding(&row.tenant_id, &row.name);
    let key = ring.unwrap(&WrappedKey::from_bytes(&row.wrapped_key)?, &b)?;
    Ok(Zeroizing::new(liasse_crypto::open(&key, &b, &row.sealed)?))
}

/// The tenant's secret `name`, or `None` when it was never set.
pub async fn get(app: &App, tenant_id: &str, name: &str) -> Result<Option<Zeroizing<Vec<u8>>>> {
    match sealed::get(&app.db, tenant_id, name).await? {
        Some(row) => open_row(app, &row).map(Some),
        None => Ok(None),
    }
}

/// The tenant's random secret `name` of `len` bytes, created at first use. Two first uses at
/// once cannot both create one: the second transaction finds the first's row.
pub async fn get_or_create(
    app: &App,
    tenant_id: &str,
    name: &str,
    len: usize,
) -> Result<Zeroizing<Vec<u8>>> {
    if let Some(value) = get(app, tenant_id, name).await? {
        return Ok(value);
    }
    let mut tx = app.db.begin_write().await?;
    if let Some(row) = sealed::get_tx(&mut tx, tenant_id, name).await? {
        return open_row(app, &row);
    }
    let mut value = Zeroizing::new(vec![0u8; len]);
    rand::rngs::OsRng.fill_bytes(&mut value);
    put(app, &mut tx, tenant_id, name, &value).await?;
    tx.commit().await?;
    Ok(value)
}

pub async fn delete(tx: &mut WriteTx, tenant_id: &str, name: &str) -> Result<()> {
    sealed::delete(tx, tenant_id, name).await?;
    Ok(())
}

/// Re-wraps every sealed secret not wrapped by the current master key (part of `keys
/// rotate`); how many were re-wrapped.
pub async fn rewrap_all(app: &App, ring: &liasse_crypto::KeyRing) -> Result<u64> {
    let current = ring.current_id();
    let rows = sealed::not_wrapped_with(&app.db, &current).await?;
    let mut done = 0;
    let mut tx = app.db.begin_write().await?;
    for row in &rows {
        let b = binding(&row.tenant_id, &row.name);
        let new = ring.rewrap(&WrappedKey::from_bytes(&row.wrapped_key)?, &b)?;
        if sealed::set_wrapped_key(
            &mut tx,
            &row.tenant_id,
            &row.name,
            &row.key_id,
            &new.key_id,
            &new.to_bytes(),
        )
        .await?
        {
            done += 1;
        }
    }
    tx.commit().await?;
    Ok(done)
}

/// How many sealed secrets still need a master key other than `current` (`keys retire`).
pub async fn count_not_wrapped_with(app: &App, current: &str) -> Result<usize> {
    Ok(sealed::not_wrapped_with(&app.db, current).await?.len())
}

/// Seals a short-lived value the caller stores itself (a login waiting for its callback):
/// `len (2 bytes) || wrapped data key || sealed value`, bound to the tenant and `name`.
pub fn seal_value(app: &App, tenant_id: &str, name: &str, value: &[u8]) -> Result<Vec<u8>> {
    let ring = app.keys.ring()?;
    let key = DataKey::generate();
    let b = binding(tenant_id, name);
    let wrapped = ring.wrap(&key, &b)?.to_bytes();
    let len = u16::try_from(wrapped.len())
        .map_err(|_| crate::error::AppError::Internal("wrapped key too long".into()))?;
    let mut out = len.to_be_bytes().to_vec();
    out.extend_from_slice(&wrapped);
    out.extend_from_slice(&liasse_crypto::seal(&key, &b, value)?);
    Ok(out)
}

/// Opens what [`seal_value`] sealed under the same tenant and name.
pub fn open_value(
    app: &App,
    tenant_id: &str,
    name: &str,
    packed: &[u8],
) -> Result<Zeroizing<Vec<u8>>> {
    let bad = || liasse_crypto::CryptoError::Decrypt;
    let (len, rest) = packed.split_at_checked(2).ok_or_else(bad)?;
    let len = usize::from(u16::from_be_bytes([len[0], len[1]]));
    let (wrapped, sealed_value) = rest.split_at_checked(len).ok_or_else(bad)?;
    let ring = app.keys.ring()?;
    let b = binding(tenant_id, name);
    let key = ring.unwrap(&WrappedKey::from_bytes(wrapped)?, &b)?;
    Ok(Zeroizing::new(liasse_crypto::open(&key, &b, sealed_value)?))
}
