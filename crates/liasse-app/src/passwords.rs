//! What a new password must be. Every place that sets a password (the operator's command, an
//! enrolment link, a citizen's sign-up) calls [`check_new_password`], so the rule is one.
//!
//! Length alone lets `12345678` or `aaaaaaaa` through, so the strength is estimated with
//! zxcvbn (dictionaries of common passwords, names and words, keyboard patterns, sequences,
//! repetitions, dates), with the login given as a word the attacker knows. Staff accounts open
//! other people's documents, so their floor is higher than a citizen's:
//!
//! | role | at least | zxcvbn score at least |
//! | --- | --- | --- |
//! | agent, manager, admin, service | 12 characters | 3 (about 10^10 guesses) |
//! | citizen | 8 characters | 2 (about 10^8 guesses) |
//!
//! A password never equals the login nor contains it (ignoring case; containment is checked for
//! logins of 3 characters or more, shorter ones are only compared whole).

use liasse_domain::policy::Role;
use zxcvbn::Score;

use crate::error::{AppError, Result};

/// Longer than any passphrase; keeps the hashing and the estimate of a pasted novel cheap.
const MAX_CHARS: usize = 1000;

/// Refuses a password that is too weak for the account's role, with a French sentence that
/// says what would do.
pub fn check_new_password(login: &str, role: Role, password: &str) -> Result<()> {
    let staff = !role.has_vault();
    let (min_chars, min_score, advice) = if staff {
        (
            12,
            Score::Three,
            "choisissez une phrase de passe d'au moins 12 caractères, par exemple quatre mots sans lien entre eux",
        )
    } else {
        (
            8,
            Score::Two,
            "choisissez une phrase de passe d'au moins 8 caractères, par exemple trois mots sans lien entre eux",
        )
    };
    let chars = password.chars().count();
    if chars > MAX_CHARS {
        return Err(AppError::invalid(
            "weak-password",
            format!("le mot de passe doit compter au plus {MAX_CHARS} caractères"),
        ));
    }
    let login = login.trim().to_lowercase();
    let lowered = password.to_lowercase();
    if !login.is_empty()
        && (lowered == login || (login.chars().count() >= 3 && lowered.contains(&login)))
    {
        return Err(AppError::invalid(
            "weak-password",
            format!("le mot de passe ne doit pas contenir l'identifiant : {advice}"),
        ));
    }
    if chars < min_chars {
        return Err(AppError::invalid(
            "weak-password",
            format!("mot de passe trop court : {advice}"),
        ));
    }
    if zxcvbn::zxcvbn(password, &[login.as_str()]).score() < min_score {
        return Err(AppError::invalid(
            "weak-password",
            format!(
                "mot de passe trop facile à deviner (mot courant, suite ou répétition) : {advice}"
            ),
        ));
    }
    Ok(())
}
