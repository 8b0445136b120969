//! Why a federated login, or a provider's setting, was refused.

use liasse_app::error::AppError;
use liasse_oidc::{OidcError, ProviderKind};

/// Every refusal carries the French sentence of its page ([`FedError::message_fr`]) and a
/// stable code for the log line ([`FedError::code`]); none creates a session or an account.
#[derive(Debug, thiserror::Error)]
pub enum FedError {
    #[error("unknown tenant")]
    UnknownTenant,
    #[error("{} is not configured for this tenant", .0.label())]
    NotConfigured(ProviderKind),
    #[error("oidc: {0}")]
    Oidc(#[from] OidcError),
    /// The pending login was begun in another browser (its cookie is not this one's).
    #[error("pending login bound to another browser")]
    WrongBrowser,
    /// A ProConnect agent with no staff account here: no self-provisioning.
    #[error("no staff account for this agent")]
    NoStaffAccount,
    #[error("siret not allowed")]
    SiretNotAllowed,
    /// A password account linked at a first FranceConnect login must be a citizen's.
    #[error("not a citizen account")]
    NotACitizen,
    /// The first-login choice waited too long, or was already made.
    #[error("first-login choice expired or already made")]
    ChoiceExpired,
    #[error("app: {0}")]
    App(#[from] AppError),
}

impl From<liasse_store::StoreError> for FedError {
    fn from(e: liasse_store::StoreError) -> Self {
        FedError::App(e.into())
    }
}

impl From<liasse_crypto::CryptoError> for FedError {
    fn from(e: liasse_crypto::CryptoError) -> Self {
        FedError::App(e.into())
    }
}

impl FedError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::UnknownTenant => "unknown_tenant",
            Self::NotConfigured(_) => "not_configured",
            Self::Oidc(e) => e.code(),
            Self::WrongBrowser => "wrong_browser",
            Self::NoStaffAccount => "no_staff_account",
            Self::SiretNotAllowed => "siret_not_allowed",
            Self::NotACitizen => "not_a_citizen",
            Self::ChoiceExpired => "choice_expired",
            Self::App(_) => "internal",
        }
    }

    /// What happened and what to do, for the refusal page.
    pub fn message_fr(&self) -> String {
        match self {
            Self::UnknownTenant => "Cette collectivité n'existe pas sur ce service. Vérifiez l'adresse de la page, ou revenez à la page de connexion.".into(),
            Self::NotConfigured(kind) => format!(
                "La connexion avec {} n'est pas proposée par cette collectivité. Connectez-vous avec votre identifiant et votre mot de passe.",
                kind.label()
            ),
            Self::Oidc(e) => e.message_fr().into(),
            Self::WrongBrowser => "Cette connexion a été commencée dans un autre navigateur. Par sécurité, elle est refusée : revenez à la page de connexion et recommencez depuis ce navigateur.".into(),
            Self::NoStaffAccount => "Aucun compte d'agent n'a été créé pour vous dans cette collectivité. Demandez à l'administrateur de votre mairie de vous créer un compte avec votre adresse professionnelle, puis recommencez.".into(),
            Self::SiretNotAllowed => "Votre organisation n'est pas autorisée à se connecter à ce service. Si vous êtes agent de cette collectivité, demandez à son administrateur d'ajouter votre organisation.".into(),
            Self::NotACitizen => "Ce compte n'est pas un compte d'usager : FranceConnect sert aux usagers. Les agents se connectent avec ProConnect ou leur mot de passe.".into(),
            Self::ChoiceExpired => "Le délai pour terminer votre première connexion est dépassé, ou elle est déjà terminée. Revenez à la page de connexion et recommencez.".into(),
            Self::App(AppError::Unauthorized) => "Identifiant ou mot de passe incorrect. Vérifiez-les et recommencez.".into(),
            Self::App(AppError::RateLimited { retry_after_secs }) => format!(
                "Trop d'essais. Réessayez dans {}.",
                liasse_app::auth::retry_wait_fr(*retry_after_secs)
            ),
            Self::App(AppError::Invalid { detail, .. }) => {
                let mut d = detail.clone();
                if let Some(first) = d.get(..1) {
                    let upper = first.to_uppercase();
                    d.replace_range(..1, &upper);
                }
                if !d.ends_with('.') {
                    d.push('.');
                }
                d
            }
            Self::App(_) => "Une erreur interne a empêché la connexion. Recommencez dans quelques instants.".into(),
        }
    }

    /// The HTTP status of the refusal page.
    pub fn status(&self) -> u16 {
        match self {
            Self::UnknownTenant | Self::NotConfigured(_) => 404,
            Self::Oidc(OidcError::DiscoveryFailed(_) | OidcError::Unreachable(_)) => 502,
            Self::App(AppError::RateLimited { .. }) => 429,
            Self::App(AppError::Invalid { .. }) => 400,
            Self::App(AppError::Unauthorized) => 401,
            Self::App(_) => 500,
            Self::NoStaffAccount | Self::SiretNotAllowed | Self::NotACitizen => 403,
            _ => 400,
        }
    }
}

pub type Result<T> = std::result::Result<T, FedError>;
