//! The `liasse` command line. Every command acts on the same configuration and data
//! directory as `serve`, also while it runs.

use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use liasse_domain::clock::Clock;
use liasse_domain::journal::Actor;
use liasse_domain::policy::Role;

use liasse_app::app::App;
use liasse_app::config::Config;
use liasse_app::error::AppError;
use liasse_app::{auth, rotate, tenants, verify};
use liasse_export as export;

#[derive(Parser)]
#[command(
    name = "liasse",
    version,
    about = "Liasse, the citizen document vault of a municipality"
)]
pub struct Cli {
    /// Configuration file (TOML); defaults to $LIASSE_CONFIG or ./liasse.toml when present.
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    /// Data directory of the embedded default (database, blobs, key file).
    #[arg(long, global = true)]
    data_dir: Option<PathBuf>,
    /// sqlite://... or postgres://...
    #[arg(long, global = true)]
    database_url: Option<String>,
    /// A local directory or s3://bucket[/prefix].
    #[arg(long, global = true)]
    blob_url: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server.
    Serve {
        #[arg(long)]
        listen: Option<String>,
    },
    /// Load demonstration data (a tenant, its catalogue, accounts) and run the server.
    Demo {
        #[arg(long)]
        listen: Option<String>,
    },
    /// Apply database migrations and exit.
    Migrate,
    /// Check journal chains and every stored blob; non-zero exit on any fault.
    Verify {
        /// Remove orphan blobs (blobs no document version refers to), nothing else.
        #[arg(long)]
        repair: bool,
        /// Unreferenced blobs younger than this many seconds may belong to an upload in
        /// progress: they are listed apart, never removed, and are not a fault. Use 0 only
        /// when no server is running.
        #[arg(long, value_name = "SECONDS", default_value_t = verify::DEFAULT_MIN_ORPHAN_AGE.as_secs())]
        min_age: u64,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Run every due job once and exit: expiry reminders, disposal at the end of retention,
    /// idle drafts, anonymisation of closed requests, then the e-mails and SMS waiting to go
    /// out. Exits with 3 when a job failed for good.
    Sweep,
    /// Key-encryption keys.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Print the effective configuration with secrets redacted.
    CheckConfig,
    /// Tenants (collectivités).
    #[command(subcommand)]
    Tenant(TenantCommand),
    /// Accounts.
    #[command(subcommand)]
    User(UserCommand),
    /// API tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Export a citizen's vault (originals, manifest, journal) into a ZIP file.
    Export {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        login: String,
        /// The ZIP file to write (replaced atomically if it exists).
        #[arg(long)]
        out: PathBuf,
    },
    /// Back up the database, the blobs and the deletion ledger into a directory, while the
    /// server runs (`backup verify FROM` checks one).
    Backup(crate::cli_ops::BackupArgs),
    /// Restore a backup into an empty target (or rehearse it with --drill).
    Restore(crate::cli_ops::RestoreArgs),
}

#[derive(Subcommand)]
enum KeysCommand {
    /// Make a new key current and re-wrap every document key with it (resumes if interrupted).
    Rotate,
    /// List key ids, the current one first.
    List,
    /// Remove an old key once no document key needs it.
    Retire { id: String },
    /// Split the key ring into N printable shares, any K of which rebuild it.
    ExportShares(crate::cli_ops::ExportShares),
    /// Rebuild the key file from K shares (files, or standard input).
    Recover(crate::cli_ops::Recover),
}

#[derive(Subcommand)]
enum TenantCommand {
    Create {
        slug: String,
        #[arg(long)]
        name: String,
        /// Load the default catalogue of French document types.
        #[arg(long)]
        with_catalogue: bool,
    },
    /// The tenant's services at FranceConnect and ProConnect.
    #[command(subcommand)]
    IdentityProvider(crate::cli_identity::IdentityProviderCommand),
    /// Whether the tenant's admins must log in with a second factor (TOTP); they enrol at
    /// their next password login.
    SecondFactor {
        slug: String,
        #[arg(long, action = clap::ArgAction::Set)]
        require_for_admins: bool,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    Create(UserCreate),
    /// Shut an account out at once: no login, its sessions and tokens refused. Rights,
    /// documents and history are kept.
    Disable(UserRef),
    /// Let a disabled account in again.
    Enable(UserRef),
    /// Remove a staff member's second factor (a lost phone and lost recovery codes); they
    /// enrol again from their account's page, or at login when it is required.
    ResetSecondFactor(UserRef),
}

#[derive(Args)]
struct UserRef {
    #[arg(long)]
    tenant: String,
    #[arg(long)]
    login: String,
}

#[derive(Args)]
struct UserCreate {
    #[arg(long)]
    tenant: String,
    #[arg(long)]
    login: String,
    #[arg(long, value_parser = ["citizen", "agent", "manager", "admin", "service"])]
    role: String,
    /// DOMAIN=consult|modify|manage, repeatable.
    #[arg(long = "right")]
    rights: Vec<String>,
    #[arg(long)]
    name: Option<String>,
    #[arg(long)]
    email: Option<String>,
    /// The account's service, shown to citizens in their journal; it joins the tenant's list of
    /// services if new (what a service deposits is read back by its members, matched by id).
    #[arg(long)]
    service: Option<String>,
    /// Read the password from standard input.
    #[arg(long)]
    password_stdin: bool,
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Create a token and print it (shown once; its id goes to standard error).
    Create {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        login: String,
        #[arg(long, default_value = "")]
        scopes: String,
        /// What the token is for, shown by `token list`.
        #[arg(long, alias = "label", default_value = "")]
        name: String,
        /// Lifetime: 30d, 12h, 90m (days, hours, minutes), or never. Default 90d.
        #[arg(long, value_name = "DURATION")]
        expires: Option<String>,
    },
    /// List tokens (never their secrets): id, name, login, created, expires, state.
    List {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        login: Option<String>,
    },
    /// Revoke a token at once.
    Revoke {
        #[arg(long)]
        tenant: String,
        id: String,
    },
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {}", describe(&e));
            ExitCode::FAILURE
        }
    }
}

fn describe(e: &AppError) -> String {
    match e {
        AppError::Invalid { detail, .. } => detail.clone(),
        AppError::NotFound => "not found (check the tenant slug and login)".into(),
        e => e.to_string(),
    }
}

fn init_logs(config: &Config) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = if config.log_format.as_deref() == Some("json") {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}

async fn run(cli: Cli) -> Result<ExitCode, AppError> {
    let listen = match &cli.command {
        Command::Serve { listen } | Command::Demo { listen } => listen.clone(),
        _ => None,
    };
    let flags = Config {
        data_dir: cli.data_dir.clone(),
        database_url: cli.database_url.clone(),
        blob_url: cli.blob_url.clone(),
        listen,
        ..Config::default()
    };
    let config = Config::load(cli.config.as_deref(), flags)
        .map_err(|e| AppError::Internal(e.to_string()))?;
    init_logs(&config);
    if let Command::CheckConfig = cli.command {
        print!("{}", config.redacted_toml());
        return Ok(ExitCode::SUCCESS);
    }
    // The commands that must not open the application first (it would create a database
    // in a restore's target, or a fresh key file where one is to be recovered).
    let command = match cli.command {
        Command::Restore(a) => return crate::cli_ops::restore(&config, a).await,
        Command::Keys(KeysCommand::Recover(a)) => return crate::cli_ops::recover(&config, &a),
        Command::Backup(a) => match crate::cli_ops::backup_verify(&config, &a) {
            Some(r) => return r,
            None => Command::Backup(a),
        },
        c => c,
    };
    let app = App::open(config, Clock::System).await?;
    match command {
        Command::Backup(a) => crate::cli_ops::backup(&app, a).await,
        Command::Restore(_) | Command::Keys(KeysCommand::Recover(_)) => Ok(ExitCode::FAILURE),
        Command::Keys(KeysCommand::ExportShares(a)) => crate::cli_ops::export_shares(&app, &a),
        Command::Serve { .. } => serve(app, None).await,
        Command::Demo { .. } => {
            let banner = liasse_app::demo::load(&app).await?;
            serve(app, Some(banner)).await
        }
        Command::Migrate => {
            println!("database is up to date");
            Ok(ExitCode::SUCCESS)
        }
        Command::Verify {
            repair,
            min_age,
            json,
        } => {
            let report = verify::run_with(
                &app,
                verify::Options {
                    repair,
                    min_orphan_age: std::time::Duration::from_secs(min_age),
                },
            )
            .await?;
            if json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&report).unwrap_or_default()
                );
            } else {
                print_report(&report);
            }
            Ok(if report.is_clean() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(2)
            })
        }
        Command::Sweep => {
            let report = liasse_jobs::runner::sweep(&app).await?;
            for line in report.lines() {
                println!("{line}");
            }
            Ok(if report.failed == 0 {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(3)
            })
        }
        Command::Keys(KeysCommand::Rotate) => {
            let r = rotate::rotate(&app, 500, None).await?;
            println!(
                "{} key {}: {} document keys re-wrapped, {} remaining",
                if r.resumed {
                    "resumed rotation to"
                } else {
                    "rotated to"
                },
                r.current_key,
                r.rewrapped,
                r.remaining
            );
            Ok(if r.remaining == 0 {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
        Command::Keys(KeysCommand::List) => {
            let ring = app.keys.ring()?;
            println!("current: {}", ring.current_id());
            for id in ring.ids() {
                println!("{id}");
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Keys(KeysCommand::Retire { id }) => {
            rotate::retire(&app, &id).await?;
            println!("key {id} retired");
            Ok(ExitCode::SUCCESS)
        }
        Command::CheckConfig => Ok(ExitCode::SUCCESS),
        Command::Tenant(TenantCommand::Create {
            slug,
            name,
            with_catalogue,
        }) => {
            let t = tenants::create(&app, &slug, &name, with_catalogue).await?;
            println!("tenant {} created ({})", t.slug, t.id);
            Ok(ExitCode::SUCCESS)
        }
        Command::Tenant(TenantCommand::IdentityProvider(cmd)) => {
            crate::cli_identity::run(&app, cmd).await
        }
        Command::User(UserCommand::Create(u)) => {
            let role = Role::parse(&u.role)
                .ok_or_else(|| AppError::invalid("invalid-role", "unknown role"))?;
            let rights = parse_rights(&u.rights)?;
            let password = if u.password_stdin {
                let mut s = String::new();
                std::io::stdin().read_to_string(&mut s)?;
                Some(s.trim_end_matches(['\n', '\r']).to_string())
            } else {
                None
            };
            let account = auth::create_user(
                &app,
                Actor::operator(),
                auth::NewUser {
                    tenant_slug: &u.tenant,
                    login: &u.login,
                    role,
                    display_name: u.name.as_deref(),
                    email: u.email.as_deref(),
                    service: u.service.as_deref(),
                    rights,
                    password,
                },
            )
            .await?;
            println!("user {} created ({})", account.login, account.id);
            Ok(ExitCode::SUCCESS)
        }
        Command::User(UserCommand::Disable(u)) => {
            let a = auth::set_disabled(&app, Actor::operator(), &u.tenant, &u.login, true).await?;
            println!("user {} disabled ({})", a.login, a.id);
            Ok(ExitCode::SUCCESS)
        }
        Command::User(UserCommand::Enable(u)) => {
            let a = auth::set_disabled(&app, Actor::operator(), &u.tenant, &u.login, false).await?;
            println!("user {} enabled ({})", a.login, a.id);
            Ok(ExitCode::SUCCESS)
        }
        Command::User(UserCommand::ResetSecondFactor(u)) => {
            let had =
                auth::second_factor::reset(&app, Actor::operator(), &u.tenant, &u.login).await?;
            if had {
                println!("second factor of {} removed", u.login);
            } else {
                println!("{} had no second factor", u.login);
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Tenant(TenantCommand::SecondFactor {
            slug,
            require_for_admins,
        }) => {
            auth::second_factor::require_for_admins(
                &app,
                Actor::operator(),
                &slug,
                require_for_admins,
            )
            .await?;
            println!(
                "tenant {slug}: second factor {} for admins",
                if require_for_admins {
                    "required"
                } else {
                    "not required"
                }
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Export { tenant, login, out } => {
            let p = auth::principal_for_login(&app, &tenant, &login).await?;
            if !p.role.has_vault() {
                return Err(AppError::invalid(
                    "not-a-citizen",
                    format!("{login} is not a citizen: only a citizen's vault can be exported"),
                ));
            }
            let s = export::export_to_path(&app, &p, &out, export::Via::Cli).await?;
            println!(
                "exported {} documents ({} versions) and {} journal entries of {} ({}) to {} ({} bytes)",
                s.documents,
                s.versions,
                s.journal_entries,
                s.login,
                s.tenant,
                out.display(),
                s.bytes
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Token(TokenCommand::Create {
            tenant,
            login,
            scopes,
            name,
            expires,
        }) => {
            let lifetime = match expires.as_deref() {
                Some(d) => auth::TokenLifetime::parse(d)?,
                None => auth::TokenLifetime::DEFAULT,
            };
            let t = auth::issue_token(
                &app,
                Actor::operator(),
                auth::NewToken {
                    tenant_slug: &tenant,
                    login: &login,
                    scopes: &scopes,
                    name: &name,
                    lifetime,
                },
            )
            .await?;
            println!("{}", t.secret);
            match t.expires_at {
                Some(at) => eprintln!(
                    "token {} created for {login}, expires {}",
                    t.id,
                    liasse_domain::clock::rfc3339(at)
                ),
                None => eprintln!(
                    "token {} created for {login}; it never expires: revoke it with `liasse token revoke --tenant {tenant} {}` when it is no longer needed",
                    t.id, t.id
                ),
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Token(TokenCommand::List { tenant, login }) => {
            let tokens = auth::tenant_tokens(&app, &tenant, login.as_deref()).await?;
            println!("id\tname\tlogin\tcreated\texpires\tstate");
            for t in tokens {
                println!(
                    "{}\t{}\t{}\t{}\t{}\t{}",
                    t.id,
                    if t.name.is_empty() { "-" } else { &t.name },
                    t.login,
                    liasse_domain::clock::rfc3339(t.created_at),
                    t.expires_at
                        .map_or_else(|| "never".to_string(), liasse_domain::clock::rfc3339),
                    t.state
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Token(TokenCommand::Revoke { tenant, id }) => {
            let t = auth::revoke_token(&app, Actor::operator(), &tenant, &id).await?;
            println!("token {} of {} revoked", t.id, t.login);
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn print_report(r: &verify::Report) {
    println!("tenants: {}", r.tenants);
    println!("journal entries checked: {}", r.journal_entries);
    println!(
        "document versions decrypted and checked: {}",
        r.versions_checked
    );
    for (title, items) in [
        ("journal faults", &r.journal_faults),
        ("corrupt blobs", &r.corrupt_blobs),
        ("missing blobs", &r.missing_blobs),
        ("orphan blobs", &r.orphan_blobs),
        ("orphan blobs removed", &r.removed_orphans),
        (
            "recent unreferenced blobs (uploads in progress?), left alone",
            &r.recent_unreferenced,
        ),
    ] {
        if !items.is_empty() {
            println!("{title}: {}", items.len());
            for i in items {
                println!("  {i}");
            }
        }
    }
    println!(
        "{}",
        if r.is_clean() {
            "verify: clean"
        } else {
            "verify: FAULTS FOUND"
        }
    );
}

/// Serves until Ctrl-C or SIGTERM.
pub async fn serve(app: App, banner: Option<String>) -> Result<ExitCode, AppError> {
    let addr = app.config.listen();
    // A wrong proxy list would silently trust nobody (or everybody): refuse to start.
    app.config
        .trusted_proxies()
        .map_err(|e| AppError::Internal(e.to_string()))?;
    let listener = tokio::net::TcpListener::bind(&addr)
        .await
        .map_err(|e| AppError::Internal(format!("cannot listen on {addr}: {e}")))?;
    let local = listener.local_addr()?;
    tracing::info!(address = %local, database = app.db.backend().name(), blobs = app.blobs.description(), "liasse is listening");
    println!("Liasse is running: http://{local}/  (health: http://{local}/healthz)");
    if let Some(b) = banner {
        println!("{b}");
    }
    // Every node runs the job runner: jobs are claimed through the database, never twice.
    let runner = liasse_jobs::runner::spawn(&app);
    crate::serve(listener, app.clone(), shutdown()).await?;
    if let Some(r) = runner {
        r.abort();
    }
    app.db.close().await;
    Ok(ExitCode::SUCCESS)
}

async fn shutdown() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}

/// `--right DOMAIN=LEVEL` arguments as (domain, level) pairs.
fn parse_rights(args: &[String]) -> Result<Vec<(String, String)>, AppError> {
    args.iter()
        .map(|r| {
            r.split_once('=')
                .map(|(d, l)| (d.trim().to_string(), l.trim().to_string()))
        })
        .collect::<Option<Vec<_>>>()
        .ok_or_else(|| {
            AppError::invalid(
                "invalid-right",
                "--right expects DOMAIN=consult|modify|manage",
            )
        })
}
