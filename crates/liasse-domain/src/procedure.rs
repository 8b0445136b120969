//! Procedures (démarches): which documents a request needs, personalised by the answers and
//! the household members it concerns.

use serde::{Deserialize, Serialize};

use crate::condition::Condition;

/// Who a requirement is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum For {
    /// The citizen themself.
    Citizen,
    /// Each household member the request concerns (each child for a school registration).
    EachMember,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Requirement {
    /// Stable key within the procedure (`domicile`, `vaccins`).
    pub key: String,
    /// Document type code.
    #[serde(rename = "type")]
    pub type_code: String,
    #[serde(default = "yes")]
    pub mandatory: bool,
    #[serde(rename = "for", default = "for_citizen")]
    pub for_whom: For,
    /// Shown to the citizen; defaults to the type's label.
    #[serde(default)]
    pub label: Option<String>,
    /// Only required when this holds on the answers (e.g. `answers.owner == false`).
    #[serde(default)]
    pub condition: Option<Condition>,
}

fn yes() -> bool {
    true
}
fn for_citizen() -> For {
    For::Citizen
}
fn default_processing_days() -> u32 {
    15
}
fn default_reminder_days() -> u32 {
    7
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Procedure {
    pub code: String,
    pub title: String,
    pub domain: String,
    #[serde(default)]
    pub description: String,
    pub requirements: Vec<Requirement>,
    /// Expected answers: name → `number`, `boolean`, `string` or `date`.
    #[serde(default)]
    pub questions: std::collections::BTreeMap<String, String>,
    /// Target processing time (days) after submission; later requests are late.
    #[serde(default = "default_processing_days")]
    pub processing_days: u32,
    /// Days after submission when an untouched request is flagged urgent.
    #[serde(default = "default_reminder_days")]
    pub reminder_days: u32,
    /// Open season: closed procedures accept no new requests.
    #[serde(default = "yes")]
    pub open: bool,
}

/// A requirement made concrete for one request.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Expanded {
    /// `key` for the citizen, `key:MEMBER_ID` for a member.
    pub id: String,
    pub key: String,
    pub type_code: String,
    pub mandatory: bool,
    /// `None` for the citizen, or the member's id.
    pub subject: Option<String>,
    pub label: Option<String>,
}

const QUESTION_KINDS: [&str; 4] = ["number", "boolean", "string", "date"];

impl Procedure {
    /// Checks a definition before it is saved; messages in French for administrators.
    pub fn validate(&self) -> Result<(), String> {
        let code_ok = (2..=64).contains(&self.code.len())
            && self
                .code
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
        if !code_ok {
            return Err(
                "le code doit compter 2 à 64 caractères parmi a-z, 0-9, « - » et « _ »".into(),
            );
        }
        if self.title.trim().is_empty() || self.domain.trim().is_empty() {
            return Err("le titre et le domaine sont obligatoires".into());
        }
        for (name, kind) in &self.questions {
            if !QUESTION_KINDS.contains(&kind.as_str()) {
                return Err(format!(
                    "la question « {name} » a un type inconnu « {kind} » : number, boolean, string ou date"
                ));
            }
        }
        let mut keys = std::collections::HashSet::new();
        for r in &self.requirements {
            if r.key.is_empty()
                || r.key.contains(':')
                || r.key.len() > 64
                || !keys.insert(r.key.clone())
            {
                return Err(format!(
                    "clé de justificatif « {} » vide, en double ou invalide",
                    r.key
                ));
            }
            if let Some(c) = &r.condition {
                for path in c.answer_paths() {
                    let root = path.split('.').next().unwrap_or_default();
                    if !self.questions.is_empty() && !self.questions.contains_key(root) {
                        return Err(format!(
                            "la condition « {} » lit answers.{root}, qui n'est pas une question de la démarche",
                            c.source()
                        ));
                    }
                }
            }
        }
        Ok(())
    }

    /// Checks answers against the declared questions.
    pub fn check_answers(&self, answers: &serde_json::Value) -> Result<(), String> {
        let Some(obj) = answers.as_object() else {
            return Err("les réponses doivent être un objet JSON".into());
        };
        if self.questions.is_empty() {
            return Ok(());
        }
        for (name, value) in obj {
            let Some(kind) = self.questions.get(name) else {
                return Err(format!("la démarche ne pose pas la question « {name} »"));
            };
            let ok = match kind.as_str() {
                "number" => value.is_number(),
                "boolean" => value.is_boolean(),
                "date" => value
                    .as_str()
                    .is_some_and(|s| crate::doctype::parse_date(s).is_ok()),
                _ => value.is_string(),
            } || value.is_null();
            if !ok {
                return Err(format!("la réponse à « {name} » doit être de type {kind}"));
            }
        }
        Ok(())
    }

    /// The personalised list of required documents.
    pub fn expand(
        &self,
        answers: &serde_json::Value,
        household: &serde_json::Value,
        members: &[String],
    ) -> Vec<Expanded> {
        let mut out = Vec::new();
        for r in &self.requirements {
            if r.condition
                .as_ref()
                .is_some_and(|c| !c.eval(answers, household))
            {
                continue;
            }
            let subjects: Vec<Option<String>> = match r.for_whom {
                For::Citizen => vec![None],
                For::EachMember => members.iter().cloned().map(Some).collect(),
            };
            for subject in subjects {
                out.push(Expanded {
                    id: match &subject {
                        Some(m) => format!("{}:{m}", r.key),
                        None => r.key.clone(),
                    },
                    key: r.key.clone(),
                    type_code: r.type_code.clone(),
                    mandatory: r.mandatory,
                    subject,
                    label: r.label.clone(),
                });
            }
        }
        out
    }
}
