//! Federated login for a tenant: FranceConnect for citizens, ProConnect for agents.
//!
//! `liasse-oidc` speaks the protocol; this crate is what Liasse does with it. A tenant
//! registers its own service at each provider ([`providers`]: the client secret sealed under
//! the key ring). A login is begun ([`login::begin`]) and kept server-side, bound to the
//! browser and single use ([`pending`]); its callback ([`login::callback`]) finds the account
//! linked to the provider's subject — never by e-mail for citizens — or, at a citizen's first
//! login, waits for their choice ([`first_login`]: create the account from the pivot identity,
//! or link an existing one by its password). Agents come in through ProConnect only when an
//! admin created their account ([`login`]). Logging out ends the provider's session too
//! ([`logout`]); an admin re-links an account whose subject changed ([`relink`]).

pub mod error;
pub mod first_login;
pub mod login;
pub mod logout;
pub mod pending;
pub mod providers;
pub mod relink;

pub use error::FedError;
pub use liasse_oidc::ProviderKind;

/// The path of a provider's pages under Liasse (`/auth/franceconnect`, `/auth/proconnect`).
pub fn path_of(kind: ProviderKind) -> &'static str {
    match kind {
        ProviderKind::FranceConnect => "franceconnect",
        ProviderKind::ProConnect => "proconnect",
    }
}

/// The kind named in a command or a path (`franceconnect`, `proconnect`).
pub fn parse_kind(s: &str) -> Option<ProviderKind> {
    match s {
        "franceconnect" => Some(ProviderKind::FranceConnect),
        "proconnect" => Some(ProviderKind::ProConnect),
        _ => None,
    }
}
