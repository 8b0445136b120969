//! What the pages show: the menu of an actor and where they land, built from the spaces the
//! policy lets them enter, so that no view compares roles.

use super::access::{Access, Space};
use super::actor::ActorFacts;
use super::allows;

/// The entries of the site's menu, in their order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Page {
    Documents,
    Deposit,
    Requests,
    Letters,
    Household,
    Sharing,
    Journal,
    Notifications,
    Preferences,
    Dashboard,
    Counter,
    Statistics,
    Administration,
    DocumentTypes,
    Procedures,
    Staff,
    Appearance,
    /// The staff's own account security (second factor), last so that no one lands there.
    Security,
}

impl Page {
    pub const ALL: [Page; 18] = [
        Page::Documents,
        Page::Deposit,
        Page::Requests,
        Page::Letters,
        Page::Household,
        Page::Sharing,
        Page::Journal,
        Page::Notifications,
        Page::Preferences,
        Page::Dashboard,
        Page::Counter,
        Page::Statistics,
        Page::Administration,
        Page::DocumentTypes,
        Page::Procedures,
        Page::Staff,
        Page::Appearance,
        Page::Security,
    ];

    /// The space a page belongs to.
    pub fn space(self) -> Space {
        match self {
            Page::Documents
            | Page::Deposit
            | Page::Requests
            | Page::Letters
            | Page::Household
            | Page::Sharing
            | Page::Journal
            | Page::Notifications
            | Page::Preferences => Space::Citizen,
            Page::Dashboard | Page::Counter => Space::Agency,
            Page::Statistics => Space::Statistics,
            Page::Administration
            | Page::DocumentTypes
            | Page::Procedures
            | Page::Staff
            | Page::Appearance => Space::Administration,
            Page::Security => Space::Account,
        }
    }
}

/// The pages the actor may open, in menu order.
pub fn menu(actor: &ActorFacts) -> Vec<Page> {
    Page::ALL
        .into_iter()
        .filter(|p| allows(actor, &Access::Enter(p.space())))
        .collect()
}

/// Where the actor starts: the first entry of their menu (none for a service client, which
/// has no pages).
pub fn home(actor: &ActorFacts) -> Option<Page> {
    menu(actor).into_iter().next()
}
