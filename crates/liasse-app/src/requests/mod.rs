//! Procedures and requests: the vault feeds the démarches. A citizen starts a request, gets
//! the personalised list of required documents with the fitting ones from their vault, attaches
//! or uploads, submits; agents of the procedure's domain take, lock, annotate and decide.

mod citizen;
mod handling;
mod procedures;
mod tracking;
mod view;

pub use citizen::*;
pub use handling::*;
pub use procedures::*;
pub use tracking::*;
pub use view::*;

use std::collections::HashMap;

use liasse_domain::clock::{DAY_MS, rfc3339};
use liasse_domain::doctype::format_date;
use liasse_domain::ids::{is_valid_id, new_id};
use liasse_domain::journal::NewEntry;
use liasse_domain::policy::{Access, Denial, RequestRecord, Warrant};
use liasse_domain::procedure::{Expanded, Gap, Procedure};
use liasse_store::documents::{self, DocumentRow};
use liasse_store::requests as store;
/// The stored rows a request's view carries.
pub use liasse_store::requests::{AttachmentRow, HistoryRow, NoteRow, RequestRow};
use liasse_store::{journal, members};
use serde::{Deserialize, Serialize};

use crate::app::App;
use crate::auth::{Principal, new_secret, secret_hash};
use crate::catalogue;
use crate::error::{AppError, Result};

/// A lock taken by an agent lasts this long unless renewed (tenant setting `lock_minutes`).
const DEFAULT_LOCK_MINUTES: i64 = 30;

async fn lock_ms(app: &App, tenant_id: &str) -> Result<i64> {
    let tenant = liasse_store::tenants::by_id(&app.db, tenant_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let minutes = tenant
        .settings
        .get("lock_minutes")
        .and_then(|v| v.as_i64())
        .filter(|m| (1..=24 * 60).contains(m))
        .unwrap_or(DEFAULT_LOCK_MINUTES);
    Ok(minutes * 60 * 1000)
}

/// The request as the policy sees it, its lock judged at `now`.
fn record(r: &RequestRow, now: i64) -> RequestRecord<'_> {
    RequestRecord {
        tenant_id: &r.tenant_id,
        citizen_id: &r.citizen_id,
        domain: &r.domain,
        state: &r.state,
        lock_holder: r.lock_holder.as_deref(),
        lock_live: r.lock_until.is_some_and(|u| u > now),
    }
}

/// The request, if the principal may see it (the policy's `ReadRequest`); "not found" otherwise.
async fn load(app: &App, p: &Principal, id: &str) -> Result<RequestRow> {
    if !is_valid_id(id) {
        return Err(AppError::NotFound);
    }
    let r = store::get(&app.db, &p.tenant_id, id)
        .await?
        .ok_or(AppError::NotFound)?;
    p.authorize(&Access::ReadRequest(&record(&r, app.now())))
        .map_err(|_| AppError::NotFound)?;
    Ok(r)
}

/// The request, if it is the principal's own to change (the policy's `ChangeRequest`).
async fn load_own(app: &App, p: &Principal, id: &str) -> Result<RequestRow> {
    let r = load(app, p, id).await?;
    p.authorize(&Access::ChangeRequest(&record(&r, app.now())))?;
    Ok(r)
}

fn entry(p: &Principal, action: &str, r: &RequestRow, details: serde_json::Value) -> NewEntry {
    NewEntry {
        actor: p.actor(),
        action: action.into(),
        object_kind: "request".into(),
        object_id: r.id.clone(),
        citizen_id: Some(r.citizen_id.clone()),
        basis_kind: if p.account_id == r.citizen_id {
            "owner".into()
        } else {
            "domain".into()
        },
        basis_id: if p.account_id == r.citizen_id {
            String::new()
        } else {
            r.domain.clone()
        },
        details,
    }
}

async fn history(
    tx: &mut liasse_store::WriteTx,
    p: &Principal,
    r: &RequestRow,
    event: &str,
    details: serde_json::Value,
) -> Result<()> {
    store::add_history(
        tx,
        &new_id(),
        &r.tenant_id,
        &r.id,
        r.updated_at,
        &p.account_id,
        &p.display_name,
        event,
        &details,
    )
    .await?;
    Ok(())
}

/// Whether an agent holds an unexpired lock (only agents take locks).
fn agent_lock(r: &RequestRow, now: i64) -> bool {
    r.lock_holder.as_deref().is_some_and(|h| h != r.citizen_id)
        && r.lock_until.is_some_and(|u| u > now)
}

/// The request as the transaction sees it, if its state and lock are still those the checks
/// saw (an agent may have taken the lock meanwhile); the write then starts from this row.
async fn unchanged_in(tx: &mut liasse_store::WriteTx, seen: &RequestRow) -> Result<RequestRow> {
    store::get_in(tx, &seen.tenant_id, &seen.id)
        .await?
        .filter(|x| {
            x.state == seen.state
                && x.lock_holder == seen.lock_holder
                && x.lock_until == seen.lock_until
        })
        .ok_or_else(|| AppError::Conflict("la demande a changé entre-temps : réessayez".into()))
}
