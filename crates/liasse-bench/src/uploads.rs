//! Upload and download benchmarks: one large file, many small ones, many 100 MB ones at once.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use serde_json::{Value, json};

use crate::api::{Api, Reply, file_part, pdf_part};
use crate::machine::{self, MB};
use crate::stats::{Samples, r3};
use crate::{Result, pdf};

/// Figures of one timed upload.
fn upload_figures(bytes: u64, secs: f64, reply: &Reply) -> Value {
    json!({
        "bytes": bytes,
        "secs": r3(secs),
        "status": reply.status.as_u16(),
        "accepted": reply.ok(),
        "mb_per_s": if reply.ok() { json!(r3(bytes as f64 / secs / MB)) } else { Value::Null },
        "refusal": if reply.ok() { Value::Null } else { json!(reply.describe()) },
        "document_id": reply.str_field("id"),
        "server_size": reply.body.get("size").cloned().unwrap_or(Value::Null),
    })
}

pub struct LargeArgs<'a> {
    pub api: &'a Api,
    pub token: &'a str,
    pub type_code: &'a str,
    pub dir: &'a Path,
    pub size: u64,
    pub fallback_size: u64,
    pub dd_mib: u64,
    pub server_pid: Option<u32>,
}

/// dd on the same disk, then the upload of one `size` file streamed from disk; when the server
/// refuses it, the largest size it is expected to accept (`fallback_size`) is measured too,
/// and labelled as such.
pub async fn large_upload(a: LargeArgs<'_>) -> Result<Value> {
    eprintln!("large-upload: dd baseline ({} MiB)", a.dd_mib);
    let dir = a.dir.to_path_buf();
    let dd_mib = a.dd_mib;
    let dd = tokio::task::spawn_blocking(move || machine::dd_write(&dir, dd_mib)).await??;
    let dd_rate = dd.get("mb_per_s").and_then(Value::as_f64).unwrap_or(0.0);
    let mut attempts = Vec::new();
    let mut accepted = Value::Null;
    let mut sizes = vec![a.size];
    if a.fallback_size > 0 && a.fallback_size < a.size {
        sizes.push(a.fallback_size);
    }
    for (i, &size) in sizes.iter().enumerate() {
        let file = a.dir.join("large.pdf");
        let tag = 0x1a46_0000 + i as u64;
        let f = file.clone();
        let gen_start = Instant::now();
        let (len, checksum) =
            tokio::task::spawn_blocking(move || pdf::write_file(&f, size, tag)).await??;
        eprintln!(
            "large-upload: {len} byte PDF written in {:.1}s; uploading",
            gen_start.elapsed().as_secs_f64()
        );
        let part = file_part(&file, "gros-fichier.pdf").await?;
        let start = Instant::now();
        let reply = a
            .api
            .upload(a.token, a.type_code, "Gros fichier", part)
            .await?;
        let secs = start.elapsed().as_secs_f64();
        let mut fig = upload_figures(len, secs, &reply);
        eprintln!(
            "large-upload: {len} bytes -> {} in {secs:.1}s",
            reply.describe()
        );
        if let Some(obj) = fig.as_object_mut() {
            obj.insert(
                "role".into(),
                json!(if i == 0 {
                    "requested size"
                } else {
                    "fallback: largest size the upload inspection accepts"
                }),
            );
            if reply.ok() {
                obj.insert(
                    "ratio_to_dd".into(),
                    json!(r3(bytes_rate(len, secs) / dd_rate)),
                );
                obj.insert("file".into(), json!(file.display().to_string()));
                obj.insert("checksum".into(), json!(checksum));
            }
        }
        attempts.push(fig.clone());
        if reply.ok() {
            accepted = fig;
            break;
        }
        let _ = std::fs::remove_file(&file);
    }
    Ok(json!({
        "baseline": dd,
        "attempts": attempts,
        "accepted": accepted,
        "requested_bytes": a.size,
        "server_vmhwm_kib": a.server_pid.and_then(|p| machine::proc_status_kib(p, "VmHWM")),
    }))
}

fn bytes_rate(bytes: u64, secs: f64) -> f64 {
    bytes as f64 / secs / MB
}

pub struct DownloadArgs<'a> {
    pub api: &'a Api,
    pub token: &'a str,
    pub id: String,
    pub file: PathBuf,
    pub checksum: u64,
    pub runs: usize,
}

/// The page-cache read of the same bytes (cat, twice), then `runs` downloads; the figure is
/// the median run. Each download is checked (length and checksum).
pub async fn download(a: DownloadArgs<'_>) -> Result<Value> {
    let f = a.file.clone();
    let cat = tokio::task::spawn_blocking(move || machine::cat_cached(&f)).await??;
    let cat_rate = cat.get("mb_per_s").and_then(Value::as_f64).unwrap_or(0.0);
    let expected = std::fs::metadata(&a.file)?.len();
    let mut runs = Vec::new();
    let mut rates = Vec::new();
    for i in 0..a.runs.max(1) {
        let mut sum = pdf::Checksum::default();
        let start = Instant::now();
        let (status, n) = a.api.download(a.token, &a.id, |c| sum.update(c)).await?;
        let secs = start.elapsed().as_secs_f64();
        let intact = status.is_success() && n == expected && sum.value() == a.checksum;
        eprintln!("download {i}: HTTP {status} {n} bytes in {secs:.2}s intact={intact}");
        if !intact {
            return Err(format!(
                "download {i} of {}: HTTP {status}, {n} bytes (expected {expected}), checksum {}",
                a.id,
                if sum.value() == a.checksum {
                    "ok"
                } else {
                    "differs"
                }
            )
            .into());
        }
        rates.push(bytes_rate(n, secs));
        runs.push(json!({ "bytes": n, "secs": r3(secs), "mb_per_s": r3(bytes_rate(n, secs)) }));
    }
    rates.sort_by(f64::total_cmp);
    let median = rates.get(rates.len() / 2).copied().unwrap_or(0.0);
    Ok(json!({
        "baseline": cat,
        "document_id": a.id,
        "bytes": expected,
        "runs": runs,
        "mb_per_s": r3(median),
        "ratio_to_page_cache": r3(median / cat_rate),
        "verified": "length and checksum of every download equal the uploaded file",
    }))
}

/// Outcome counters of a fixed-duration run.
#[derive(Default)]
struct Tally {
    latency: Samples,
    ok: u64,
    errors: u64,
    error_samples: Vec<String>,
}

impl Tally {
    fn fail(&mut self, what: String) {
        self.errors += 1;
        if self.error_samples.len() < 5 {
            self.error_samples.push(what);
        }
    }

    fn merge(&mut self, other: Tally) {
        self.latency.extend(&other.latency);
        self.ok += other.ok;
        self.errors += other.errors;
        for s in other.error_samples {
            if self.error_samples.len() < 5 {
                self.error_samples.push(s);
            }
        }
    }

    fn figures(&self, secs: f64) -> Value {
        json!({
            "ok": self.ok,
            "errors": self.errors,
            "secs": r3(secs),
            "per_s": r3(self.ok as f64 / secs),
            "latency": self.latency.summary(),
            "error_samples": self.error_samples,
        })
    }
}

pub struct SmallArgs<'a> {
    pub api: &'a Api,
    pub tokens: &'a [String],
    pub type_code: &'a str,
    pub size: usize,
    pub clients: usize,
    pub secs: f64,
    pub dir: &'a Path,
    pub fsync_secs: f64,
    pub s3: Option<S3Target>,
}

#[derive(Clone)]
pub struct S3Target {
    pub endpoint: String,
    pub bucket: String,
    pub access_key: String,
    pub secret_key: String,
    pub region: String,
}

static TAGS: AtomicU64 = AtomicU64::new(1);

/// A fresh, unique PDF of the template's size.
pub fn unique(template: &[u8]) -> Bytes {
    let mut v = template.to_vec();
    pdf::retag(
        &mut v,
        TAGS.fetch_add(1, Ordering::Relaxed) | (u64::from(std::process::id()) << 40),
    );
    Bytes::from(v)
}

/// `clients` tasks upload `size`-byte PDFs back to back for `secs` seconds.
pub async fn upload_storm(
    api: &Api,
    tokens: &[String],
    type_code: &str,
    size: usize,
    clients: usize,
    secs: f64,
) -> Result<Value> {
    if tokens.is_empty() {
        return Err("no citizen tokens".into());
    }
    let template = Arc::new(pdf::bytes(size, 0));
    let deadline = Instant::now() + Duration::from_secs_f64(secs);
    let start = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..clients {
        let api = api.clone();
        let token = tokens[c % tokens.len()].clone();
        let template = template.clone();
        let type_code = type_code.to_string();
        tasks.push(tokio::spawn(async move {
            let mut t = Tally::default();
            while Instant::now() < deadline {
                let part = match pdf_part(unique(&template), "piece.pdf") {
                    Ok(p) => p,
                    Err(e) => {
                        t.fail(e.to_string());
                        continue;
                    }
                };
                let s = Instant::now();
                match api
                    .upload(&token, &type_code, "Pièce de 200 Ko", part)
                    .await
                {
                    Ok(r) if r.ok() => {
                        t.ok += 1;
                        t.latency.push(s.elapsed().as_secs_f64() * 1000.0);
                    }
                    Ok(r) => t.fail(r.describe()),
                    Err(e) => t.fail(e.to_string()),
                }
            }
            t
        }));
    }
    let mut total = Tally::default();
    for task in tasks {
        total.merge(task.await?);
    }
    let elapsed = start.elapsed().as_secs_f64();
    Ok(total.figures(elapsed))
}

/// The same files PUT to the S3 server with `clients` concurrent clients for `secs`.
pub async fn s3_storm(target: &S3Target, size: usize, clients: usize, secs: f64) -> Result<Value> {
    use object_store::ObjectStore;
    use object_store::aws::AmazonS3Builder;
    let store = Arc::new(
        AmazonS3Builder::new()
            .with_endpoint(&target.endpoint)
            .with_allow_http(target.endpoint.starts_with("http://"))
            .with_bucket_name(&target.bucket)
            .with_region(&target.region)
            .with_access_key_id(&target.access_key)
            .with_secret_access_key(&target.secret_key)
            .with_virtual_hosted_style_request(false)
            .build()?,
    );
    let template = Arc::new(pdf::bytes(size, 0));
    let deadline = Instant::now() + Duration::from_secs_f64(secs);
    let start = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..clients {
        let store = store.clone();
        let template = template.clone();
        tasks.push(tokio::spawn(async move {
            let mut t = Tally::default();
            let mut n = 0u64;
            while Instant::now() < deadline {
                let key = object_store::path::Path::from(format!("bench/{c}/{n}.pdf"));
                n += 1;
                let s = Instant::now();
                match store.put(&key, unique(&template).into()).await {
                    Ok(_) => {
                        t.ok += 1;
                        t.latency.push(s.elapsed().as_secs_f64() * 1000.0);
                    }
                    Err(e) => t.fail(e.to_string()),
                }
            }
            t
        }));
    }
    let mut total = Tally::default();
    for task in tasks {
        total.merge(task.await?);
    }
    Ok(total.figures(start.elapsed().as_secs_f64()))
}

pub async fn small_uploads(a: SmallArgs<'_>) -> Result<Value> {
    eprintln!("small-uploads: fsync baseline for {}s", a.fsync_secs);
    let dir = a.dir.to_path_buf();
    let (size, fsync_secs) = (a.size, a.fsync_secs);
    let fsync =
        tokio::task::spawn_blocking(move || machine::fsync_rate(&dir, size, fsync_secs)).await??;
    let fsync_rate = fsync
        .get("files_per_s")
        .and_then(Value::as_f64)
        .unwrap_or(0.0);
    eprintln!(
        "small-uploads: {} clients for {}s ({} byte PDFs)",
        a.clients, a.secs, a.size
    );
    let liasse = upload_storm(a.api, a.tokens, a.type_code, a.size, a.clients, a.secs).await?;
    let rate = liasse.get("per_s").and_then(Value::as_f64).unwrap_or(0.0);
    let s3 = match &a.s3 {
        Some(t) => {
            eprintln!(
                "small-uploads: S3 PUTs, {} clients for {}s",
                a.clients, a.secs
            );
            s3_storm(t, a.size, a.clients, a.secs).await?
        }
        None => json!({ "skipped": "no S3 server given" }),
    };
    let s3_rate = s3.get("per_s").and_then(Value::as_f64);
    Ok(json!({
        "size": a.size,
        "clients": a.clients,
        "uploads": liasse,
        "fsync_baseline": fsync,
        "s3_baseline": s3,
        "ratio_to_fsync": r3(rate / fsync_rate),
        "ratio_to_s3": s3_rate.map(|s| r3(rate / s)),
    }))
}

pub struct MemoryArgs<'a> {
    pub api: &'a Api,
    pub tokens: &'a [String],
    pub type_code: &'a str,
    pub size: usize,
    pub clients: usize,
    pub server_pid: u32,
    /// The server is killed if the machine's available memory falls below this.
    pub min_available_kib: u64,
}

/// `clients` uploads of `size` bytes started at once; the server's VmHWM is read at the end
/// (and VmRSS sampled every 50 ms). Protects the machine: when MemAvailable falls below the
/// floor, the server is killed and the run reported as aborted.
pub async fn memory(a: MemoryArgs<'_>) -> Result<Value> {
    // One copy shared by every client (`Bytes` clones are references): the load generator
    // must not take the memory it is measuring.
    let content = Bytes::from(pdf::bytes(a.size, 0));
    let pid = a.server_pid;
    let hwm_before = machine::proc_status_kib(pid, "VmHWM");
    let done = Arc::new(AtomicBool::new(false));
    let aborted = Arc::new(AtomicBool::new(false));
    let monitor = {
        let done = done.clone();
        let aborted = aborted.clone();
        let floor = a.min_available_kib;
        tokio::spawn(async move {
            let mut peak_rss = 0u64;
            let mut min_avail = u64::MAX;
            let mut last_hwm = 0u64;
            while !done.load(Ordering::Relaxed) {
                if let Some(rss) = machine::proc_status_kib(pid, "VmRSS") {
                    peak_rss = peak_rss.max(rss);
                }
                if let Some(h) = machine::proc_status_kib(pid, "VmHWM") {
                    last_hwm = h;
                }
                if let Some(avail) = machine::meminfo_kib("MemAvailable") {
                    min_avail = min_avail.min(avail);
                    if avail < floor && !aborted.swap(true, Ordering::Relaxed) {
                        eprintln!(
                            "memory: MemAvailable {avail} KiB < floor {floor} KiB: killing the server (pid {pid})"
                        );
                        let _ = std::process::Command::new("kill")
                            .arg("-KILL")
                            .arg(pid.to_string())
                            .status();
                    }
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            (peak_rss, min_avail, last_hwm)
        })
    };
    let barrier = Arc::new(tokio::sync::Barrier::new(a.clients));
    let start = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..a.clients {
        let api = a.api.clone();
        let token = a.tokens[c % a.tokens.len().max(1)].clone();
        let content = content.clone();
        let type_code = a.type_code.to_string();
        let barrier = barrier.clone();
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            let s = Instant::now();
            let r = match pdf_part(content, "cent-mo.pdf") {
                Ok(part) => {
                    api.upload(&token, &type_code, "Fichier de 100 Mo", part)
                        .await
                }
                Err(e) => Err(e),
            };
            (s.elapsed().as_secs_f64(), r)
        }));
    }
    let mut t = Tally::default();
    for task in tasks {
        let (secs, r) = task.await?;
        match r {
            Ok(r) if r.ok() => {
                t.ok += 1;
                t.latency.push(secs * 1000.0);
            }
            Ok(r) => t.fail(r.describe()),
            Err(e) => t.fail(e.to_string()),
        }
    }
    let elapsed = start.elapsed().as_secs_f64();
    // Let the last samples in.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let hwm = machine::proc_status_kib(pid, "VmHWM");
    done.store(true, Ordering::Relaxed);
    let (peak_rss, min_avail, last_hwm) = monitor.await?;
    let hwm = hwm.unwrap_or(last_hwm);
    let total = machine::meminfo_kib("MemTotal").unwrap_or(0);
    let aborted = aborted.load(Ordering::Relaxed);
    Ok(json!({
        "clients": a.clients,
        "size": a.size,
        "uploads": t.figures(elapsed),
        "server_vmhwm_kib_before": hwm_before,
        "server_vmhwm_kib": hwm,
        "server_peak_vmrss_kib_sampled": peak_rss,
        "memory_total_kib": total,
        "ratio_to_total_memory": if total > 0 { json!(r3(hwm as f64 / total as f64)) } else { Value::Null },
        "ratio_to_bytes_in_flight": r3(hwm as f64 * 1024.0 / (a.clients * a.size) as f64),
        "min_memory_available_kib": if min_avail == u64::MAX { Value::Null } else { json!(min_avail) },
        "aborted": aborted,
        "abort_floor_kib": a.min_available_kib,
    }))
}
