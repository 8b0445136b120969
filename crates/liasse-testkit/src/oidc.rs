//! The OpenID Connect providers started by `scripts/test.sh` (tools/oidc-provider): one like
//! FranceConnect v2, one like ProConnect, with one client registered on both.
//!
//! Their users (password [`TestOidc::password`]): citizens `angela`, `pierre`, `lucie` (born
//! abroad) on FranceConnect; agents `agent@blois.fr`, `admin@blois.fr`, `inconnu@ailleurs.fr`
//! on ProConnect. Logging in as `USER+MODE` makes the provider alter that login's ID token
//! ([`MISBEHAVIOURS`]). The client's redirect URIs are loopback ones that match on any port
//! (RFC 8252): `http://127.0.0.1/oidc/callback`, `/auth/franceconnect/callback`,
//! `/auth/proconnect/callback`; after logout `http://127.0.0.1/`, `/oidc/logged-out`,
//! `/auth/logged-out`.

use super::{env, require_servers};

/// The misbehaviours the provider plays on demand (log in as `USER+MODE`).
pub const MISBEHAVIOURS: &[&str] = &[
    "wrong_iss",
    "wrong_aud",
    "expired",
    "iat_future",
    "bad_signature",
    "unknown_kid",
    "low_acr",
    "wrong_nonce",
    "alg_none",
    "alg_hs256",
];

/// Where the test providers are, and the client registered on them.
#[derive(Debug, Clone)]
pub struct TestOidc {
    /// `LIASSE_TEST_FC_ISSUER`: the FranceConnect-like issuer (ES256, pairwise, eidas1-3).
    pub fc_issuer: String,
    /// `LIASSE_TEST_PC_ISSUER`: the ProConnect-like issuer (RS256, client_secret_basic).
    pub pc_issuer: String,
    /// `LIASSE_TEST_OIDC_CLIENT_ID`.
    pub client_id: String,
    /// `LIASSE_TEST_OIDC_CLIENT_SECRET` (random per run).
    pub client_secret: String,
    /// `LIASSE_TEST_OIDC_PASSWORD`: every test user's password.
    pub password: String,
}

/// The test providers, or `None`, loudly, outside the test script (a failure inside it).
pub fn test_oidc() -> Option<TestOidc> {
    match (
        env("LIASSE_TEST_FC_ISSUER"),
        env("LIASSE_TEST_PC_ISSUER"),
        env("LIASSE_TEST_OIDC_CLIENT_ID"),
        env("LIASSE_TEST_OIDC_CLIENT_SECRET"),
    ) {
        (Some(fc_issuer), Some(pc_issuer), Some(client_id), Some(client_secret)) => {
            Some(TestOidc {
                fc_issuer,
                pc_issuer,
                client_id,
                client_secret,
                password: env("LIASSE_TEST_OIDC_PASSWORD").unwrap_or_else(|| "liasse-test".into()),
            })
        }
        _ => {
            assert!(
                !require_servers(),
                "LIASSE_TEST_REQUIRE_SERVERS=1 but LIASSE_TEST_FC_ISSUER / LIASSE_TEST_PC_ISSUER / LIASSE_TEST_OIDC_* are not set"
            );
            eprintln!(
                "\n*** SKIPPED: federated login against a real OpenID Connect provider (run scripts/test.sh to start one) ***\n"
            );
            None
        }
    }
}
