//! The default document-type catalogue offered to a new tenant (`liasse tenant create
//! --with-catalogue`), kept as data in `catalogue.json`.
//!
//! Tenant admins adapt it afterwards: the catalogue is theirs, this is only a starting point with
//! the supporting documents French municipalities usually ask for.

use crate::doctype::DocumentType;

/// The catalogue's source, as shipped in the binary.
pub const CATALOGUE_JSON: &str = include_str!("catalogue.json");

/// Parses and checks the default catalogue: every type passes [`DocumentType::validate`] and no
/// code appears twice.
///
/// # Errors
///
/// A French message naming the faulty type when the shipped JSON does not parse, a type fails
/// validation or a code is duplicated; the tests keep this from happening.
pub fn default_catalogue() -> Result<Vec<DocumentType>, String> {
    let types: Vec<DocumentType> = serde_json::from_str(CATALOGUE_JSON)
        .map_err(|e| format!("catalogue par défaut illisible : {e}"))?;
    let mut seen = std::collections::HashSet::new();
    for t in &types {
        t.validate()
            .map_err(|e| format!("type « {} » du catalogue par défaut : {e}", t.code))?;
        if !seen.insert(t.code.as_str()) {
            return Err(format!(
                "code « {} » en double dans le catalogue par défaut",
                t.code
            ));
        }
    }
    Ok(types)
}

/// The demonstration procedures (inscription scolaire, carte de stationnement résident,
/// demande d'acte d'état civil), built on the default catalogue.
pub fn default_procedures() -> Result<Vec<crate::procedure::Procedure>, String> {
    let procs: Vec<crate::procedure::Procedure> =
        serde_json::from_str(include_str!("procedures.json"))
            .map_err(|e| format!("procédures par défaut illisibles : {e}"))?;
    for p in &procs {
        p.validate()?;
    }
    Ok(procs)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use crate::doctype::{Depositor, Disposal, Validity};
    use std::collections::HashSet;
    use time::macros::date;

    /// The types every default catalogue must offer.
    const REQUIRED_CODES: &[&str] = &[
        "carte-nationale-identite",
        "passeport",
        "titre-sejour",
        "permis-conduire",
        "justificatif-domicile",
        "avis-imposition",
        "attestation-quotient-familial-caf",
        "livret-famille",
        "acte-naissance",
        "acte-mariage",
        "rib",
        "attestation-assurance-habitation",
        "carnet-vaccination",
        "certificat-scolarite",
        "attestation-employeur",
        "bulletin-salaire",
        "attestation-assurance-scolaire",
        "jugement-garde-enfants",
        "certificat-immatriculation",
        "quittance-loyer",
        "attestation-france-travail",
        "photo-identite",
        "certificat-medical",
        "courrier",
        "attestation-fiscale-certifiee",
    ];

    const DOMAINS: &[&str] = &[
        "etat-civil",
        "scolaire",
        "enfance",
        "social",
        "fiscalite",
        "urbanisme",
        "stationnement",
        "general",
        "courrier",
    ];

    fn catalogue() -> Vec<DocumentType> {
        default_catalogue().unwrap()
    }

    fn get(code: &str) -> DocumentType {
        catalogue()
            .into_iter()
            .find(|t| t.code == code)
            .expect(code)
    }

    #[test]
    fn parses_and_is_large_enough() {
        assert!(catalogue().len() >= 24, "{} types", catalogue().len());
    }

    #[test]
    fn codes_are_unique_kebab_case() {
        let types = catalogue();
        let codes: HashSet<&str> = types.iter().map(|t| t.code.as_str()).collect();
        assert_eq!(codes.len(), types.len());
        for t in &types {
            let kebab = t
                .code
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                && !t.code.starts_with('-')
                && !t.code.ends_with('-')
                && !t.code.contains("--");
            assert!(kebab, "{}", t.code);
        }
    }

    #[test]
    fn every_type_validates() {
        for t in catalogue() {
            assert_eq!(t.validate(), Ok(()), "{}", t.code);
            assert!(
                DOMAINS.contains(&t.domain.as_str()),
                "{}: {}",
                t.code,
                t.domain
            );
            assert!(t.description.ends_with('.'), "{}", t.code);
            assert!(!t.label.trim().is_empty(), "{}", t.code);
        }
    }

    #[test]
    fn required_types_are_present() {
        let types = catalogue();
        for code in REQUIRED_CODES {
            assert!(types.iter().any(|t| t.code == *code), "{code} missing");
        }
    }

    #[test]
    fn every_validity_computes() {
        let issued = date!(2026 - 09 - 15);
        let printed = date!(2031 - 09 - 14);
        for t in catalogue() {
            let until = t.validity.valid_until(issued, Some(printed)).unwrap();
            match t.validity {
                Validity::Unlimited => assert_eq!(until, None, "{}", t.code),
                Validity::PrintedDate => {
                    assert_eq!(until, Some(printed), "{}", t.code);
                    assert!(t.validity.valid_until(issued, None).is_err(), "{}", t.code);
                }
                _ => assert!(until.is_some_and(|d| d > issued), "{}", t.code),
            }
        }
    }

    #[test]
    fn rules_of_notable_types() {
        let issued = date!(2026 - 09 - 15);
        let until = |code: &str, printed| get(code).validity.valid_until(issued, printed).unwrap();

        assert_eq!(
            until("justificatif-domicile", None),
            Some(date!(2026 - 12 - 15))
        );
        assert_eq!(until("acte-naissance", None), Some(date!(2026 - 12 - 15)));
        assert_eq!(until("avis-imposition", None), Some(date!(2027 - 09 - 15)));
        assert_eq!(
            until("certificat-scolarite", None),
            Some(date!(2027 - 08 - 31))
        );
        assert_eq!(
            until("attestation-assurance-scolaire", None),
            Some(date!(2027 - 08 - 31))
        );
        assert_eq!(until("photo-identite", None), Some(date!(2027 - 03 - 15)));
        assert_eq!(until("livret-famille", None), None);
        assert_eq!(until("rib", None), None);
        for code in ["carte-nationale-identite", "passeport", "titre-sejour"] {
            assert_eq!(get(code).validity, Validity::PrintedDate, "{code}");
        }
        assert!(get("carte-nationale-identite").review_required);

        let photo = get("photo-identite");
        assert_eq!(photo.formats, ["jpeg", "png"]);
        assert_eq!(photo.max_size, 5 * 1024 * 1024);

        let courrier = get("courrier");
        assert_eq!(courrier.domain, "courrier");
        assert_eq!(courrier.depositors, [Depositor::Agent]);
        assert!(!courrier.review_required);
        assert_eq!(courrier.formats, ["pdf"]);
        assert_eq!(courrier.validity, Validity::Unlimited);

        for code in ["attestation-fiscale-certifiee", "attestation-caf-certifiee"] {
            let t = get(code);
            assert_eq!(t.depositors, [Depositor::Provider], "{code}");
            assert!(!t.review_required, "{code}");
        }

        let livret = get("livret-famille");
        assert!(livret.keep_allowed);
        assert_eq!(livret.disposal, Disposal::Keep);
        assert!(get("acte-naissance").keep_allowed);
        assert_eq!(get("avis-imposition").retention.years, 5);
    }

    #[test]
    fn citizens_can_deposit_what_agents_review() {
        // A type that needs review must be depositable by a citizen or an agent; provider-only
        // types are certified and skip review.
        for t in catalogue() {
            if t.depositors == [Depositor::Provider] {
                assert!(!t.review_required, "{}", t.code);
            }
            if t.review_required {
                assert!(t.depositors.contains(&Depositor::Citizen), "{}", t.code);
            }
        }
    }

    #[test]
    fn round_trips_through_serde() {
        let types = catalogue();
        let json = serde_json::to_string(&types).unwrap();
        let back: Vec<DocumentType> = serde_json::from_str(&json).unwrap();
        assert_eq!(back, types);
    }
}
