//! Liasse's domain: types and rules with no I/O.
//!
//! Everything here is deterministic and testable without a database: identifiers, clock
//! arithmetic, the journal's canonical encoding and hash chain, validity rules.

pub mod catalogue;
pub mod clock;
pub mod condition;
pub mod doctype;
pub mod ids;
pub mod journal;
pub mod policy;
pub mod procedure;
pub mod tenant;
