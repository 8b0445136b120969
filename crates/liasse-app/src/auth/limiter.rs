//! The login limiter: slows password guessing down without locking anyone out.

use super::*;

/// Slows password guessing down without handing anyone a way to lock a real user out.
///
/// Only failed password checks are counted: an attempt the limiter refuses is not a failure,
/// so knocking on a closed door does not keep it closed longer. They are counted under three
/// keys, kept as SHA-256 digests (no login is kept in memory, and every entry has the same
/// small size):
///
/// - **the account from one client** (tenant and login, client address): from the 5th failure
///   on, the next attempt of that pair is accepted only 1 s after the last failure, then 2 s,
///   4 s … up to 5 minutes. A success clears the pair's count and marks the pair as known for
///   30 days.
/// - **the account from every client** (distributed guessing): the same growing delay from the
///   50th failure on, up to 15 minutes. A known pair is not held by it, so guesses from
///   elsewhere do not keep the account's usual user out.
/// - **the client for every account** (one password sprayed over many logins): it refuses
///   nothing by itself, since many real users may share one address (a town hall's network, a
///   mobile operator's NAT, a proxy that is not trusted). Past 100 failures the client is
///   noisy, and each of its pairs is slowed from its first failure instead of its fifth. So a
///   correct password goes through whatever the same address did with other logins.
///
/// Unknown tenants and logins are counted exactly like real accounts, before the database is
/// asked, so a 429 says nothing about whether an account exists (and the dummy hash keeps the
/// 401s alike in time). An entry is forgotten an hour after its last failure (a known mark
/// after 30 days). The map holds at most `capacity` entries: when it is full, the expired ones
/// go first, then the tenth that would expire soonest. Eviction may forget a count: flooding
/// the map to erase one costs an Argon2 hash per entry and makes the flooder's address noisy;
/// it never refuses anyone.
///
/// The counts live in one process: behind a load balancer each node counts alone.
pub struct LoginLimiter {
    entries: Mutex<HashMap<[u8; 32], Entry>>,
    capacity: usize,
}

/// About 4 MB at most.
pub(super) const LIMITER_CAPACITY: usize = 50_000;

pub(super) const FIRST_DELAY_MS: i64 = 1000;

pub(super) const PAIR_THRESHOLD: u32 = 5;

pub(super) const PAIR_CAP_MS: i64 = 5 * 60 * 1000;

pub(super) const ACCOUNT_THRESHOLD: u32 = 50;

pub(super) const ACCOUNT_CAP_MS: i64 = 15 * 60 * 1000;

pub(super) const NOISY_CLIENT: u32 = 100;

pub(super) const FORGET_MS: i64 = 60 * 60 * 1000;

pub(super) const KNOWN_MS: i64 = 30 * 24 * 60 * 60 * 1000;

#[derive(Clone, Copy, Default)]
pub(super) struct Entry {
    failures: u32,
    last_failure: i64,
    /// Until when this pair counts as known (it logged in with the right password).
    known_until: i64,
}

impl Entry {
    fn expires_at(&self) -> i64 {
        (self.last_failure + FORGET_MS).max(self.known_until)
    }

    fn failures(&self, now: i64) -> u32 {
        if now - self.last_failure < FORGET_MS {
            self.failures
        } else {
            0
        }
    }

    /// When the next attempt is accepted (in the past when it is now).
    fn open_at(&self, now: i64, threshold: u32, cap_ms: i64) -> i64 {
        let n = self.failures(now);
        if n < threshold {
            return 0;
        }
        let wait = (FIRST_DELAY_MS << (n - threshold).min(30)).min(cap_ms);
        self.last_failure + wait
    }
}

#[derive(Clone, Copy)]
pub(super) enum LimitKey {
    Pair,
    Account,
    Client,
}

pub(super) fn limit_key(kind: LimitKey, account: &str, client: &str) -> [u8; 32] {
    let parts: &[&str] = match kind {
        LimitKey::Pair => &["pair", account, client],
        LimitKey::Account => &["account", account],
        LimitKey::Client => &["client", client],
    };
    let mut h = Sha256::new();
    for p in parts {
        // Length-prefixed, so that no login can be made to read as another key.
        h.update((p.len() as u64).to_be_bytes());
        h.update(p.as_bytes());
    }
    h.finalize().into()
}

impl Default for LoginLimiter {
    fn default() -> Self {
        LoginLimiter::with_capacity(LIMITER_CAPACITY)
    }
}

impl LoginLimiter {
    pub fn with_capacity(capacity: usize) -> Self {
        LoginLimiter {
            entries: Mutex::new(HashMap::new()),
            capacity: capacity.max(10),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<[u8; 32], Entry>> {
        // Counters stay meaningful after a panic elsewhere: keep using them.
        self.entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Entries held now (expired ones included until they are swept).
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Before the password is checked: `Err(RateLimited)` when this account may not be tried
    /// from this client yet. `account` names the tenant and login as typed.
    pub fn check(&self, account: &str, client: &str, now: i64) -> Result<()> {
        let map = self.lock();
        let get = |kind| {
            map.get(&limit_key(kind, account, client))
                .copied()
                .unwrap_or_default()
        };
        let (pair, whole, from) = (
            get(LimitKey::Pair),
            get(LimitKey::Account),
            get(LimitKey::Client),
        );
        let threshold = if from.failures(now) >= NOISY_CLIENT {
            1
        } else {
            PAIR_THRESHOLD
        };
        let mut open_at = pair.open_at(now, threshold, PAIR_CAP_MS);
        if pair.known_until <= now {
            open_at = open_at.max(whole.open_at(now, ACCOUNT_THRESHOLD, ACCOUNT_CAP_MS));
        }
        if open_at > now {
            let secs = (open_at - now + 999) / 1000;
            return Err(AppError::RateLimited {
                retry_after_secs: secs.max(1) as u64,
            });
        }
        Ok(())
    }

    /// After a wrong password (or an unknown or disabled account).
    pub fn failed(&self, account: &str, client: &str, now: i64) {
        let mut map = self.lock();
        for kind in [LimitKey::Pair, LimitKey::Account, LimitKey::Client] {
            let key = limit_key(kind, account, client);
            if !map.contains_key(&key) {
                self.make_room(&mut map, now);
            }
            let e = map.entry(key).or_default();
            e.failures = e.failures(now).saturating_add(1);
            e.last_failure = now;
        }
    }

    /// After the right password: the pair starts afresh and is known. The account's and the
    /// client's counts stay: a success of the attacker's own account must not reset them.
    pub fn succeeded(&self, account: &str, client: &str, now: i64) {
        let mut map = self.lock();
        let key = limit_key(LimitKey::Pair, account, client);
        if !map.contains_key(&key) {
            self.make_room(&mut map, now);
        }
        let e = map.entry(key).or_default();
        e.failures = 0;
        e.known_until = now + KNOWN_MS;
    }

    fn make_room(&self, map: &mut HashMap<[u8; 32], Entry>, now: i64) {
        if map.len() < self.capacity {
            return;
        }
        map.retain(|_, e| e.expires_at() > now);
        if map.len() < self.capacity {
            return;
        }
        // Drop a tenth at once, so that a full map costs one sort per many insertions.
        let mut by_age: Vec<(i64, [u8; 32])> =
            map.iter().map(|(k, e)| (e.expires_at(), *k)).collect();
        let cut = (self.capacity / 10).clamp(1, by_age.len());
        by_age.select_nth_unstable_by_key(cut - 1, |(at, _)| *at);
        for (_, k) in &by_age[..cut] {
            map.remove(k);
        }
    }
}
