//! What can be asked of the policy (`Access`), and what it answers: the basis the journal
//! records (`Warrant`) or why not (`Denial`).

use serde::Serialize;

use super::document::{Action, Basis, Context, DocumentFacts};
use super::request::RequestRecord;
use super::role::Role;

/// Everything an actor can try that the policy decides, with the facts it needs. Each caller
/// names what it is about to do; nothing is allowed that is not named here.
#[derive(Clone, Debug)]
pub enum Access<'a> {
    /// Any action on a document (see `Action`).
    Document {
        action: Action,
        doc: &'a DocumentFacts<'a>,
        ctx: &'a Context<'a>,
    },
    /// Deposit into, or list, the actor's own vault.
    OwnVault(VaultOp),
    /// Export the actor's own vault.
    ExportVault,
    /// The actor's household members.
    Household(Op),
    /// The actor's grants (sharing).
    Sharing(Op),
    /// List the grants citizens gave to the actor (a service client learns whom it may read).
    ReceivedGrants,
    /// Opt in to (or out of) a trusted provider's certified documents.
    ProviderConsent,
    /// Look at what a basis lets the actor see of a citizen's documents.
    CitizenFiles,
    /// Deposit into a citizen's vault, before the document type is known.
    DepositForCitizen {
        scopes: &'a [String],
    },
    /// Deposit a document of a type of `domain` into a citizen's vault.
    DepositTypeForCitizen {
        domain: &'a str,
        scopes: &'a [String],
    },
    /// Start a request.
    CreateRequest,
    /// List the requests the actor may see.
    ListRequests,
    /// See a request.
    ReadRequest(&'a RequestRecord<'a>),
    /// Change a request as its citizen: answers, attachments.
    ChangeRequest(&'a RequestRecord<'a>),
    /// Read the notes that are internal to agents.
    ReadInternalNotes(&'a RequestRecord<'a>),
    /// Handle a request as an agent of its domain (review its documents, move it on).
    HandleRequest(&'a RequestRecord<'a>),
    /// Move a request to the state `to`.
    Transition {
        request: &'a RequestRecord<'a>,
        to: &'a str,
    },
    /// Write to a request now: nobody else's lock stands in the way.
    Write(&'a RequestRecord<'a>),
    /// Take (or renew) the lock; `force` breaks another agent's.
    Lock {
        request: &'a RequestRecord<'a>,
        force: bool,
    },
    /// Release the lock.
    Unlock(&'a RequestRecord<'a>),
    AddNote(&'a RequestRecord<'a>),
    WriteLetter(&'a RequestRecord<'a>),
    /// Create or replace a procedure of `domain`.
    PutProcedure {
        domain: &'a str,
    },
    /// The agents' dashboard.
    Dashboard,
    /// Requests per procedure and state.
    Statistics,
    /// Hold e-mails for a daily digest.
    Digest,
    /// A tenant administration task.
    Administer(Task),
    /// The actor's own second factor (TOTP, recovery codes): staff who log in with a password.
    OwnSecondFactor,
    /// Open a page of a space.
    Enter(Space),
}

/// Operations on a citizen's own collections.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    List,
    Add,
    /// Names an object: a refusal is answered as "not found", whatever the role.
    Remove,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VaultOp {
    Deposit,
    List,
}

/// The tasks of a tenant administration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Task {
    Catalogue,
    Staff,
    Services,
    Branding,
    Settings,
    /// The tenant's undelivered messages.
    Outbox,
}

/// The parts of the site, each for its audience.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Space {
    /// The citizen's vault and requests.
    Citizen,
    /// The agents' desk: dashboard, counter, requests, citizens.
    Agency,
    Statistics,
    Administration,
    /// The staff's own account: its second factor.
    Account,
}

/// Why an access is allowed: what the journal records as its basis.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub enum Warrant {
    /// The citizen acting on their own account, vault or requests.
    Owner,
    /// A document access and its basis.
    Document(Basis),
    /// The actor's right on this domain.
    Domain(String),
    /// The actor's role alone (a tenant admin, the agents' desk).
    Role(Role),
    /// A service client's scope (`deposit`, `provider`).
    Scope(&'static str),
}

impl Warrant {
    pub fn kind(&self) -> &'static str {
        match self {
            Warrant::Owner => "owner",
            Warrant::Document(b) => b.kind(),
            Warrant::Domain(_) => "domain",
            Warrant::Role(r) => r.code(),
            Warrant::Scope(_) => "scope",
        }
    }

    pub fn id(&self) -> &str {
        match self {
            Warrant::Owner | Warrant::Role(_) => "",
            Warrant::Document(b) => b.id(),
            Warrant::Domain(d) => d,
            Warrant::Scope(s) => s,
        }
    }

    /// A trusted provider pushing a certified document.
    pub fn is_provider(&self) -> bool {
        matches!(self, Warrant::Scope(PROVIDER))
    }

    /// A service client acting through its scopes (deposits come through the API).
    pub fn is_scope(&self) -> bool {
        matches!(self, Warrant::Scope(_))
    }
}

pub(super) const PROVIDER: &str = "provider";
pub(super) const DEPOSIT: &str = "deposit";

/// Why not, as the caller answers it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Denial {
    /// The actor may not know the object exists: "not found".
    Hidden,
    /// The actor may not do this: "forbidden".
    Forbidden,
    /// The actor could act, but not from the request's state: a conflict.
    WrongState,
    /// Another agent holds the request's lock.
    Locked,
    /// An agent is handling the citizen's request.
    BeingHandled,
    /// Only the lock holder releases a lock.
    NotHolder,
}
