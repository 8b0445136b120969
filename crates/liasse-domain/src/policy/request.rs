//! Decisions on requests: who sees one, who changes it, who handles it, and locks.

use super::access::{Denial, Warrant};
use super::actor::ActorFacts;
use super::role::{Right, Role};

/// A request as the policy sees it.
#[derive(Clone, Debug)]
pub struct RequestRecord<'a> {
    pub tenant_id: &'a str,
    pub citizen_id: &'a str,
    pub domain: &'a str,
    /// `draft`, `submitted`, `in_progress`, `complement`, `completed`, `rejected`, `closed`.
    pub state: &'a str,
    pub lock_holder: Option<&'a str>,
    /// The lock has not expired.
    pub lock_live: bool,
}

/// A request is open while it is being handled (submitted, in progress, or waiting for a
/// complement): attaching a document is consent for that time only.
pub fn request_is_open(state: &str) -> bool {
    matches!(state, "submitted" | "in_progress" | "complement")
}

/// The domains whose requests a staff member lists: those they may at least consult.
pub fn listed_domains(a: &ActorFacts) -> Vec<String> {
    a.domains_with(Right::Consult)
        .into_iter()
        .map(|(d, _)| d.to_string())
        .collect()
}

impl RequestRecord<'_> {
    fn owned_by(&self, a: &ActorFacts) -> bool {
        a.role == Role::Citizen && a.account_id == self.citizen_id
    }

    fn live_holder(&self) -> Option<&str> {
        self.lock_holder.filter(|_| self.lock_live)
    }

    /// The actor's warrant when they handle it as an agent of its domain.
    fn handled_by(&self, a: &ActorFacts) -> Option<Warrant> {
        a.staff_with(self.domain, Right::Modify)
            .then(|| Warrant::Domain(self.domain.to_string()))
    }
}

fn same_tenant(a: &ActorFacts, r: &RequestRecord) -> Result<(), Denial> {
    if a.tenant_id == r.tenant_id {
        Ok(())
    } else {
        Err(Denial::Hidden)
    }
}

/// Its citizen, or agents of its domain once submitted.
pub(super) fn read(a: &ActorFacts, r: &RequestRecord) -> Result<Warrant, Denial> {
    same_tenant(a, r)?;
    match a.role {
        Role::Citizen if r.owned_by(a) => Ok(Warrant::Owner),
        Role::Agent | Role::Manager
            if r.state != "draft" && a.right_on(r.domain) >= Right::Consult =>
        {
            Ok(Warrant::Domain(r.domain.to_string()))
        }
        Role::Citizen | Role::Agent | Role::Manager | Role::Admin | Role::Service => {
            Err(Denial::Hidden)
        }
    }
}

pub(super) fn change(a: &ActorFacts, r: &RequestRecord) -> Result<Warrant, Denial> {
    same_tenant(a, r)?;
    if r.owned_by(a) {
        Ok(Warrant::Owner)
    } else {
        Err(Denial::Hidden)
    }
}

/// Internal notes are for the agents who see the request, never for its citizen.
pub(super) fn read_internal_notes(a: &ActorFacts, r: &RequestRecord) -> Result<Warrant, Denial> {
    match read(a, r)? {
        Warrant::Owner => Err(Denial::Forbidden),
        w => Ok(w),
    }
}

pub(super) fn handle(a: &ActorFacts, r: &RequestRecord) -> Result<Warrant, Denial> {
    same_tenant(a, r)?;
    r.handled_by(a).ok_or(Denial::Forbidden)
}

/// Who moves a request from its state to `to`: its citizen sends it, the agents of its
/// domain with the modify right handle it.
pub(super) fn transition(a: &ActorFacts, r: &RequestRecord, to: &str) -> Result<Warrant, Denial> {
    same_tenant(a, r)?;
    let owner = r.owned_by(a).then_some(Warrant::Owner);
    let handler = r.handled_by(a);
    let allowed = match (r.state, to) {
        ("draft", "submitted") | ("complement", "submitted") => owner.clone(),
        ("submitted", "in_progress")
        | ("submitted", "rejected")
        | ("submitted", "complement")
        | ("in_progress", "completed")
        | ("in_progress", "complement")
        | ("in_progress", "rejected")
        | ("completed", "closed")
        | ("rejected", "closed") => handler.clone(),
        _ => None,
    };
    match allowed {
        Some(w) => Ok(w),
        None if owner.is_some() || handler.is_some() => Err(Denial::WrongState),
        None => Err(Denial::Forbidden),
    }
}

/// Nobody else's live lock stands in the way: agents lock each other out, and an agent's lock
/// keeps the citizen from changing what is being looked at.
pub(super) fn write(a: &ActorFacts, r: &RequestRecord) -> Result<Warrant, Denial> {
    same_tenant(a, r)?;
    let holder = r.live_holder();
    if r.owned_by(a) {
        return match holder {
            Some(h) if h != r.citizen_id => Err(Denial::BeingHandled),
            _ => Ok(Warrant::Owner),
        };
    }
    match a.role {
        Role::Agent | Role::Manager => match holder {
            Some(h) if h != a.account_id => Err(Denial::Locked),
            _ => Ok(Warrant::Domain(r.domain.to_string())),
        },
        Role::Citizen | Role::Admin | Role::Service => Err(Denial::Forbidden),
    }
}

/// Agents with the modify right lock; a manager with the manage right breaks another's lock.
pub(super) fn lock(a: &ActorFacts, r: &RequestRecord, force: bool) -> Result<Warrant, Denial> {
    let w = handle(a, r)?;
    match r.live_holder() {
        Some(h) if h != a.account_id => {
            let may_break =
                force && a.role == Role::Manager && a.right_on(r.domain) >= Right::Manage;
            if may_break {
                Ok(w)
            } else {
                Err(Denial::Locked)
            }
        }
        _ => Ok(w),
    }
}

/// Only the holder releases a lock, expired or not.
pub(super) fn unlock(a: &ActorFacts, r: &RequestRecord) -> Result<Warrant, Denial> {
    same_tenant(a, r)?;
    if r.lock_holder == Some(a.account_id) {
        Ok(Warrant::Domain(r.domain.to_string()))
    } else {
        Err(Denial::NotHolder)
    }
}
