//! The document types a depositor may choose, grouped by domain for a form's list.

use liasse_domain::doctype::{Depositor, DocumentType};

use crate::fmt::{self};

pub struct TypeOption {
    pub code: String,
    pub label: String,
    pub selected: bool,
}

pub struct TypeGroup {
    pub label: String,
    pub types: Vec<TypeOption>,
}

/// The catalogue's types a depositor may use, grouped by domain, for a `<select>`.
pub fn type_groups(types: &[DocumentType], who: Depositor, selected: &str) -> Vec<TypeGroup> {
    let mut groups: Vec<TypeGroup> = Vec::new();
    let mut sorted: Vec<&DocumentType> = types
        .iter()
        .filter(|t| t.depositors.contains(&who))
        .collect();
    sorted.sort_by(|a, b| {
        fmt::domain_label(&a.domain)
            .cmp(&fmt::domain_label(&b.domain))
            .then(a.label.cmp(&b.label))
    });
    for t in sorted {
        let label = fmt::domain_label(&t.domain);
        let opt = TypeOption {
            code: t.code.clone(),
            label: t.label.clone(),
            selected: t.code == selected,
        };
        match groups.last_mut() {
            Some(g) if g.label == label => g.types.push(opt),
            _ => groups.push(TypeGroup {
                label,
                types: vec![opt],
            }),
        }
    }
    groups
}
