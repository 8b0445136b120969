//! The preview of a procedure's conditions evaluated on sample answers.

use std::collections::BTreeMap;

use liasse_domain::condition::Condition;
use liasse_domain::procedure::Procedure;
use serde::Deserialize;

pub struct PreviewLine {
    pub label: String,
    pub condition: String,
    pub applies: bool,
}

/// What the preview shows: each requirement's condition evaluated on sample answers.
pub struct Preview {
    pub answers: String,
    pub children: String,
    pub members: String,
    pub lines: Vec<PreviewLine>,
    pub error: Option<String>,
    pub test: String,
    pub test_result: Option<String>,
}

#[derive(Deserialize, Default)]
pub(super) struct PreviewQuery {
    reponses: Option<String>,
    enfants: Option<String>,
    membres: Option<String>,
    condition: Option<String>,
}

pub(super) fn evaluate(
    p: &Procedure,
    q: &PreviewQuery,
    labels: &BTreeMap<String, String>,
) -> Preview {
    let answers_text = q.reponses.clone().unwrap_or_else(|| "{}".into());
    let children = q.enfants.clone().unwrap_or_else(|| "0".into());
    let members = q.membres.clone().unwrap_or_else(|| "0".into());
    let test = q.condition.clone().unwrap_or_default();
    let mut preview = Preview {
        answers: answers_text.clone(),
        children: children.clone(),
        members: members.clone(),
        lines: Vec::new(),
        error: None,
        test: test.clone(),
        test_result: None,
    };
    let answers: serde_json::Value = match serde_json::from_str(&answers_text) {
        Ok(v @ serde_json::Value::Object(_)) => v,
        _ => {
            preview.error = Some("Les réponses d'exemple doivent être un objet JSON, par exemple {\"canteen\": true}.".into());
            return preview;
        }
    };
    let n_children: i64 = children.trim().parse().unwrap_or(0).max(0);
    let n_members: i64 = members.trim().parse().unwrap_or(0).max(0);
    let household = serde_json::json!({ "children": n_children, "members": n_members, "adults": (n_members - n_children).max(0) + 1 });
    preview.lines = p
        .requirements
        .iter()
        .map(|r| PreviewLine {
            label: r.label.clone().unwrap_or_else(|| {
                labels
                    .get(&r.type_code)
                    .cloned()
                    .unwrap_or_else(|| r.type_code.clone())
            }),
            condition: r
                .condition
                .as_ref()
                .map(|c| c.source().to_string())
                .unwrap_or_else(|| "toujours".into()),
            applies: r
                .condition
                .as_ref()
                .is_none_or(|c| c.eval(&answers, &household)),
        })
        .collect();
    if !test.trim().is_empty() {
        preview.test_result = Some(match Condition::parse(&test) {
            Ok(c) => {
                if c.eval(&answers, &household) {
                    "La condition est vraie pour ces réponses : le justificatif serait demandé."
                        .into()
                } else {
                    "La condition est fausse pour ces réponses : le justificatif ne serait pas demandé.".into()
                }
            }
            Err(e) => format!(
                "Condition incorrecte : {} (à la position {}).",
                e.message,
                e.position + 1
            ),
        });
    }
    preview
}
