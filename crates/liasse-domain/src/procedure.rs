//! Procedures (démarches): which documents a request needs, personalised by the answers and
//! the household members it concerns.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

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
fn is_zero(n: &u32) -> bool {
    *n == 0
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
    /// Expected answers: name → `number`, `boolean`, `string` or `date`, optionally followed
    /// by `, obligatoire` and, for a string, `, choix : a | b | c` (see [`Question`]).
    #[serde(default)]
    pub questions: std::collections::BTreeMap<String, Question>,
    /// How many household members a request must concern at least (the child of a school
    /// registration). A mandatory `each_member` requirement that applies implies one.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub min_members: u32,
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

/// One question of a procedure. Written as text so that the admin form and stored
/// definitions stay one line each: `boolean`, `string, obligatoire`,
/// `string, obligatoire, choix : naissance | mariage | décès`. An object
/// `{"type": …, "required": …, "choices": […]}` is read too.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Question {
    pub kind: String,
    /// A request cannot be sent without an answer.
    pub required: bool,
    /// When not empty, the only accepted answers (string questions).
    pub choices: Vec<String>,
}

impl Question {
    /// Reads the text form; unknown parts are refused so that a typo does not silently drop
    /// a rule.
    pub fn parse(text: &str) -> Result<Question, String> {
        let mut parts = text.splitn(2, ',');
        let kind = parts.next().unwrap_or_default().trim().to_string();
        let mut q = Question {
            kind,
            required: false,
            choices: Vec::new(),
        };
        let mut rest = parts.next().unwrap_or_default().trim();
        while !rest.is_empty() {
            let (head, tail) = rest.split_once(',').unwrap_or((rest, ""));
            let word = head.trim();
            let lower = word.to_lowercase();
            if lower == "obligatoire" || lower == "required" {
                q.required = true;
                rest = tail.trim();
            } else if let Some(list) = ["choix", "choices"]
                .iter()
                .find_map(|k| lower.starts_with(k).then(|| rest.trim()[k.len()..].trim()))
            {
                // The list runs to the end: a choice may contain a comma.
                let list = list.trim_start_matches(':').trim();
                q.choices = list
                    .split('|')
                    .map(|c| c.trim().to_string())
                    .filter(|c| !c.is_empty())
                    .collect();
                rest = "";
            } else {
                return Err(format!(
                    "question « {text} » : « {word} » n'est pas compris (écrivez par exemple « string, obligatoire, choix : a | b »)"
                ));
            }
        }
        Ok(q)
    }

    /// Whether a (non-null) answer has the question's type and, if any, is one of its choices.
    fn accepts(&self, value: &serde_json::Value) -> bool {
        match self.kind.as_str() {
            "number" => value.is_number(),
            "boolean" => value.is_boolean(),
            "date" => value
                .as_str()
                .is_some_and(|s| crate::doctype::parse_date(s).is_ok()),
            _ => value
                .as_str()
                .is_some_and(|s| self.choices.is_empty() || self.choices.iter().any(|c| c == s)),
        }
    }

    /// What the answer must be, in French.
    fn expected(&self) -> String {
        match self.kind.as_str() {
            "number" => "un nombre".into(),
            "boolean" => "oui ou non".into(),
            "date" => "une date (AAAA-MM-JJ)".into(),
            _ if !self.choices.is_empty() => {
                format!("l'une des valeurs {}", self.choices.join(", "))
            }
            _ => "un texte".into(),
        }
    }
}

impl std::fmt::Display for Question {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.kind)?;
        if self.required {
            write!(f, ", obligatoire")?;
        }
        if !self.choices.is_empty() {
            write!(f, ", choix : {}", self.choices.join(" | "))?;
        }
        Ok(())
    }
}

impl Serialize for Question {
    /// A plain question stays a string (`"boolean"`), as it always was; one with rules is an
    /// object that clients can read without parsing the text form.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        if !self.required && self.choices.is_empty() {
            return serializer.serialize_str(&self.kind);
        }
        let mut st = serializer.serialize_struct("Question", 3)?;
        st.serialize_field("type", &self.kind)?;
        st.serialize_field("required", &self.required)?;
        if !self.choices.is_empty() {
            st.serialize_field("choices", &self.choices)?;
        }
        st.end()
    }
}

impl<'de> Deserialize<'de> for Question {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Question, D::Error> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Object {
            #[serde(rename = "type")]
            kind: String,
            #[serde(default)]
            required: bool,
            #[serde(default)]
            choices: Vec<String>,
        }
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Form {
            Text(String),
            Object(Object),
        }
        match Form::deserialize(deserializer)? {
            Form::Text(t) => Question::parse(&t).map_err(serde::de::Error::custom),
            Form::Object(o) => Ok(Question {
                kind: o.kind,
                required: o.required,
                choices: o.choices,
            }),
        }
    }
}

/// Why a request cannot be sent yet: the field (`answers.NAME`, `members`,
/// `requirements.ID`) and a French sentence.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Gap {
    pub field: String,
    pub detail: String,
}

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
        for (name, q) in &self.questions {
            let kind = &q.kind;
            if !QUESTION_KINDS.contains(&kind.as_str()) {
                return Err(format!(
                    "la question « {name} » a un type inconnu « {kind} » : number, boolean, string ou date"
                ));
            }
            if !q.choices.is_empty() && kind != "string" {
                return Err(format!(
                    "la question « {name} » : des choix ne se donnent qu'à une question de type string"
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
            let Some(q) = self.questions.get(name) else {
                return Err(format!("la démarche ne pose pas la question « {name} »"));
            };
            if !value.is_null() && !q.accepts(value) {
                return Err(format!(
                    "la réponse à « {name} » doit être {}",
                    q.expected()
                ));
            }
        }
        Ok(())
    }

    /// What keeps a request from being sent, besides its documents: required questions not
    /// answered, answers of the wrong type, too few household members. `question_label`
    /// gives the French wording of a question.
    pub fn gaps(
        &self,
        answers: &serde_json::Value,
        household: &serde_json::Value,
        members: &[String],
        question_label: impl Fn(&str) -> String,
    ) -> Vec<Gap> {
        let mut out = Vec::new();
        let empty = serde_json::Map::new();
        let obj = answers.as_object().unwrap_or(&empty);
        for (name, q) in &self.questions {
            let value = obj
                .get(name)
                .filter(|v| !v.is_null() && v.as_str().is_none_or(|s| !s.trim().is_empty()));
            match value {
                None if q.required => out.push(Gap {
                    field: format!("answers.{name}"),
                    detail: format!("répondez à la question « {} »", question_label(name)),
                }),
                Some(v) if !q.accepts(v) => out.push(Gap {
                    field: format!("answers.{name}"),
                    detail: format!(
                        "la réponse à « {} » doit être {}",
                        question_label(name),
                        q.expected()
                    ),
                }),
                _ => {}
            }
        }
        for name in obj.keys() {
            if !self.questions.is_empty() && !self.questions.contains_key(name) {
                out.push(Gap {
                    field: format!("answers.{name}"),
                    detail: format!("la démarche ne pose pas la question « {name} »"),
                });
            }
        }
        let needed = self.min_members_for(answers, household);
        if (members.len() as u64) < u64::from(needed) {
            out.push(Gap {
                field: "members".into(),
                detail: if needed == 1 {
                    "choisissez la personne de votre foyer concernée par la demande (l'enfant, par exemple)".into()
                } else {
                    format!("choisissez au moins {needed} personnes de votre foyer concernées par la demande")
                },
            });
        }
        out
    }

    /// The least number of members a request must concern with these answers.
    pub fn min_members_for(
        &self,
        answers: &serde_json::Value,
        household: &serde_json::Value,
    ) -> u32 {
        let implied = self.requirements.iter().any(|r| {
            r.mandatory
                && r.for_whom == For::EachMember
                && r.condition
                    .as_ref()
                    .is_none_or(|c| c.eval(answers, household))
        });
        self.min_members.max(u32::from(implied))
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use serde_json::json;

    #[test]
    fn questions_read_and_write_their_text_form() {
        for text in [
            "boolean",
            "string, obligatoire",
            "string, obligatoire, choix : naissance | mariage | décès",
        ] {
            let q = Question::parse(text).unwrap();
            assert_eq!(q.to_string(), text);
        }
        let q = Question::parse("string, required, choices: a, b | c").unwrap();
        assert!(q.required);
        assert_eq!(q.choices, vec!["a, b", "c"]);
        assert!(Question::parse("boolean, obligatoir").is_err());
        let q: Question =
            serde_json::from_value(json!({ "type": "date", "required": true })).unwrap();
        assert_eq!(q.to_string(), "date, obligatoire");
        // Written as a string when plain, as an object otherwise; both read back the same.
        assert_eq!(
            serde_json::to_value(Question::parse("number").unwrap()).unwrap(),
            json!("number")
        );
        let rich = Question::parse("string, obligatoire, choix : a | b").unwrap();
        let v = serde_json::to_value(&rich).unwrap();
        assert_eq!(
            v,
            json!({ "type": "string", "required": true, "choices": ["a", "b"] })
        );
        assert_eq!(serde_json::from_value::<Question>(v).unwrap(), rich);
    }

    #[test]
    fn gaps_list_required_answers_types_choices_and_members() {
        let procs = crate::catalogue::default_procedures().unwrap();
        let school = procs
            .iter()
            .find(|p| p.code == "inscription-scolaire")
            .unwrap();
        let household = json!({ "members": 0, "children": 0, "adults": 1 });
        let fields = |answers: serde_json::Value, members: &[String]| -> Vec<String> {
            school
                .gaps(&answers, &household, members, |n| n.to_string())
                .into_iter()
                .map(|g| g.field)
                .collect()
        };
        assert_eq!(
            fields(json!({}), &[]),
            vec![
                "answers.canteen",
                "answers.school_year",
                "answers.separated_parents",
                "members"
            ]
        );
        assert_eq!(
            fields(
                json!({ "canteen": "oui", "separated_parents": false, "school_year": " " }),
                &["m".into()]
            ),
            vec!["answers.canteen", "answers.school_year"]
        );
        let civil = procs
            .iter()
            .find(|p| p.code == "demande-acte-etat-civil")
            .unwrap();
        let gaps = civil.gaps(
            &json!({ "act": "divorce", "for_self": true }),
            &household,
            &[],
            |n| n.to_string(),
        );
        assert_eq!(gaps.len(), 1);
        assert!(gaps[0].detail.contains("naissance, mariage, décès"));
        assert!(civil.check_answers(&json!({ "act": "divorce" })).is_err());
        assert!(civil.check_answers(&json!({ "act": "mariage" })).is_ok());
    }
}
