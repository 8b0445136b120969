//! The French wording of the life-cycle notices: dates, durations and the templates they fill.

use super::*;

/// "Justificatif de domicile" reads "justificatif de domicile" after "Votre" (acronyms kept).
pub(super) fn lower_first(label: &str) -> String {
    let mut chars = label.chars();
    match (chars.next(), chars.next()) {
        (Some(a), Some(b)) if a.is_uppercase() && !b.is_uppercase() => {
            a.to_lowercase().chain(label.chars().skip(1)).collect()
        }
        _ => label.to_string(),
    }
}

pub(super) const MONTHS: [&str; 12] = [
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
];

/// "15 février 2026".
pub fn date_fr(d: Date) -> String {
    let month = MONTHS
        .get(usize::from(d.month() as u8).saturating_sub(1))
        .copied()
        .unwrap_or_default();
    format!("{} {month} {}", d.day(), d.year())
}

pub(super) fn days_fr(n: i64) -> String {
    if n <= 1 {
        format!("{n} jour")
    } else {
        format!("{n} jours")
    }
}

/// The French templates of the life cycle's notices: (title, text), with `{name}` fields.
pub(super) mod templates {
    pub const EXPIRING: (&str, &str) = (
        "Votre {type} expire dans {days}",
        "Votre pièce « {label} » est valable jusqu'au {last_day} : elle expire dans {days}. \
         Pensez à déposer un document à jour dans votre porte-documents.",
    );
    pub const EXPIRED: (&str, &str) = (
        "Votre {type} a expiré",
        "Votre pièce « {label} » n'est plus valable depuis le {expired_on}. \
         Déposez un document à jour pour vos prochaines démarches.",
    );
    pub const AGENT_EXPIRING: (&str, &str) = (
        "Demande {number} : une pièce expire dans {days}",
        "La pièce « {label} » jointe à la demande {number} est valable jusqu'au {last_day}.",
    );
    pub const AGENT_EXPIRED: (&str, &str) = (
        "Demande {number} : une pièce a expiré",
        "La pièce « {label} » jointe à la demande {number} n'est plus valable depuis le {expired_on}.",
    );
    pub const DISPOSAL: (&str, &str) = (
        "Suppression de votre {type} le {date}",
        "Votre pièce « {label} » arrive au terme de sa durée de conservation : elle sera supprimée \
         définitivement le {date}. Téléchargez-la avant cette date si vous souhaitez en garder une copie.{keep}",
    );
    pub const KEEP_HINT: &str = " Vous pouvez aussi demander à la conserver dans votre porte-documents au-delà de cette durée.";
    pub const DISPOSED: (&str, &str) = (
        "Pièce supprimée : {label}",
        "Votre pièce « {label} » a été supprimée au terme de sa durée de conservation. \
         La suppression est inscrite dans votre journal.",
    );
    pub const DRAFT_EXPIRING: (&str, &str) = (
        "Votre brouillon « {procedure} » sera supprimé le {date}",
        "Votre demande « {procedure} » (n° {number}) est à l'état de brouillon sans modification \
         depuis le {since} : elle sera supprimée le {date}. Reprenez-la avant cette date pour la conserver.",
    );
    pub const DRAFT_DELETED: (&str, &str) = (
        "Brouillon supprimé : {procedure}",
        "Votre brouillon de demande « {procedure} » (n° {number}) a été supprimé : \
         il n'avait pas été modifié depuis le {since}.",
    );
}

pub(super) fn render(template: &str, fields: &[(&str, &str)]) -> String {
    let mut out = template.to_string();
    for (k, v) in fields {
        out = out.replace(&format!("{{{k}}}"), v);
    }
    out
}
