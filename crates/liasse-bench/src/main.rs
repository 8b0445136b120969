//! `liasse-bench`: the load generator and measurements behind `bench/run.sh`.
//!
//! Each subcommand runs one benchmark against a running `liasse serve` (or measures one of
//! the machine's limits) and writes its figures as JSON; `report` turns a run's JSON files
//! into `REPORT.md` and `report.json`. Tokens are read from files, never from the command line.

mod api;
mod machine;
mod pdf;
mod report;
mod stats;
mod sweep;
mod uploads;
mod workload;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use serde_json::{Value, json};

pub type Error = Box<dyn std::error::Error + Send + Sync>;
pub type Result<T> = std::result::Result<T, Error>;

#[derive(Parser)]
#[command(
    name = "liasse-bench",
    about = "Benchmarks of Liasse (run them with bench/run.sh)"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Args, Clone)]
struct Server {
    /// Base URL of the server.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    server: String,
}

#[derive(Subcommand)]
enum Command {
    /// Describe the machine (CPU, cores, memory, the disk holding DIR, kernel, rustc).
    Machine {
        #[arg(long)]
        dir: PathBuf,
        #[arg(long)]
        out: PathBuf,
    },
    /// Write a valid PDF of exactly SIZE bytes.
    GenPdf {
        #[arg(long)]
        size: u64,
        #[arg(long)]
        out: PathBuf,
    },
    /// Create the bench document types and procedure (admin token).
    Setup {
        #[command(flatten)]
        server: Server,
        #[arg(long)]
        admin_token_file: PathBuf,
    },
    /// dd baseline, then one large upload (and a fallback size if it is refused).
    LargeUpload {
        #[command(flatten)]
        server: Server,
        #[arg(long)]
        token_file: PathBuf,
        /// Work directory on the disk under test.
        #[arg(long)]
        dir: PathBuf,
        #[arg(long, default_value_t = 1 << 30)]
        size: u64,
        /// Measured when SIZE is refused (0: none).
        #[arg(long, default_value_t = 500 << 20)]
        fallback_size: u64,
        /// Size of the dd baseline in MiB (default: SIZE).
        #[arg(long)]
        dd_mib: Option<u64>,
        #[arg(long)]
        pid: Option<u32>,
        #[arg(long)]
        out: PathBuf,
    },
    /// The expiry sweep on generated SQLite vaults (in-process, no server).
    Sweep {
        /// Vault sizes in documents.
        #[arg(long, value_delimiter = ',', default_values_t = [100_000usize, 1_000_000])]
        sizes: Vec<usize>,
        /// Documents due on each measured day.
        #[arg(long, default_value_t = 1000)]
        due: usize,
        /// The Markdown report.
        #[arg(long, default_value = "bench/out/sweep.md")]
        out: PathBuf,
    },
    /// Page-cache baseline, then downloads of the large upload's document.
    Download {
        #[command(flatten)]
        server: Server,
        #[arg(long)]
        token_file: PathBuf,
        /// The large-upload result to reuse (document id, file, checksum).
        #[arg(long)]
        from: PathBuf,
        #[arg(long, default_value_t = 3)]
        runs: usize,
        #[arg(long)]
        out: PathBuf,
    },
    /// fsync baseline, concurrent small uploads, then the same PUTs to S3.
    SmallUploads {
        #[command(flatten)]
        server: Server,
        /// One citizen token per line.
        #[arg(long)]
        tokens_file: PathBuf,
        #[arg(long, default_value_t = 200_000)]
        size: usize,
        #[arg(long, default_value_t = 32)]
        clients: usize,
        #[arg(long, default_value_t = 30.0)]
        secs: f64,
        #[arg(long, default_value_t = 10.0)]
        fsync_secs: f64,
        #[arg(long)]
        dir: PathBuf,
        #[arg(long, env = "LIASSE_TEST_S3_ENDPOINT")]
        s3_endpoint: Option<String>,
        #[arg(long, env = "LIASSE_TEST_S3_BUCKET", default_value = "liasse-test")]
        s3_bucket: String,
        #[arg(long, env = "LIASSE_TEST_S3_ACCESS_KEY", default_value = "")]
        s3_access_key: String,
        #[arg(
            long,
            env = "LIASSE_TEST_S3_SECRET_KEY",
            default_value = "",
            hide_env_values = true
        )]
        s3_secret_key: String,
        #[arg(long, env = "LIASSE_TEST_S3_REGION", default_value = "us-east-1")]
        s3_region: String,
        #[arg(long)]
        out: PathBuf,
    },
    /// Latency of the vault listing and of the request matching.
    ListMatch {
        #[command(flatten)]
        server: Server,
        #[arg(long)]
        token_file: PathBuf,
        #[arg(long, default_value_t = 50)]
        docs: usize,
        #[arg(long, default_value_t = 20_000)]
        doc_size: usize,
        #[arg(long, default_value_t = 20)]
        warmup: usize,
        #[arg(long, default_value_t = 500)]
        iterations: usize,
        /// Rows in the database, as counted by run.sh (reported as given).
        #[arg(long, default_value_t = 0)]
        db_citizens: u64,
        #[arg(long, default_value_t = 0)]
        db_documents: u64,
        #[arg(long, default_value_t = 0.0)]
        seed_secs: f64,
        #[arg(long)]
        out: PathBuf,
    },
    /// Peak RSS of the server while many large uploads run at once.
    Memory {
        #[command(flatten)]
        server: Server,
        #[arg(long)]
        tokens_file: PathBuf,
        #[arg(long)]
        pid: u32,
        #[arg(long, default_value_t = 50)]
        clients: usize,
        #[arg(long, default_value_t = 100_000_000)]
        size: usize,
        /// Kill the server when the machine's available memory falls under this (MiB).
        #[arg(long, default_value_t = 4096)]
        min_available_mib: u64,
        #[arg(long)]
        out: PathBuf,
    },
    /// Mixed load: listings, downloads, uploads, reviews.
    Load {
        #[command(flatten)]
        server: Server,
        #[arg(long)]
        tokens_file: PathBuf,
        #[arg(long)]
        agent_token_file: PathBuf,
        #[arg(long, default_value_t = 200)]
        clients: usize,
        #[arg(long, default_value_t = 60.0)]
        secs: f64,
        #[arg(long, default_value_t = 200_000)]
        size: usize,
        /// Last day of the citizens' grants (YYYY-MM-DD).
        #[arg(long)]
        grant_until: String,
        #[arg(long)]
        out: PathBuf,
    },
    /// Write REPORT.md and report.json from a run's results directory.
    Report {
        #[arg(long)]
        results: PathBuf,
        #[arg(long)]
        out: PathBuf,
    },
}

fn read_token(path: &Path) -> Result<String> {
    let t = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read token file {}: {e}", path.display()))?;
    let t = t.trim().to_string();
    if t.is_empty() {
        return Err(format!("token file {} is empty", path.display()).into());
    }
    Ok(t)
}

fn read_tokens(path: &Path) -> Result<Vec<String>> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read tokens file {}: {e}", path.display()))?;
    let tokens: Vec<String> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect();
    if tokens.is_empty() {
        return Err(format!("tokens file {} is empty", path.display()).into());
    }
    Ok(tokens)
}

fn write_json(path: &Path, v: &Value) -> Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(path, serde_json::to_string_pretty(v)? + "\n")?;
    Ok(())
}

fn api(s: &Server, timeout_secs: u64) -> Result<api::Api> {
    api::Api::new(&s.server, Duration::from_secs(timeout_secs))
}

async fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Machine { dir, out } => write_json(&out, &machine::describe(&dir)),
        Command::GenPdf { size, out } => {
            let (n, _) = pdf::write_file(&out, size, 0)?;
            eprintln!("{} bytes written to {}", n, out.display());
            Ok(())
        }
        Command::Setup {
            server,
            admin_token_file,
        } => workload::setup(&api(&server, 60)?, &read_token(&admin_token_file)?).await,
        Command::LargeUpload {
            server,
            token_file,
            dir,
            size,
            fallback_size,
            dd_mib,
            pid,
            out,
        } => {
            let api = api(&server, 3600)?;
            let token = read_token(&token_file)?;
            let v = uploads::large_upload(uploads::LargeArgs {
                api: &api,
                token: &token,
                type_code: workload::LARGE_TYPE,
                dir: &dir,
                size,
                fallback_size,
                dd_mib: dd_mib.unwrap_or(size.div_ceil(1 << 20)),
                server_pid: pid,
            })
            .await?;
            write_json(&out, &v)
        }
        Command::Download {
            server,
            token_file,
            from,
            runs,
            out,
        } => {
            let api = api(&server, 3600)?;
            let token = read_token(&token_file)?;
            let large: Value = serde_json::from_slice(&std::fs::read(&from)?)?;
            let acc = &large["accepted"];
            let id = acc["document_id"]
                .as_str()
                .ok_or("the large upload stored no document: nothing to download")?;
            let file = acc["file"]
                .as_str()
                .ok_or("the large upload kept no file")?;
            let checksum = acc["checksum"].as_u64().ok_or("no checksum recorded")?;
            let v = uploads::download(uploads::DownloadArgs {
                api: &api,
                token: &token,
                id: id.to_string(),
                file: PathBuf::from(file),
                checksum,
                runs,
            })
            .await?;
            write_json(&out, &v)
        }
        Command::SmallUploads {
            server,
            tokens_file,
            size,
            clients,
            secs,
            fsync_secs,
            dir,
            s3_endpoint,
            s3_bucket,
            s3_access_key,
            s3_secret_key,
            s3_region,
            out,
        } => {
            let api = api(&server, 120)?;
            let tokens = read_tokens(&tokens_file)?;
            let s3 = s3_endpoint
                .filter(|e| !e.is_empty())
                .map(|endpoint| uploads::S3Target {
                    endpoint,
                    bucket: s3_bucket,
                    access_key: s3_access_key,
                    secret_key: s3_secret_key,
                    region: s3_region,
                });
            let v = uploads::small_uploads(uploads::SmallArgs {
                api: &api,
                tokens: &tokens,
                type_code: workload::PIECE_TYPE,
                size,
                clients,
                secs,
                dir: &dir,
                fsync_secs,
                s3,
            })
            .await?;
            write_json(&out, &v)
        }
        Command::ListMatch {
            server,
            token_file,
            docs,
            doc_size,
            warmup,
            iterations,
            db_citizens,
            db_documents,
            seed_secs,
            out,
        } => {
            let api = api(&server, 120)?;
            let token = read_token(&token_file)?;
            let v = workload::list_match(workload::ListMatchArgs {
                api: &api,
                token: &token,
                docs,
                doc_size,
                warmup,
                iterations,
                database: json!({
                    "citizens": db_citizens,
                    "documents": db_documents,
                    "seed_secs": seed_secs,
                }),
            })
            .await?;
            write_json(&out, &v)
        }
        Command::Memory {
            server,
            tokens_file,
            pid,
            clients,
            size,
            min_available_mib,
            out,
        } => {
            let api = api(&server, 3600)?;
            let tokens = read_tokens(&tokens_file)?;
            let v = uploads::memory(uploads::MemoryArgs {
                api: &api,
                tokens: &tokens,
                type_code: workload::LARGE_TYPE,
                size,
                clients,
                server_pid: pid,
                min_available_kib: min_available_mib * 1024,
            })
            .await?;
            write_json(&out, &v)
        }
        Command::Load {
            server,
            tokens_file,
            agent_token_file,
            clients,
            secs,
            size,
            grant_until,
            out,
        } => {
            let api = api(&server, 120)?;
            let citizens = read_tokens(&tokens_file)?;
            let agent = read_token(&agent_token_file)?;
            let v = workload::load(workload::LoadArgs {
                api: &api,
                citizens: &citizens,
                agent: &agent,
                clients,
                secs,
                size,
                grant_until: &grant_until,
            })
            .await?;
            write_json(&out, &v)
        }
        Command::Sweep { sizes, due, out } => sweep::run(&sizes, due, &out).await,
        Command::Report { results, out } => report::write(&results, &out),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("liasse-bench: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("liasse-bench: {e}");
            ExitCode::FAILURE
        }
    }
}
