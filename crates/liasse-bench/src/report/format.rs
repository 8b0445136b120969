//! How the report writes figures: units, ratios, sizes, refusals and error blocks, read from the run's JSON.

use super::*;

pub(super) fn at<'a>(v: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(v, |v, k| v.get(k))
}

pub(super) fn num(v: &Value, path: &str) -> Option<f64> {
    at(v, path).and_then(Value::as_f64)
}

pub(super) fn fmt(v: Option<f64>, unit: &str) -> String {
    match v {
        Some(x) if x.abs() >= 100.0 => format!("{x:.0}{unit}"),
        Some(x) if x.abs() >= 10.0 => format!("{x:.1}{unit}"),
        Some(x) => format!("{x:.2}{unit}"),
        None => "n/a".into(),
    }
}

pub(super) fn ratio(v: Option<f64>) -> String {
    v.map_or("n/a".into(), |x| format!("**{x:.3}**"))
}

pub(super) fn mib(kib: Option<f64>) -> String {
    kib.map_or("n/a".into(), |k| format!("{:.0} MiB", k / 1024.0))
}

pub(super) fn size(bytes: Option<f64>) -> String {
    let Some(b) = bytes else {
        return "n/a".into();
    };
    let (gib, mib) = (1024f64.powi(3), 1024f64.powi(2));
    if b >= gib && b % gib == 0.0 {
        format!("{} GiB", b / gib)
    } else if b >= mib && b % mib == 0.0 {
        format!("{} MiB", b / mib)
    } else if b >= 1e6 && b % 1e6 == 0.0 {
        format!("{} MB", b / 1e6)
    } else if b >= 1e3 {
        format!("{:.0} KB", b / 1e3)
    } else {
        format!("{b:.0} B")
    }
}

pub(super) fn text(v: &Value, path: &str) -> String {
    match at(v, path) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    }
}

/// Reads `run.txt` (KEY=VALUE lines written by run.sh) into an object; numbers stay numbers.
pub(super) fn read_run(path: &Path) -> Value {
    let mut m = Map::new();
    for line in std::fs::read_to_string(path).unwrap_or_default().lines() {
        if let Some((k, v)) = line.split_once('=') {
            let value = v
                .parse::<i64>()
                .map(Value::from)
                .or_else(|_| v.parse::<f64>().map(Value::from))
                .unwrap_or_else(|_| Value::from(v));
            m.insert(k.trim().to_string(), value);
        }
    }
    Value::Object(m)
}

pub(super) fn read_json(path: &Path) -> Option<Value> {
    serde_json::from_slice(&std::fs::read(path).ok()?).ok()
}

/// `HTTP 422 https://…/problems/pdf-malformed Le fichier…` → `HTTP 422 pdf-malformed`.
pub(super) fn short_refusal(refusal: &str) -> String {
    let mut words = refusal.split_whitespace();
    let status = [words.next(), words.next()]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    match words.next() {
        Some(t) if t.contains('/') => format!("{status} {}", t.rsplit('/').next().unwrap_or(t)),
        _ => status,
    }
}

pub(super) fn errors_block(s: &mut String, b: &Value, path: &str) {
    let samples: Vec<String> = at(b, path)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(String::from)
        .collect();
    if !samples.is_empty() {
        let _ = writeln!(s, "First errors: {}\n", samples.join("; "));
    }
}
