//! The sweep benchmark: does a day's sweep cost what is due that day, or what the vault holds?
//!
//! For each vault size (100 000 and 1 000 000 documents by default) it creates a SQLite vault
//! with the default catalogue and generates the document rows inside SQLite in one
//! transaction (no blobs: the timing is the selection of due documents and the jobs it
//! creates), with validity dates spread over twelve years and, on each of three days, the
//! same number of documents due (reminders J-30, J-7, J0 and disposal notices). Documents
//! already past their disposal day are tombstones, as they would be after earlier sweeps. The
//! scheduler's cursor says yesterday was swept. Then it times one sweep a day: scheduling (the
//! date-indexed selection and the job inserts) and running the jobs (the notices). A full read
//! of the dated documents is timed beside it, as what a scan of the vault would cost.
//!
//! It drives the server's services in-process (no HTTP), which is why it lives in this binary
//! and not behind `liasse serve`: `bench/sweep.sh` and `bench/run.sh` run
//! `liasse-bench sweep [--sizes N,N] [--due N] --out FILE`.

use std::fmt::Write as _;
use std::path::Path;
use std::time::Instant;

use liasse_app::App;
use liasse_app::config::Config;
use liasse_app::{catalogue, tenants};
use liasse_domain::clock::{Clock, DAY_MS, date_of};
use liasse_domain::doctype::{Disposal, DocumentType, IsoDuration, format_date};
use liasse_domain::ids::new_id;
use liasse_jobs::lifecycle;
use liasse_jobs::runner::{Runner, SweepReport};
use sqlx::Row;
use time::Date;

use crate::Result;

/// 2026-01-15 00:00 UTC.
const T0: i64 = 1_768_435_200_000;
const CITIZENS: usize = 2000;

/// A small deterministic generator (xorshift), so that every run builds the same vault.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn add_days(d: Date, n: i64) -> Date {
    d.saturating_add(time::Duration::days(n))
}

/// The earliest `v` with `r.add_to(v) >= target`.
fn first_with(r: &IsoDuration, target: Date) -> Date {
    let span = i64::from(r.years) * 366 + i64::from(r.months) * 31 + i64::from(r.days);
    let mut v = add_days(target, -span);
    while r.add_to(v) < target {
        v = add_days(v, 1);
    }
    v
}

/// The `valid_until` days on which a document of type `t` has an event due on `day`: its
/// J-30, J-7 and J0 reminders, and its disposal notice.
fn due_days(t: &DocumentType, day: Date) -> Vec<(Date, Date)> {
    let mut out: Vec<(Date, Date)> = [29, 6, -1]
        .iter()
        .map(|d| (add_days(day, *d), add_days(day, *d)))
        .collect();
    if t.disposal == Disposal::Delete {
        // Notice on `day` when retention.add_to(v) + 1 - N == day.
        let target = add_days(day, i64::from(t.disposal_notice_days) - 1);
        let lo = first_with(&t.retention, target);
        let hi = add_days(first_with(&t.retention, add_days(target, 1)), -1);
        if lo <= hi {
            out.push((lo, hi));
        }
    }
    out
}

/// Three days are measured, one after the other, each with `due` documents due.
const DAYS: i64 = 3;

struct Outcome {
    size: i64,
    due: usize,
    tombstones: i64,
    load_secs: f64,
    full_read_ms: f64,
    /// Per measured day: (schedule ms, jobs created, run ms, jobs done).
    days: Vec<(f64, usize, f64, usize)>,
    plan: String,
}

impl Outcome {
    fn median(&self, f: impl Fn(&(f64, usize, f64, usize)) -> f64) -> f64 {
        let mut v: Vec<f64> = self.days.iter().map(f).collect();
        v.sort_by(|a, b| a.total_cmp(b));
        v.get(v.len() / 2).copied().unwrap_or_default()
    }
}

async fn count(app: &App, sql: &str) -> Result<i64> {
    Ok(sqlx::query(sql)
        .fetch_one(app.db.pool())
        .await?
        .try_get("n")?)
}

async fn run_one(size: usize, due: usize) -> Result<Outcome> {
    let dir = tempfile::tempdir()?;
    let config = Config {
        data_dir: Some(dir.path().to_path_buf()),
        ..Config::default()
    };
    let clock = Clock::simulated(T0);
    let app = App::open(config, clock.clone()).await?;
    let tenant = tenants::create(&app, "bench", "Ville de Bench", true).await?;
    let types = catalogue::list(&app, &tenant.id).await?;
    let deletable: Vec<&DocumentType> = types
        .iter()
        .filter(|t| t.disposal == Disposal::Delete)
        .collect();
    let today = date_of(T0);
    let long_ago = T0 - 400 * DAY_MS;
    let started = Instant::now();

    // Bulk loading (not measured): citizens, then the vault generated inside SQLite, validity
    // dates spread evenly over twelve years in row order (so that the indexes fill from the
    // end), types and owners shuffled.
    let mut tx = app.db.begin_write().await?;
    sqlx::query("PRAGMA cache_size = -1000000")
        .execute(tx.conn())
        .await?;
    for i in 0..CITIZENS {
        sqlx::query(
            "INSERT INTO accounts (id, tenant_id, login, role, display_name, email, service, password_hash, disabled, created_at) \
             VALUES ($1, $2, $3, 'citizen', $4, NULL, '', NULL, 0, $5)",
        )
        .bind(format!("00000000-0000-7000-9000-{i:012x}"))
        .bind(&tenant.id)
        .bind(format!("usager{i}"))
        .bind(format!("Usager {i}"))
        .bind(long_ago)
        .execute(tx.conn())
        .await?;
    }
    let span_days = 12 * 366;
    let first_day = format_date(add_days(today, -span_days / 2));
    let mut type_case = String::from("CASE ((n * 2654435761) % ");
    let _ = write!(type_case, "{})", types.len());
    for (i, t) in types.iter().enumerate() {
        let _ = write!(type_case, " WHEN {i} THEN '{}'", t.code);
    }
    type_case.push_str(" END");
    let owner = format!("printf('00000000-0000-7000-9000-%012x', (n * 7919) % {CITIZENS})");
    sqlx::query(&format!(
        "WITH RECURSIVE seq(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM seq WHERE n < $1 - 1) \
         INSERT INTO documents (id, tenant_id, owner_id, type_code, channel, origin, depositor_id, \
         depositor_service, state, valid_until, current_version, created_at, updated_at, deleted_at) \
         SELECT printf('00000000-0000-7000-8000-%012x', n), $2, {owner}, {type_case}, 'web', 'citizen', {owner}, \
         '', 'validated', date($3, '+' || (n * $4 / $1) || ' days'), 1, $5, $5, NULL FROM seq"
    ))
    .bind(size as i64)
    .bind(&tenant.id)
    .bind(&first_day)
    .bind(span_days)
    .bind(long_ago)
    .execute(tx.conn())
    .await?;
    // Nothing of the generated vault is due on the measured days; what is past its disposal
    // day is a tombstone by now.
    for day in 0..DAYS {
        let day = add_days(today, day);
        for t in &types {
            for (lo, hi) in due_days(t, day) {
                sqlx::query(
                    "DELETE FROM documents WHERE type_code = $1 AND valid_until >= $2 AND valid_until <= $3",
                )
                .bind(&t.code)
                .bind(format_date(lo))
                .bind(format_date(hi))
                .execute(tx.conn())
                .await?;
            }
        }
    }
    for t in &deletable {
        sqlx::query(
            "UPDATE documents SET deleted_at = $1 WHERE type_code = $2 AND valid_until < $3",
        )
        .bind(long_ago)
        .bind(&t.code)
        .bind(format_date(first_with(&t.retention, today)))
        .execute(tx.conn())
        .await?;
    }
    // The due documents of each measured day, a quarter per kind of event.
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ size as u64);
    for day in 0..DAYS {
        let day = add_days(today, day);
        let mut made = 0;
        while made < due {
            let t = deletable[rng.below(deletable.len() as u64) as usize];
            let days = due_days(t, day);
            let Some((v, _)) = days.get(made % 4) else {
                continue;
            };
            sqlx::query(
                "INSERT INTO documents (id, tenant_id, owner_id, type_code, channel, origin, depositor_id, \
                 depositor_service, state, valid_until, current_version, created_at, updated_at, deleted_at) \
                 VALUES ($1, $2, $3, $4, 'web', 'citizen', $3, '', 'validated', $5, 1, $6, $6, NULL)",
            )
            .bind(new_id())
            .bind(&tenant.id)
            .bind(format!(
                "00000000-0000-7000-9000-{:012x}",
                rng.below(CITIZENS as u64)
            ))
            .bind(&t.code)
            .bind(format_date(*v))
            .bind(long_ago)
            .execute(tx.conn())
            .await?;
            made += 1;
        }
    }
    tx.commit().await?;
    sqlx::query("ANALYZE").execute(app.db.pool()).await?;
    let load_secs = started.elapsed().as_secs_f64();
    let size = count(&app, "SELECT COUNT(*) AS n FROM documents").await?;
    let tombstones = count(
        &app,
        "SELECT COUNT(*) AS n FROM documents WHERE deleted_at IS NOT NULL",
    )
    .await?;

    // What a sweep that reads the vault would pay before deciding anything: every dated live
    // document, read once (the columns the scheduler needs).
    let started = Instant::now();
    let mut all = 0usize;
    {
        use futures::TryStreamExt;
        let mut stream = sqlx::query(
            "SELECT id, tenant_id, owner_id, type_code, valid_until, updated_at FROM documents \
             WHERE deleted_at IS NULL AND valid_until IS NOT NULL",
        )
        .fetch(app.db.pool());
        while let Some(row) = stream.try_next().await? {
            let _: String = row.try_get("valid_until")?;
            all += 1;
        }
    }
    let full_read_ms = started.elapsed().as_secs_f64() * 1000.0;
    if all < due {
        return Err(
            format!("the vault holds {all} dated documents, fewer than the {due} due").into(),
        );
    }

    let plan_rows = sqlx::query(
        "EXPLAIN QUERY PLAN SELECT id, tenant_id, owner_id, type_code, valid_until, updated_at FROM documents \
         WHERE valid_until >= $1 AND valid_until <= $2 AND deleted_at IS NULL \
         AND (valid_until > $3 OR (valid_until = $3 AND id > $4)) ORDER BY valid_until, id LIMIT $5",
    )
    .bind("2026-02-13")
    .bind("2026-02-13")
    .bind("2026-02-13")
    .bind("")
    .bind(500i64)
    .fetch_all(app.db.pool())
    .await?;
    let plan = plan_rows
        .iter()
        .map(|r| r.try_get::<String, _>("detail").unwrap_or_default())
        .collect::<Vec<_>>()
        .join("; ");

    // Yesterday's sweep ran; then one sweep a day.
    liasse_store::lifecycle::set_cursor(
        &app.db,
        "documents",
        &format_date(add_days(today, -1)),
        T0 - DAY_MS,
    )
    .await?;
    let mut days = Vec::new();
    for _ in 0..DAYS {
        let started = Instant::now();
        let scheduled = lifecycle::schedule(&app).await?;
        let schedule_ms = started.elapsed().as_secs_f64() * 1000.0;
        let started = Instant::now();
        let mut report = SweepReport::default();
        Runner::jobs_only(&app).run_jobs("", &mut report).await?;
        let run_ms = started.elapsed().as_secs_f64() * 1000.0;
        days.push((schedule_ms, scheduled, run_ms, report.done_total()));
        clock.advance(DAY_MS);
    }
    app.db.close().await;
    Ok(Outcome {
        size,
        due,
        tombstones,
        load_secs,
        full_read_ms,
        days,
        plan,
    })
}

/// Runs the sweep on a vault of each size in `sizes`, `due` documents due a day, and writes
/// the Markdown report to `out`.
pub async fn run(sizes: &[usize], due: usize, out: &Path) -> Result<()> {
    let mut results = Vec::new();
    for &size in sizes {
        eprintln!("sweep bench: {size} documents, {due} due on each of {DAYS} days...");
        let r = run_one(size, due).await?;
        eprintln!(
            "  loaded in {:.1} s; per day (schedule ms, jobs, run ms, done): {:?}; full read {:.1} ms",
            r.load_secs, r.days, r.full_read_ms
        );
        results.push(r);
    }

    let mut md = String::new();
    let _ = writeln!(md, "# Sweep benchmark\n");
    let _ = writeln!(
        md,
        "One sweep a day, {DAYS} days in a row, on a SQLite vault (WAL, synchronous=FULL) of N \
         documents whose validity dates are spread over twelve years, with {due} documents due \
         each day (J-30, J-7 and J0 reminders and disposal notices, a quarter each). Documents \
         past their disposal day are tombstones, as earlier sweeps left them. \"Schedule\" is the \
         date-indexed selection of the due documents and the insertion of their jobs; \"run\" \
         executes the jobs (one transaction each, in-app notices). Times are the median of the \
         {DAYS} days. \"Full read\" reads every dated live document once: what a sweep that scans \
         the vault would pay before deciding anything.\n"
    );
    let _ = writeln!(
        md,
        "| documents | tombstones | due per day | schedule (ms) | jobs created per day | run jobs (ms) | sweep total (ms) | full read (ms) |"
    );
    let _ = writeln!(md, "|---:|---:|---:|---:|---:|---:|---:|---:|");
    for r in &results {
        let created: Vec<String> = r.days.iter().map(|d| d.1.to_string()).collect();
        let _ = writeln!(
            md,
            "| {} | {} | {} | {:.1} | {} | {:.1} | {:.1} | {:.1} |",
            r.size,
            r.tombstones,
            r.due,
            r.median(|d| d.0),
            created.join(", "),
            r.median(|d| d.2),
            r.median(|d| d.0 + d.2),
            r.full_read_ms,
        );
    }
    if let (Some(a), Some(b)) = (results.first(), results.last())
        && results.len() > 1
    {
        let _ = writeln!(
            md,
            "\n{:.0}× more documents, the same number due: the schedule step took {:.2}× as long and \
             the whole sweep {:.2}×, while the full read took {:.1}× as long.",
            b.size as f64 / a.size.max(1) as f64,
            b.median(|d| d.0) / a.median(|d| d.0).max(0.001),
            b.median(|d| d.0 + d.2) / a.median(|d| d.0 + d.2).max(0.001),
            b.full_read_ms / a.full_read_ms.max(0.001)
        );
    }
    let _ = writeln!(md, "\nEach day, in ms (schedule + run):\n");
    for r in &results {
        let days: Vec<String> = r
            .days
            .iter()
            .map(|d| format!("{:.1} + {:.1}", d.0, d.2))
            .collect();
        let _ = writeln!(
            md,
            "- {} documents: {} (vault loaded in {:.1} s, not measured)",
            r.size,
            days.join("; "),
            r.load_secs
        );
    }
    if let Some(r) = results.last() {
        let _ = writeln!(md, "\nSQLite's plan for a day's range query: `{}`.", r.plan);
    }
    let _ = writeln!(
        md,
        "\nMachine: {} CPUs, load average {} when the run ended; `liasse-bench sweep` (release profile). Running the jobs is dominated by one durable commit \
         per job, so it depends on the disk and on what else runs on the machine.",
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1),
        std::fs::read_to_string("/proc/loadavg")
            .ok()
            .and_then(|l| l.split_whitespace().next().map(String::from))
            .unwrap_or_else(|| "?".into())
    );
    if let Some(parent) = out.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(out, &md)?;
    println!("{md}");
    eprintln!("written to {}", out.display());
    Ok(())
}
