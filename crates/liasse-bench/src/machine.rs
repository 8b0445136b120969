//! The machine's own limits, measured in the same run as the figures they are compared with,
//! and its description.

use std::io::Write;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::Result;
use crate::stats::r3;

pub const MB: f64 = 1_000_000.0;

/// `dd if=/dev/zero of=FILE bs=1M count=MIB conv=fdatasync`, timed from outside (the figure
/// includes the final fdatasync). The file is removed afterwards.
pub fn dd_write(dir: &Path, mib: u64) -> Result<Value> {
    let file = dir.join("dd-baseline.bin");
    let start = Instant::now();
    let out = Command::new("dd")
        .arg("if=/dev/zero")
        .arg(format!("of={}", file.display()))
        .arg("bs=1M")
        .arg(format!("count={mib}"))
        .arg("conv=fdatasync")
        .output()?;
    let secs = start.elapsed().as_secs_f64();
    let _ = std::fs::remove_file(&file);
    if !out.status.success() {
        return Err(format!("dd failed: {}", String::from_utf8_lossy(&out.stderr)).into());
    }
    let bytes = mib * 1024 * 1024;
    Ok(json!({
        "command": format!("dd if=/dev/zero of=FILE bs=1M count={mib} conv=fdatasync"),
        "bytes": bytes,
        "secs": r3(secs),
        "mb_per_s": r3(bytes as f64 / secs / MB),
    }))
}

/// `cat FILE > /dev/null` twice; the second run reads from the page cache and is the one timed.
pub fn cat_cached(file: &Path) -> Result<Value> {
    let run = || -> Result<f64> {
        let start = Instant::now();
        let status = Command::new("cat")
            .arg(file)
            .stdout(std::process::Stdio::null())
            .status()?;
        if !status.success() {
            return Err(format!("cat {} failed", file.display()).into());
        }
        Ok(start.elapsed().as_secs_f64())
    };
    let first = run()?;
    let second = run()?;
    let bytes = std::fs::metadata(file)?.len();
    Ok(json!({
        "command": "cat FILE > /dev/null (second run, from the page cache)",
        "bytes": bytes,
        "first_secs": r3(first),
        "secs": r3(second),
        "mb_per_s": r3(bytes as f64 / second / MB),
    }))
}

/// Writes `size`-byte files one after the other for `secs`, each followed by fsync: the rate
/// at which this disk makes small files durable, from one writer.
pub fn fsync_rate(dir: &Path, size: usize, secs: f64) -> Result<Value> {
    let dir = dir.join("fsync-baseline");
    std::fs::create_dir_all(&dir)?;
    let content = vec![b'x'; size];
    let start = Instant::now();
    let limit = Duration::from_secs_f64(secs);
    let mut n = 0u64;
    while start.elapsed() < limit {
        let mut f = std::fs::File::create(dir.join(format!("f{n}")))?;
        f.write_all(&content)?;
        f.sync_all()?;
        n += 1;
    }
    let elapsed = start.elapsed().as_secs_f64();
    let _ = std::fs::remove_dir_all(&dir);
    Ok(json!({
        "what": format!("create, write {size} bytes, fsync; one writer"),
        "files": n,
        "secs": r3(elapsed),
        "files_per_s": r3(n as f64 / elapsed),
    }))
}

fn read(path: &str) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

fn run(cmd: &str, args: &[&str]) -> String {
    Command::new(cmd)
        .args(args)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default()
}

/// `MemTotal` or `MemAvailable` of /proc/meminfo, in KiB.
pub fn meminfo_kib(key: &str) -> Option<u64> {
    read("/proc/meminfo").lines().find_map(|l| {
        let rest = l.strip_prefix(key)?.strip_prefix(':')?;
        rest.split_whitespace().next()?.parse().ok()
    })
}

/// A field of /proc/PID/status in KiB (`VmHWM`, `VmRSS`).
pub fn proc_status_kib(pid: u32, key: &str) -> Option<u64> {
    read(&format!("/proc/{pid}/status")).lines().find_map(|l| {
        let rest = l.strip_prefix(key)?.strip_prefix(':')?;
        rest.split_whitespace().next()?.parse().ok()
    })
}

/// CPU, cores, memory, the disk under `data_dir`, kernel, rustc, load when the run started.
pub fn describe(data_dir: &Path) -> Value {
    let cpuinfo = read("/proc/cpuinfo");
    let cpu = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .map(|s| s.trim_start_matches([' ', '\t', ':']).trim().to_string())
        .unwrap_or_default();
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let dir = data_dir.display().to_string();
    // Filesystem, device, size and whether the device is rotational.
    let df = run("df", &["-P", "-T", "-h", &dir]);
    let df_line = df.lines().nth(1).unwrap_or_default().to_string();
    let mut parts = df_line.split_whitespace();
    let device = parts.next().unwrap_or_default().to_string();
    let fstype = parts.next().unwrap_or_default().to_string();
    let size = parts.next().unwrap_or_default().to_string();
    let dev_name = device.trim_start_matches("/dev/").to_string();
    let base_dev = dev_name
        .trim_end_matches(|c: char| c.is_ascii_digit())
        .to_string();
    let rotational = read(&format!("/sys/block/{base_dev}/queue/rotational"))
        .trim()
        .to_string();
    let model = read(&format!("/sys/block/{base_dev}/device/model"))
        .trim()
        .to_string();
    let virtual_disk = base_dev.starts_with("vd") || base_dev.starts_with("xvd");
    json!({
        "cpu_model": cpu,
        "cores": cores,
        "memory_total_kib": meminfo_kib("MemTotal"),
        "memory_available_kib_at_start": meminfo_kib("MemAvailable"),
        "disk": {
            "path": dir,
            "device": device,
            "filesystem": fstype,
            "size": size,
            "model": model,
            "rotational": match rotational.as_str() { "0" => json!(false), "1" => json!(true), _ => Value::Null },
            "virtual": virtual_disk,
        },
        "kernel": read("/proc/sys/kernel/osrelease").trim(),
        "os": read("/etc/os-release").lines().find_map(|l| l.strip_prefix("PRETTY_NAME=")).unwrap_or_default().trim_matches('"'),
        "rustc": run("rustc", &["--version"]),
        "load_average_at_start": read("/proc/loadavg").split_whitespace().take(3).collect::<Vec<_>>().join(" "),
    })
}
