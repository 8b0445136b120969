//! The provider's discovery document and key set, fetched once and kept.

use serde::Deserialize;

use crate::OidcError;
use crate::jwt::JwkSet;

/// The members of `/.well-known/openid-configuration` that Liasse reads.
#[derive(Debug, Clone, Deserialize)]
pub struct Metadata {
    /// Must equal the configured issuer exactly (OpenID Connect Discovery §4.3).
    pub issuer: String,
    /// Where the browser is sent to log in.
    pub authorization_endpoint: String,
    /// Where the code is exchanged.
    pub token_endpoint: String,
    /// Where the claims are read.
    pub userinfo_endpoint: Option<String>,
    /// The key set.
    pub jwks_uri: String,
    /// Where the browser is sent to log out of the provider.
    pub end_session_endpoint: Option<String>,
    /// `client_secret_post`, `client_secret_basic`, ...; absent means basic (RFC 8414).
    #[serde(default)]
    pub token_endpoint_auth_methods_supported: Vec<String>,
    /// `S256` when the provider does PKCE.
    #[serde(default)]
    pub code_challenge_methods_supported: Vec<String>,
    /// Levels of assurance offered.
    #[serde(default)]
    pub acr_values_supported: Vec<String>,
    /// ID token signing algorithms.
    #[serde(default)]
    pub id_token_signing_alg_values_supported: Vec<String>,
    /// Whether the provider sends `iss` in the callback (RFC 9207).
    #[serde(default)]
    pub authorization_response_iss_parameter_supported: bool,
}

impl Metadata {
    /// The client authentication to use: `client_secret_post` when advertised (FranceConnect
    /// offers it and `private_key_jwt` only), else `client_secret_basic`, the default of
    /// RFC 8414. The client must be registered with the same method.
    pub fn uses_post_auth(&self) -> bool {
        self.token_endpoint_auth_methods_supported
            .iter()
            .any(|m| m == "client_secret_post")
    }

    /// Whether PKCE S256 is advertised.
    pub fn supports_pkce(&self) -> bool {
        self.code_challenge_methods_supported
            .iter()
            .any(|m| m == "S256")
    }
}

/// The discovery URL of an issuer.
pub fn discovery_url(issuer: &str) -> String {
    format!(
        "{}/.well-known/openid-configuration",
        issuer.trim_end_matches('/')
    )
}

/// Fetches and checks the discovery document.
pub async fn fetch_metadata(http: &reqwest::Client, issuer: &str) -> Result<Metadata, OidcError> {
    let metadata: Metadata = get_json(http, &discovery_url(issuer)).await?;
    if metadata.issuer != issuer {
        return Err(OidcError::DiscoveryFailed(format!(
            "the document names issuer {:?}, configured {issuer:?}",
            metadata.issuer
        )));
    }
    Ok(metadata)
}

/// Fetches the key set.
pub async fn fetch_jwks(http: &reqwest::Client, jwks_uri: &str) -> Result<JwkSet, OidcError> {
    get_json(http, jwks_uri).await
}

async fn get_json<T: serde::de::DeserializeOwned>(
    http: &reqwest::Client,
    url: &str,
) -> Result<T, OidcError> {
    let failed = |e: reqwest::Error| OidcError::DiscoveryFailed(format!("{url}: {e}"));
    http.get(url)
        .header(reqwest::header::ACCEPT, "application/json")
        .send()
        .await
        .and_then(reqwest::Response::error_for_status)
        .map_err(failed)?
        .json()
        .await
        .map_err(failed)
}
