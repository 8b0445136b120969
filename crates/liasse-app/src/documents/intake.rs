//! What a new file goes through before it is stored: the type's validity rule, its formats and limits, the inspector.

use super::*;

/// Computes valid_until from the type's rule; the dates come from the citizen, so every
/// problem is a clear refusal.
pub(crate) fn compute_validity(
    t: &DocumentType,
    today: time::Date,
    issued_on: Option<&str>,
    printed: Option<&str>,
) -> Result<Option<String>> {
    let issued = match issued_on.filter(|s| !s.trim().is_empty()) {
        Some(s) => {
            let d = parse_date(s).map_err(|m| AppError::invalid("invalid-date", m))?;
            if d > today {
                return Err(AppError::invalid(
                    "invalid-date",
                    "la date d'émission ne peut pas être dans le futur",
                ));
            }
            d
        }
        None => today,
    };
    let printed = match printed.filter(|s| !s.trim().is_empty()) {
        Some(s) if t.validity == Validity::PrintedDate => {
            Some(parse_date(s).map_err(|m| AppError::invalid("invalid-date", m))?)
        }
        _ => None,
    };
    t.validity
        .valid_until(issued, printed)
        .map(|d| d.map(format_date))
        .map_err(|m| AppError::invalid("valid-until-required", m))
}

pub(super) fn formats_of(t: &DocumentType) -> Vec<Format> {
    t.formats
        .iter()
        .filter_map(|f| Format::from_code(f))
        .collect()
}

/// Inspects the spooled file against the type's rules, off the async threads, a few at a time.
pub(crate) async fn inspect(app: &App, spooled: &Spooled, t: &DocumentType) -> Result<Inspection> {
    if spooled.size > t.max_size {
        return Err(AppError::TooLarge { limit: t.max_size });
    }
    let allowed = formats_of(t);
    // The type's pixel limit, never above the inspector's own.
    let limits = Limits {
        max_pixels: t.max_pixels.min(Limits::default().max_pixels),
        ..Limits::default()
    };
    let mut clear = spooled.reader()?;
    let size = spooled.size;
    let _turn = app
        .inspections
        .acquire()
        .await
        .map_err(|e| AppError::Internal(e.to_string()))?;
    // The inspector seeks (a PDF is read from its end): it reads the spool through the
    // decrypting reader, one segment in clear at a time.
    let result = tokio::task::spawn_blocking(move || {
        liasse_inspect::inspect(&mut clear, size, &allowed, &limits)
    })
    .await
    .map_err(|e| AppError::Internal(e.to_string()))?;
    result.map_err(AppError::Refused)
}

pub(crate) fn display_name(given: Option<&str>, t: &DocumentType, format: Format) -> String {
    match given.filter(|s| !s.trim().is_empty()) {
        Some(n) => liasse_inspect::sanitize_filename(n),
        None => format!("{}.{}", t.code, format.extension()),
    }
}

/// Reads a whole spooled file into memory (tests and small conversions).
pub fn read_all(spooled: &Spooled) -> Result<Vec<u8>> {
    let mut buf = Vec::new();
    spooled.reader()?.read_to_end(&mut buf)?;
    Ok(buf)
}
