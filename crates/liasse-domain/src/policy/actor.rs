//! The actor as the policy sees it.

use super::role::{Right, Role};

#[derive(Clone, Debug)]
pub struct ActorFacts<'a> {
    pub tenant_id: &'a str,
    pub account_id: &'a str,
    pub role: Role,
    /// The id of the service the account belongs to (empty for none), set by an admin from
    /// the tenant's list: a name anyone can type is no basis.
    pub service_id: &'a str,
    pub rights: &'a [(String, Right)],
}

impl ActorFacts<'_> {
    pub fn right_on(&self, domain: &str) -> Right {
        self.rights
            .iter()
            .find(|(d, _)| d == domain)
            .map_or(Right::None, |(_, r)| *r)
    }

    /// The domains where a staff member holds at least `level`, with their right: what their
    /// lists cover and what their dashboard names. Other roles hold no right on any domain.
    pub fn domains_with(&self, level: Right) -> Vec<(&str, Right)> {
        if !self.role.is_staff() {
            return Vec::new();
        }
        self.rights
            .iter()
            .filter(|(_, r)| *r >= level)
            .map(|(d, r)| (d.as_str(), *r))
            .collect()
    }

    /// The domains a staff member sees (consultation or more), with their right: what their
    /// dashboard names.
    pub fn domains_seen(&self) -> Vec<(&str, Right)> {
        self.domains_with(Right::Consult)
    }

    /// A staff member holding at least `level` on `domain`.
    pub(super) fn staff_with(&self, domain: &str, level: Right) -> bool {
        self.role.is_staff() && self.right_on(domain) >= level
    }
}
