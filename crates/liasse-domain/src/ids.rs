//! Identifiers: UUIDv7 as text, so that ids sort by creation time on both databases.

use uuid::Uuid;

/// A new time-ordered identifier in its canonical text form.
pub fn new_id() -> String {
    Uuid::now_v7().to_string()
}

/// Whether `s` is a well-formed identifier; used to refuse garbage before it reaches SQL.
pub fn is_valid_id(s: &str) -> bool {
    Uuid::try_parse(s).is_ok()
}
