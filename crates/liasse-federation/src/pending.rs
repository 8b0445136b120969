//! Logins between two steps, kept server-side and never in clear: begun at a provider and
//! waiting for its callback ([`CALLBACK`], keyed by the hash of `state`), verified and waiting
//! for a citizen's choice at a first login ([`CHOICE`], keyed by the hash of a random id), or
//! a re-link handed out by an admin ([`RELINK`]). Each is bound to the browser by the hash of
//! a cookie (except a re-link, which is a link given to one person) and is taken once.

use base64::Engine as _;
use liasse_app::app::App;
use liasse_app::auth::secret_hash;
use liasse_app::secrets;
use liasse_store::federation::{self, PendingRow};
use rand::RngCore;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::{FedError, Result};

pub const CALLBACK: &str = "callback";
pub const CHOICE: &str = "choice";
pub const RELINK: &str = "relink";

/// A random value of 43 url-safe characters (a browser cookie, a choice id, a re-link token).
pub fn random_secret() -> String {
    let mut b = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut b);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}

fn sealed_name(stage: &str, id_hash: &str) -> String {
    format!("pending:{stage}:{id_hash}")
}

/// Keeps `payload` under `id` until `ttl_ms` from now.
#[allow(clippy::too_many_arguments)]
pub async fn keep<T: Serialize>(
    app: &App,
    tenant_id: &str,
    kind: &str,
    stage: &str,
    id: &str,
    browser: &str,
    payload: &T,
    ttl_ms: i64,
) -> Result<()> {
    let id_hash = secret_hash(id);
    let json = zeroize::Zeroizing::new(
        serde_json::to_vec(payload)
            .map_err(|e| liasse_app::error::AppError::Internal(format!("pending: {e}")))?,
    );
    let sealed = secrets::seal_value(app, tenant_id, &sealed_name(stage, &id_hash), &json)?;
    let now = app.now();
    let mut tx = app.db.begin_write().await?;
    // Old ones go as new ones come: the table holds only logins in progress.
    federation::purge_pending(&mut tx, now).await?;
    federation::insert_pending(
        &mut tx,
        &PendingRow {
            id_hash,
            tenant_id: tenant_id.into(),
            kind: kind.into(),
            stage: stage.into(),
            browser_hash: secret_hash(browser),
            payload: sealed,
            created_at: now,
            expires_at: now + ttl_ms,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// What a taken pending login held.
pub struct Taken<T> {
    pub tenant_id: String,
    pub kind: String,
    pub payload: T,
}

fn open<T: DeserializeOwned>(app: &App, row: &PendingRow) -> Result<T> {
    let json = secrets::open_value(
        app,
        &row.tenant_id,
        &sealed_name(&row.stage, &row.id_hash),
        &row.payload,
    )?;
    serde_json::from_slice(&json).map_err(|e| {
        FedError::App(liasse_app::error::AppError::Internal(format!(
            "pending: {e}"
        )))
    })
}

/// How a missing or expired entry of a stage is told.
pub struct Refusals {
    pub missing: fn() -> FedError,
    pub expired: fn() -> FedError,
}

fn check_browser(row: &PendingRow, browser: Option<&str>) -> Result<()> {
    match browser {
        None if row.stage == RELINK => Ok(()),
        Some(b)
            if bool::from(subtle::ConstantTimeEq::ct_eq(
                secret_hash(b).as_bytes(),
                row.browser_hash.as_bytes(),
            )) =>
        {
            Ok(())
        }
        _ => Err(FedError::WrongBrowser),
    }
}

/// Takes the entry out (it cannot be used again, whatever comes next) and opens it.
pub async fn take<T: DeserializeOwned>(
    app: &App,
    stage: &str,
    id: &str,
    browser: Option<&str>,
    refusals: &Refusals,
) -> Result<Taken<T>> {
    let mut tx = app.db.begin_write().await?;
    let row = federation::take_pending(&mut tx, &secret_hash(id), stage).await?;
    tx.commit().await?;
    let row = row.ok_or_else(refusals.missing)?;
    if row.expires_at <= app.now() {
        return Err((refusals.expired)());
    }
    check_browser(&row, browser)?;
    Ok(Taken {
        payload: open(app, &row)?,
        tenant_id: row.tenant_id,
        kind: row.kind,
    })
}

/// Opens the entry without taking it (a page shown before its form is posted).
pub async fn peek<T: DeserializeOwned>(
    app: &App,
    stage: &str,
    id: &str,
    browser: Option<&str>,
    refusals: &Refusals,
) -> Result<Taken<T>> {
    let row = federation::peek_pending(&app.db, &secret_hash(id), stage, app.now())
        .await?
        .ok_or_else(refusals.missing)?;
    check_browser(&row, browser)?;
    Ok(Taken {
        payload: open(app, &row)?,
        tenant_id: row.tenant_id,
        kind: row.kind,
    })
}
