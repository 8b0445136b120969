//! The operator's commands of `liasse-ops`: `backup` (and `backup verify`), `restore` (and
//! `--drill`), `keys export-shares` and `keys recover`. None of them opens the application
//! before it has checked its input: a restore's target must stay untouched when the backup
//! is refused, and `keys recover` must not create a fresh key file.

use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand};
use liasse_app::App;
use liasse_app::config::Config;
use liasse_app::error::AppError;
use liasse_crypto::KeyRing;
use liasse_domain::clock::Clock;
use liasse_ops::{OpsError, backup, check, drill, restore, shares};

#[derive(Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct BackupArgs {
    #[command(subcommand)]
    command: Option<BackupCommand>,
    /// The backup directory (created if missing; a later backup into it copies only the new
    /// blobs).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Put the key file in the backup too (see docs/backups.md: a backup that carries its
    /// keys is a stolen backup that reads).
    #[arg(long)]
    include_keys: bool,
}

#[derive(Subcommand)]
enum BackupCommand {
    /// Check a backup without restoring it: manifest authenticity, schema, every file.
    Verify {
        from: PathBuf,
        /// Also compare the live journal with the heads the backup recorded (catches a
        /// journal rewritten since, every hash recomputed).
        #[arg(long)]
        journal: bool,
    },
}

#[derive(Args)]
pub struct RestoreArgs {
    /// The backup directory.
    from: PathBuf,
    /// Restore into a temporary directory, run verify, compare with the manifest, print a
    /// one-page report, and remove the copy.
    #[arg(long)]
    drill: bool,
    /// Another copy of the deletion ledger to replay (repeatable).
    #[arg(long = "ledger")]
    ledgers: Vec<PathBuf>,
    /// Drill of a PostgreSQL backup: an empty scratch database to restore into.
    #[arg(long)]
    scratch_database_url: Option<String>,
}

#[derive(Args)]
pub struct ExportShares {
    /// How many shares rebuild the key ring.
    #[arg(long)]
    threshold: u8,
    /// How many shares to cut (at most 255).
    #[arg(long)]
    shares: u8,
}

#[derive(Args)]
pub struct Recover {
    /// Files holding shares (one or more each); standard input when none.
    files: Vec<PathBuf>,
    /// Where to write the key file (default: the configured key file). An existing file is
    /// never replaced.
    #[arg(long)]
    out: Option<PathBuf>,
}

fn to_app(e: OpsError) -> AppError {
    match e {
        OpsError::Refused { code, message } => AppError::Invalid {
            code,
            detail: message,
        },
        OpsError::App(e) => e,
        e => AppError::Internal(e.to_string()),
    }
}

/// The key ring of the configuration, without creating one.
fn ring_of(config: &Config) -> Result<KeyRing, AppError> {
    if let Some(b64) = config
        .master_key()
        .map_err(|e| AppError::Internal(e.to_string()))?
    {
        return Ok(KeyRing::from_base64_key(&b64)?);
    }
    let path = config.key_file();
    if !path.exists() {
        return Err(AppError::invalid(
            "no-key-ring",
            format!("no key file at {}", path.display()),
        ));
    }
    Ok(KeyRing::load(&path)?)
}

pub async fn backup(app: &App, args: BackupArgs) -> Result<ExitCode, AppError> {
    if let Some(BackupCommand::Verify { from, .. }) = &args.command {
        let ring = app.keys.ring()?;
        let r = check::check(from, &ring).map_err(to_app)?;
        let faults = check::live_journal(app, &r.manifest)
            .await
            .map_err(to_app)?;
        println!(
            "backup of {}: {} files, {} bytes, all intact",
            r.manifest.taken_at_text, r.files, r.bytes
        );
        for f in &faults {
            println!("journal fault: {f}");
        }
        if faults.is_empty() {
            println!("live journal: matches the backup's heads");
            return Ok(ExitCode::SUCCESS);
        }
        return Ok(ExitCode::from(2));
    }
    let Some(out) = args.out else {
        return Err(AppError::invalid(
            "usage",
            "liasse backup --out DIR, or liasse backup verify FROM",
        ));
    };
    let r = backup::run(
        app,
        &backup::Options {
            out,
            include_keys: args.include_keys,
        },
    )
    .await
    .map_err(to_app)?;
    println!(
        "backup of {} ({} tenants, {} documents, {} blobs: {} copied ({} bytes), {} already there) written to {}",
        r.taken_at,
        r.tenants,
        r.documents,
        r.blobs,
        r.copied,
        r.bytes_copied,
        r.skipped,
        r.dir.display()
    );
    if r.gone > 0 {
        println!(
            "{} blobs were deleted during the backup (their documents are in the deletion ledger)",
            r.gone
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// `backup verify`, which needs no application (a true `Some` when it was that command).
pub fn backup_verify(config: &Config, args: &BackupArgs) -> Option<Result<ExitCode, AppError>> {
    let Some(BackupCommand::Verify {
        from,
        journal: false,
    }) = &args.command
    else {
        return None;
    };
    Some((|| {
        let ring = ring_of(config)?;
        let r = check::check(from, &ring).map_err(to_app)?;
        println!(
            "backup of {} (schema {}, {} tenants, {} documents): {} files, {} bytes, all intact",
            r.manifest.taken_at_text,
            r.manifest.schema,
            r.manifest.tenants.len(),
            r.manifest.counts.documents,
            r.files,
            r.bytes
        );
        Ok(ExitCode::SUCCESS)
    })())
}

pub async fn restore(config: &Config, args: RestoreArgs) -> Result<ExitCode, AppError> {
    if args.drill {
        let r = drill::run(&drill::Options {
            from: args.from,
            live: config.clone(),
            scratch_database_url: args.scratch_database_url,
        })
        .await
        .map_err(to_app)?;
        for line in r.lines() {
            println!("{line}");
        }
        return Ok(if r.passed() {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(2)
        });
    }
    let (app, r) = restore::run(
        config,
        Clock::System,
        &restore::Options {
            from: args.from,
            ledgers: args.ledgers,
        },
    )
    .await
    .map_err(to_app)?;
    println!(
        "restored the backup of {}: {} tenants, {} documents, {} blobs",
        r.backup_taken_at, r.tenants, r.documents, r.blobs
    );
    println!(
        "{} documents destroyed again from the deletion ledger; {} citizens told in their journal",
        r.destroyed_again.len(),
        r.journal_entries
    );
    for d in &r.destroyed_again {
        println!(
            "  destroyed again: document {} ({}, {})",
            d.document, d.reason, d.destroyed_at
        );
    }
    if r.key_ring_from_backup {
        println!("the key file came from the backup");
    }
    let report = liasse_app::verify::run(&app, false).await?;
    app.db.close().await;
    println!(
        "verify: {}",
        if report.is_clean() {
            "clean"
        } else {
            "FAULTS FOUND (run liasse verify)"
        }
    );
    Ok(if report.is_clean() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    })
}

pub fn export_shares(app: &App, args: &ExportShares) -> Result<ExitCode, AppError> {
    let ring = app.keys.ring()?;
    let today = liasse_domain::clock::rfc3339(app.now());
    let date = today.get(..10).unwrap_or(&today);
    let cut = shares::split(&ring, args.threshold, args.shares, date).map_err(to_app)?;
    for s in &cut {
        print!("{}", shares::page(s).map_err(to_app)?);
        println!();
    }
    eprintln!(
        "{} shares of key ring {} cut; any {} rebuild it with `liasse keys recover`. Give each to a different person, and keep none on this server.",
        cut.len(),
        ring.ids().join(","),
        args.threshold
    );
    Ok(ExitCode::SUCCESS)
}

pub fn recover(config: &Config, args: &Recover) -> Result<ExitCode, AppError> {
    let mut texts = Vec::new();
    if args.files.is_empty() {
        let mut s = String::new();
        std::io::stdin().read_to_string(&mut s)?;
        texts.push(s);
    }
    for f in &args.files {
        texts.push(std::fs::read_to_string(f)?);
    }
    let ring = shares::recover(&texts).map_err(to_app)?;
    let path = args.out.clone().unwrap_or_else(|| config.key_file());
    if path.exists() {
        return Err(AppError::invalid(
            "key-file-exists",
            format!(
                "{} exists: recover writes only a missing key file (move it away first)",
                path.display()
            ),
        ));
    }
    if let Some(dir) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    ring.save(&path)?;
    println!(
        "key ring {} (current {}) rebuilt into {}",
        ring.ids().join(","),
        ring.current_id(),
        path.display()
    );
    Ok(ExitCode::SUCCESS)
}
