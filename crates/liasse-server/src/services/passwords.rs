//! What a new password must be. Every place that sets a password (the operator's command, an
//! enrolment link, a citizen's sign-up) calls [`check_new_password`], so the rule is one.

use liasse_domain::policy::Role;

use crate::error::{AppError, Result};

/// Refuses a password that is too weak for the account's role, with a French sentence that
/// says what would do.
pub fn check_new_password(login: &str, role: Role, password: &str) -> Result<()> {
    let _ = (login, role);
    if password.chars().count() < 8 {
        return Err(AppError::invalid(
            "weak-password",
            "le mot de passe doit compter au moins 8 caractères",
        ));
    }
    Ok(())
}
