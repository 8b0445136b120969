//! The journal as CSV, for a spreadsheet.

use super::*;

pub(super) const CSV_COLUMNS: [&str; 12] = [
    "seq",
    "at",
    "actor_kind",
    "actor_name",
    "actor_service",
    "action",
    "object_kind",
    "object_id",
    "basis_kind",
    "basis_id",
    "details",
    "hash",
];

/// The journal as CSV (RFC 4180: comma separated, CRLF line ends, fields quoted when needed).
pub fn journal_csv(entries: &[JournalItem]) -> String {
    let mut out = String::new();
    push_row(&mut out, CSV_COLUMNS.iter().map(|c| c.to_string()));
    for e in entries {
        push_row(
            &mut out,
            [
                e.seq.to_string(),
                e.at.clone(),
                e.actor_kind.clone(),
                e.actor_name.clone(),
                e.actor_service.clone(),
                e.action.clone(),
                e.object_kind.clone(),
                e.object_id.clone(),
                e.basis_kind.clone(),
                e.basis_id.clone(),
                e.details.to_string(),
                e.hash.clone(),
            ],
        );
    }
    out
}

pub(super) fn push_row(out: &mut String, fields: impl IntoIterator<Item = String>) {
    for (i, f) in fields.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&csv_field(&f));
    }
    out.push_str("\r\n");
}

pub(super) fn csv_field(s: &str) -> String {
    // Names come from other people (an agent's display name): a leading =, +, - or @ would
    // make a spreadsheet run it as a formula, so such a cell is prefixed with an apostrophe
    // (OWASP's advice). journal.json keeps the exact text.
    let s = if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_string()
    };
    if s.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}
