//! The authorization code flow against one provider: [`Client::begin`], [`Client::finish`],
//! [`Client::logout_url`].

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use url::Url;

use crate::cache::Cached;
use crate::discovery::{self, Metadata};
use crate::jwt::{self, Expected, JwkSet};
use crate::{Acr, Claims, Identity, OidcError, Provider, random};

/// How long a begun login may wait for its callback. FranceConnect's own session lasts 30
/// minutes; a login takes a few.
pub const PENDING_MAX_AGE: Duration = Duration::from_secs(15 * 60);
/// Time limit of each request to the provider.
const HTTP_TIMEOUT: Duration = Duration::from_secs(10);

/// A begun login, for the caller to keep server-side, bound to the browser that began it (for
/// example in its pre-login session), and to hand to [`Client::finish`] once: delete it before
/// calling, so that a replayed callback finds nothing ([`OidcError::StateReplayed`] or
/// [`OidcError::StateUnknown`]). It holds the PKCE verifier: never send it to the browser.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pending {
    /// The issuer the login was begun with.
    pub issuer: String,
    /// The `state` sent, 43 random characters.
    pub state: String,
    /// The `nonce` sent, 43 random characters.
    pub nonce: String,
    /// The PKCE verifier, when the provider advertises S256.
    pub pkce_verifier: Option<String>,
    /// The level of assurance asked.
    pub acr: Acr,
    /// When the login began, Unix seconds.
    pub created_at: i64,
}

/// What [`Client::begin`] returns.
#[derive(Debug, Clone)]
pub struct Started {
    /// Where to redirect the browser.
    pub authorize_url: String,
    /// What to keep server-side until the callback.
    pub pending: Pending,
}

/// The query of the callback the provider sends the browser to.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct CallbackQuery {
    /// The authorization code.
    pub code: Option<String>,
    /// The state sent at [`Client::begin`].
    pub state: Option<String>,
    /// An OAuth 2.0 error code instead of a code.
    pub error: Option<String>,
    /// The error's description.
    pub error_description: Option<String>,
    /// The issuer (RFC 9207), when the provider sends it.
    pub iss: Option<String>,
}

impl CallbackQuery {
    /// Parses a raw query string (without the `?`).
    pub fn parse(query: &str) -> Self {
        let mut callback = Self::default();
        for (name, value) in url::form_urlencoded::parse(query.as_bytes()) {
            let slot = match name.as_ref() {
                "code" => &mut callback.code,
                "state" => &mut callback.state,
                "error" => &mut callback.error,
                "error_description" => &mut callback.error_description,
                "iss" => &mut callback.iss,
                _ => continue,
            };
            slot.get_or_insert_with(|| value.into_owned());
        }
        callback
    }
}

/// One tenant's service at one provider, with the provider's discovery document and key set
/// cached. Cheap to share (`Arc` it); the caches are per client.
#[derive(Debug)]
pub struct Client {
    provider: Provider,
    http: reqwest::Client,
    metadata: Cached<Metadata>,
    jwks: Cached<JwkSet>,
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    id_token: Option<String>,
}

#[derive(Deserialize)]
struct TokenError {
    error: String,
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

fn unreachable(e: reqwest::Error) -> OidcError {
    OidcError::Unreachable(e.without_url().to_string())
}

impl Client {
    /// A client with its own HTTP client (rustls, 10 s timeouts, no redirects followed).
    pub fn new(provider: Provider) -> Result<Self, OidcError> {
        let http = reqwest::Client::builder()
            .timeout(HTTP_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(unreachable)?;
        Ok(Self::with_http(provider, http))
    }

    /// A client over the caller's HTTP client.
    pub fn with_http(provider: Provider, http: reqwest::Client) -> Self {
        Self {
            provider,
            http,
            metadata: Cached::empty(),
            jwks: Cached::empty(),
        }
    }

    /// The provider's configuration.
    pub fn provider(&self) -> &Provider {
        &self.provider
    }

    /// The discovery document, fetched at the first call and kept an hour.
    pub async fn metadata(&self) -> Result<Arc<Metadata>, OidcError> {
        if let Some(metadata) = self.metadata.fresh() {
            return Ok(metadata);
        }
        let fetched = discovery::fetch_metadata(&self.http, &self.provider.issuer).await?;
        Ok(self.metadata.set(fetched))
    }

    /// Sets the discovery document without fetching it (tests); kept like a fetched one.
    pub fn set_metadata(&self, metadata: Metadata) {
        self.metadata.set(metadata);
    }

    async fn jwks(&self, refetch: bool) -> Result<Arc<JwkSet>, OidcError> {
        if !refetch && let Some(jwks) = self.jwks.fresh() {
            return Ok(jwks);
        }
        let metadata = self.metadata().await?;
        let fetched = discovery::fetch_jwks(&self.http, &metadata.jwks_uri).await?;
        Ok(self.jwks.set(fetched))
    }

    /// Verifies a JWT's signature with the cached key set, fetching it again once when the
    /// token names a key it does not hold (the provider rotated its keys).
    async fn verify_signature(&self, token: &str) -> Result<Map<String, Value>, OidcError> {
        match jwt::verify_signature(token, &*self.jwks(false).await?) {
            Err(OidcError::UnknownKid(_)) => jwt::verify_signature(token, &*self.jwks(true).await?),
            verified => verified,
        }
    }

    /// Begins a login: the URL to send the browser to, and the [`Pending`] record to keep.
    pub async fn begin(&self) -> Result<Started, OidcError> {
        let metadata = self.metadata().await?;
        let pending = Pending {
            issuer: self.provider.issuer.clone(),
            state: random::token(),
            nonce: random::token(),
            pkce_verifier: metadata.supports_pkce().then(random::token),
            acr: self.provider.acr,
            created_at: now(),
        };
        let mut url = Url::parse(&metadata.authorization_endpoint)
            .map_err(|e| OidcError::DiscoveryFailed(format!("authorization_endpoint: {e}")))?;
        {
            let mut query = url.query_pairs_mut();
            query
                .append_pair("response_type", "code")
                .append_pair("client_id", &self.provider.client_id)
                .append_pair("redirect_uri", &self.provider.redirect_uri)
                .append_pair("scope", &self.provider.scopes.join(" "))
                .append_pair("state", &pending.state)
                .append_pair("nonce", &pending.nonce)
                .append_pair("acr_values", pending.acr.as_str());
            if let Some(verifier) = &pending.pkce_verifier {
                let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
                query
                    .append_pair("code_challenge", &challenge)
                    .append_pair("code_challenge_method", "S256");
            }
        }
        Ok(Started {
            authorize_url: url.into(),
            pending,
        })
    }

    /// Finishes a login from the callback: checks it belongs to `pending`, exchanges the code,
    /// verifies the ID token and the userinfo answer, and returns who logged in.
    pub async fn finish(
        &self,
        pending: &Pending,
        callback: &CallbackQuery,
    ) -> Result<Identity, OidcError> {
        self.check_callback(pending, callback, now())?;
        let code = callback.code.as_deref().ok_or(OidcError::CodeMissing)?;
        let metadata = self.metadata().await?;
        let tokens = self.exchange(&metadata, pending, code).await?;
        let id_token = tokens
            .id_token
            .ok_or_else(|| OidcError::Malformed("no id_token in the token response".into()))?;

        let id_claims = self.verify_signature(&id_token).await?;
        let expected = Expected {
            issuer: &self.provider.issuer,
            audience: &self.provider.client_id,
            nonce: Some(&pending.nonce),
            now: now(),
        };
        expected.check(&id_claims)?;
        let acr = check_acr(&id_claims, pending.acr)?;
        let sub = id_claims
            .get("sub")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .ok_or_else(|| OidcError::Malformed("no sub in the ID token".into()))?
            .to_owned();

        let mut claims = id_claims;
        if let Some(endpoint) = &metadata.userinfo_endpoint {
            let userinfo = self.userinfo(endpoint, &tokens.access_token).await?;
            if userinfo.get("sub").and_then(Value::as_str) != Some(sub.as_str()) {
                return Err(OidcError::SubjectMismatch);
            }
            claims.extend(userinfo);
        }
        Ok(Identity {
            issuer: self.provider.issuer.clone(),
            sub,
            acr,
            claims: Claims::read(self.provider.kind, &claims)?,
            id_token,
        })
    }

    /// The checks of the callback that need no provider: its error, its state, its age, its iss.
    fn check_callback(
        &self,
        pending: &Pending,
        callback: &CallbackQuery,
        now: i64,
    ) -> Result<(), OidcError> {
        if let Some(code) = &callback.error {
            return Err(OidcError::ProviderError {
                code: code.clone(),
                description: callback.error_description.clone(),
            });
        }
        let state = callback.state.as_deref().ok_or(OidcError::StateMissing)?;
        if !bool::from(subtle::ConstantTimeEq::ct_eq(
            state.as_bytes(),
            pending.state.as_bytes(),
        )) || pending.issuer != self.provider.issuer
        {
            return Err(OidcError::StateUnknown);
        }
        let max_age = i64::try_from(PENDING_MAX_AGE.as_secs()).unwrap_or(i64::MAX);
        if now.saturating_sub(pending.created_at) > max_age {
            return Err(OidcError::PendingExpired);
        }
        if let Some(iss) = &callback.iss
            && iss != &self.provider.issuer
        {
            return Err(OidcError::WrongIssuer(iss.clone()));
        }
        Ok(())
    }

    async fn exchange(
        &self,
        metadata: &Metadata,
        pending: &Pending,
        code: &str,
    ) -> Result<TokenResponse, OidcError> {
        let mut form = vec![
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", self.provider.redirect_uri.as_str()),
        ];
        if let Some(verifier) = &pending.pkce_verifier {
            form.push(("code_verifier", verifier));
        }
        let secret = self.provider.client_secret.expose();
        let mut request = self.http.post(&metadata.token_endpoint);
        if metadata.uses_post_auth() {
            form.push(("client_id", &self.provider.client_id));
            form.push(("client_secret", secret));
        } else {
            // RFC 6749 §2.3.1: both parts form-encoded before Basic.
            let encode =
                |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
            request = request.basic_auth(encode(&self.provider.client_id), Some(encode(secret)));
        }
        let response = request
            .header(reqwest::header::ACCEPT, "application/json")
            .form(&form)
            .send()
            .await
            .map_err(unreachable)?;
        let status = response.status();
        let body = response.bytes().await.map_err(unreachable)?;
        if status.is_client_error() {
            let error = serde_json::from_slice::<TokenError>(&body)
                .map_or_else(|_| status.to_string(), |e| e.error);
            return Err(OidcError::CodeRejected(error));
        }
        if !status.is_success() {
            return Err(OidcError::Unreachable(format!(
                "token endpoint answered {status}"
            )));
        }
        serde_json::from_slice(&body)
            .map_err(|e| OidcError::Malformed(format!("token response: {e}")))
    }

    /// Reads userinfo: a signed JWT (`application/jwt`, FranceConnect v2 and ProConnect),
    /// verified like the ID token, or plain JSON.
    async fn userinfo(
        &self,
        endpoint: &str,
        access_token: &str,
    ) -> Result<Map<String, Value>, OidcError> {
        let response = self
            .http
            .get(endpoint)
            .bearer_auth(access_token)
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .map_err(unreachable)?;
        let is_jwt = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim_start().starts_with("application/jwt"));
        let body = response.text().await.map_err(unreachable)?;
        if !is_jwt {
            return serde_json::from_str(&body)
                .map_err(|e| OidcError::Malformed(format!("userinfo: {e}")));
        }
        let claims = self.verify_signature(&body).await?;
        let expected = Expected {
            issuer: &self.provider.issuer,
            audience: &self.provider.client_id,
            nonce: None,
            now: now(),
        };
        expected.check(&claims)?;
        Ok(claims)
    }

    /// Where to send the browser to end the provider's session, after ending Liasse's:
    /// `end_session_endpoint` with `id_token_hint`, `state` and the registered
    /// `post_logout_redirect_uri`. `None` when the provider has no end-session endpoint.
    pub async fn logout_url(
        &self,
        id_token_hint: &str,
        state: &str,
    ) -> Result<Option<String>, OidcError> {
        let metadata = self.metadata().await?;
        let Some(endpoint) = &metadata.end_session_endpoint else {
            return Ok(None);
        };
        let mut url = Url::parse(endpoint)
            .map_err(|e| OidcError::DiscoveryFailed(format!("end_session_endpoint: {e}")))?;
        url.query_pairs_mut()
            .append_pair("id_token_hint", id_token_hint)
            .append_pair("state", state)
            .append_pair(
                "post_logout_redirect_uri",
                &self.provider.post_logout_redirect_uri,
            );
        Ok(Some(url.into()))
    }

    /// A new random `state` for [`Client::logout_url`].
    pub fn logout_state() -> String {
        random::token()
    }
}

/// The returned `acr` must be one of ours and at least the one asked.
fn check_acr(claims: &Map<String, Value>, asked: Acr) -> Result<Acr, OidcError> {
    let got = claims.get("acr").and_then(Value::as_str);
    match got.map(str::parse::<Acr>) {
        Some(Ok(acr)) if acr >= asked => Ok(acr),
        _ => Err(OidcError::AcrTooLow {
            got: got.map(str::to_owned),
            asked,
        }),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use crate::{ClientSecret, ProviderKind};
    use serde_json::json;

    fn client() -> Client {
        let provider = Provider::new(
            ProviderKind::FranceConnect,
            "https://fc.test/api/v2",
            "client-1",
            ClientSecret::new("secret"),
            "https://liasse.test/cb",
            "https://liasse.test/",
        );
        let client = Client::with_http(provider, reqwest::Client::new());
        client.set_metadata(
            serde_json::from_value(json!({
                "issuer": "https://fc.test/api/v2",
                "authorization_endpoint": "https://fc.test/api/v2/authorize",
                "token_endpoint": "https://fc.test/api/v2/token",
                "userinfo_endpoint": "https://fc.test/api/v2/userinfo",
                "jwks_uri": "https://fc.test/api/v2/jwks",
                "end_session_endpoint": "https://fc.test/api/v2/session/end",
                "code_challenge_methods_supported": ["S256"],
                "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt"],
            }))
            .unwrap(),
        );
        client
    }

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
    }

    #[test]
    fn begin_sends_state_nonce_acr_and_pkce() {
        let client = client();
        let started = runtime().block_on(client.begin()).unwrap();
        let pending = &started.pending;
        assert!(pending.state.len() >= 32 && pending.nonce.len() >= 32);
        assert_ne!(pending.state, pending.nonce);
        let url = Url::parse(&started.authorize_url).unwrap();
        let query: std::collections::HashMap<_, _> = url.query_pairs().into_owned().collect();
        assert_eq!(query["state"], pending.state);
        assert_eq!(query["nonce"], pending.nonce);
        assert_eq!(query["acr_values"], "eidas1");
        assert_eq!(query["response_type"], "code");
        assert!(query["scope"].starts_with("openid "));
        let verifier = pending.pkce_verifier.as_deref().unwrap();
        assert_eq!(
            query["code_challenge"],
            URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
        );
        assert_eq!(query["code_challenge_method"], "S256");
        assert!(!started.authorize_url.contains(verifier));
        let again = runtime().block_on(client.begin()).unwrap();
        assert_ne!(again.pending.state, pending.state);
    }

    #[test]
    fn callbacks_that_do_not_belong_are_refused_before_any_request() {
        let client = client();
        let pending = runtime().block_on(client.begin()).unwrap().pending;
        let at = pending.created_at;
        let check = |query: &str, now: i64| {
            client.check_callback(&pending, &CallbackQuery::parse(query), now)
        };
        let state = format!("state={}", pending.state);
        assert!(check(&format!("{state}&code=abc"), at).is_ok());
        assert!(matches!(
            check(&format!("{state}&error=access_denied&error_description=cancelled"), at),
            Err(OidcError::ProviderError { code, .. }) if code == "access_denied"
        ));
        assert!(matches!(
            check("code=abc", at),
            Err(OidcError::StateMissing)
        ));
        assert!(matches!(
            check("code=abc&state=forged", at),
            Err(OidcError::StateUnknown)
        ));
        assert!(matches!(
            check(&format!("{state}&code=abc"), at + 16 * 60),
            Err(OidcError::PendingExpired)
        ));
        assert!(matches!(
            check(&format!("{state}&code=abc&iss=https%3A%2F%2Fevil.test"), at),
            Err(OidcError::WrongIssuer(_))
        ));
        assert!(
            check(
                &format!("{state}&code=abc&iss=https%3A%2F%2Ffc.test%2Fapi%2Fv2"),
                at
            )
            .is_ok()
        );
    }

    #[test]
    fn acr_must_reach_the_level_asked() {
        let with = |acr: Value| json!({ "acr": acr }).as_object().unwrap().clone();
        assert_eq!(
            check_acr(&with(json!("eidas2")), Acr::Eidas1).unwrap(),
            Acr::Eidas2
        );
        assert_eq!(
            check_acr(&with(json!("eidas2")), Acr::Eidas2).unwrap(),
            Acr::Eidas2
        );
        assert!(matches!(
            check_acr(&with(json!("eidas1")), Acr::Eidas2),
            Err(OidcError::AcrTooLow { .. })
        ));
        assert!(matches!(
            check_acr(&with(json!("eidas9")), Acr::Eidas1),
            Err(OidcError::AcrTooLow { .. })
        ));
        assert!(matches!(
            check_acr(&Map::new(), Acr::Eidas1),
            Err(OidcError::AcrTooLow { got: None, .. })
        ));
    }

    #[test]
    fn logout_url_carries_hint_state_and_redirect() {
        let url = runtime()
            .block_on(client().logout_url("the.id.token", "st"))
            .unwrap()
            .unwrap();
        let url = Url::parse(&url).unwrap();
        assert_eq!(url.path(), "/api/v2/session/end");
        let query: std::collections::HashMap<_, _> = url.query_pairs().into_owned().collect();
        assert_eq!(query["id_token_hint"], "the.id.token");
        assert_eq!(query["state"], "st");
        assert_eq!(query["post_logout_redirect_uri"], "https://liasse.test/");
    }
}
