//! Signed JWTs (compact JWS) as the providers send them: the ID token and the userinfo answer.
//!
//! Only ES256 and RS256 are accepted, and the key decides: a token's `alg` must be one the key
//! itself is for (an EC P-256 key for ES256, an RSA key for RS256, and the JWK's own `alg` when
//! it states one). So `none` and HS256-signed-with-the-public-key are refused before any
//! verification, whatever the header says.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::signature::{self, UnparsedPublicKey};
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::OidcError;

/// Seconds of clock difference tolerated on `exp` and `iat`.
pub const LEEWAY_SECONDS: i64 = 60;

/// The key set a provider publishes at its `jwks_uri`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct JwkSet {
    /// The keys; those of another use than signing are ignored.
    pub keys: Vec<Jwk>,
}

/// One public key of a JWKS (the members Liasse reads).
#[derive(Debug, Clone, Deserialize)]
pub struct Jwk {
    /// `EC` or `RSA`.
    pub kty: String,
    /// Key id, matched against the token's `kid`.
    pub kid: Option<String>,
    /// The algorithm the key is for, when the provider states it.
    pub alg: Option<String>,
    /// `sig` or `enc`.
    #[serde(rename = "use")]
    pub key_use: Option<String>,
    /// EC curve.
    pub crv: Option<String>,
    /// EC coordinates.
    pub x: Option<String>,
    /// EC coordinates.
    pub y: Option<String>,
    /// RSA modulus.
    pub n: Option<String>,
    /// RSA exponent.
    pub e: Option<String>,
}

/// The two algorithms accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Alg {
    Es256,
    Rs256,
}

impl Alg {
    fn from_header(alg: &str) -> Result<Self, OidcError> {
        match alg {
            "ES256" => Ok(Self::Es256),
            "RS256" => Ok(Self::Rs256),
            other => Err(OidcError::ForbiddenAlg(other.to_owned())),
        }
    }

    fn name(self) -> &'static str {
        match self {
            Self::Es256 => "ES256",
            Self::Rs256 => "RS256",
        }
    }
}

impl Jwk {
    /// The algorithm this key verifies, from its type and curve (and its own `alg`, which must
    /// agree). `None` for keys that are not signing keys Liasse accepts.
    fn alg(&self) -> Option<Alg> {
        if self.key_use.as_deref().is_some_and(|u| u != "sig") {
            return None;
        }
        let alg = match (self.kty.as_str(), self.crv.as_deref()) {
            ("EC", Some("P-256")) => Alg::Es256,
            ("RSA", _) => Alg::Rs256,
            _ => return None,
        };
        match self.alg.as_deref() {
            Some(stated) if stated != alg.name() => None,
            _ => Some(alg),
        }
    }

    fn verify(&self, alg: Alg, message: &[u8], signature: &[u8]) -> Result<(), OidcError> {
        let part = |value: &Option<String>| {
            value
                .as_deref()
                .and_then(|v| URL_SAFE_NO_PAD.decode(v).ok())
                .ok_or(OidcError::BadSignature)
        };
        let verified = match alg {
            Alg::Es256 => {
                let (x, y) = (part(&self.x)?, part(&self.y)?);
                if x.len() != 32 || y.len() != 32 {
                    return Err(OidcError::BadSignature);
                }
                let mut point = Vec::with_capacity(65);
                point.push(0x04);
                point.extend_from_slice(&x);
                point.extend_from_slice(&y);
                UnparsedPublicKey::new(&signature::ECDSA_P256_SHA256_FIXED, point)
                    .verify(message, signature)
            }
            Alg::Rs256 => signature::RsaPublicKeyComponents {
                n: part(&self.n)?,
                e: part(&self.e)?,
            }
            .verify(&signature::RSA_PKCS1_2048_8192_SHA256, message, signature),
        };
        verified.map_err(|_| OidcError::BadSignature)
    }
}

#[derive(Debug, Deserialize)]
struct Header {
    alg: String,
    kid: Option<String>,
}

/// Verifies a compact JWS's signature against `keys` and returns its claims. Claims are not
/// checked here (see [`Expected::check`]). [`OidcError::UnknownKid`] tells the caller to fetch
/// the JWKS again and retry once.
pub fn verify_signature(token: &str, keys: &JwkSet) -> Result<Map<String, Value>, OidcError> {
    let mut parts = token.trim().split('.');
    let (Some(header), Some(payload), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(OidcError::Malformed(
            "not a signed JWT (encrypted tokens are not supported)".into(),
        ));
    };
    let header: Header = decode_json(header)?;
    let alg = Alg::from_header(&header.alg)?;
    let candidates: Vec<&Jwk> = keys
        .keys
        .iter()
        .filter(|key| key.alg().is_some())
        .filter(|key| match &header.kid {
            Some(kid) => key.kid.as_deref() == Some(kid.as_str()),
            None => true,
        })
        .collect();
    let key = match (candidates.as_slice(), &header.kid) {
        ([], _) => return Err(OidcError::UnknownKid(header.kid)),
        ([only], _) => *only,
        // Without a kid, several keys would leave the choice to the token: refuse.
        (_, None) => return Err(OidcError::UnknownKid(None)),
        ([first, ..], Some(_)) => *first,
    };
    if key.alg() != Some(alg) {
        return Err(OidcError::ForbiddenAlg(header.alg));
    }
    let signature = URL_SAFE_NO_PAD
        .decode(signature)
        .map_err(|_| OidcError::BadSignature)?;
    let signed_len = token.trim().len() - signature_len(token.trim());
    key.verify(alg, &token.trim().as_bytes()[..signed_len], &signature)?;
    decode_json(payload)
}

/// Length of the signature part plus its dot.
fn signature_len(token: &str) -> usize {
    token.rfind('.').map_or(0, |dot| token.len() - dot)
}

fn decode_json<T: serde::de::DeserializeOwned>(part: &str) -> Result<T, OidcError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|_| OidcError::Malformed("JWT part is not base64url".into()))?;
    serde_json::from_slice(&bytes).map_err(|e| OidcError::Malformed(format!("JWT part: {e}")))
}

/// What an ID token's claims must say.
#[derive(Debug, Clone)]
pub struct Expected<'a> {
    /// The provider's issuer.
    pub issuer: &'a str,
    /// Our client id.
    pub audience: &'a str,
    /// The nonce of this login (`None` for userinfo, which carries none).
    pub nonce: Option<&'a str>,
    /// The time to check against, Unix seconds.
    pub now: i64,
}

impl Expected<'_> {
    /// Checks `iss`, `aud` (and `azp` when several audiences), `exp`, `iat` and `nonce`.
    /// `exp` and `iat` are required when `nonce` is (the ID token), optional otherwise.
    pub fn check(&self, claims: &Map<String, Value>) -> Result<(), OidcError> {
        let iss = claims
            .get("iss")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if iss != self.issuer {
            return Err(OidcError::WrongIssuer(iss.to_owned()));
        }
        let audience_ok = match claims.get("aud") {
            Some(Value::String(aud)) => aud == self.audience,
            Some(Value::Array(auds)) => {
                auds.iter().any(|a| a.as_str() == Some(self.audience))
                    && (auds.len() == 1
                        || claims.get("azp").and_then(Value::as_str) == Some(self.audience))
            }
            None => self.nonce.is_none(),
            _ => false,
        };
        if !audience_ok {
            return Err(OidcError::WrongAudience);
        }
        let id_token = self.nonce.is_some();
        match claims.get("exp").and_then(Value::as_i64) {
            Some(exp) if exp + LEEWAY_SECONDS <= self.now => return Err(OidcError::Expired),
            None if id_token => return Err(OidcError::Malformed("no exp".into())),
            _ => {}
        }
        match claims.get("iat").and_then(Value::as_i64) {
            Some(iat) if iat > self.now + LEEWAY_SECONDS => return Err(OidcError::IssuedInFuture),
            None if id_token => return Err(OidcError::Malformed("no iat".into())),
            _ => {}
        }
        if let Some(nonce) = self.nonce {
            let got = claims
                .get("nonce")
                .and_then(Value::as_str)
                .unwrap_or_default();
            if !bool::from(subtle::ConstantTimeEq::ct_eq(
                got.as_bytes(),
                nonce.as_bytes(),
            )) {
                return Err(OidcError::NonceMismatch);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
pub(crate) mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use ring::rand::SystemRandom;
    use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
    use serde_json::json;

    /// A provider's signing key made here, and the JWKS that publishes it.
    pub(crate) struct TestKey {
        pair: EcdsaKeyPair,
        pub(crate) kid: String,
    }

    impl TestKey {
        pub(crate) fn new(kid: &str) -> Self {
            let rng = SystemRandom::new();
            let pkcs8 =
                EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
            let pair =
                EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng)
                    .unwrap();
            Self {
                pair,
                kid: kid.to_owned(),
            }
        }

        pub(crate) fn jwk(&self) -> Value {
            let point = self.pair.public_key().as_ref();
            json!({
                "kty": "EC", "crv": "P-256", "use": "sig", "alg": "ES256", "kid": self.kid,
                "x": URL_SAFE_NO_PAD.encode(&point[1..33]),
                "y": URL_SAFE_NO_PAD.encode(&point[33..65]),
            })
        }

        pub(crate) fn jwks(&self) -> JwkSet {
            serde_json::from_value(json!({ "keys": [self.jwk()] })).unwrap()
        }

        pub(crate) fn sign(&self, header: Value, claims: &Value) -> String {
            let input = format!(
                "{}.{}",
                URL_SAFE_NO_PAD.encode(header.to_string()),
                URL_SAFE_NO_PAD.encode(claims.to_string())
            );
            let signature = self
                .pair
                .sign(&SystemRandom::new(), input.as_bytes())
                .unwrap();
            format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature.as_ref()))
        }

        pub(crate) fn es256(&self, claims: &Value) -> String {
            self.sign(
                json!({"alg": "ES256", "kid": self.kid, "typ": "JWT"}),
                claims,
            )
        }
    }

    const NOW: i64 = 1_800_000_000;

    pub(crate) fn claims() -> Value {
        json!({
            "iss": "https://fc.test/api/v2", "aud": "client-1", "sub": "pairwise-sub",
            "exp": NOW + 60, "iat": NOW, "nonce": "n".repeat(43), "acr": "eidas1",
        })
    }

    fn expected(nonce: &str) -> Expected<'_> {
        Expected {
            issuer: "https://fc.test/api/v2",
            audience: "client-1",
            nonce: Some(nonce),
            now: NOW,
        }
    }

    fn check(token: &str, keys: &JwkSet) -> Result<(), OidcError> {
        let nonce = "n".repeat(43);
        expected(&nonce).check(&verify_signature(token, keys)?)
    }

    #[test]
    fn a_good_es256_token_verifies() {
        let key = TestKey::new("k1");
        check(&key.es256(&claims()), &key.jwks()).unwrap();
    }

    #[test]
    fn another_keys_signature_is_refused() {
        let (key, impostor) = (TestKey::new("k1"), TestKey::new("k1"));
        let err = check(&impostor.es256(&claims()), &key.jwks()).unwrap_err();
        assert!(matches!(err, OidcError::BadSignature), "{err:?}");
        // A payload changed after signing.
        let token = key.es256(&claims());
        let mut parts: Vec<&str> = token.split('.').collect();
        let mut forged = claims();
        forged["sub"] = json!("someone-else");
        let payload = URL_SAFE_NO_PAD.encode(forged.to_string());
        parts[1] = &payload;
        let err = check(&parts.join("."), &key.jwks()).unwrap_err();
        assert!(matches!(err, OidcError::BadSignature), "{err:?}");
    }

    #[test]
    fn none_and_hs256_with_the_public_key_are_refused() {
        let key = TestKey::new("k1");
        let body = URL_SAFE_NO_PAD.encode(claims().to_string());
        let none = format!(
            "{}.{body}.",
            URL_SAFE_NO_PAD.encode(r#"{"alg":"none","kid":"k1"}"#)
        );
        assert!(
            matches!(check(&none, &key.jwks()), Err(OidcError::ForbiddenAlg(a)) if a == "none")
        );
        // HS256 keyed with the public key's JSON, the classic confusion attack.
        let input = format!(
            "{}.{body}",
            URL_SAFE_NO_PAD.encode(r#"{"alg":"HS256","kid":"k1"}"#)
        );
        let mac_key =
            ring::hmac::Key::new(ring::hmac::HMAC_SHA256, key.jwk().to_string().as_bytes());
        let tag = ring::hmac::sign(&mac_key, input.as_bytes());
        let hs = format!("{input}.{}", URL_SAFE_NO_PAD.encode(tag.as_ref()));
        assert!(matches!(check(&hs, &key.jwks()), Err(OidcError::ForbiddenAlg(a)) if a == "HS256"));
        // RS256 claimed against an EC key: the key decides.
        let rs = key.sign(json!({"alg": "RS256", "kid": "k1"}), &claims());
        assert!(matches!(check(&rs, &key.jwks()), Err(OidcError::ForbiddenAlg(a)) if a == "RS256"));
    }

    #[test]
    fn an_unknown_kid_is_reported_for_a_refetch() {
        let key = TestKey::new("k1");
        let other = TestKey::new("k2");
        let err = check(&other.es256(&claims()), &key.jwks()).unwrap_err();
        assert!(matches!(err, OidcError::UnknownKid(Some(k)) if k == "k2"));
    }

    #[test]
    fn wrong_iss_aud_nonce_and_times_are_refused() {
        let key = TestKey::new("k1");
        let jwks = key.jwks();
        let with = |field: &str, value: Value| {
            let mut c = claims();
            c[field] = value;
            check(&key.es256(&c), &jwks)
        };
        assert!(matches!(
            with("iss", json!("https://evil.test")),
            Err(OidcError::WrongIssuer(_))
        ));
        assert!(matches!(
            with("aud", json!("client-2")),
            Err(OidcError::WrongAudience)
        ));
        assert!(matches!(
            with("aud", json!(["client-1", "client-2"])),
            Err(OidcError::WrongAudience)
        ));
        assert!(with("aud", json!(["client-1"])).is_ok());
        assert!(matches!(
            with("nonce", json!("m".repeat(43))),
            Err(OidcError::NonceMismatch)
        ));
        assert!(matches!(
            with("exp", json!(NOW - 61)),
            Err(OidcError::Expired)
        ));
        assert!(with("exp", json!(NOW - 30)).is_ok(), "within the leeway");
        assert!(matches!(
            with("iat", json!(NOW + 120)),
            Err(OidcError::IssuedInFuture)
        ));
        let mut c = claims();
        c.as_object_mut().unwrap().remove("nonce");
        assert!(matches!(
            check(&key.es256(&c), &jwks),
            Err(OidcError::NonceMismatch)
        ));
    }

    #[test]
    fn garbage_is_malformed_not_a_panic() {
        let key = TestKey::new("k1");
        for token in ["", "a.b", "a.b.c.d.e", "!!.??.**", "e30.e30.e30"] {
            let err = check(token, &key.jwks()).unwrap_err();
            assert!(
                !matches!(err, OidcError::WrongIssuer(_)),
                "{token}: {err:?}"
            );
        }
    }
}
