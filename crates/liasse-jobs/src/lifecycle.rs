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

use std::collections::{BTreeSet, HashMap};

use liasse_domain::clock::{DAY_MS, date_of};
use liasse_domain::doctype::{Disposal, DocumentType, IsoDuration, format_date, parse_date};
use liasse_domain::ids::new_id;
use liasse_domain::journal::{Actor, NewEntry};
use liasse_domain::policy::{Action, Basis};
use liasse_store::jobs::{self as store, JobRow, NewJob};
use liasse_store::lifecycle::DatedDoc;
use liasse_store::{WriteTx, documents, journal, requests as request_store, tenants};
use serde::{Deserialize, Serialize};
use time::Date;

use liasse_app::app::App;
use liasse_app::auth::Principal;
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

#[derive(Serialize, Deserialize)]
struct DocPayload {
    document_id: String,
    valid_until: String,
    #[serde(default)]
    days: u32,
}

#[derive(Serialize, Deserialize)]
struct RequestPayload {
    request_id: String,
    #[serde(default)]
    updated_at: i64,
}

/// Jobs to insert, gathered from one page of a scan.
struct Batch<'a> {
    app: &'a App,
    now: i64,
    jobs: Vec<(String, &'static str, String, serde_json::Value, i64)>,
}

impl<'a> Batch<'a> {
    fn new(app: &'a App, now: i64) -> Self {
        Batch {
            app,
            now,
            jobs: Vec::new(),
        }
    }

    fn push(&mut self, tenant: &str, kind: &'static str, key: String, payload: serde_json::Value) {
        self.jobs
            .push((tenant.to_string(), kind, key, payload, self.now));
    }

    /// Inserts the gathered jobs in one transaction; returns how many were new.
    async fn flush(&mut self) -> Result<usize> {
        if self.jobs.is_empty() {
            return Ok(0);
        }
        let mut tx = self.app.db.begin_write().await?;
        let mut n = 0;
        for (tenant, kind, key, payload, run_at) in self.jobs.drain(..) {
            let j = NewJob {
                id: &new_id(),
                tenant_id: &tenant,
                kind,
                key: &key,
                payload: &payload,
                run_at,
            };
            if store::enqueue(&mut tx, &j, self.now).await? {
                n += 1;
            }
        }
        tx.commit().await?;
        Ok(n)
    }
}

/// Schedules every job that is due today; returns how many new jobs were inserted.
pub async fn schedule(app: &App) -> Result<usize> {
    let mut n = schedule_documents(app).await?;
    n += schedule_drafts(app).await?;
    n += schedule_anonymisation(app).await?;
    Ok(n)
}

/// What one document needs today: its current reminder and its disposal notice.
fn plan(
    d: &DatedDoc,
    types: &HashMap<(String, String), DocumentType>,
    today: Date,
    offsets: &[u32],
    batch: &mut Batch<'_>,
) {
    let Ok(v) = parse_date(&d.valid_until) else {
        return;
    };
    if let Some(days) = expiry_event(v, today, offsets) {
        batch.push(
            &d.tenant_id,
            "expiry",
            format!("{}:{}:J-{days}", d.id, d.valid_until),
            serde_json::json!(DocPayload {
                document_id: d.id.clone(),
                valid_until: d.valid_until.clone(),
                days
            }),
        );
    }
    if let Some(t) = types.get(&(d.tenant_id.clone(), d.type_code.clone()))
        && disposal_notice_due(v, t, today)
    {
        batch.push(
            &d.tenant_id,
            "disposal_notice",
            format!("{}:{}", d.id, d.valid_until),
            serde_json::json!(DocPayload {
                document_id: d.id.clone(),
                valid_until: d.valid_until.clone(),
                days: 0
            }),
        );
    }
}

/// Reads documents whose valid_until is in `[lo, hi]` and plans each.
async fn scan_range(
    app: &App,
    lo: Date,
    hi: Date,
    types: &HashMap<(String, String), DocumentType>,
    today: Date,
    offsets: &[u32],
    batch: &mut Batch<'_>,
) -> Result<usize> {
    if lo > hi {
        return Ok(0);
    }
    let (lo, hi) = (format_date(lo), format_date(hi));
    let mut n = 0;
    let mut after: Option<(String, String)> = None;
    loop {
        let page = liasse_store::lifecycle::documents_valid_between(
            &app.db,
            &lo,
            &hi,
            after.as_ref().map(|(a, b)| (a.as_str(), b.as_str())),
            PAGE,
        )
        .await?;
        let Some(last) = page.last() else { break };
        after = Some((last.valid_until.clone(), last.id.clone()));
        for d in &page {
            plan(d, types, today, offsets, batch);
        }
        n += batch.flush().await?;
        if (page.len() as i64) < PAGE {
            break;
        }
    }
    Ok(n)
}

/// Reminders and disposal notices: the days that became due since the last pass, then the
/// documents changed since then.
pub async fn schedule_documents(app: &App) -> Result<usize> {
    let now = app.now();
    let today = date_of(now);
    let offsets = offsets_ascending(app);
    let types = all_types(app).await?;
    let cursor = liasse_store::lifecycle::cursor(&app.db, CURSOR).await?;
    let (last_day, since) = match &cursor {
        Some((day, at)) => (parse_date(day).ok(), at - CHANGE_MARGIN_MS),
        // First pass: no reminder is owed for the past, but every document already beyond
        // its retention is (see below).
        None => (None, now - DAY_MS),
    };
    let mut batch = Batch::new(app, now);
    let mut n = 0;

    // Reminders: the event `d` days before J0 falls on days (C, T], so valid_until (= J0 - 1)
    // lies in [C + d, T + d - 1].
    let c = last_day
        .unwrap_or(add_days(today, -1))
        .max(add_days(today, -EXPIRY_CATCH_UP_DAYS));
    for &d in &offsets {
        let d = i64::from(d);
        n += scan_range(
            app,
            add_days(c, d),
            add_days(today, d - 1),
            &types,
            today,
            &offsets,
            &mut batch,
        )
        .await?;
    }

    // Disposal notices, per (retention, notice delay) of the catalogues: the notice day
    // (retention end + 1 - N) falls on (C, T]. Without a cursor, every document past its
    // notice day is due.
    let groups: BTreeSet<(String, u32)> = types
        .values()
        .filter(|t| t.disposal == Disposal::Delete)
        .map(|t| (t.retention.to_string(), t.disposal_notice_days))
        .collect();
    for (retention, notice) in groups {
        let Ok(r) = IsoDuration::parse(&retention) else {
            continue;
        };
        let notice = i64::from(notice);
        let lo = match last_day {
            Some(c) => first_with(&r, add_days(c, notice)),
            None => Date::MIN,
        };
        let hi = add_days(first_with(&r, add_days(today, notice)), -1);
        n += scan_range(app, lo, hi, &types, today, &offsets, &mut batch).await?;
    }

    // Documents deposited, reviewed or replaced since the last pass: their events may be due
    // already (a document deposited five days before its end).
    let mut after: Option<(i64, String)> = None;
    loop {
        let page = liasse_store::lifecycle::documents_changed_since(
            &app.db,
            since,
            after.as_ref().map(|(a, b)| (*a, b.as_str())),
            PAGE,
        )
        .await?;
        let Some(last) = page.last() else { break };
        after = Some((last.updated_at, last.id.clone()));
        for d in &page {
            plan(d, &types, today, &offsets, &mut batch);
        }
        n += batch.flush().await?;
        if (page.len() as i64) < PAGE {
            break;
        }
    }
    liasse_store::lifecycle::set_cursor(&app.db, CURSOR, &format_date(today), now).await?;
    Ok(n)
}

fn tenant_duration(settings: &serde_json::Value, key: &str, default: IsoDuration) -> IsoDuration {
    settings
        .get(key)
        .and_then(|v| v.as_str())
        .and_then(|s| IsoDuration::parse(s).ok())
        .unwrap_or(default)
}

const THREE_MONTHS: IsoDuration = IsoDuration {
    years: 0,
    months: 3,
    days: 0,
};

/// Drafts untouched for the tenant's `draft_retention` (default three months) are deleted,
/// after a notice a week before.
pub async fn schedule_drafts(app: &App) -> Result<usize> {
    let now = app.now();
    let today = date_of(now);
    let mut batch = Batch::new(app, now);
    let mut n = 0;
    for t in tenants::list(&app.db).await? {
        let keep = tenant_duration(&t.settings, "draft_retention", THREE_MONTHS);
        // Deleted on keep.add_to(last change); noticed a week before: the last change is
        // before the first day whose deletion falls after today + 7.
        let before = day_start(first_with(&keep, add_days(today, DRAFT_NOTICE_DAYS + 1)));
        for r in liasse_store::lifecycle::drafts_idle_before(&app.db, &t.id, before, 10_000).await?
        {
            batch.push(
                &t.id,
                "draft_notice",
                format!("{}:{}", r.id, r.updated_at),
                serde_json::json!(RequestPayload {
                    request_id: r.id.clone(),
                    updated_at: r.updated_at
                }),
            );
        }
        n += batch.flush().await?;
    }
    Ok(n)
}

/// Closed requests whose retention (`request_retention`, default three months) has passed.
pub async fn schedule_anonymisation(app: &App) -> Result<usize> {
    let now = app.now();
    let today = date_of(now);
    let mut batch = Batch::new(app, now);
    let mut n = 0;
    for t in tenants::list(&app.db).await? {
        let keep = requests::retention(app, &t.id).await?;
        let before = day_start(first_with(&keep, add_days(today, 1)));
        for r in liasse_store::lifecycle::closed_before(&app.db, &t.id, before, 10_000).await? {
            batch.push(
                &t.id,
                "anonymise",
                r.id.clone(),
                serde_json::json!(RequestPayload {
                    request_id: r.id.clone(),
                    updated_at: r.updated_at
                }),
            );
        }
        n += batch.flush().await?;
    }
    Ok(n)
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

/// "Justificatif de domicile" reads "justificatif de domicile" after "Votre" (acronyms kept).
fn lower_first(label: &str) -> String {
    let mut chars = label.chars();
    match (chars.next(), chars.next()) {
        (Some(a), Some(b)) if a.is_uppercase() && !b.is_uppercase() => {
            a.to_lowercase().chain(label.chars().skip(1)).collect()
        }
        _ => label.to_string(),
    }
}

const MONTHS: [&str; 12] = [
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
];

/// "15 février 2026".
pub fn date_fr(d: Date) -> String {
    let month = MONTHS
        .get(usize::from(d.month() as u8).saturating_sub(1))
        .copied()
        .unwrap_or_default();
    format!("{} {month} {}", d.day(), d.year())
}

fn days_fr(n: i64) -> String {
    if n <= 1 {
        format!("{n} jour")
    } else {
        format!("{n} jours")
    }
}

/// The French templates of the life cycle's notices: (title, text), with `{name}` fields.
mod templates {
    pub const EXPIRING: (&str, &str) = (
        "Votre {type} expire dans {days}",
        "Votre pièce « {label} » est valable jusqu'au {last_day} : elle expire dans {days}. \
         Pensez à déposer un document à jour dans votre porte-documents.",
    );
    pub const EXPIRED: (&str, &str) = (
        "Votre {type} a expiré",
        "Votre pièce « {label} » n'est plus valable depuis le {expired_on}. \
         Déposez un document à jour pour vos prochaines démarches.",
    );
    pub const AGENT_EXPIRING: (&str, &str) = (
        "Demande {number} : une pièce expire dans {days}",
        "La pièce « {label} » jointe à la demande {number} est valable jusqu'au {last_day}.",
    );
    pub const AGENT_EXPIRED: (&str, &str) = (
        "Demande {number} : une pièce a expiré",
        "La pièce « {label} » jointe à la demande {number} n'est plus valable depuis le {expired_on}.",
    );
    pub const DISPOSAL: (&str, &str) = (
        "Suppression de votre {type} le {date}",
        "Votre pièce « {label} » arrive au terme de sa durée de conservation : elle sera supprimée \
         définitivement le {date}. Téléchargez-la avant cette date si vous souhaitez en garder une copie.{keep}",
    );
    pub const KEEP_HINT: &str = " Vous pouvez aussi demander à la conserver dans votre porte-documents au-delà de cette durée.";
    pub const DISPOSED: (&str, &str) = (
        "Pièce supprimée : {label}",
        "Votre pièce « {label} » a été supprimée au terme de sa durée de conservation. \
         La suppression est inscrite dans votre journal.",
    );
    pub const DRAFT_EXPIRING: (&str, &str) = (
        "Votre brouillon « {procedure} » sera supprimé le {date}",
        "Votre demande « {procedure} » (n° {number}) est à l'état de brouillon sans modification \
         depuis le {since} : elle sera supprimée le {date}. Reprenez-la avant cette date pour la conserver.",
    );
    pub const DRAFT_DELETED: (&str, &str) = (
        "Brouillon supprimé : {procedure}",
        "Votre brouillon de demande « {procedure} » (n° {number}) a été supprimé : \
         il n'avait pas été modifié depuis le {since}.",
    );
}

fn render(template: &str, fields: &[(&str, &str)]) -> String {
    let mut out = template.to_string();
    for (k, v) in fields {
        out = out.replace(&format!("{{{k}}}"), v);
    }
    out
}

/// A live document that still matches the job's date, with its type; `None` when the job is
/// moot (deleted, renewed, type withdrawn from the catalogue's rules).
async fn live_document(
    app: &App,
    job: &JobRow,
    p: &DocPayload,
) -> Result<Option<(documents::DocumentRow, Option<DocumentType>)>> {
    let Some(doc) = documents::get(&app.db, &job.tenant_id, &p.document_id).await? else {
        return Ok(None);
    };
    if doc.deleted_at.is_some() || doc.valid_until.as_deref() != Some(p.valid_until.as_str()) {
        return Ok(None);
    }
    let t = catalogue::get_any(app, &job.tenant_id, &doc.type_code)
        .await?
        .map(|(t, _)| t);
    Ok(Some((doc, t)))
}

/// Reminder (or expiry) to the citizen, and to the agents of the open requests the document
/// is attached to.
async fn expiry(app: &App, job: &JobRow, owner: &str) -> Result<Outcome> {
    let p: DocPayload = payload(job)?;
    let Some((doc, t)) = live_document(app, job, &p).await? else {
        return skip(app, job, owner).await;
    };
    let label = t
        .as_ref()
        .map(|t| t.label.clone())
        .unwrap_or_else(|| doc.type_code.clone());
    let valid_until = parse_date(&p.valid_until).map_err(AppError::Internal)?;
    let j0 = add_days(valid_until, 1);
    let today = app.clock.today();
    // Said as it is on the day the job runs, which may be later than planned.
    let left = (j0 - today).whole_days().max(1);
    let expired = p.days == 0;
    let days = days_fr(left);
    let last_day = date_fr(valid_until);
    let expired_on = date_fr(j0);
    let type_ = lower_first(&label);
    let fields = [
        ("type", type_.as_str()),
        ("label", label.as_str()),
        ("days", days.as_str()),
        ("last_day", last_day.as_str()),
        ("expired_on", expired_on.as_str()),
    ];
    let (title, text) = if expired {
        templates::EXPIRED
    } else {
        templates::EXPIRING
    };
    let event = format!("expiry:{}:{}:J-{}", doc.id, p.valid_until, p.days);

    // Agents handling an open request that needs the document: the lock holder, or every
    // agent who may act on the request's domain.
    let now = app.now();
    let mut agents: Vec<(String, String, String)> = Vec::new();
    for r in request_store::open_requests_with_document(&app.db, &job.tenant_id, &doc.id).await? {
        let holders = match r
            .lock_holder
            .clone()
            .filter(|_| r.lock_until.is_some_and(|u| u > now))
        {
            Some(h) => vec![h],
            None => {
                liasse_store::staff::staff_with_modify_right(&app.db, &job.tenant_id, &r.domain)
                    .await?
            }
        };
        for a in holders {
            if !agents.iter().any(|(x, _, _)| *x == a) {
                agents.push((a, r.id.clone(), r.number.clone()));
            }
        }
    }

    let Some(mut tx) = begin(app, job, owner).await? else {
        return Ok(Outcome::Lost);
    };
    mail::notify(
        &mut tx,
        app,
        &Notice {
            tenant_id: &job.tenant_id,
            account_id: &doc.owner_id,
            kind: if expired {
                "document.expired"
            } else {
                "document.expiring"
            },
            key: format!("{event}:{}", doc.owner_id),
            title: render(title, &fields),
            text: render(text, &fields),
            object_id: Some(&doc.id),
            mandatory: false,
        },
        now,
    )
    .await?;
    let (title, text) = if expired {
        templates::AGENT_EXPIRED
    } else {
        templates::AGENT_EXPIRING
    };
    for (agent, request_id, number) in &agents {
        let mut f = fields.to_vec();
        f.push(("number", number.as_str()));
        mail::notify(
            &mut tx,
            app,
            &Notice {
                tenant_id: &job.tenant_id,
                account_id: agent,
                kind: if expired {
                    "request.document_expired"
                } else {
                    "request.document_expiring"
                },
                key: format!("{event}:{agent}"),
                title: render(title, &f),
                text: render(text, &f),
                object_id: Some(request_id),
                mandatory: false,
            },
            now,
        )
        .await?;
    }
    if expired {
        journal::append(
            &mut tx,
            &job.tenant_id,
            now,
            &NewEntry::new(Actor::system(), "document.expire", "document", &doc.id)
                .citizen(Some(doc.owner_id.clone()))
                .basis("validity", "")
                .details(serde_json::json!({ "valid_until": p.valid_until })),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(Outcome::Done)
}

/// Tells the citizen N days ahead, then schedules the destruction (never less than N days
/// after the notice, even when catching up).
async fn disposal_notice(app: &App, job: &JobRow, owner: &str) -> Result<Outcome> {
    let p: DocPayload = payload(job)?;
    let Some((doc, Some(t))) = live_document(app, job, &p).await? else {
        return skip(app, job, owner).await;
    };
    let valid_until = parse_date(&p.valid_until).map_err(AppError::Internal)?;
    let Some(day) = disposal_day(valid_until, &t) else {
        return skip(app, job, owner).await;
    };
    if liasse_store::lifecycle::is_kept(app.db.pool(), &job.tenant_id, &doc.id).await? {
        return skip(app, job, owner).await;
    }
    let today = app.clock.today();
    let on = day.max(add_days(today, i64::from(t.disposal_notice_days)));
    let date = date_fr(on);
    let type_ = lower_first(&t.label);
    let fields = [
        ("type", type_.as_str()),
        ("label", t.label.as_str()),
        ("date", date.as_str()),
        (
            "keep",
            if t.keep_allowed {
                templates::KEEP_HINT
            } else {
                ""
            },
        ),
    ];
    let now = app.now();
    let Some(mut tx) = begin(app, job, owner).await? else {
        return Ok(Outcome::Lost);
    };
    mail::notify(
        &mut tx,
        app,
        &Notice {
            tenant_id: &job.tenant_id,
            account_id: &doc.owner_id,
            kind: "document.disposal",
            key: format!("disposal:{}:{}:{}", doc.id, p.valid_until, doc.owner_id),
            title: render(templates::DISPOSAL.0, &fields),
            text: render(templates::DISPOSAL.1, &fields),
            object_id: Some(&doc.id),
            mandatory: true,
        },
        now,
    )
    .await?;
    store::enqueue(
        &mut tx,
        &NewJob {
            id: &new_id(),
            tenant_id: &job.tenant_id,
            kind: "dispose",
            key: &format!("{}:{}", doc.id, p.valid_until),
            payload: &serde_json::json!(DocPayload {
                document_id: doc.id.clone(),
                valid_until: p.valid_until.clone(),
                days: 0
            }),
            run_at: day_start(on),
        },
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(Outcome::Done)
}

/// Destroys a document at the end of its retention: wrapped keys destroyed, blobs removed, a
/// tombstone and a journal entry kept (`services::documents::destroy`).
async fn dispose(app: &App, job: &JobRow, owner: &str) -> Result<Outcome> {
    let p: DocPayload = payload(job)?;
    let Some((doc, Some(t))) = live_document(app, job, &p).await? else {
        return skip(app, job, owner).await;
    };
    let valid_until = parse_date(&p.valid_until).map_err(AppError::Internal)?;
    // The type may have changed since the notice: keep documents whose type now keeps them,
    // or whose retention now ends later (the scheduler announces the new date when it comes).
    let due = disposal_day(valid_until, &t).is_some_and(|d| d <= app.clock.today());
    if !due || liasse_store::lifecycle::is_kept(app.db.pool(), &job.tenant_id, &doc.id).await? {
        return skip(app, job, owner).await;
    }
    let entry = NewEntry::new(Actor::system(), "document.dispose", "document", &doc.id).citizen(Some(doc.owner_id.clone())).basis("retention", &t.code).details(serde_json::json!({
            "type": doc.type_code, "valid_until": p.valid_until, "retention": t.retention.to_string(),
        }));
    match liasse_app::documents::destroy(app, &doc, entry).await {
        Ok(()) => {}
        // Deleted meanwhile (by the citizen, or by this job before a crash).
        Err(AppError::NotFound) => return skip(app, job, owner).await,
        Err(e) => return Err(e),
    }
    let fields = [("label", t.label.as_str())];
    let now = app.now();
    let Some(mut tx) = begin(app, job, owner).await? else {
        return Ok(Outcome::Lost);
    };
    mail::notify(
        &mut tx,
        app,
        &Notice {
            tenant_id: &job.tenant_id,
            account_id: &doc.owner_id,
            kind: "document.disposed",
            key: format!("disposed:{}:{}", doc.id, doc.owner_id),
            title: render(templates::DISPOSED.0, &fields),
            text: render(templates::DISPOSED.1, &fields),
            object_id: Some(&doc.id),
            mandatory: true,
        },
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(Outcome::Done)
}

/// The idle draft of the job, still idle since the same change; with its procedure's title.
async fn idle_draft(
    app: &App,
    job: &JobRow,
    p: &RequestPayload,
) -> Result<Option<(request_store::RequestRow, String)>> {
    let Some(r) = request_store::get(&app.db, &job.tenant_id, &p.request_id).await? else {
        return Ok(None);
    };
    if r.state != "draft" || r.updated_at != p.updated_at {
        return Ok(None);
    }
    let title = requests::get_procedure(app, &job.tenant_id, &r.procedure_code)
        .await
        .map(|p| p.title)
        .unwrap_or_else(|_| r.procedure_code.clone());
    Ok(Some((r, title)))
}

async fn draft_notice(app: &App, job: &JobRow, owner: &str) -> Result<Outcome> {
    let p: RequestPayload = payload(job)?;
    let Some((r, title)) = idle_draft(app, job, &p).await? else {
        return skip(app, job, owner).await;
    };
    let tenant = tenants::by_id(&app.db, &job.tenant_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let keep = tenant_duration(&tenant.settings, "draft_retention", THREE_MONTHS);
    let since_day = date_of(r.updated_at);
    let today = app.clock.today();
    let on = keep
        .add_to(since_day)
        .max(add_days(today, DRAFT_NOTICE_DAYS));
    let (date, since) = (date_fr(on), date_fr(since_day));
    let fields = [
        ("procedure", title.as_str()),
        ("number", r.number.as_str()),
        ("date", date.as_str()),
        ("since", since.as_str()),
    ];
    let now = app.now();
    let Some(mut tx) = begin(app, job, owner).await? else {
        return Ok(Outcome::Lost);
    };
    mail::notify(
        &mut tx,
        app,
        &Notice {
            tenant_id: &job.tenant_id,
            account_id: &r.citizen_id,
            kind: "request.draft_expiring",
            key: format!("draft:{}:{}:{}", r.id, r.updated_at, r.citizen_id),
            title: render(templates::DRAFT_EXPIRING.0, &fields),
            text: render(templates::DRAFT_EXPIRING.1, &fields),
            object_id: Some(&r.id),
            mandatory: true,
        },
        now,
    )
    .await?;
    store::enqueue(
        &mut tx,
        &NewJob {
            id: &new_id(),
            tenant_id: &job.tenant_id,
            kind: "draft_delete",
            key: &format!("{}:{}", r.id, r.updated_at),
            payload: &serde_json::json!(RequestPayload {
                request_id: r.id.clone(),
                updated_at: r.updated_at
            }),
            run_at: day_start(on),
        },
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(Outcome::Done)
}

async fn draft_delete(app: &App, job: &JobRow, owner: &str) -> Result<Outcome> {
    let p: RequestPayload = payload(job)?;
    let Some((r, title)) = idle_draft(app, job, &p).await? else {
        return skip(app, job, owner).await;
    };
    let since = date_fr(date_of(r.updated_at));
    let fields = [
        ("procedure", title.as_str()),
        ("number", r.number.as_str()),
        ("since", since.as_str()),
    ];
    let now = app.now();
    let Some(mut tx) = begin(app, job, owner).await? else {
        return Ok(Outcome::Lost);
    };
    if !request_store::delete_draft(&mut tx, &job.tenant_id, &r.id, p.updated_at).await? {
        tx.commit().await?;
        return Ok(Outcome::Done);
    }
    journal::append(
        &mut tx,
        &job.tenant_id,
        now,
        &NewEntry::new(Actor::system(), "request.draft_delete", "request", &r.id)
            .citizen(Some(r.citizen_id.clone()))
            .basis("retention", "")
            .details(serde_json::json!({ "number": r.number, "procedure": r.procedure_code })),
    )
    .await?;
    mail::notify(
        &mut tx,
        app,
        &Notice {
            tenant_id: &job.tenant_id,
            account_id: &r.citizen_id,
            kind: "request.draft_deleted",
            key: format!("draft-deleted:{}:{}", r.id, r.citizen_id),
            title: render(templates::DRAFT_DELETED.0, &fields),
            text: render(templates::DRAFT_DELETED.1, &fields),
            object_id: None,
            mandatory: true,
        },
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(Outcome::Done)
}

async fn anonymise(app: &App, job: &JobRow, owner: &str) -> Result<Outcome> {
    let p: RequestPayload = payload(job)?;
    let keep = requests::retention(app, &job.tenant_id).await?;
    let today = app.clock.today();
    let now = app.now();
    let Some(mut tx) = begin(app, job, owner).await? else {
        return Ok(Outcome::Lost);
    };
    let due = request_store::get_in(&mut tx, &job.tenant_id, &p.request_id)
        .await?
        .filter(|r| r.state == "closed" && r.anonymised_at.is_none())
        .filter(|r| {
            r.closed_at
                .is_some_and(|c| keep.add_to(date_of(c)) <= today)
        });
    if let Some(r) = due {
        requests::anonymise_in(&mut tx, &r, now).await?;
    }
    tx.commit().await?;
    Ok(Outcome::Done)
}

async fn digest(app: &App, job: &JobRow, owner: &str) -> Result<Outcome> {
    #[derive(Deserialize)]
    struct P {
        account_id: String,
    }
    let p: P = payload(job)?;
    let now = app.now();
    let Some(mut tx) = begin(app, job, owner).await? else {
        return Ok(Outcome::Lost);
    };
    mail::digest(&mut tx, app, &job.tenant_id, &p.account_id, now).await?;
    tx.commit().await?;
    Ok(Outcome::Done)
}

// ------------------------------------------------------------------------------- keeping

#[derive(Debug, Serialize)]
pub struct KeepView {
    pub id: String,
    pub kept: bool,
}

/// A citizen keeps a document beyond its type's retention, where the type allows it.
pub async fn keep(app: &App, p: &Principal, id: &str) -> Result<KeepView> {
    // Only the owner may decide what happens to a document (deny = not found).
    let (doc, basis) = liasse_app::documents::authorize(app, p, id, Action::Delete).await?;
    if basis != Basis::Owner {
        return Err(AppError::NotFound);
    }
    let (t, _) = catalogue::get_any(app, &p.tenant_id, &doc.type_code)
        .await?
        .ok_or(AppError::NotFound)?;
    if !t.keep_allowed {
        return Err(AppError::invalid(
            "keep-not-allowed",
            format!(
                "une pièce « {} » ne peut pas être conservée au-delà de sa durée de conservation",
                t.label
            ),
        ));
    }
    let now = app.now();
    let mut tx = app.db.begin_write().await?;
    if liasse_store::lifecycle::keep(&mut tx, &p.tenant_id, &doc.id, &p.account_id, now).await? {
        journal::append(
            &mut tx,
            &p.tenant_id,
            now,
            &liasse_app::documents::entry(
                p,
                "document.keep",
                &doc,
                &basis,
                serde_json::json!({ "type": doc.type_code }),
            ),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(KeepView {
        id: doc.id,
        kept: true,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use time::macros::date;

    #[test]
    fn first_with_inverts_retention() {
        for r in ["P1Y", "P5Y", "P6M", "P1M", "P3M", "P30D", "P1Y6M"] {
            let r = IsoDuration::parse(r).unwrap();
            let mut day = date!(2027 - 01 - 01);
            for _ in 0..800 {
                let v = first_with(&r, day);
                assert!(r.add_to(v) >= day, "{r} {day} {v}");
                assert!(r.add_to(add_days(v, -1)) < day, "{r} {day} {v}");
                day = add_days(day, 1);
            }
        }
    }

    #[test]
    fn latest_event_wins() {
        let offsets = [0, 7, 30];
        let v = date!(2026 - 02 - 14);
        // J0 = 2026-02-15; J-30 = 2026-01-16; J-7 = 2026-02-08.
        assert_eq!(expiry_event(v, date!(2026 - 01 - 15), &offsets), None);
        assert_eq!(expiry_event(v, date!(2026 - 01 - 16), &offsets), Some(30));
        assert_eq!(expiry_event(v, date!(2026 - 02 - 07), &offsets), Some(30));
        assert_eq!(expiry_event(v, date!(2026 - 02 - 08), &offsets), Some(7));
        assert_eq!(expiry_event(v, date!(2026 - 02 - 15), &offsets), Some(0));
        assert_eq!(expiry_event(v, date!(2026 - 02 - 22), &offsets), Some(0));
        assert_eq!(expiry_event(v, date!(2026 - 02 - 23), &offsets), None);
    }

    #[test]
    fn french_texts() {
        assert_eq!(date_fr(date!(2026 - 02 - 15)), "15 février 2026");
        assert_eq!(
            lower_first("Justificatif de domicile"),
            "justificatif de domicile"
        );
        assert_eq!(lower_first("RIB"), "RIB");
        assert_eq!(
            render(
                templates::EXPIRING.0,
                &[("type", "justificatif de domicile"), ("days", "30 jours")]
            ),
            "Votre justificatif de domicile expire dans 30 jours"
        );
    }
}
