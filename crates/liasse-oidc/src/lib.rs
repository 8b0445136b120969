//! Federated login for Liasse: FranceConnect v2 for citizens, ProConnect for agents.
//!
//! The authorization code flow of OpenID Connect, to these providers' rules: discovery from the
//! issuer, `state` and `nonce` of 43 random characters, PKCE S256 when advertised, the ID token
//! and the userinfo JWT verified against the provider's JWKS (ES256 and RS256 only, the algorithm
//! taken from the key, never from the token alone), `acr` at least the level asked.
//!
//! No HTTP server here: the application calls [`Client::begin`] when the user clicks the
//! button, keeps the returned [`Pending`] server-side bound to the browser (single use), and
//! calls [`Client::finish`] with it and the callback's query. Every refusal is an
//! [`OidcError`] carrying the French sentence of its page.

pub mod acr;
mod cache;
pub mod client;
pub mod discovery;
pub mod error;
pub mod identity;
pub mod jwt;
pub mod provider;
mod random;

pub use acr::Acr;
pub use client::{CallbackQuery, Client, Pending, Started};
pub use error::OidcError;
pub use identity::{Claims, Identity, PivotIdentity, ProConnectClaims};
pub use provider::{ClientSecret, Provider, ProviderKind};
