//! The access policy: one function, `authorize`, decides everything an actor may do, deny by
//! default, and says which basis allowed it so that the journal can record it.
//!
//! Callers gather plain facts (the actor, the document, the request, the grants) and name what
//! they are about to do as an `Access`; pages ask `allows` or `menu` what to show. No role or
//! right is compared anywhere else (the workspace's lint test fails on one).

mod access;
mod actor;
mod document;
mod menu;
mod request;
mod role;
#[cfg(test)]
mod tests;

pub use access::{Access, Denial, Op, Space, Task, VaultOp, Warrant};
pub use actor::ActorFacts;
pub use document::{Action, Basis, Context, DocumentFacts, GrantFacts, RequestFacts};
pub use menu::{Page, home, menu};
pub use request::{RequestRecord, listed_domains, request_is_open};
pub use role::{Right, Role, is_partner_account, is_staff_account, is_vault_account};

use access::{DEPOSIT, PROVIDER};

/// Decides an access. Every arm names who is allowed; whatever is not named is denied.
pub fn authorize(actor: &ActorFacts, access: &Access) -> Result<Warrant, Denial> {
    match access {
        Access::Document { action, doc, ctx } => {
            document::decide_document(actor, *action, doc, ctx)
                .map(Warrant::Document)
                .ok_or(Denial::Hidden)
        }
        Access::OwnVault(_)
        | Access::ExportVault
        | Access::Household(Op::List | Op::Add)
        | Access::Sharing(Op::List | Op::Add)
        | Access::ProviderConsent
        | Access::CreateRequest => citizen(actor, Denial::Forbidden),
        Access::Household(Op::Remove) | Access::Sharing(Op::Remove) => {
            citizen(actor, Denial::Hidden)
        }
        Access::ListRequests => match actor.role {
            Role::Citizen => Ok(Warrant::Owner),
            Role::Agent | Role::Manager => Ok(Warrant::Role(actor.role)),
            Role::Admin | Role::Service => Err(Denial::Forbidden),
        },
        Access::ReceivedGrants => match actor.role {
            Role::Service => Ok(Warrant::Role(Role::Service)),
            Role::Citizen | Role::Agent | Role::Manager | Role::Admin => Err(Denial::Forbidden),
        },
        Access::CitizenFiles => match actor.role {
            Role::Agent | Role::Manager | Role::Service => Ok(Warrant::Role(actor.role)),
            Role::Citizen | Role::Admin => Err(Denial::Forbidden),
        },
        Access::DepositForCitizen { scopes } => deposit_for(actor, scopes),
        Access::DepositTypeForCitizen { domain, scopes } => {
            let w = deposit_for(actor, scopes)?;
            // Letters are every agent's business; other types need the modify right.
            match w {
                Warrant::Role(_) if *domain == "courrier" => Ok(w),
                Warrant::Role(_) if actor.right_on(domain) >= Right::Modify => {
                    Ok(Warrant::Domain(domain.to_string()))
                }
                Warrant::Role(_) => Err(Denial::Forbidden),
                Warrant::Scope(_) => Ok(w),
                Warrant::Owner | Warrant::Document(_) | Warrant::Domain(_) => {
                    Err(Denial::Forbidden)
                }
            }
        }
        Access::ReadRequest(r) => request::read(actor, r),
        Access::ChangeRequest(r) => request::change(actor, r),
        Access::ReadInternalNotes(r) => request::read_internal_notes(actor, r),
        Access::HandleRequest(r) | Access::AddNote(r) | Access::WriteLetter(r) => {
            request::handle(actor, r)
        }
        Access::Transition { request, to } => request::transition(actor, request, to),
        Access::Write(r) => request::write(actor, r),
        Access::Lock { request, force } => request::lock(actor, request, *force),
        Access::Unlock(r) => request::unlock(actor, r),
        Access::PutProcedure { domain } => match actor.role {
            Role::Admin => Ok(Warrant::Role(Role::Admin)),
            Role::Manager if actor.right_on(domain) >= Right::Manage => {
                Ok(Warrant::Domain(domain.to_string()))
            }
            Role::Citizen | Role::Agent | Role::Manager | Role::Service => Err(Denial::Forbidden),
        },
        Access::Dashboard | Access::Digest | Access::Enter(Space::Agency) => staff(actor),
        Access::Statistics => match actor.role {
            Role::Manager if !actor.domains_with(Right::Consult).is_empty() => {
                Ok(Warrant::Role(Role::Manager))
            }
            Role::Citizen | Role::Agent | Role::Manager | Role::Admin | Role::Service => {
                Err(Denial::Forbidden)
            }
        },
        Access::Enter(Space::Statistics) => match actor.role {
            Role::Manager => Ok(Warrant::Role(Role::Manager)),
            Role::Citizen | Role::Agent | Role::Admin | Role::Service => Err(Denial::Forbidden),
        },
        Access::Enter(Space::Citizen) => citizen(actor, Denial::Forbidden),
        Access::OwnSecondFactor | Access::Enter(Space::Account) => match actor.role {
            Role::Agent | Role::Manager | Role::Admin => Ok(Warrant::Role(actor.role)),
            Role::Citizen | Role::Service => Err(Denial::Forbidden),
        },
        Access::Administer(_) | Access::Enter(Space::Administration) => match actor.role {
            Role::Admin => Ok(Warrant::Role(Role::Admin)),
            Role::Citizen | Role::Agent | Role::Manager | Role::Service => Err(Denial::Forbidden),
        },
    }
}

/// Whether a password login of this account must give a second factor that it has not set
/// up yet: admins of a tenant that requires one (`require_admin_totp`). An account that set
/// one up always gives it, whatever its role.
pub fn second_factor_required(role: Role, tenant_requires_for_admins: bool) -> bool {
    match role {
        Role::Admin => tenant_requires_for_admins,
        Role::Citizen | Role::Agent | Role::Manager | Role::Service => false,
    }
}

/// Whether the policy allows it: what pages ask to decide what to show.
pub fn allows(actor: &ActorFacts, access: &Access) -> bool {
    authorize(actor, access).is_ok()
}

/// Whether the actor knows citizens only by pairwise ids: a service client never sees a
/// citizen's internal id (nor a household member's), in an answer or in a path it uses, so that
/// two clients cannot link what they know of one person.
pub fn pseudonymous(actor: &ActorFacts) -> bool {
    match actor.role {
        Role::Service => true,
        Role::Citizen | Role::Agent | Role::Manager | Role::Admin => false,
    }
}

/// The document decision, as the listings use it: the basis, or `None` for "not found".
pub fn decide(
    actor: &ActorFacts,
    action: Action,
    doc: &DocumentFacts,
    ctx: &Context,
) -> Option<Basis> {
    match authorize(actor, &Access::Document { action, doc, ctx }) {
        Ok(Warrant::Document(b)) => Some(b),
        _ => None,
    }
}

fn citizen(actor: &ActorFacts, denial: Denial) -> Result<Warrant, Denial> {
    match actor.role {
        Role::Citizen => Ok(Warrant::Owner),
        Role::Agent | Role::Manager | Role::Admin | Role::Service => Err(denial),
    }
}

fn staff(actor: &ActorFacts) -> Result<Warrant, Denial> {
    match actor.role {
        Role::Agent | Role::Manager => Ok(Warrant::Role(actor.role)),
        Role::Citizen | Role::Admin | Role::Service => Err(Denial::Forbidden),
    }
}

/// Agents deposit for citizens; service clients with the `provider` scope push certified
/// documents, with the `deposit` scope generated ones.
fn deposit_for(actor: &ActorFacts, scopes: &[String]) -> Result<Warrant, Denial> {
    let has = |s: &str| scopes.iter().any(|x| x == s);
    match actor.role {
        Role::Agent | Role::Manager => Ok(Warrant::Role(actor.role)),
        Role::Service if has(PROVIDER) => Ok(Warrant::Scope(PROVIDER)),
        Role::Service if has(DEPOSIT) => Ok(Warrant::Scope(DEPOSIT)),
        Role::Citizen | Role::Admin | Role::Service => Err(Denial::Forbidden),
    }
}
