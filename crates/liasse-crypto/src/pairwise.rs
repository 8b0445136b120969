//! Pairwise identifiers: what a service client knows a citizen by.
//!
//! A service client never sees Liasse's internal citizen id. It sees
//! HMAC-SHA256(tenant secret, client id ‖ citizen id), url-safe base64: stable for one client,
//! different for two, and two clients cannot link theirs without the tenant secret. The client
//! id is length-prefixed so that no pair of (client, citizen) strings collides with another.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::hmac;

/// The tenant's secret for pairwise identifiers (kept with the tenant's other secrets, outside
/// the database). Never printed.
pub struct PairwiseKey(hmac::Key);

impl std::fmt::Debug for PairwiseKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PairwiseKey(..)")
    }
}

impl PairwiseKey {
    /// The key from the tenant's secret bytes (at least 32 recommended).
    pub fn new(secret: &[u8]) -> Self {
        Self(hmac::Key::new(hmac::HMAC_SHA256, secret))
    }

    /// The identifier `client_id` knows `citizen_id` by: 43 url-safe characters.
    pub fn id_for(&self, client_id: &str, citizen_id: &str) -> String {
        let mut context = hmac::Context::with_key(&self.0);
        context.update(&(client_id.len() as u64).to_be_bytes());
        context.update(client_id.as_bytes());
        context.update(citizen_id.as_bytes());
        URL_SAFE_NO_PAD.encode(context.sign().as_ref())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    #[test]
    fn stable_per_client_distinct_across_clients_and_tenants() {
        let key = PairwiseKey::new(b"tenant secret of thirty-two bytes!");
        let a = key.id_for("forms", "citizen-1");
        assert_eq!(a, key.id_for("forms", "citizen-1"));
        assert_eq!(a.len(), 43);
        assert!(
            a.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        );
        assert_ne!(a, key.id_for("billing", "citizen-1"));
        assert_ne!(a, key.id_for("forms", "citizen-2"));
        assert!(!a.contains("citizen"));
        // The length prefix keeps ("ab", "c") and ("a", "bc") apart.
        assert_ne!(key.id_for("ab", "c"), key.id_for("a", "bc"));
        let other_tenant = PairwiseKey::new(b"another tenant's secret, 32 bytes");
        assert_ne!(a, other_tenant.id_for("forms", "citizen-1"));
        assert_eq!(format!("{key:?}"), "PairwiseKey(..)");
    }
}
