//! A provider's configuration, as one tenant registered its service with it.

use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::Acr;

/// Which federation a provider belongs to: it decides the claims asked and read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProviderKind {
    /// FranceConnect v2 (citizens): the pivot identity.
    FranceConnect,
    /// ProConnect (agents): name, e-mail, organisation.
    ProConnect,
}

impl ProviderKind {
    /// The scopes asked by default: the claims this kind's identity is built from.
    pub fn default_scopes(self) -> &'static [&'static str] {
        match self {
            Self::FranceConnect => &[
                "openid",
                "given_name",
                "family_name",
                "birthdate",
                "gender",
                "birthplace",
                "birthcountry",
                "email",
            ],
            Self::ProConnect => &[
                "openid",
                "given_name",
                "usual_name",
                "email",
                "uid",
                "siret",
                "idp_id",
            ],
        }
    }

    /// The name shown on pages and in the journal.
    pub fn label(self) -> &'static str {
        match self {
            Self::FranceConnect => "FranceConnect",
            Self::ProConnect => "ProConnect",
        }
    }
}

/// A client secret. Never printed (`Debug` hides it), wiped from memory when dropped.
#[derive(Clone)]
pub struct ClientSecret(Zeroizing<String>);

impl ClientSecret {
    /// Wraps the secret read from the tenant's (encrypted) settings or a secret file.
    pub fn new(secret: impl Into<String>) -> Self {
        Self(Zeroizing::new(secret.into()))
    }

    /// The secret, for the token request only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for ClientSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ClientSecret(..)")
    }
}

/// One tenant's service at one provider.
#[derive(Debug, Clone)]
pub struct Provider {
    /// FranceConnect or ProConnect.
    pub kind: ProviderKind,
    /// The issuer URL exactly as the provider's discovery states it (no trailing slash added).
    pub issuer: String,
    /// The client id given at registration.
    pub client_id: String,
    /// The client secret given at registration.
    pub client_secret: ClientSecret,
    /// The level of assurance asked (`acr_values`); the returned `acr` must be at least this.
    pub acr: Acr,
    /// Scopes asked; [`ProviderKind::default_scopes`] when built with [`Provider::new`].
    pub scopes: Vec<String>,
    /// Liasse's callback URL registered with the provider.
    pub redirect_uri: String,
    /// Where the provider sends the browser after logout (registered too).
    pub post_logout_redirect_uri: String,
}

impl Provider {
    /// A provider with the kind's default scopes and `eidas1`.
    pub fn new(
        kind: ProviderKind,
        issuer: impl Into<String>,
        client_id: impl Into<String>,
        client_secret: ClientSecret,
        redirect_uri: impl Into<String>,
        post_logout_redirect_uri: impl Into<String>,
    ) -> Self {
        Self {
            kind,
            issuer: issuer.into(),
            client_id: client_id.into(),
            client_secret,
            acr: Acr::Eidas1,
            scopes: kind
                .default_scopes()
                .iter()
                .map(|s| (*s).to_owned())
                .collect(),
            redirect_uri: redirect_uri.into(),
            post_logout_redirect_uri: post_logout_redirect_uri.into(),
        }
    }

    /// The same with another level of assurance asked.
    pub fn with_acr(mut self, acr: Acr) -> Self {
        self.acr = acr;
        self
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    #[test]
    fn the_secret_never_shows_in_debug() {
        let provider = Provider::new(
            ProviderKind::FranceConnect,
            "https://fc.example/api/v2",
            "client",
            ClientSecret::new("hunter2-very-secret"),
            "https://liasse.example/cb",
            "https://liasse.example/",
        );
        let printed = format!("{provider:?}");
        assert!(!printed.contains("hunter2"), "{printed}");
        assert!(printed.contains("ClientSecret(..)"));
        assert_eq!(provider.scopes[0], "openid");
    }
}
