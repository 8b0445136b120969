//! Who an account is (its role) and what an agent may do on a domain (its right).

use serde::Serialize;

/// The kind of account acting.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Citizen,
    Agent,
    Manager,
    Admin,
    Service,
}

impl Role {
    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "citizen" => Some(Role::Citizen),
            "agent" => Some(Role::Agent),
            "manager" => Some(Role::Manager),
            "admin" => Some(Role::Admin),
            "service" => Some(Role::Service),
            _ => None,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Role::Citizen => "citizen",
            Role::Agent => "agent",
            Role::Manager => "manager",
            Role::Admin => "admin",
            Role::Service => "service",
        }
    }

    /// Agents and managers work on citizens' files within their domains.
    pub fn is_staff(self) -> bool {
        matches!(self, Role::Agent | Role::Manager)
    }

    /// Only a citizen has a vault: the journal entries about their account are theirs to read,
    /// and their passwords guard documents of one person, not of a whole tenant.
    pub fn has_vault(self) -> bool {
        matches!(self, Role::Citizen)
    }

    /// A service client (form engine, business software, trusted provider).
    pub fn is_partner(self) -> bool {
        matches!(self, Role::Service)
    }
}

/// Whether a stored account (its role column) is a citizen's.
pub fn is_vault_account(role_code: &str) -> bool {
    Role::parse(role_code).is_some_and(Role::has_vault)
}

/// Whether a stored account (its role column) is an agent's or a manager's.
pub fn is_staff_account(role_code: &str) -> bool {
    Role::parse(role_code).is_some_and(Role::is_staff)
}

/// Whether a stored account (its role column) is a service client's.
pub fn is_partner_account(role_code: &str) -> bool {
    Role::parse(role_code).is_some_and(Role::is_partner)
}

/// An agent's right on a domain (CapDémat's four levels), ordered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Right {
    None,
    Consult,
    Modify,
    Manage,
}

impl Right {
    pub fn parse(s: &str) -> Option<Right> {
        match s {
            "none" => Some(Right::None),
            "consult" => Some(Right::Consult),
            "modify" => Some(Right::Modify),
            "manage" => Some(Right::Manage),
            _ => None,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Right::None => "none",
            Right::Consult => "consult",
            Right::Modify => "modify",
            Right::Manage => "manage",
        }
    }
}
