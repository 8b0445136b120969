//! Who the provider says logged in.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::{Acr, OidcError, ProviderKind};

/// The identity of a finished login. Accounts are linked by (tenant, `issuer`, `sub`), never
/// by e-mail; `sub` is pairwise and may change after a civil-status correction.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Identity {
    /// The provider's issuer.
    pub issuer: String,
    /// The subject, pairwise at FranceConnect.
    pub sub: String,
    /// The level of assurance returned (at least the one asked).
    pub acr: Acr,
    /// The claims of the provider's kind.
    pub claims: Claims,
    /// The ID token as received, to send back as `id_token_hint` at logout. Not a credential
    /// for anything else; keep it with the session.
    pub id_token: String,
}

/// The claims read, by provider kind.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Claims {
    /// FranceConnect's pivot identity.
    Pivot(PivotIdentity),
    /// ProConnect's agent claims.
    ProConnect(ProConnectClaims),
}

/// FranceConnect's pivot identity, as received (shown, not editable, at account creation).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PivotIdentity {
    /// Given names, space separated.
    pub given_name: String,
    /// Birth name.
    pub family_name: String,
    /// `YYYY-MM-DD` (`YYYY-MM-00` or `YYYY-00-00` when partly unknown).
    pub birthdate: String,
    /// `male` or `female`.
    pub gender: String,
    /// INSEE code of the birth commune (empty when born abroad).
    pub birthplace: String,
    /// INSEE code of the birth country (99100 for France).
    pub birthcountry: String,
    /// E-mail, when the scope was granted (editable by the citizen).
    pub email: Option<String>,
}

/// ProConnect's claims of an agent.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProConnectClaims {
    /// Given names.
    pub given_name: String,
    /// Usual last name.
    pub usual_name: String,
    /// Professional e-mail (matches the staff account at the first login).
    pub email: String,
    /// The agent's id at their identity provider.
    pub uid: String,
    /// SIRET of the agent's organisation.
    pub siret: String,
    /// The identity provider that authenticated the agent.
    pub idp_id: String,
    /// SIREN, when sent.
    pub siren: Option<String>,
    /// Organisational unit, when sent.
    pub organizational_unit: Option<String>,
    /// Phone, when sent.
    pub phone: Option<String>,
}

fn text(claims: &Map<String, Value>, name: &str) -> Option<String> {
    match claims.get(name)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn required(claims: &Map<String, Value>, name: &str) -> Result<String, OidcError> {
    text(claims, name).ok_or_else(|| OidcError::Malformed(format!("claim {name} missing")))
}

impl Claims {
    /// Reads the claims of `kind` from the userinfo answer (merged over the ID token's).
    /// Required claims missing make the answer malformed: an identity is never half-built.
    pub fn read(kind: ProviderKind, claims: &Map<String, Value>) -> Result<Self, OidcError> {
        Ok(match kind {
            ProviderKind::FranceConnect => Self::Pivot(PivotIdentity {
                given_name: required(claims, "given_name")?,
                family_name: required(claims, "family_name")?,
                birthdate: required(claims, "birthdate")?,
                gender: required(claims, "gender")?,
                // Empty for people born abroad; FranceConnect may then omit it.
                birthplace: text(claims, "birthplace").unwrap_or_default(),
                birthcountry: required(claims, "birthcountry")?,
                email: text(claims, "email"),
            }),
            ProviderKind::ProConnect => Self::ProConnect(ProConnectClaims {
                given_name: required(claims, "given_name")?,
                usual_name: required(claims, "usual_name")?,
                email: required(claims, "email")?,
                uid: required(claims, "uid")?,
                siret: required(claims, "siret")?,
                idp_id: required(claims, "idp_id")?,
                siren: text(claims, "siren"),
                organizational_unit: text(claims, "organizational_unit"),
                phone: text(claims, "phone"),
            }),
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use serde_json::json;

    #[test]
    fn pivot_identity_and_proconnect_claims_are_read() {
        let fc = json!({
            "given_name": "Angela Claire Louise", "family_name": "DUBOIS", "birthdate": "1962-08-24",
            "gender": "female", "birthplace": "75107", "birthcountry": "99100",
            "email": "wossewodda-3728@yopmail.com",
        });
        let Claims::Pivot(pivot) =
            Claims::read(ProviderKind::FranceConnect, fc.as_object().unwrap()).unwrap()
        else {
            panic!("pivot expected");
        };
        assert_eq!(pivot.family_name, "DUBOIS");
        assert_eq!(pivot.email.as_deref(), Some("wossewodda-3728@yopmail.com"));
        let mut missing = fc.as_object().unwrap().clone();
        missing.remove("birthdate");
        assert!(matches!(
            Claims::read(ProviderKind::FranceConnect, &missing),
            Err(OidcError::Malformed(_))
        ));

        let pc = json!({
            "given_name": "Jean", "usual_name": "Agent", "email": "jean@blois.fr", "uid": "1",
            "siret": 21410018600018u64, "idp_id": "fia1v2",
        });
        let Claims::ProConnect(agent) =
            Claims::read(ProviderKind::ProConnect, pc.as_object().unwrap()).unwrap()
        else {
            panic!("proconnect expected");
        };
        assert_eq!(agent.siret, "21410018600018");
        assert_eq!(agent.siren, None);
    }
}
