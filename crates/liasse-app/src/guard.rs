//! Asking the policy: every use case names what it is about to do as a
//! `liasse_domain::policy::Access` and gets back the basis its journal entry records, or the
//! error the caller answers. No use case compares roles or rights itself.

use liasse_domain::policy::{self, Access, Denial, Warrant};

use crate::auth::Principal;
use crate::error::AppError;

impl Principal {
    /// The policy's answer for this principal, a denial turned into the error to answer.
    pub fn authorize(&self, access: &Access) -> Result<Warrant, AppError> {
        policy::authorize(&self.facts(), access).map_err(denied)
    }

    /// Whether the policy allows it (what a page shows, what a listing keeps).
    pub fn allows(&self, access: &Access) -> bool {
        policy::allows(&self.facts(), access)
    }
}

/// What the caller answers for a denial.
pub fn denied(d: Denial) -> AppError {
    match d {
        Denial::Hidden => AppError::NotFound,
        Denial::Forbidden => AppError::Forbidden,
        Denial::WrongState => {
            AppError::Conflict("cette action n'est pas possible dans l'état actuel".into())
        }
        Denial::Locked => {
            AppError::Conflict("la demande est verrouillée par un autre agent".into())
        }
        Denial::BeingHandled => AppError::ConflictOf {
            code: "request-locked",
            detail: "un agent instruit votre demande en ce moment : vous ne pouvez pas la modifier. Réessayez plus tard".into(),
        },
        Denial::NotHolder => AppError::Conflict("vous ne détenez pas le verrou".into()),
    }
}
