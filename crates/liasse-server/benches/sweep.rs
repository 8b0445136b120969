//! The sweep benchmark: does a day's sweep cost what is due that day, or what the vault holds?
//!
//! For each vault size (100 000 and 1 000 000 documents by default) it creates a SQLite vault
//! with the default catalogue, inserts the document rows directly in one transaction (no
//! blobs: the timing is the selection of due documents and the jobs it creates), with
//! validity dates spread over twelve years and the same number of documents due today
//! (reminders J-30, J-7, J0 and disposal notices). Documents already past their disposal day
//! are tombstones, as they would be after earlier sweeps. The scheduler's cursor says
//! yesterday was swept. Then it times one sweep: scheduling (the date-indexed selection and
//! the job inserts), and running the jobs (the notices). A full read of the dated documents
//! is timed beside it, as what a scan of the vault would cost.
//!
//! Run: `bench/sweep.sh` (or `cargo bench -p liasse-server --bench sweep -- [--sizes N,N]
//! [--due N] [--out FILE]`); the report goes to bench/out/sweep.md.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::Instant;

use liasse_domain::clock::{Clock, DAY_MS, date_of};
use liasse_domain::doctype::{Disposal, DocumentType, IsoDuration, format_date};
use liasse_domain::ids::new_id;
use liasse_server::App;
use liasse_server::config::Config;
use liasse_server::services::jobs::{Runner, SweepReport};
use liasse_server::services::{catalogue, lifecycle, tenants};
use sqlx::Row;
use time::Date;

/// 2026-01-15 00:00 UTC.
const T0: i64 = 1_768_435_200_000;
const CITIZENS: usize = 2000;
const ROWS_PER_INSERT: usize = 1000;

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
    d.checked_add(time::Duration::days(n)).unwrap()
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

/// Whether a document of type `t` valid until `v` has an event due exactly on `today`
/// (a reminder at J-30, J-7 or J0, or its disposal notice).
fn due_on(t: &DocumentType, v: Date, today: Date) -> bool {
    let j0 = add_days(v, 1);
    let reminder = [30i64, 7, 0].iter().any(|d| add_days(j0, -d) == today);
    let notice = t.disposal == Disposal::Delete
        && add_days(t.retention.add_to(v), 1 - i64::from(t.disposal_notice_days)) == today;
    reminder || notice
}

/// Past its disposal day: a tombstone by now.
fn disposed_by(t: &DocumentType, v: Date, today: Date) -> bool {
    t.disposal == Disposal::Delete && add_days(t.retention.add_to(v), 1) <= today
}

struct Row_ {
    owner: String,
    type_code: String,
    valid_until: String,
    deleted_at: Option<i64>,
}

struct Outcome {
    size: usize,
    due: usize,
    tombstones: usize,
    insert_secs: f64,
    scan_all_ms: f64,
    schedule_ms: f64,
    scheduled: usize,
    run_ms: f64,
    done: usize,
    plan: String,
}

async fn run_one(size: usize, due: usize) -> Outcome {
    let dir = tempfile::tempdir().unwrap();
    let config = Config {
        data_dir: Some(dir.path().to_path_buf()),
        ..Config::default()
    };
    let clock = Clock::simulated(T0);
    let app = App::open(config, clock.clone()).await.unwrap();
    let tenant = tenants::create(&app, "bench", "Ville de Bench", true)
        .await
        .unwrap();
    let types = catalogue::list(&app, &tenant.id).await.unwrap();
    let deletable: Vec<&DocumentType> = types
        .iter()
        .filter(|t| t.disposal == Disposal::Delete)
        .collect();
    let today = date_of(T0);
    let long_ago = T0 - 400 * DAY_MS;

    // Citizens, straight into the table.
    let mut owners = Vec::with_capacity(CITIZENS);
    {
        let mut tx = app.db.begin_write().await.unwrap();
        for i in 0..CITIZENS {
            let id = new_id();
            sqlx::query(
                "INSERT INTO accounts (id, tenant_id, login, role, display_name, email, service, password_hash, disabled, created_at) \
                 VALUES ($1, $2, $3, 'citizen', $4, NULL, '', NULL, 0, $5)",
            )
            .bind(&id)
            .bind(&tenant.id)
            .bind(format!("usager{i}"))
            .bind(format!("Usager {i}"))
            .bind(long_ago)
            .execute(tx.conn())
            .await
            .unwrap();
            owners.push(id);
        }
        tx.commit().await.unwrap();
    }

    // The documents due today, in four equal parts, then the rest spread over ±6 years with
    // nothing due today.
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ size as u64);
    let mut rows: Vec<Row_> = Vec::with_capacity(size);
    let push = |rows: &mut Vec<Row_>, rng: &mut Rng, t: &DocumentType, v: Date, deleted: bool| {
        rows.push(Row_ {
            owner: owners[rng.below(CITIZENS as u64) as usize].clone(),
            type_code: t.code.clone(),
            valid_until: format_date(v),
            deleted_at: deleted.then_some(long_ago),
        });
    };
    let mut due_made = 0;
    while due_made < due {
        let t = deletable[rng.below(deletable.len() as u64) as usize];
        let v = match due_made % 4 {
            0 => add_days(today, 29), // J-30 today
            1 => add_days(today, 6),  // J-7 today
            2 => add_days(today, -1), // J0 today
            _ => {
                let target = add_days(today, i64::from(t.disposal_notice_days) - 1);
                let v = first_with(&t.retention, target);
                if t.retention.add_to(v) != target {
                    continue;
                }
                v
            }
        };
        push(&mut rows, &mut rng, t, v, false);
        due_made += 1;
    }
    let mut tombstones = 0;
    let span = 12 * 366;
    while rows.len() < size {
        let t = &types[rng.below(types.len() as u64) as usize];
        let v = add_days(today, rng.below(span) as i64 - span as i64 / 2);
        if due_on(t, v, today) {
            continue;
        }
        let gone = disposed_by(t, v, today);
        tombstones += usize::from(gone);
        push(&mut rows, &mut rng, t, v, gone);
    }

    // In date order, ids given in that order: both the primary key and the date index are
    // then filled from the end, and the page cache holds the rest (bulk loading, not the
    // measured part).
    rows.sort_by(|a, b| a.valid_until.cmp(&b.valid_until));
    let started = Instant::now();
    let mut tx = app.db.begin_write().await.unwrap();
    sqlx::query("PRAGMA cache_size = -1000000")
        .execute(tx.conn())
        .await
        .unwrap();
    for chunk in rows.chunks(ROWS_PER_INSERT) {
        let mut sql = String::from(
            "INSERT INTO documents (id, tenant_id, owner_id, type_code, channel, origin, depositor_id, \
             depositor_service, state, valid_until, current_version, created_at, updated_at, deleted_at) VALUES ",
        );
        for i in 0..chunk.len() {
            let b = i * 8;
            if i > 0 {
                sql.push_str(", ");
            }
            let _ = write!(
                sql,
                "(${}, ${}, ${}, ${}, 'web', 'citizen', ${}, '', 'validated', ${}, 1, ${}, ${}, ${})",
                b + 1,
                b + 2,
                b + 3,
                b + 4,
                b + 3,
                b + 5,
                b + 6,
                b + 7,
                b + 8
            );
        }
        let mut q = sqlx::query(&sql);
        for r in chunk {
            q = q
                .bind(new_id())
                .bind(&tenant.id)
                .bind(&r.owner)
                .bind(&r.type_code)
                .bind(&r.valid_until)
                .bind(long_ago)
                .bind(long_ago)
                .bind(r.deleted_at);
        }
        q.execute(tx.conn()).await.unwrap();
    }
    tx.commit().await.unwrap();
    sqlx::query("ANALYZE").execute(app.db.pool()).await.unwrap();
    let insert_secs = started.elapsed().as_secs_f64();

    // Yesterday's sweep ran.
    liasse_store::jobs::set_cursor(
        &app.db,
        "documents",
        &format_date(add_days(today, -1)),
        T0 - DAY_MS,
    )
    .await
    .unwrap();

    // What a sweep that reads the vault would cost: every dated live document, read once
    // (the columns the scheduler needs), without even deciding anything.
    let started = Instant::now();
    let mut all = 0usize;
    {
        use futures::TryStreamExt;
        let mut stream = sqlx::query(
            "SELECT id, tenant_id, owner_id, type_code, valid_until, updated_at FROM documents \
             WHERE deleted_at IS NULL AND valid_until IS NOT NULL",
        )
        .fetch(app.db.pool());
        while let Some(row) = stream.try_next().await.unwrap() {
            let _: String = row.try_get("valid_until").unwrap();
            all += 1;
        }
    }
    let scan_all_ms = started.elapsed().as_secs_f64() * 1000.0;
    assert!(all >= due);

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
    .await
    .unwrap();
    let plan = plan_rows
        .iter()
        .map(|r| r.try_get::<String, _>("detail").unwrap_or_default())
        .collect::<Vec<_>>()
        .join("; ");

    let started = Instant::now();
    let scheduled = lifecycle::schedule(&app).await.unwrap();
    let schedule_ms = started.elapsed().as_secs_f64() * 1000.0;

    let started = Instant::now();
    let mut report = SweepReport::default();
    Runner::jobs_only(&app)
        .run_jobs("", &mut report)
        .await
        .unwrap();
    let run_ms = started.elapsed().as_secs_f64() * 1000.0;
    app.db.close().await;
    Outcome {
        size,
        due,
        tombstones,
        insert_secs,
        scan_all_ms,
        schedule_ms,
        scheduled,
        run_ms,
        done: report.done_total(),
        plan,
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let sizes: Vec<usize> = arg("--sizes")
        .unwrap_or_else(|| "100000,1000000".into())
        .split(',')
        .map(|s| s.trim().parse().expect("--sizes N,N"))
        .collect();
    let due: usize = arg("--due")
        .map(|s| s.parse().expect("--due N"))
        .unwrap_or(1000);
    let out = arg("--out").map(PathBuf::from).unwrap_or_else(|| {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../bench/out/sweep.md")
    });
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut results = Vec::new();
    for &size in &sizes {
        eprintln!("sweep bench: {size} documents, {due} due today...");
        let r = runtime.block_on(run_one(size, due));
        eprintln!(
            "  inserted in {:.1} s; schedule {:.1} ms ({} jobs); run {:.1} ms ({} done); full read {:.1} ms",
            r.insert_secs, r.schedule_ms, r.scheduled, r.run_ms, r.done, r.scan_all_ms
        );
        results.push(r);
    }

    let mut md = String::new();
    let _ = writeln!(md, "# Sweep benchmark\n");
    let _ = writeln!(
        md,
        "One day's sweep on a SQLite vault (synchronous=FULL, WAL) of N documents whose validity \
         dates are spread over twelve years, with the same {due} documents due today (J-30, J-7 and \
         J0 reminders and disposal notices, a quarter each). Documents past their disposal day are \
         tombstones, as earlier sweeps left them. \"Schedule\" is the date-indexed selection of due \
         documents and the insertion of their jobs; \"run\" executes the jobs (one transaction \
         each, in-app notices). \"Full read\" reads every dated live document once, what a sweep \
         that scans the vault would pay before deciding anything.\n"
    );
    let _ = writeln!(
        md,
        "| documents | tombstones | due today | schedule (ms) | jobs created | run jobs (ms) | jobs done | sweep total (ms) | full read (ms) | rows inserted in (s) |"
    );
    let _ = writeln!(md, "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for r in &results {
        let _ = writeln!(
            md,
            "| {} | {} | {} | {:.1} | {} | {:.1} | {} | {:.1} | {:.1} | {:.1} |",
            r.size,
            r.tombstones,
            r.due,
            r.schedule_ms,
            r.scheduled,
            r.run_ms,
            r.done,
            r.schedule_ms + r.run_ms,
            r.scan_all_ms,
            r.insert_secs
        );
    }
    if let (Some(a), Some(b)) = (results.first(), results.last())
        && results.len() > 1
    {
        let _ = writeln!(
            md,
            "\n{}× more documents: the schedule step took {:.2}× as long and the whole sweep {:.2}×, \
             while the full read took {:.1}× as long.",
            b.size / a.size.max(1),
            b.schedule_ms / a.schedule_ms.max(0.001),
            (b.schedule_ms + b.run_ms) / (a.schedule_ms + a.run_ms).max(0.001),
            b.scan_all_ms / a.scan_all_ms.max(0.001)
        );
    }
    if let Some(r) = results.last() {
        let _ = writeln!(md, "\nSQLite's plan for a day's range query: `{}`.", r.plan);
    }
    let _ = writeln!(
        md,
        "\nMachine: {} CPUs; `cargo bench -p liasse-server --bench sweep` (release profile).",
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    );
    if let Some(parent) = out.parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    std::fs::write(&out, &md).unwrap();
    println!("{md}");
    eprintln!("written to {}", out.display());
}
