//! Time as integer milliseconds since the Unix epoch (the storage format on both databases),
//! behind a clock that tests can move.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

/// Milliseconds since the Unix epoch, UTC.
pub type Millis = i64;

/// The source of "now". Production uses the system clock; tests use a simulated one so that
/// months can pass in a millisecond.
#[derive(Clone, Debug)]
pub enum Clock {
    System,
    Simulated(Arc<AtomicI64>),
}

impl Clock {
    pub fn simulated(start: Millis) -> Self {
        Clock::Simulated(Arc::new(AtomicI64::new(start)))
    }

    pub fn now(&self) -> Millis {
        match self {
            Clock::System => system_now(),
            Clock::Simulated(t) => t.load(Ordering::SeqCst),
        }
    }

    /// Moves a simulated clock forward; a no-op on the system clock.
    pub fn advance(&self, ms: Millis) {
        if let Clock::Simulated(t) = self {
            t.fetch_add(ms, Ordering::SeqCst);
        }
    }

    pub fn today(&self) -> time::Date {
        date_of(self.now())
    }
}

fn system_now() -> Millis {
    let now = time::OffsetDateTime::now_utc();
    (now.unix_timestamp_nanos() / 1_000_000) as Millis
}

/// The UTC calendar date of an instant.
pub fn date_of(ms: Millis) -> time::Date {
    let nanos = i128::from(ms) * 1_000_000;
    time::OffsetDateTime::from_unix_timestamp_nanos(nanos)
        .map(|t| t.date())
        .unwrap_or(time::Date::MIN)
}

/// RFC 3339 text of an instant, for APIs and exports.
pub fn rfc3339(ms: Millis) -> String {
    let nanos = i128::from(ms) * 1_000_000;
    time::OffsetDateTime::from_unix_timestamp_nanos(nanos)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}

pub const DAY_MS: Millis = 86_400_000;
