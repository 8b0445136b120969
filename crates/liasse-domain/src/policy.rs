//! The access policy: one function decides every access to a document, deny by default, and
//! says which basis allowed it so that the journal can record it.

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
}

/// What the actor wants to do with a document.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// See that it exists and its non-content fields (type, state, dates).
    ReadMetadata,
    /// Download or preview any version's bytes.
    ReadContent,
    /// Upload a new version.
    Replace,
    Delete,
    /// Check integrity on demand.
    Check,
}

/// The facts about a document that the policy needs.
#[derive(Clone, Debug)]
pub struct DocumentFacts<'a> {
    pub tenant_id: &'a str,
    pub owner_id: &'a str,
    pub deleted: bool,
}

/// The actor as the policy sees it.
#[derive(Clone, Debug)]
pub struct ActorFacts<'a> {
    pub tenant_id: &'a str,
    pub account_id: &'a str,
    pub role: Role,
}

/// Why an access is allowed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "id", rename_all = "lowercase")]
pub enum Basis {
    /// The citizen acting on their own documents.
    Owner,
}

impl Basis {
    pub fn kind(&self) -> &'static str {
        match self {
            Basis::Owner => "owner",
        }
    }

    pub fn id(&self) -> &str {
        match self {
            Basis::Owner => "",
        }
    }
}

/// Decides an access. Anything not explicitly allowed is denied; a denial carries no detail
/// because callers answer it as "not found".
pub fn decide(actor: &ActorFacts, action: Action, doc: &DocumentFacts) -> Option<Basis> {
    if actor.tenant_id != doc.tenant_id || doc.deleted {
        return None;
    }
    match actor.role {
        Role::Citizen if actor.account_id == doc.owner_id => match action {
            Action::ReadMetadata
            | Action::ReadContent
            | Action::Replace
            | Action::Delete
            | Action::Check => Some(Basis::Owner),
        },
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deny_by_default() {
        let doc = DocumentFacts {
            tenant_id: "t",
            owner_id: "c1",
            deleted: false,
        };
        let owner = ActorFacts {
            tenant_id: "t",
            account_id: "c1",
            role: Role::Citizen,
        };
        let other = ActorFacts {
            tenant_id: "t",
            account_id: "c2",
            role: Role::Citizen,
        };
        let foreign = ActorFacts {
            tenant_id: "u",
            account_id: "c1",
            role: Role::Citizen,
        };
        let admin = ActorFacts {
            tenant_id: "t",
            account_id: "a",
            role: Role::Admin,
        };
        assert_eq!(
            decide(&owner, Action::ReadContent, &doc),
            Some(Basis::Owner)
        );
        assert_eq!(decide(&other, Action::ReadMetadata, &doc), None);
        assert_eq!(decide(&foreign, Action::ReadMetadata, &doc), None);
        assert_eq!(decide(&admin, Action::ReadContent, &doc), None);
        let gone = DocumentFacts {
            deleted: true,
            ..doc
        };
        assert_eq!(decide(&owner, Action::ReadContent, &gone), None);
    }
}
