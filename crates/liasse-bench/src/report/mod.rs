//! Assembles the results of one run into `report.json` and `REPORT.md`.

mod format;

use format::*;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use serde_json::{Map, Value, json};

use crate::Result;

/// The benchmarks, in report order.
pub const BENCHMARKS: [&str; 7] = [
    "large-upload",
    "download",
    "small-uploads",
    "list-match",
    "memory",
    "load",
    "sweep",
];

pub fn write(results: &Path, out: &Path) -> Result<()> {
    let machine = read_json(&results.join("machine.json")).unwrap_or(Value::Null);
    let run = read_run(&results.join("run.txt"));
    let mut benches = BTreeMap::new();
    let mut failed = BTreeMap::new();
    for name in BENCHMARKS {
        if let Some(v) = read_json(&results.join(format!("{name}.json"))) {
            benches.insert(name.to_string(), v);
        } else if let Ok(why) = std::fs::read_to_string(results.join(format!("{name}.failed"))) {
            failed.insert(name.to_string(), why.trim().to_string());
        }
    }
    let report = json!({
        "generated_by": "bench/run.sh",
        "machine": machine,
        "run": run,
        "results": benches,
        "failed": failed,
    });
    std::fs::create_dir_all(out)?;
    std::fs::write(
        out.join("report.json"),
        serde_json::to_string_pretty(&report)? + "\n",
    )?;
    let sweep_md = std::fs::read_to_string(results.join("sweep.md")).ok();
    let mut md = markdown(&report, sweep_md.as_deref());
    recorded_elsewhere(&mut md, results);
    std::fs::write(out.join("REPORT.md"), md)?;
    Ok(())
}

/// The long fuzz runs and the API fuzzing take longer than a benchmark run; their last
/// results, recorded by their own runs (bench/FUZZ.md, bench/api-fuzz.md, copied into the
/// results by run.sh), are appended under a heading that says so.
fn recorded_elsewhere(s: &mut String, results: &Path) {
    let parts: Vec<(&str, String)> = [
        ("Long fuzz runs", "fuzz.md"),
        ("API fuzzing against the OpenAPI document", "api-fuzz.md"),
    ]
    .into_iter()
    .filter_map(|(title, file)| {
        let text = std::fs::read_to_string(results.join(file)).ok()?;
        Some((title, text))
    })
    .collect();
    if parts.is_empty() {
        return;
    }
    let _ = writeln!(
        s,
        "\n## Reliability runs (recorded by their own runs, not by this one)\n\n\
         These are the last results of `scripts/fuzz.sh 600` and `scripts/api-fuzz.sh`, copied \
         from `bench/FUZZ.md` and `bench/api-fuzz.md` when this report was written; each says \
         when, at which commit and on which machine it ran. The crash and full-disk tests run \
         in `scripts/test.sh` ([reliability.md](reliability.md)).\n"
    );
    for (title, text) in parts {
        let _ = writeln!(s, "### {title}\n");
        for line in text.trim().lines() {
            // Their own top heading is replaced by the one above; others go one level down.
            if line.starts_with("# ") {
                continue;
            }
            if line.starts_with('#') {
                let _ = writeln!(s, "##{line}");
            } else {
                let _ = writeln!(s, "{line}");
            }
        }
        let _ = writeln!(s);
    }
}

fn markdown(r: &Value, sweep_md: Option<&str>) -> String {
    let m = &r["machine"];
    let run = &r["run"];
    let res = &r["results"];
    let mut s = String::new();
    let _ = writeln!(s, "# Liasse benchmark report\n");
    let _ = writeln!(
        s,
        "Written by `bench/run.sh` on {} (commit `{}`{}). Every number below was measured by \
         this run, on this machine; each figure stands beside the machine's own limit measured \
         in the same run, as a ratio (figure / limit). MB = 10⁶ bytes, MiB = 2²⁰ bytes.\n",
        text(run, "finished_at"),
        text(run, "commit"),
        if text(run, "dirty") == "1" {
            ", with uncommitted changes"
        } else {
            ""
        }
    );
    let reduced = text(run, "reduced");
    if !reduced.is_empty() && reduced != "0" {
        let _ = writeln!(
            s,
            "> **REDUCED RUN** — sizes or durations below the issue's targets: {}. \
             Figures are real but not the full benchmark; run `bench/run.sh` without size \
             flags for the full one.\n",
            text(run, "reductions")
        );
    }
    let only = text(run, "only");
    if !only.is_empty() && only != "all" {
        let _ = writeln!(s, "> Partial run: only `{only}`.\n");
    }

    // Machine.
    let _ = writeln!(s, "## Machine\n");
    let _ = writeln!(s, "| | |\n|---|---|");
    let _ = writeln!(s, "| CPU | {} |", text(m, "cpu_model"));
    let _ = writeln!(s, "| cores | {} |", text(m, "cores"));
    let _ = writeln!(
        s,
        "| memory | {} total, {} available at start |",
        mib(num(m, "memory_total_kib")),
        mib(num(m, "memory_available_kib_at_start"))
    );
    let rot = match at(m, "disk.rotational") {
        Some(Value::Bool(true)) => "rotational",
        Some(Value::Bool(false)) => "non-rotational",
        _ => "",
    };
    let disk: Vec<String> = [
        text(m, "disk.device"),
        text(m, "disk.model"),
        text(m, "disk.filesystem"),
        text(m, "disk.size"),
        if rot.is_empty() {
            String::new()
        } else {
            format!("{rot} (as the kernel reports it)")
        },
        if at(m, "disk.virtual").and_then(Value::as_bool) == Some(true) {
            "virtual disk (virtio)".to_string()
        } else {
            String::new()
        },
    ]
    .into_iter()
    .filter(|p| !p.is_empty())
    .collect();
    let _ = writeln!(s, "| disk (data directory) | {} |", disk.join(", "));
    let _ = writeln!(s, "| kernel | {} ({}) |", text(m, "kernel"), text(m, "os"));
    let _ = writeln!(s, "| rustc | {} |", text(m, "rustc"));
    let _ = writeln!(
        s,
        "| load average at start | {} (the machine may be shared: see below) |",
        text(m, "load_average_at_start")
    );
    let _ = writeln!(
        s,
        "| run time | {} s in all, of which release build {} s (longest crate: {}) |\n",
        text(run, "total_secs"),
        text(run, "build_secs"),
        text(run, "build_longest")
    );

    // Summary.
    let _ = writeln!(s, "## Summary\n");
    let _ = writeln!(
        s,
        "| benchmark | Liasse | machine limit, same run | ratio |\n|---|---|---|---|"
    );
    for (name, why) in r["failed"].as_object().into_iter().flatten() {
        let why = why
            .as_str()
            .unwrap_or_default()
            .replace('\n', " ")
            .replace('|', "/");
        let _ = writeln!(s, "| {name} | **FAILED**: {why} | — | — |");
    }
    if let Some(b) = res.get("large-upload") {
        let dd = format!(
            "{} (`dd … conv=fdatasync`, {})",
            fmt(num(b, "baseline.mb_per_s"), " MB/s"),
            size(num(b, "baseline.bytes"))
        );
        for a in b["attempts"].as_array().into_iter().flatten() {
            let label = format!("large upload, {}", size(num(a, "bytes")));
            if a["accepted"].as_bool() == Some(true) {
                let _ = writeln!(
                    s,
                    "| {label}{} | {} | {dd} | {} |",
                    if text(a, "role").starts_with("fallback") {
                        " (fallback)"
                    } else {
                        ""
                    },
                    fmt(num(a, "mb_per_s"), " MB/s"),
                    ratio(num(a, "ratio_to_dd"))
                );
            } else {
                let _ = writeln!(
                    s,
                    "| {label} | **refused** after {} s ({}) | {dd} | n/a |",
                    fmt(num(a, "secs"), ""),
                    short_refusal(&text(a, "refusal"))
                );
            }
        }
    }
    if let Some(b) = res.get("small-uploads") {
        let label = format!(
            "small uploads, {} PDFs, {} clients, {} s",
            size(num(b, "size")),
            text(b, "clients"),
            fmt(num(b, "uploads.secs"), "")
        );
        let _ = writeln!(
            s,
            "| {label} | {} uploads/s ({} errors) | {} files/s (write + fsync loop) | {} |",
            fmt(num(b, "uploads.per_s"), ""),
            text(b, "uploads.errors"),
            fmt(num(b, "fsync_baseline.files_per_s"), ""),
            ratio(num(b, "ratio_to_fsync"))
        );
        let s3 = if at(b, "s3_baseline.per_s").is_some() {
            format!(
                "{} PUTs/s (plain S3 PUTs to s3s-fs, same clients)",
                fmt(num(b, "s3_baseline.per_s"), "")
            )
        } else {
            format!("not measured: {}", text(b, "s3_baseline.skipped"))
        };
        let _ = writeln!(s, "| | | {s3} | {} |", ratio(num(b, "ratio_to_s3")));
    }
    if let Some(b) = res.get("download") {
        let _ = writeln!(
            s,
            "| download (decrypt + stream), {} | {} | {} (page cache, `cat`) | {} |",
            size(num(b, "bytes")),
            fmt(num(b, "mb_per_s"), " MB/s"),
            fmt(num(b, "baseline.mb_per_s"), " MB/s"),
            ratio(num(b, "ratio_to_page_cache"))
        );
    }
    if let Some(b) = res.get("list-match") {
        let db = format!(
            "{} citizens, {} documents in the database",
            text(b, "database.citizens"),
            text(b, "database.documents")
        );
        let _ = writeln!(
            s,
            "| vault listing ({} documents; {db}) | p50 {} / p99 {} | — | — |",
            text(b, "citizen_documents"),
            fmt(num(b, "list.p50_ms"), " ms"),
            fmt(num(b, "list.p99_ms"), " ms")
        );
        let _ = writeln!(
            s,
            "| request matching ({} requirements, {} candidates; same database) | p50 {} / p99 {} | — | — |",
            text(b, "request.requirements"),
            text(b, "request.candidates"),
            fmt(num(b, "match.p50_ms"), " ms"),
            fmt(num(b, "match.p99_ms"), " ms")
        );
    }
    if let Some(b) = res.get("memory") {
        let _ = writeln!(
            s,
            "| memory: peak RSS (VmHWM), {} clients × {} at once{} | {} | {} total memory | {} |",
            text(b, "clients"),
            size(num(b, "size")),
            if b["aborted"].as_bool() == Some(true) {
                " — **ABORTED** (machine's memory ran low, server killed)"
            } else {
                ""
            },
            mib(num(b, "server_vmhwm_kib")),
            mib(num(b, "memory_total_kib")),
            ratio(num(b, "ratio_to_total_memory"))
        );
    }
    if let Some(b) = res.get("load") {
        let _ = writeln!(
            s,
            "| load: {} clients, {} s, mixed | {} requests, **{} errors**, p99 {} ({} req/s) | — | — |",
            text(b, "clients"),
            fmt(num(b, "secs"), ""),
            text(b, "requests"),
            text(b, "errors"),
            fmt(num(b, "latency.p99_ms"), " ms"),
            fmt(num(b, "per_s"), "")
        );
    }
    if res.get("sweep").is_some() || sweep_md.is_some() {
        let _ = writeln!(s, "| expiry sweep | see below | — | — |");
    }
    let _ = writeln!(s);

    // Details.
    if let Some(b) = res.get("large-upload") {
        let _ = writeln!(s, "## Large upload\n");
        let _ = writeln!(
            s,
            "One PDF (a catalog, a page and one huge content stream), streamed from disk in a \
             multipart `POST /api/v1/documents` by one client over loopback; the time runs until \
             the server acknowledges (file spooled, hashed, inspected, encrypted, stored durably, \
             row committed). Baseline: `{}` on the same filesystem: {} in {} s.\n",
            text(b, "baseline.command"),
            fmt(num(b, "baseline.mb_per_s"), " MB/s"),
            fmt(num(b, "baseline.secs"), "")
        );
        let _ = writeln!(
            s,
            "| size | outcome | time | MB/s | ratio to dd |\n|---|---|---|---|---|"
        );
        for a in b["attempts"].as_array().into_iter().flatten() {
            let _ = writeln!(
                s,
                "| {} ({}) | {} | {} s | {} | {} |",
                size(num(a, "bytes")),
                text(a, "role"),
                if a["accepted"].as_bool() == Some(true) {
                    "stored".to_string()
                } else {
                    format!("refused: {}", text(a, "refusal"))
                },
                fmt(num(a, "secs"), ""),
                fmt(num(a, "mb_per_s"), ""),
                ratio(num(a, "ratio_to_dd"))
            );
        }
        let _ = writeln!(
            s,
            "\nServer peak RSS after this benchmark (fresh server): {}.\n",
            mib(num(b, "server_vmhwm_kib"))
        );
        if b["attempts"]
            .as_array()
            .and_then(|a| a.first())
            .and_then(|a| a["accepted"].as_bool())
            == Some(false)
        {
            let _ = writeln!(
                s,
                "**The requested size was refused.** The upload inspection reads the whole file \
                 into memory and refuses files larger than its memory budget \
                 (`liasse_inspect::Limits::max_alloc`, 512 MiB), whatever the document type's \
                 `max_size` (2 GiB here). The fallback row measures the same path at the largest \
                 size the inspection accepts.\n"
            );
        }
    }
    if let Some(b) = res.get("download") {
        let _ = writeln!(s, "## Download\n");
        let _ = writeln!(
            s,
            "`GET /api/v1/documents/{{id}}/content` of the large upload's document (decrypted \
             and streamed), median of {} runs, each checked against the uploaded file (length \
             and checksum). Baseline: `{}` — first read {} s, second {} s.\n",
            b["runs"].as_array().map_or(0, Vec::len),
            text(b, "baseline.command"),
            fmt(num(b, "baseline.first_secs"), ""),
            fmt(num(b, "baseline.secs"), "")
        );
        let runs: Vec<String> = b["runs"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|r| fmt(num(r, "mb_per_s"), " MB/s"))
            .collect();
        let _ = writeln!(s, "Runs: {}.\n", runs.join(", "));
    }
    if let Some(b) = res.get("small-uploads") {
        let _ = writeln!(s, "## Small uploads\n");
        let _ = writeln!(
            s,
            "{} clients, each with its own citizen token, upload {} PDFs back to back (every file \
             distinct) for {} s. Baselines in the same run: {} (for {} s) and, to the S3 server \
             of the tests (s3s-fs, loopback, signed PUTs with object_store), the same files \
             from the same number of clients.\n",
            text(b, "clients"),
            size(num(b, "size")),
            fmt(num(b, "uploads.secs"), ""),
            text(b, "fsync_baseline.what"),
            fmt(num(b, "fsync_baseline.secs"), "")
        );
        let _ = writeln!(
            s,
            "| | per second | count | errors | p50 | p99 |\n|---|---|---|---|---|---|"
        );
        for (label, key) in [("Liasse uploads", "uploads"), ("S3 PUTs", "s3_baseline")] {
            if at(b, &format!("{key}.per_s")).is_some() {
                let _ = writeln!(
                    s,
                    "| {label} | {} | {} | {} | {} | {} |",
                    fmt(num(b, &format!("{key}.per_s")), ""),
                    text(b, &format!("{key}.ok")),
                    text(b, &format!("{key}.errors")),
                    fmt(num(b, &format!("{key}.latency.p50_ms")), " ms"),
                    fmt(num(b, &format!("{key}.latency.p99_ms")), " ms")
                );
            }
        }
        let _ = writeln!(
            s,
            "| write + fsync loop | {} | {} | | | |\n",
            fmt(num(b, "fsync_baseline.files_per_s"), ""),
            text(b, "fsync_baseline.files")
        );
        errors_block(&mut s, b, "uploads.error_samples");
    }
    if let Some(b) = res.get("list-match") {
        let _ = writeln!(s, "## List and match\n");
        let _ = writeln!(
            s,
            "The database holds {} citizens and {} documents (with one version row each), \
             inserted in bulk by `bench/seed.sql` in {} s; the measured citizen's {} documents \
             are real uploads. One client, one request after the other, {} warm-up calls then \
             {} measured calls each.\n",
            text(b, "database.citizens"),
            text(b, "database.documents"),
            text(b, "database.seed_secs"),
            text(b, "citizen_documents"),
            text(b, "warmup"),
            text(b, "iterations")
        );
        let _ = writeln!(s, "| call | p50 | p90 | p99 | max |\n|---|---|---|---|---|");
        for (label, key) in [
            ("`GET /api/v1/documents` (vault listing)", "list"),
            ("`GET /api/v1/requests/{id}` (candidate matching)", "match"),
        ] {
            let _ = writeln!(
                s,
                "| {label} | {} | {} | {} | {} |",
                fmt(num(b, &format!("{key}.p50_ms")), " ms"),
                fmt(num(b, &format!("{key}.p90_ms")), " ms"),
                fmt(num(b, &format!("{key}.p99_ms")), " ms"),
                fmt(num(b, &format!("{key}.max_ms")), " ms")
            );
        }
        let _ = writeln!(s);
    }
    if let Some(b) = res.get("memory") {
        let _ = writeln!(s, "## Memory\n");
        let _ = writeln!(
            s,
            "{} clients start a {} upload each at the same moment, on a freshly started server. \
             Peak RSS is the server's `VmHWM` (/proc/PID/status) after the last answer; VmRSS \
             was also sampled every 50 ms (peak {}). The machine's available memory went down \
             to {} during the run (the run kills the server if it falls under {}).\n",
            text(b, "clients"),
            size(num(b, "size")),
            mib(num(b, "server_peak_vmrss_kib_sampled")),
            mib(num(b, "min_memory_available_kib")),
            mib(num(b, "abort_floor_kib"))
        );
        let _ = writeln!(
            s,
            "Peak RSS is {} × the bytes in flight ({} × {}): {}.\n",
            fmt(num(b, "ratio_to_bytes_in_flight"), ""),
            text(b, "clients"),
            size(num(b, "size")),
            if num(b, "ratio_to_bytes_in_flight").unwrap_or(0.0) >= 0.5 {
                "the server holds the uploads in memory (the inspection reads each whole file)"
            } else {
                "the uploads stream through bounded buffers"
            }
        );
        let _ = writeln!(
            s,
            "Uploads: {} stored, {} failed, in {} s (p50 {}, max {}).\n",
            text(b, "uploads.ok"),
            text(b, "uploads.errors"),
            fmt(num(b, "uploads.secs"), ""),
            fmt(num(b, "uploads.latency.p50_ms"), " ms"),
            fmt(num(b, "uploads.latency.max_ms"), " ms")
        );
        errors_block(&mut s, b, "uploads.error_samples");
    }
    if let Some(b) = res.get("load") {
        let _ = writeln!(s, "## Load\n");
        let mix: Vec<String> = b["mix"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|m| format!("{} {} %", text(m, "op"), text(m, "weight_percent")))
            .collect();
        let _ = writeln!(
            s,
            "{} clients for {} s over {} citizens (each with a grant of the bench type to the \
             bench domain) and one agent with the modify right on it; each client loops, \
             choosing {}. Uploads are 200 KB PDFs; reviews validate a random document of a \
             random citizen.\n",
            text(b, "clients"),
            fmt(num(b, "secs"), ""),
            text(b, "citizens"),
            mix.join(", ")
        );
        let _ = writeln!(
            s,
            "| operation | requests | per second | errors | p50 | p99 | max |\n|---|---|---|---|---|---|---|"
        );
        for (name, o) in b["operations"].as_object().into_iter().flatten() {
            let _ = writeln!(
                s,
                "| {name} | {} | {} | {} | {} | {} | {} |",
                text(o, "requests"),
                fmt(num(o, "per_s"), ""),
                text(o, "errors"),
                fmt(num(o, "latency.p50_ms"), " ms"),
                fmt(num(o, "latency.p99_ms"), " ms"),
                fmt(num(o, "latency.max_ms"), " ms")
            );
        }
        let _ = writeln!(
            s,
            "| **all** | {} | {} | **{}** | {} | **{}** | {} |\n",
            text(b, "requests"),
            fmt(num(b, "per_s"), ""),
            text(b, "errors"),
            fmt(num(b, "latency.p50_ms"), " ms"),
            fmt(num(b, "latency.p99_ms"), " ms"),
            fmt(num(b, "latency.max_ms"), " ms")
        );
        for (name, o) in b["operations"].as_object().into_iter().flatten() {
            let samples: Vec<String> = o["error_samples"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .map(String::from)
                .collect();
            if !samples.is_empty() {
                let _ = writeln!(
                    s,
                    "Errors of `{name}` (first ones): {}\n",
                    samples.join("; ")
                );
            }
        }
    }
    if res.get("sweep").is_some() || sweep_md.is_some() {
        let _ = writeln!(s, "## Expiry sweep\n");
        if let Some(md) = sweep_md {
            // Its headings go under this section's.
            for line in md.trim().lines() {
                if line.starts_with('#') {
                    let _ = writeln!(s, "##{line}");
                } else {
                    let _ = writeln!(s, "{line}");
                }
            }
            let _ = writeln!(s);
        } else if let Some(b) = res.get("sweep") {
            let _ = writeln!(
                s,
                "```json\n{}\n```\n",
                serde_json::to_string_pretty(b).unwrap_or_default()
            );
        }
    }
    let _ = writeln!(s, "## How this was run\n");
    let _ = writeln!(s, "```\n{}\n```\n", text(run, "command"));
    let _ = writeln!(
        s,
        "Server: `liasse serve` on its embedded default (SQLite in WAL mode, local blob \
         directory, generated key file) in a fresh data directory on the disk described above, \
         with `max_upload_bytes` = 2 GiB and the background job runner off \
         (`runner_interval_secs = 0`) so that its passes do not land inside the timed windows; \
         restarted before each benchmark so that each peak RSS is its own. Client: \
         `liasse-bench` (crates/liasse-bench, reqwest over loopback) on the same machine, which \
         shares its cores with the server. Stages: {}.",
        text(run, "stages")
    );
    s
}
