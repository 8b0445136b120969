//! The life cycle of documents and requests: reminders before the end of validity, notice and
//! destruction at the end of retention, deletion of abandoned drafts, anonymisation of closed
//! requests.
//!
//! The scheduler turns dates into jobs; the runner (`services::jobs`) runs them. Scheduling
//! reads documents by date through indexes: each pass reads the days that became due since the
//! previous one (a cursor) and the documents changed since then (deposits, reviews), so its cost
//! follows the number of due documents, not the size of the vault. Every job has an
//! idempotency key; scheduling the same event twice inserts nothing.
//!
//! Days: `valid_until` is a document's last valid day; "J0" is the day after, the first day it
//! is shown as expired; "J-30" is thirty days before J0.

mod notices;
mod request_jobs;
mod schedule;
mod vault_jobs;

pub use notices::*;
use request_jobs::*;
pub use schedule::*;
use vault_jobs::*;

use std::collections::{BTreeSet, HashMap};

use liasse_domain::clock::{DAY_MS, date_of};
use liasse_domain::doctype::{Disposal, DocumentType, IsoDuration, format_date, parse_date};
use liasse_domain::ids::new_id;
use liasse_domain::journal::{Actor, NewEntry};
use liasse_store::jobs::{self as store, JobRow, NewJob};
use liasse_store::lifecycle::DatedDoc;
use liasse_store::{WriteTx, documents, journal, requests as request_store, tenants};
use serde::{Deserialize, Serialize};
use time::Date;

use liasse_app::app::App;
use liasse_app::error::{AppError, Result};
use liasse_app::mail::{self, Notice, day_start};
use liasse_app::{catalogue, requests};

/// Documents read per query while scheduling.
const PAGE: i64 = 500;

/// How far back a pass catches up on reminders missed while no runner ran (older ones are
/// stale); destruction catches up without limit.
const EXPIRY_CATCH_UP_DAYS: i64 = 60;

/// A document deposited already expired is still told so if it expired this recently.
const EXPIRED_LOOKBACK_DAYS: i64 = 7;

/// Changes committed just before a pass may carry an earlier time than the pass's start:
/// documents changed this long before the previous pass are read again (idempotent).
const CHANGE_MARGIN_MS: i64 = 10 * 60 * 1000;

/// Notice before an idle draft is deleted.
const DRAFT_NOTICE_DAYS: i64 = 7;

const CURSOR: &str = "documents";

fn add_days(d: Date, n: i64) -> Date {
    d.checked_add(time::Duration::days(n))
        .unwrap_or(if n < 0 { Date::MIN } else { Date::MAX })
}

/// The earliest day `v` with `r.add_to(v) >= target` (`add_to` only grows with `v`), so that
/// "retention ends on day X" can be turned into a range of `valid_until` for the index.
fn first_with(r: &IsoDuration, target: Date) -> Date {
    let span = i64::from(r.years) * 366 + i64::from(r.months) * 31 + i64::from(r.days);
    // `add_to` adds at most `span` days, so this starts at or before the answer.
    let mut v = add_days(target, -span);
    for _ in 0..4000 {
        if r.add_to(v) >= target || v == Date::MAX {
            break;
        }
        v = add_days(v, 1);
    }
    v
}

/// The reminder that is current for a document on `today`, as days before J0 (0 for J0
/// itself), or `None`. Offsets are taken smallest first: the latest event wins, so a document
/// deposited five days before its end gets the J-7 reminder, not the J-30 one.
fn expiry_event(valid_until: Date, today: Date, offsets_ascending: &[u32]) -> Option<u32> {
    let j0 = add_days(valid_until, 1);
    for &d in offsets_ascending {
        if add_days(j0, -i64::from(d)) <= today {
            if d == 0 && (today - j0).whole_days() > EXPIRED_LOOKBACK_DAYS {
                return None;
            }
            return Some(d);
        }
    }
    None
}

/// The day a document is destroyed at the end of its type's retention (which counts from the
/// end of validity), or `None` when its type keeps documents. Documents without an end of
/// validity (birth certificates, vaccination records) are never destroyed by the runner: the
/// end of their use is not known.
fn disposal_day(valid_until: Date, t: &DocumentType) -> Option<Date> {
    (t.disposal == Disposal::Delete).then(|| add_days(t.retention.add_to(valid_until), 1))
}

fn disposal_notice_due(valid_until: Date, t: &DocumentType, today: Date) -> bool {
    disposal_day(valid_until, t)
        .is_some_and(|p| add_days(p, -i64::from(t.disposal_notice_days)) <= today)
}

fn offsets_ascending(app: &App) -> Vec<u32> {
    let mut v: Vec<u32> = app.config.expiry_notice_days();
    v.push(0);
    v.sort_unstable();
    v.dedup();
    v
}

/// Every document type of every tenant, by (tenant, code).
async fn all_types(app: &App) -> Result<HashMap<(String, String), DocumentType>> {
    let mut out = HashMap::new();
    for (tenant, code, def) in liasse_store::doctypes::all_document_types(&app.db).await? {
        match serde_json::from_str::<DocumentType>(&def) {
            Ok(t) => {
                out.insert((tenant, code), t);
            }
            Err(e) => tracing::warn!(%tenant, %code, error = %e, "unreadable document type"),
        }
    }
    Ok(out)
}

// ------------------------------------------------------------------------------ handlers

/// How a job ended.
pub enum Outcome {
    Done,
    /// Another node took the job back (our lease expired): our work was rolled back.
    Lost,
}

/// Runs one claimed job. Its work and its completion commit together, so a job that dies
/// halfway leaves nothing behind, and a job run twice does nothing the second time.
pub async fn run(app: &App, job: &JobRow, owner: &str) -> Result<Outcome> {
    match job.kind.as_str() {
        "expiry" => expiry(app, job, owner).await,
        "disposal_notice" => disposal_notice(app, job, owner).await,
        "dispose" => dispose(app, job, owner).await,
        "draft_notice" => draft_notice(app, job, owner).await,
        "draft_delete" => draft_delete(app, job, owner).await,
        "anonymise" => anonymise(app, job, owner).await,
        "digest" => digest(app, job, owner).await,
        other => Err(AppError::Internal(format!("unknown job kind « {other} »"))),
    }
}

/// Opens the job's transaction and marks it done first: `None` if the lease was lost.
async fn begin(app: &App, job: &JobRow, owner: &str) -> Result<Option<WriteTx>> {
    let mut tx = app.db.begin_write().await?;
    if store::complete(&mut tx, &job.id, owner, app.now()).await? {
        Ok(Some(tx))
    } else {
        Ok(None)
    }
}

/// Completes a job that has nothing (more) to do.
async fn skip(app: &App, job: &JobRow, owner: &str) -> Result<Outcome> {
    let Some(tx) = begin(app, job, owner).await? else {
        return Ok(Outcome::Lost);
    };
    tx.commit().await?;
    Ok(Outcome::Done)
}

fn payload<T: serde::de::DeserializeOwned>(job: &JobRow) -> Result<T> {
    serde_json::from_str(&job.payload)
        .map_err(|e| AppError::Internal(format!("job {} payload: {e}", job.id)))
}

/// The job a notice announces, queued in the same transaction: one never goes without the
/// other.
pub(super) struct FollowUp<'a> {
    pub kind: &'a str,
    pub key: String,
    pub payload: serde_json::Value,
    pub run_at: i64,
}

/// Completes the job, tells the account and queues what follows, all in one transaction.
pub(super) async fn notify_then(
    app: &App,
    job: &JobRow,
    owner: &str,
    notice: &Notice<'_>,
    next: FollowUp<'_>,
) -> Result<Outcome> {
    let now = app.now();
    let Some(mut tx) = begin(app, job, owner).await? else {
        return Ok(Outcome::Lost);
    };
    mail::notify(&mut tx, app, notice, now).await?;
    store::enqueue(
        &mut tx,
        &NewJob {
            id: &new_id(),
            tenant_id: &job.tenant_id,
            kind: next.kind,
            key: &next.key,
            payload: &next.payload,
            run_at: next.run_at,
        },
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(Outcome::Done)
}

#[cfg(test)]
mod tests;
