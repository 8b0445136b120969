//! The job runner: claims due jobs from the database, runs them, retries failures with
//! exponential backoff, then delivers the outbox. `liasse sweep` runs one pass; `serve` runs
//! a pass every `runner_interval_secs` in the background.
//!
//! Several runners (nodes, or a `sweep` beside `serve`) may run at once: a job is claimed by
//! one runner for a lease; a runner that dies lets the lease expire and another takes the job
//! back; a job's work and its completion commit together, and a runner that lost its lease
//! rolls back. Notices are inserted with idempotency keys, so nothing is told twice.

use std::collections::BTreeMap;
use std::time::Duration;

use liasse_domain::ids::new_id;
use liasse_store::jobs as store;
use serde::Serialize;

use crate::delivery::{self, DeliveryReport, Senders};
use crate::lifecycle::{self, Outcome};
use liasse_app::app::App;
use liasse_app::error::Result;

/// A claimed job is the runner's for this long.
pub const LEASE_MS: i64 = 5 * 60 * 1000;
/// Attempts before a job is left `failed` (visible to operators, never retried).
pub const MAX_ATTEMPTS: i64 = 8;
const BATCH: i64 = 50;
const RETRY_MIN_MS: i64 = 60 * 1000;
const RETRY_MAX_MS: i64 = 6 * 60 * 60 * 1000;

/// What a pass did.
#[derive(Debug, Default, Clone, Serialize)]
pub struct SweepReport {
    /// New jobs found due by the scheduler.
    pub scheduled: usize,
    /// Jobs completed, by kind.
    pub done: BTreeMap<String, usize>,
    /// Jobs that failed and will be tried again later.
    pub retried: usize,
    /// Jobs that failed for good.
    pub failed: usize,
    /// Jobs another runner took back (this runner's lease expired).
    pub lost: usize,
    pub delivery: DeliveryReport,
    /// E-mails and SMS still waiting to go out (a failing server, or no server configured).
    pub pending_messages: i64,
}

impl SweepReport {
    pub fn done_total(&self) -> usize {
        self.done.values().sum()
    }

    /// Whether the pass did anything worth a log line.
    pub fn busy(&self) -> bool {
        self.scheduled > 0
            || self.done_total() > 0
            || self.retried > 0
            || self.failed > 0
            || self.delivery.emails_sent > 0
            || self.delivery.sms_sent > 0
            || self.delivery.retried > 0
            || self.delivery.failed > 0
    }

    /// The report as lines for the command line.
    pub fn lines(&self) -> Vec<String> {
        let kinds = self
            .done
            .iter()
            .map(|(k, n)| format!("{k} {n}"))
            .collect::<Vec<_>>()
            .join(", ");
        let mut out = vec![
            format!("jobs scheduled: {}", self.scheduled),
            if kinds.is_empty() {
                "jobs done: 0".to_string()
            } else {
                format!("jobs done: {} ({kinds})", self.done_total())
            },
            format!(
                "closed requests anonymised: {}",
                self.done.get("anonymise").copied().unwrap_or(0)
            ),
            format!("jobs to retry later: {}", self.retried),
            format!("jobs failed: {}", self.failed),
            format!("e-mails sent: {}", self.delivery.emails_sent),
            format!("SMS sent: {}", self.delivery.sms_sent),
            format!(
                "messages to retry later: {}, failed: {}",
                self.delivery.retried, self.delivery.failed
            ),
            format!("messages pending: {}", self.pending_messages),
        ];
        if self.lost > 0 {
            out.push(format!("jobs taken back by another runner: {}", self.lost));
        }
        out
    }
}

/// One runner: an identity for its leases and the configured ways to send.
pub struct Runner {
    app: App,
    owner: String,
    senders: Option<Senders>,
}

impl Runner {
    /// A runner that runs jobs and delivers messages.
    pub fn new(app: &App) -> Result<Runner> {
        Ok(Runner {
            app: app.clone(),
            owner: new_id(),
            senders: Some(Senders::from_config(app)?),
        })
    }

    /// A runner that only runs jobs (its messages wait in the outbox for a full runner).
    pub fn jobs_only(app: &App) -> Runner {
        Runner {
            app: app.clone(),
            owner: new_id(),
            senders: None,
        }
    }

    pub fn owner(&self) -> &str {
        &self.owner
    }

    /// Schedules what is due, runs every due job, delivers every due message, until nothing
    /// is left to do now.
    pub async fn sweep(&self) -> Result<SweepReport> {
        let mut report = SweepReport {
            scheduled: lifecycle::schedule(&self.app).await?,
            ..SweepReport::default()
        };
        loop {
            let ran = self.run_jobs("", &mut report).await?;
            let sent = self.deliver(&mut report).await?;
            if ran == 0 && sent == 0 {
                break;
            }
        }
        report.pending_messages = liasse_store::outbox::counts(&self.app.db)
            .await?
            .into_iter()
            .filter(|(s, _)| s == "pending" || s == "sending")
            .map(|(_, n)| n)
            .sum();
        Ok(report)
    }

    /// Runs due jobs (of one kind, or all when `kind` is empty) until none is due; returns
    /// how many were claimed.
    pub async fn run_jobs(&self, kind: &str, report: &mut SweepReport) -> Result<usize> {
        let app = &self.app;
        let mut claimed = 0;
        loop {
            let batch =
                store::claim(&app.db, app.now(), LEASE_MS, &self.owner, BATCH, kind).await?;
            if batch.is_empty() {
                return Ok(claimed);
            }
            claimed += batch.len();
            for job in batch {
                if job.attempts > MAX_ATTEMPTS {
                    // Claimed again and again without finishing: each run dies (a crash, a
                    // timeout). Stop before it takes the node down once more.
                    store::fail(
                        &app.db,
                        &job.id,
                        &self.owner,
                        "abandonné : le travail n'aboutit pas (bail expiré à chaque tentative)",
                        None,
                    )
                    .await?;
                    report.failed += 1;
                    continue;
                }
                match lifecycle::run(app, &job, &self.owner).await {
                    Ok(Outcome::Done) => *report.done.entry(job.kind.clone()).or_default() += 1,
                    Ok(Outcome::Lost) => report.lost += 1,
                    Err(e) => {
                        let retry_at = (job.attempts < MAX_ATTEMPTS).then(|| {
                            let exp = (job.attempts - 1).clamp(0, 20) as u32;
                            app.now()
                                + RETRY_MIN_MS
                                    .saturating_mul(2i64.saturating_pow(exp))
                                    .min(RETRY_MAX_MS)
                        });
                        tracing::warn!(job = %job.id, kind = %job.kind, attempts = job.attempts, error = %e, "job failed");
                        store::fail(&app.db, &job.id, &self.owner, &e.to_string(), retry_at)
                            .await?;
                        if retry_at.is_some() {
                            report.retried += 1;
                        } else {
                            report.failed += 1;
                        }
                    }
                }
            }
        }
    }

    /// Sends due messages; returns how many were attempted.
    pub async fn deliver(&self, report: &mut SweepReport) -> Result<usize> {
        let Some(senders) = &self.senders else {
            return Ok(0);
        };
        let d = delivery::deliver_due(&self.app, senders, &self.owner).await?;
        report.delivery.emails_sent += d.emails_sent;
        report.delivery.sms_sent += d.sms_sent;
        report.delivery.retried += d.retried;
        report.delivery.failed += d.failed;
        Ok(d.emails_sent + d.sms_sent + d.retried + d.failed)
    }
}

/// One pass (`liasse sweep`).
pub async fn sweep(app: &App) -> Result<SweepReport> {
    Runner::new(app)?.sweep().await
}

/// Schedules and runs the anonymisation of closed requests whose retention has passed;
/// returns how many were anonymised.
pub async fn anonymise_due(app: &App) -> Result<usize> {
    lifecycle::schedule_anonymisation(app).await?;
    let mut report = SweepReport::default();
    Runner::jobs_only(app)
        .run_jobs("anonymise", &mut report)
        .await?;
    Ok(report.done.get("anonymise").copied().unwrap_or(0))
}

/// Runs a pass every `runner_interval_secs` until the task is aborted; `None` when the
/// interval is 0 (another process runs the jobs) or the mail configuration is unusable.
pub fn spawn(app: &App) -> Option<tokio::task::JoinHandle<()>> {
    let secs = app.config.runner_interval_secs();
    if secs == 0 {
        tracing::info!("job runner disabled (runner_interval_secs = 0)");
        return None;
    }
    let runner = match Runner::new(app) {
        Ok(r) => r,
        Err(e) => {
            tracing::error!(error = %e, "job runner not started: fix the mail configuration");
            return None;
        }
    };
    if runner.senders.as_ref().is_some_and(|s| !s.has_email()) {
        tracing::warn!("no smtp_url: e-mail notices stay pending in the outbox");
    }
    Some(tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(secs));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            match runner.sweep().await {
                Ok(r) if r.busy() => tracing::info!(
                    scheduled = r.scheduled,
                    done = r.done_total(),
                    retried = r.retried,
                    failed = r.failed,
                    emails = r.delivery.emails_sent,
                    sms = r.delivery.sms_sent,
                    pending = r.pending_messages,
                    "job runner pass"
                ),
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!(error = %e, "job runner pass failed; retrying at the next tick")
                }
            }
        }
    }))
}
