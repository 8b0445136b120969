//! Latency samples and their percentiles.

use serde_json::{Value, json};

/// Latencies in milliseconds.
#[derive(Default, Clone)]
pub struct Samples {
    ms: Vec<f64>,
}

impl Samples {
    pub fn push(&mut self, ms: f64) {
        self.ms.push(ms);
    }

    pub fn extend(&mut self, other: &Samples) {
        self.ms.extend_from_slice(&other.ms);
    }

    pub fn len(&self) -> usize {
        self.ms.len()
    }

    /// Nearest-rank percentile (`p` in 0..=100); `None` without samples.
    pub fn percentile(&self, p: f64) -> Option<f64> {
        if self.ms.is_empty() {
            return None;
        }
        let mut v = self.ms.clone();
        v.sort_by(f64::total_cmp);
        let rank = ((p / 100.0) * v.len() as f64).ceil() as usize;
        v.get(rank.clamp(1, v.len()) - 1).copied()
    }

    pub fn max(&self) -> Option<f64> {
        self.ms.iter().copied().max_by(f64::total_cmp)
    }

    pub fn mean(&self) -> Option<f64> {
        (!self.ms.is_empty()).then(|| self.ms.iter().sum::<f64>() / self.ms.len() as f64)
    }

    /// `{count, p50_ms, p90_ms, p99_ms, max_ms, mean_ms}`.
    pub fn summary(&self) -> Value {
        json!({
            "count": self.len(),
            "p50_ms": round(self.percentile(50.0)),
            "p90_ms": round(self.percentile(90.0)),
            "p99_ms": round(self.percentile(99.0)),
            "max_ms": round(self.max()),
            "mean_ms": round(self.mean()),
        })
    }
}

fn round(v: Option<f64>) -> Value {
    v.map_or(Value::Null, |x| json!((x * 100.0).round() / 100.0))
}

/// Rounds to 3 significant decimals for the report.
pub fn r3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank() {
        let mut s = Samples::default();
        for i in 1..=100 {
            s.push(f64::from(i));
        }
        assert_eq!(s.percentile(50.0), Some(50.0));
        assert_eq!(s.percentile(99.0), Some(99.0));
        assert_eq!(s.percentile(100.0), Some(100.0));
        assert_eq!(Samples::default().percentile(50.0), None);
    }
}
