//! A value fetched from the provider and kept for a while.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// How long the discovery document and the key set are kept. FranceConnect asks services to
/// fetch the JWKS regularly; a key the cached set lacks is fetched at once anyway.
pub(crate) const MAX_AGE: Duration = Duration::from_secs(60 * 60);

/// One cached value, shared by the requests of a client; the lock is never held across a fetch.
#[derive(Debug)]
pub(crate) struct Cached<T>(Mutex<Option<(Instant, Arc<T>)>>);

impl<T> Cached<T> {
    pub(crate) fn empty() -> Self {
        Self(Mutex::new(None))
    }

    /// The value, unless it is missing or older than [`MAX_AGE`].
    pub(crate) fn fresh(&self) -> Option<Arc<T>> {
        let slot = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        slot.as_ref()
            .filter(|(at, _)| at.elapsed() < MAX_AGE)
            .map(|(_, value)| value.clone())
    }

    /// Keeps a newly fetched value and returns it.
    pub(crate) fn set(&self, value: T) -> Arc<T> {
        let value = Arc::new(value);
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) =
            Some((Instant::now(), value.clone()));
        value
    }
}
