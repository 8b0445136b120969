//! A request's history in French, as the citizen and the agent read it.

use crate::fmt::{self};

pub struct HistoryItem {
    pub at: String,
    pub text: String,
}

pub fn history_text(event: &str, details: &serde_json::Value) -> String {
    match event {
        "created" => "Demande créée".into(),
        "draft.saved" => "Réponses enregistrées".into(),
        "attached" => "Pièce jointe".into(),
        "detached" => "Pièce retirée".into(),
        "lock.taken" => "Prise en main par un agent".into(),
        "lock.released" => "Libérée par l'agent".into(),
        "lock.broken" => "Verrou repris par un responsable".into(),
        "note" => "Note ajoutée".into(),
        e if e.starts_with("state.") => {
            let mut t = format!("État : {}", fmt::request_state(&e[6..]));
            if let Some(r) = details
                .get("reason")
                .and_then(|v| v.as_str())
                .filter(|r| !r.is_empty())
            {
                t.push_str(&format!(" (motif : {r})"));
            }
            t
        }
        other => other.to_string(),
    }
}
