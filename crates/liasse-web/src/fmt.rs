//! French presentation: dates in Paris time, sizes, states, and the journal in plain sentences.

use liasse_domain::doctype::parse_date;

/// Paris offset from UTC at an instant: +2 h from the last Sunday of March 01:00 UTC to the
/// last Sunday of October 01:00 UTC, +1 h otherwise (EU rule since 1996).
fn paris_offset_hours(ms: i64) -> i64 {
    let Ok(t) = time::OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000)) else {
        return 1;
    };
    let year = t.year();
    let last_sunday = |month: time::Month| {
        let last = time::util::days_in_month(month, year);
        let d = time::Date::from_calendar_date(year, month, last).ok()?;
        let back = d.weekday().number_days_from_sunday();
        let day = d.checked_sub(time::Duration::days(i64::from(back)))?;
        Some(day.with_hms(1, 0, 0).ok()?.assume_utc())
    };
    match (
        last_sunday(time::Month::March),
        last_sunday(time::Month::October),
    ) {
        (Some(start), Some(end)) if t >= start && t < end => 2,
        _ => 1,
    }
}

/// The Paris wall-clock time of an instant.
pub fn paris(ms: i64) -> time::PrimitiveDateTime {
    let local = ms + paris_offset_hours(ms) * 3_600_000;
    let t = time::OffsetDateTime::from_unix_timestamp(local.div_euclid(1000))
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    time::PrimitiveDateTime::new(t.date(), t.time())
}

fn dmy(d: time::Date) -> String {
    format!("{:02}/{:02}/{}", d.day(), d.month() as u8, d.year())
}

/// `2026-01-15` → `15/01/2026`; anything else is shown as it is.
pub fn date_fr(iso: &str) -> String {
    parse_date(iso).map(dmy).unwrap_or_else(|_| iso.to_string())
}

pub fn opt_date_fr(iso: Option<&str>) -> String {
    iso.map(date_fr).unwrap_or_default()
}

/// `le 15/01/2026 à 10:32` (Paris time).
pub fn when_fr(ms: i64) -> String {
    let t = paris(ms);
    format!("le {} à {:02}:{:02}", dmy(t.date()), t.hour(), t.minute())
}

/// `15/01/2026 10:32` (Paris time).
pub fn datetime_fr(ms: i64) -> String {
    let t = paris(ms);
    format!("{} {:02}:{:02}", dmy(t.date()), t.hour(), t.minute())
}

/// Milliseconds of an RFC 3339 time (as the services return them).
pub fn rfc_ms(s: &str) -> i64 {
    time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
        .map(|t| (t.unix_timestamp_nanos() / 1_000_000) as i64)
        .unwrap_or(0)
}

pub fn rfc_fr(s: &str) -> String {
    if s.is_empty() {
        String::new()
    } else {
        datetime_fr(rfc_ms(s))
    }
}

pub fn size_fr(bytes: i64) -> String {
    let b = bytes.max(0) as f64;
    if b >= 1024.0 * 1024.0 {
        format!("{:.1} Mo", b / (1024.0 * 1024.0)).replace('.', ",")
    } else if b >= 1024.0 {
        format!("{} Ko", (b / 1024.0).round())
    } else {
        format!("{bytes} octets")
    }
}

/// A document's state as the citizen reads it.
pub fn document_state(state: &str) -> &'static str {
    match state {
        "submitted" => "En attente de vérification",
        "validated" => "Validée",
        "rejected" => "Refusée",
        "certified" => "Certifiée par l'émetteur",
        "expired" => "Expirée",
        "deleted" => "Supprimée",
        _ => "Inconnu",
    }
}

pub fn request_state(state: &str) -> &'static str {
    match state {
        "draft" => "Brouillon (pas encore envoyée)",
        "submitted" => "Envoyée, en attente de traitement",
        "in_progress" => "En cours d'instruction",
        "complement" => "Complément demandé",
        "completed" => "Acceptée",
        "rejected" => "Refusée",
        "closed" => "Close",
        "anonymised" => "Anonymisée",
        _ => "Inconnu",
    }
}

pub fn channel(c: &str) -> &'static str {
    match c {
        "web" => "en ligne",
        "mobile" => "application mobile",
        "counter" => "au guichet",
        "post" => "par courrier",
        "email" => "par courriel",
        "api" => "par un service partenaire",
        _ => "autre",
    }
}

pub fn right_label(level: &str) -> &'static str {
    match level {
        "none" => "aucun",
        "consult" => "consultation",
        "modify" => "modification",
        "manage" => "gestion",
        _ => "inconnu",
    }
}

pub fn domain_label(d: &str) -> String {
    match d {
        "etat-civil" => "État civil".into(),
        "scolaire" => "Scolaire".into(),
        "enfance" => "Enfance".into(),
        "social" => "Social".into(),
        "fiscalite" => "Fiscalité".into(),
        "urbanisme" => "Urbanisme".into(),
        "stationnement" => "Stationnement".into(),
        "general" => "Général".into(),
        "courrier" => "Courrier".into(),
        other => other.to_string(),
    }
}

/// The domains offered in selects (the default catalogue's, plus any a tenant uses).
pub const DOMAINS: &[&str] = &[
    "etat-civil",
    "scolaire",
    "enfance",
    "social",
    "fiscalite",
    "urbanisme",
    "stationnement",
    "general",
];

/// `Justificatif de domicile` → `justificatif de domicile`, for use inside a sentence.
pub fn lower_first(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        // Keep acronyms (`RIB`, `CAF`) as they are.
        Some(f) if !c.clone().next().is_some_and(|n| n.is_uppercase()) => {
            f.to_lowercase().collect::<String>() + c.as_str()
        }
        Some(f) => f.to_string() + c.as_str(),
        None => String::new(),
    }
}

/// Percent-encoding for a query-string value.
pub fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~/".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// Days from `today` to an ISO date (negative when past).
pub fn days_until(today: time::Date, iso: &str) -> Option<i64> {
    parse_date(iso).ok().map(|d| (d - today).whole_days())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paris_time() {
        // 2026-01-15 09:32 UTC is 10:32 in Paris (winter).
        assert_eq!(when_fr(1_768_469_520_000), "le 15/01/2026 à 10:32");
        // 2026-07-01 08:00 UTC is 10:00 in Paris (summer).
        assert_eq!(datetime_fr(1_782_892_800_000), "01/07/2026 10:00");
        assert_eq!(date_fr("2026-03-09"), "09/03/2026");
        assert_eq!(
            lower_first("Justificatif de domicile"),
            "justificatif de domicile"
        );
        assert_eq!(lower_first("RIB"), "RIB");
        assert_eq!(size_fr(1536), "2 Ko");
    }
}
