//! `liasse keys rotate`: make a new key-encryption key current and re-wrap every stored
//! document key with it. Content is not touched. An interrupted rotation resumes: while
//! keys wrapped by an older key remain, running the command again continues instead of
//! adding yet another key.

use liasse_crypto::{Binding, KeyRing, WrappedKey};
use liasse_store::documents;
use serde::Serialize;

use crate::app::App;
use crate::error::{AppError, Result};
use crate::progress::Progress;

#[derive(Debug, Serialize)]
pub struct RotateReport {
    pub current_key: String,
    pub resumed: bool,
    pub rewrapped: u64,
    pub remaining: i64,
}

/// Rotates (or resumes). `max_batches` stops early, which tests use to simulate a crash.
pub async fn rotate(app: &App, batch: i64, max_batches: Option<usize>) -> Result<RotateReport> {
    let path = app
        .keys
        .file()
        .ok_or_else(|| {
            AppError::invalid(
                "no-key-file",
                "key rotation needs a key file (the master key is given as a secret)",
            )
        })?
        .clone();
    let mut ring = KeyRing::load(&path)?;
    let pending = documents::count_not_wrapped_with(&app.db, &ring.current_id()).await?
        + crate::secrets::count_not_wrapped_with(app, &ring.current_id()).await? as i64;
    let resumed = pending > 0;
    if !resumed {
        ring.rotate();
        ring.save(&path)?;
    }
    let current = ring.current_id();
    let mut progress = Progress::new(
        "rewrap",
        documents::count_not_wrapped_with(&app.db, &current).await? as u64,
    );
    let mut rewrapped = 0u64;
    let mut batches = 0usize;
    loop {
        if max_batches.is_some_and(|m| batches >= m) {
            break;
        }
        let page = documents::versions_not_wrapped_with(&app.db, &current, batch).await?;
        if page.is_empty() {
            break;
        }
        let mut tx = app.db.begin_write().await?;
        for v in &page {
            let (Some(old_id), Some(bytes)) = (&v.key_id, &v.wrapped_key) else {
                continue;
            };
            let b = Binding {
                tenant: &v.tenant_id,
                document: &v.document_id,
                version: &v.id,
            };
            let new = ring.rewrap(&WrappedKey::from_bytes(bytes)?, &b)?;
            if documents::set_wrapped_key(&mut tx, &v.id, old_id, &new.key_id, &new.to_bytes())
                .await?
            {
                rewrapped += 1;
            }
        }
        tx.commit().await?;
        progress.inc(page.len() as u64);
        batches += 1;
    }
    progress.finish();
    // The tenants' sealed secrets (providers' client secrets, pairwise and TOTP keys) follow.
    if max_batches.is_none() {
        rewrapped += crate::secrets::rewrap_all(app, &ring).await?;
    }
    let remaining = documents::count_not_wrapped_with(&app.db, &current).await?
        + crate::secrets::count_not_wrapped_with(app, &current).await? as i64;
    Ok(RotateReport {
        current_key: current,
        resumed,
        rewrapped,
        remaining,
    })
}

/// Removes a key from the ring once nothing needs it any more.
pub async fn retire(app: &App, id: &str) -> Result<()> {
    let path = app
        .keys
        .file()
        .ok_or_else(|| AppError::invalid("no-key-file", "no key file"))?
        .clone();
    let mut ring = KeyRing::load(&path)?;
    if ring.current_id() == id {
        return Err(AppError::invalid(
            "key-in-use",
            "the current key cannot be retired",
        ));
    }
    let in_use = documents::count_not_wrapped_with(&app.db, &ring.current_id()).await?
        + crate::secrets::count_not_wrapped_with(app, &ring.current_id()).await? as i64;
    if in_use > 0 {
        return Err(AppError::invalid(
            "key-in-use",
            format!(
                "{in_use} document or secret keys are still wrapped by an older key: run `liasse keys rotate` first"
            ),
        ));
    }
    ring.remove(id)?;
    ring.save(&path)?;
    Ok(())
}
