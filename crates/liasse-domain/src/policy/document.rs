//! Access to a document, and the basis that allows it.
//!
//! Bases, in the order they are tried: the citizen themself; an open request of a domain where
//! the agent has the needed right and to which the document is attached (attaching is
//! consent); an explicit grant of the citizen, live today; a document the actor's own service
//! deposited. Administrators and operators have no basis to read any document.

use serde::Serialize;

use super::actor::ActorFacts;
use super::role::{Right, Role};

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
    /// Validate or reject.
    Review,
}

impl Action {
    /// The right an agent needs on the basis' domain.
    fn needed(self) -> Option<Right> {
        match self {
            Action::ReadMetadata | Action::ReadContent | Action::Check => Some(Right::Consult),
            Action::Review => Some(Right::Modify),
            // Only the citizen replaces or deletes their documents.
            Action::Replace | Action::Delete => None,
        }
    }

    fn is_read(self) -> bool {
        matches!(
            self,
            Action::ReadMetadata | Action::ReadContent | Action::Check
        )
    }
}

/// The facts about a document that the policy needs.
#[derive(Clone, Debug)]
pub struct DocumentFacts<'a> {
    pub tenant_id: &'a str,
    pub id: &'a str,
    pub owner_id: &'a str,
    pub type_code: &'a str,
    pub deleted: bool,
    /// The id of the service whose member deposited it (empty for the citizen's own
    /// deposits).
    pub depositor_service_id: &'a str,
}

/// A grant of the document's owner.
#[derive(Clone, Debug)]
pub struct GrantFacts<'a> {
    pub id: &'a str,
    /// `domain` or `client`.
    pub grantee_kind: &'a str,
    pub grantee: &'a str,
    /// `documents` or `types`.
    pub scope_kind: &'a str,
    pub scope: &'a [String],
    /// Last valid day, `YYYY-MM-DD`.
    pub valid_until: &'a str,
    pub revoked: bool,
}

impl GrantFacts<'_> {
    fn covers(&self, doc: &DocumentFacts, today: &str) -> bool {
        let in_scope = match self.scope_kind {
            "documents" => self.scope.iter().any(|s| s == doc.id),
            "types" => self.scope.iter().any(|s| s == doc.type_code),
            _ => false,
        };
        !self.revoked && self.valid_until >= today && in_scope
    }
}

/// A request the document is attached to.
#[derive(Clone, Debug)]
pub struct RequestFacts<'a> {
    pub id: &'a str,
    pub domain: &'a str,
    /// Submitted or in progress: attaching is consent only while the request is being handled.
    pub open: bool,
}

/// Everything besides the actor and the document that can ground an access.
#[derive(Clone, Debug, Default)]
pub struct Context<'a> {
    /// `YYYY-MM-DD`, to judge grants' validity.
    pub today: &'a str,
    pub grants: &'a [GrantFacts<'a>],
    pub requests: &'a [RequestFacts<'a>],
}

/// Why an access is allowed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "id", rename_all = "lowercase")]
pub enum Basis {
    /// The citizen acting on their own documents.
    Owner,
    /// An open request the document is attached to.
    Request(String),
    /// An explicit grant of the citizen.
    Grant(String),
    /// The actor's service deposited the document.
    Deposit(String),
}

impl Basis {
    pub fn kind(&self) -> &'static str {
        match self {
            Basis::Owner => "owner",
            Basis::Request(_) => "request",
            Basis::Grant(_) => "grant",
            Basis::Deposit(_) => "deposit",
        }
    }

    pub fn id(&self) -> &str {
        match self {
            Basis::Owner => "",
            Basis::Request(id) | Basis::Grant(id) | Basis::Deposit(id) => id,
        }
    }
}

/// Decides an access to a document. Anything not explicitly allowed is denied; a denial carries
/// no detail because callers answer it as "not found".
pub(super) fn decide_document(
    actor: &ActorFacts,
    action: Action,
    doc: &DocumentFacts,
    ctx: &Context,
) -> Option<Basis> {
    if actor.tenant_id != doc.tenant_id || doc.deleted {
        return None;
    }
    match actor.role {
        Role::Citizen => {
            (actor.account_id == doc.owner_id && action != Action::Review).then_some(Basis::Owner)
        }
        Role::Agent | Role::Manager => {
            let needed = action.needed()?;
            if let Some(r) = ctx
                .requests
                .iter()
                .find(|r| r.open && actor.right_on(r.domain) >= needed)
            {
                return Some(Basis::Request(r.id.to_string()));
            }
            let by_grant = ctx.grants.iter().find(|g| {
                g.grantee_kind == "domain"
                    && g.covers(doc, ctx.today)
                    && actor.right_on(g.grantee) >= needed
            });
            if let Some(g) = by_grant {
                return Some(Basis::Grant(g.id.to_string()));
            }
            deposited_by_actor(actor, action, doc)
        }
        Role::Service => {
            if !action.is_read() {
                return None;
            }
            let by_grant = ctx.grants.iter().find(|g| {
                g.grantee_kind == "client"
                    && g.grantee == actor.account_id
                    && g.covers(doc, ctx.today)
            });
            if let Some(g) = by_grant {
                return Some(Basis::Grant(g.id.to_string()));
            }
            deposited_by_actor(actor, action, doc)
        }
        Role::Admin => None,
    }
}

/// A service reads back what it deposited (letters, generated documents), nothing more.
fn deposited_by_actor(actor: &ActorFacts, action: Action, doc: &DocumentFacts) -> Option<Basis> {
    (action.is_read()
        && !actor.service_id.is_empty()
        && actor.service_id == doc.depositor_service_id)
        .then(|| Basis::Deposit(actor.service_id.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::decide;

    fn doc<'a>() -> DocumentFacts<'a> {
        DocumentFacts {
            tenant_id: "t",
            id: "d1",
            owner_id: "c1",
            type_code: "rib",
            deleted: false,
            depositor_service_id: "",
        }
    }

    #[test]
    fn deny_by_default() {
        let no_rights: Vec<(String, Right)> = vec![];
        let ctx = Context {
            today: "2026-01-15",
            ..Context::default()
        };
        let owner = ActorFacts {
            tenant_id: "t",
            account_id: "c1",
            role: Role::Citizen,
            service_id: "",
            rights: &no_rights,
        };
        let other = ActorFacts {
            account_id: "c2",
            ..owner.clone()
        };
        let foreign = ActorFacts {
            tenant_id: "u",
            ..owner.clone()
        };
        let admin = ActorFacts {
            account_id: "a",
            role: Role::Admin,
            ..owner.clone()
        };
        let agent = ActorFacts {
            account_id: "g",
            role: Role::Agent,
            service_id: "scol",
            ..owner.clone()
        };
        assert_eq!(
            decide(&owner, Action::ReadContent, &doc(), &ctx),
            Some(Basis::Owner)
        );
        assert_eq!(decide(&owner, Action::Review, &doc(), &ctx), None);
        assert_eq!(decide(&other, Action::ReadMetadata, &doc(), &ctx), None);
        assert_eq!(decide(&foreign, Action::ReadMetadata, &doc(), &ctx), None);
        assert_eq!(decide(&admin, Action::ReadContent, &doc(), &ctx), None);
        assert_eq!(decide(&agent, Action::ReadContent, &doc(), &ctx), None);
        let gone = DocumentFacts {
            deleted: true,
            ..doc()
        };
        assert_eq!(decide(&owner, Action::ReadContent, &gone, &ctx), None);
    }

    #[test]
    fn grants_requests_and_deposits() {
        let consult = vec![("social".to_string(), Right::Consult)];
        let modify = vec![("social".to_string(), Right::Modify)];
        let types = vec!["rib".to_string()];
        let grant = GrantFacts {
            id: "g1",
            grantee_kind: "domain",
            grantee: "social",
            scope_kind: "types",
            scope: &types,
            valid_until: "2026-02-01",
            revoked: false,
        };
        let grants = [grant.clone()];
        let ctx = Context {
            today: "2026-01-15",
            grants: &grants,
            requests: &[],
        };
        let agent = ActorFacts {
            tenant_id: "t",
            account_id: "a",
            role: Role::Agent,
            service_id: "ccas",
            rights: &consult,
        };
        assert_eq!(
            decide(&agent, Action::ReadContent, &doc(), &ctx),
            Some(Basis::Grant("g1".into()))
        );
        assert_eq!(decide(&agent, Action::Review, &doc(), &ctx), None);
        let modifier = ActorFacts {
            rights: &modify,
            ..agent.clone()
        };
        assert_eq!(
            decide(&modifier, Action::Review, &doc(), &ctx),
            Some(Basis::Grant("g1".into()))
        );
        assert_eq!(decide(&modifier, Action::Delete, &doc(), &ctx), None);
        let expired = Context {
            today: "2026-02-02",
            ..ctx.clone()
        };
        assert_eq!(decide(&agent, Action::ReadContent, &doc(), &expired), None);
        let revoked = [GrantFacts {
            revoked: true,
            ..grant.clone()
        }];
        assert_eq!(
            decide(
                &agent,
                Action::ReadContent,
                &doc(),
                &Context {
                    grants: &revoked,
                    ..ctx.clone()
                }
            ),
            None
        );
        let requests = [RequestFacts {
            id: "r1",
            domain: "social",
            open: true,
        }];
        let closed = [RequestFacts {
            id: "r1",
            domain: "social",
            open: false,
        }];
        let none: [GrantFacts; 0] = [];
        assert_eq!(
            decide(
                &agent,
                Action::ReadContent,
                &doc(),
                &Context {
                    today: "2026-01-15",
                    grants: &none,
                    requests: &requests
                }
            ),
            Some(Basis::Request("r1".into()))
        );
        assert_eq!(
            decide(
                &agent,
                Action::ReadContent,
                &doc(),
                &Context {
                    today: "2026-01-15",
                    grants: &none,
                    requests: &closed
                }
            ),
            None
        );
        let letter = DocumentFacts {
            depositor_service_id: "ccas",
            ..doc()
        };
        let no_rights: Vec<(String, Right)> = vec![];
        let colleague = ActorFacts {
            rights: &no_rights,
            ..agent.clone()
        };
        assert_eq!(
            decide(
                &colleague,
                Action::ReadContent,
                &letter,
                &Context::default()
            ),
            Some(Basis::Deposit("ccas".into()))
        );
        assert_eq!(
            decide(&colleague, Action::Review, &letter, &Context::default()),
            None
        );
    }
}
