//! Every refusal of a federated login, each with the French sentence of its page.

use crate::Acr;

/// Why a login was refused. The application shows [`OidcError::message_fr`] on the page, logs
/// [`OidcError::code`] (and the `Display` form, which holds no secret and no token) with the
/// request id, and creates neither session nor account.
#[derive(Debug, thiserror::Error)]
pub enum OidcError {
    /// The provider sent the user back with `error=...` (`access_denied` when they cancelled).
    #[error("the provider answered error {code:?}: {description:?}")]
    ProviderError {
        /// The OAuth 2.0 error code.
        code: String,
        /// The provider's `error_description`, if any (for logs, not for the page).
        description: Option<String>,
    },
    /// The callback has no `state`, or no pending login is bound to this browser.
    #[error("state missing from the callback")]
    StateMissing,
    /// The `state` matches no pending login of this browser (forged, or another browser's).
    #[error("state unknown")]
    StateUnknown,
    /// The `state` was already used (a replayed callback).
    #[error("state already used")]
    StateReplayed,
    /// The pending login is older than it may be.
    #[error("pending login expired")]
    PendingExpired,
    /// The callback has no `code`.
    #[error("code missing from the callback")]
    CodeMissing,
    /// The token endpoint refused the code (replayed, expired, or not ours).
    #[error("the token endpoint refused the code: {0}")]
    CodeRejected(String),
    /// The token's `nonce` is not the one of this login.
    #[error("nonce mismatch")]
    NonceMismatch,
    /// The signature does not verify with the provider's key.
    #[error("bad signature")]
    BadSignature,
    /// The token names a key the provider's JWKS does not hold, even after fetching it again.
    #[error("unknown key id {0:?} after refetching the JWKS")]
    UnknownKid(Option<String>),
    /// The token's `alg` is refused: `none`, HMAC (`HS256` with the public key as secret), or
    /// anything but ES256 and RS256, or not the algorithm of the key.
    #[error("forbidden alg {0:?}")]
    ForbiddenAlg(String),
    /// The token's `iss` (or the callback's `iss`) is not the provider's issuer.
    #[error("wrong iss {0:?}")]
    WrongIssuer(String),
    /// The token is not meant for this client.
    #[error("wrong aud")]
    WrongAudience,
    /// The token is expired.
    #[error("token expired")]
    Expired,
    /// The token was issued in the future (clocks too far apart, or forged).
    #[error("iat in the future")]
    IssuedInFuture,
    /// The returned `acr` is below the level asked (or missing).
    #[error("acr {got:?} below {asked}")]
    AcrTooLow {
        /// What the provider returned.
        got: Option<String>,
        /// What Liasse asked.
        asked: Acr,
    },
    /// The userinfo `sub` is not the ID token's.
    #[error("userinfo sub differs from the ID token's")]
    SubjectMismatch,
    /// A token or answer that is not what the protocol says (bad JWT, missing claim).
    #[error("malformed answer: {0}")]
    Malformed(String),
    /// The provider's discovery document or JWKS could not be read.
    #[error("discovery failed: {0}")]
    DiscoveryFailed(String),
    /// The provider could not be reached or answered an HTTP error.
    #[error("provider unreachable: {0}")]
    Unreachable(String),
}

impl OidcError {
    /// A short stable code for logs and metrics.
    pub fn code(&self) -> &'static str {
        match self {
            Self::ProviderError { .. } => "provider_error",
            Self::StateMissing => "state_missing",
            Self::StateUnknown => "state_unknown",
            Self::StateReplayed => "state_replayed",
            Self::PendingExpired => "pending_expired",
            Self::CodeMissing => "code_missing",
            Self::CodeRejected(_) => "code_rejected",
            Self::NonceMismatch => "nonce_mismatch",
            Self::BadSignature => "bad_signature",
            Self::UnknownKid(_) => "unknown_kid",
            Self::ForbiddenAlg(_) => "forbidden_alg",
            Self::WrongIssuer(_) => "wrong_issuer",
            Self::WrongAudience => "wrong_audience",
            Self::Expired => "expired",
            Self::IssuedInFuture => "issued_in_future",
            Self::AcrTooLow { .. } => "acr_too_low",
            Self::SubjectMismatch => "subject_mismatch",
            Self::Malformed(_) => "malformed",
            Self::DiscoveryFailed(_) => "discovery_failed",
            Self::Unreachable(_) => "unreachable",
        }
    }

    /// The sentence of the refusal page: what happened, then what to do.
    pub fn message_fr(&self) -> &'static str {
        match self {
            Self::ProviderError { code, .. } if code == "access_denied" => {
                "Vous avez annulé la connexion chez le fournisseur d'identité. Vous pouvez recommencer quand vous le souhaitez, ou vous connecter avec votre mot de passe."
            }
            Self::ProviderError { .. } => {
                "Le fournisseur d'identité a refusé la connexion. Recommencez dans quelques instants ; si le refus persiste, connectez-vous avec votre mot de passe ou contactez votre mairie."
            }
            Self::StateMissing | Self::StateUnknown => {
                "Cette connexion n'a pas été commencée depuis ce navigateur, ou elle a déjà abouti. Revenez à la page de connexion et recommencez."
            }
            Self::StateReplayed => {
                "Ce lien de connexion a déjà servi et ne peut pas être réutilisé. Revenez à la page de connexion et recommencez."
            }
            Self::PendingExpired => {
                "La connexion a pris trop de temps et a expiré. Revenez à la page de connexion et recommencez."
            }
            Self::CodeMissing | Self::CodeRejected(_) => {
                "Le fournisseur d'identité n'a pas confirmé cette connexion (le code reçu est invalide, expiré ou déjà utilisé). Revenez à la page de connexion et recommencez."
            }
            Self::NonceMismatch => {
                "La réponse du fournisseur d'identité ne correspond pas à la connexion commencée ici. Par sécurité, elle est refusée : revenez à la page de connexion et recommencez."
            }
            Self::BadSignature | Self::UnknownKid(_) | Self::ForbiddenAlg(_) => {
                "La réponse du fournisseur d'identité n'a pas pu être authentifiée (signature invalide). Par sécurité, la connexion est refusée ; recommencez plus tard, et prévenez votre mairie si cela se reproduit."
            }
            Self::WrongIssuer(_) | Self::WrongAudience | Self::SubjectMismatch => {
                "La réponse reçue ne vient pas du fournisseur d'identité attendu ou n'est pas destinée à ce service. Par sécurité, la connexion est refusée ; prévenez votre mairie si cela se reproduit."
            }
            Self::Expired | Self::IssuedInFuture => {
                "La réponse du fournisseur d'identité n'est pas valable à cette heure (expirée, ou horloges décalées). Revenez à la page de connexion et recommencez."
            }
            Self::AcrTooLow { .. } => {
                "Le niveau de sécurité de votre connexion est insuffisant pour ce service. Recommencez en choisissant un moyen d'identification plus sûr (par exemple FranceConnect+ ou L'Identité Numérique)."
            }
            Self::Malformed(_) => {
                "La réponse du fournisseur d'identité est illisible. Recommencez plus tard, ou connectez-vous avec votre mot de passe."
            }
            Self::DiscoveryFailed(_) | Self::Unreachable(_) => {
                "Le fournisseur d'identité est injoignable pour le moment. Recommencez dans quelques minutes, ou connectez-vous avec votre mot de passe."
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    #[test]
    fn every_refusal_has_a_french_sentence_saying_what_to_do() {
        let all = [
            OidcError::ProviderError {
                code: "access_denied".into(),
                description: None,
            },
            OidcError::ProviderError {
                code: "server_error".into(),
                description: None,
            },
            OidcError::StateMissing,
            OidcError::StateUnknown,
            OidcError::StateReplayed,
            OidcError::PendingExpired,
            OidcError::CodeMissing,
            OidcError::CodeRejected("invalid_grant".into()),
            OidcError::NonceMismatch,
            OidcError::BadSignature,
            OidcError::UnknownKid(None),
            OidcError::ForbiddenAlg("none".into()),
            OidcError::WrongIssuer("x".into()),
            OidcError::WrongAudience,
            OidcError::Expired,
            OidcError::IssuedInFuture,
            OidcError::AcrTooLow {
                got: None,
                asked: Acr::Eidas2,
            },
            OidcError::SubjectMismatch,
            OidcError::Malformed("x".into()),
            OidcError::DiscoveryFailed("x".into()),
            OidcError::Unreachable("x".into()),
        ];
        for error in all {
            let text = error.message_fr();
            assert!(
                text.ends_with('.') && text.len() > 40,
                "{}: {text}",
                error.code()
            );
        }
    }
}
