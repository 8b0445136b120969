//! How a document is shown in lists (its title, state badge and validity), on the
//! citizen's and on the agent's pages.

use crate::fmt::{self, date_fr};
use liasse_app::documents::DocumentView;

/// A document in a list.
pub struct DocItem {
    pub id: String,
    pub title: String,
    pub type_label: String,
    pub state: &'static str,
    pub badge: &'static str,
    pub validity: Option<String>,
    pub reason: Option<String>,
    pub deposited: String,
}

/// Documents expiring within this many days are "bientôt expirés".
pub const SOON_DAYS: i64 = 30;

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Bucket {
    Valid,
    Pending,
    Soon,
    Expired,
    Rejected,
}

pub fn bucket(d: &DocumentView, today: time::Date) -> Bucket {
    if d.state == "rejected" {
        return Bucket::Rejected;
    }
    if d.state == "expired" {
        return Bucket::Expired;
    }
    if d.valid_until
        .as_deref()
        .and_then(|u| fmt::days_until(today, u))
        .is_some_and(|n| n <= SOON_DAYS)
    {
        return Bucket::Soon;
    }
    if d.review_state == "submitted" {
        Bucket::Pending
    } else {
        Bucket::Valid
    }
}

pub fn title_of(d: &DocumentView) -> String {
    d.title
        .clone()
        .filter(|t| !t.is_empty())
        .unwrap_or_else(|| d.type_label.clone())
}

fn validity_text(d: &DocumentView, today: time::Date) -> Option<String> {
    let until = d.valid_until.as_deref()?;
    let days = fmt::days_until(today, until)?;
    Some(match days {
        n if n < 0 => format!("Expirée depuis le {}", date_fr(until)),
        0 => "Valable jusqu'à aujourd'hui inclus".to_string(),
        n if n <= SOON_DAYS => format!(
            "Valable jusqu'au {} (encore {n} jour{})",
            date_fr(until),
            if n > 1 { "s" } else { "" }
        ),
        _ => format!("Valable jusqu'au {}", date_fr(until)),
    })
}

pub fn item(d: &DocumentView, today: time::Date) -> DocItem {
    let b = bucket(d, today);
    let (state, badge) = match b {
        Bucket::Rejected => ("Refusée", "bad"),
        Bucket::Expired => ("Expirée", "bad"),
        Bucket::Soon => ("Bientôt expirée", "warn"),
        Bucket::Pending => ("En attente de vérification", "info"),
        Bucket::Valid if d.review_state == "certified" => ("Certifiée", "ok"),
        Bucket::Valid => ("Valide", "ok"),
    };
    DocItem {
        id: d.id.clone(),
        title: title_of(d),
        type_label: d.type_label.clone(),
        state,
        badge,
        validity: validity_text(d, today).or_else(|| {
            (d.valid_until.is_none() && b != Bucket::Rejected)
                .then(|| "Sans limite de validité".to_string())
        }),
        reason: d.review_reason.clone().filter(|_| b == Bucket::Rejected),
        deposited: fmt::rfc_fr(&d.created_at),
    }
}

/// Letters from the municipality are listed on their own page.
pub fn is_letter(d: &DocumentView) -> bool {
    d.type_code == "courrier"
}

pub fn media_label(m: &str) -> &'static str {
    match m {
        "application/pdf" => "PDF",
        "image/jpeg" => "photo JPEG",
        "image/png" => "image PNG",
        "image/webp" => "image WebP",
        _ => "fichier",
    }
}
