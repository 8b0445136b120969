//! Document types (the catalogue) and their validity and retention arithmetic.

use serde::{Deserialize, Serialize};
use time::{Date, Month};

/// How long a document of a type stays valid.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Validity {
    /// Never expires (birth certificate, family record book).
    Unlimited,
    /// A fixed duration from the issue date (or the deposit date when it is unknown).
    Duration(IsoDuration),
    /// Until 31 December of the issue year (tax notice of the year).
    EndOfCalendarYear,
    /// Until 31 August after the issue date (school certificates).
    EndOfSchoolYear,
    /// The date printed on the document, entered at deposit or at review (ID card, passport).
    PrintedDate,
}

impl Validity {
    pub fn parse(s: &str) -> Result<Self, String> {
        match s {
            "unlimited" => Ok(Validity::Unlimited),
            "end-of-year" => Ok(Validity::EndOfCalendarYear),
            "end-of-school-year" => Ok(Validity::EndOfSchoolYear),
            "printed-date" => Ok(Validity::PrintedDate),
            other => IsoDuration::parse(other).map(Validity::Duration).map_err(|_| {
                format!(
                    "validity '{other}' is not one of unlimited, end-of-year, end-of-school-year, \
                     printed-date or an ISO 8601 duration such as P3M or P10Y"
                )
            }),
        }
    }

    pub fn code(&self) -> String {
        match self {
            Validity::Unlimited => "unlimited".into(),
            Validity::EndOfCalendarYear => "end-of-year".into(),
            Validity::EndOfSchoolYear => "end-of-school-year".into(),
            Validity::PrintedDate => "printed-date".into(),
            Validity::Duration(d) => d.to_string(),
        }
    }

    /// The last day of validity of a document issued on `issued`, or `None` when it never
    /// expires. For `PrintedDate` the caller supplies the printed date.
    pub fn valid_until(&self, issued: Date, printed: Option<Date>) -> Result<Option<Date>, String> {
        match self {
            Validity::Unlimited => Ok(None),
            Validity::Duration(d) => Ok(Some(d.add_to(issued))),
            Validity::EndOfCalendarYear => {
                Date::from_calendar_date(issued.year(), Month::December, 31)
                    .map(Some)
                    .map_err(|e| e.to_string())
            }
            Validity::EndOfSchoolYear => {
                // The French school year ends at the end of August.
                let year = if issued.month() as u8 > 8 {
                    issued.year() + 1
                } else {
                    issued.year()
                };
                Date::from_calendar_date(year, Month::August, 31)
                    .map(Some)
                    .map_err(|e| e.to_string())
            }
            Validity::PrintedDate => printed.map(Some).ok_or_else(|| {
                "la date de fin de validité imprimée sur le document est requise".into()
            }),
        }
    }
}

impl Serialize for Validity {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.code())
    }
}

impl<'de> Deserialize<'de> for Validity {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Validity::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// An ISO 8601 duration restricted to dates: `PnYnMnWnD`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct IsoDuration {
    pub years: u32,
    pub months: u32,
    pub days: u32,
}

impl IsoDuration {
    pub fn parse(s: &str) -> Result<Self, String> {
        let bad = || {
            format!(
                "'{s}' is not an ISO 8601 duration of years, months, weeks or days (e.g. P3M, P1Y6M, P30D)"
            )
        };
        let body = s.strip_prefix('P').ok_or_else(bad)?;
        if body.is_empty() || body.contains('T') {
            return Err(bad());
        }
        let mut d = IsoDuration::default();
        let mut num = String::new();
        let mut last_rank = 0;
        for c in body.chars() {
            if c.is_ascii_digit() {
                num.push(c);
                continue;
            }
            let n: u32 = num.parse().map_err(|_| bad())?;
            if n > 1000 {
                return Err(bad());
            }
            num.clear();
            let rank = match c {
                'Y' => 1,
                'M' => 2,
                'W' => 3,
                'D' => 4,
                _ => return Err(bad()),
            };
            if rank <= last_rank {
                return Err(bad());
            }
            last_rank = rank;
            match c {
                'Y' => d.years = n,
                'M' => d.months = n,
                'W' => d.days += n * 7,
                _ => d.days += n,
            }
        }
        if !num.is_empty() {
            return Err(bad());
        }
        Ok(d)
    }

    /// Adds the duration to a date; month arithmetic clamps to the end of the month
    /// (31 January + P1M = 28 or 29 February).
    pub fn add_to(&self, date: Date) -> Date {
        let total_months =
            i64::from(date.month() as u8 - 1) + i64::from(self.months) + 12 * i64::from(self.years);
        let year = date.year() as i64 + total_months.div_euclid(12);
        let month0 = total_months.rem_euclid(12) as u8;
        let month = Month::try_from(month0 + 1).unwrap_or(Month::December);
        let year = i32::try_from(year).unwrap_or(9999).min(9999);
        let last = time::util::days_in_month(month, year);
        let day = date.day().min(last);
        let base = Date::from_calendar_date(year, month, day).unwrap_or(Date::MAX);
        base.checked_add(time::Duration::days(i64::from(self.days)))
            .unwrap_or(Date::MAX)
    }
}

impl std::fmt::Display for IsoDuration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("P")?;
        if self.years > 0 {
            write!(f, "{}Y", self.years)?;
        }
        if self.months > 0 {
            write!(f, "{}M", self.months)?;
        }
        if self.days > 0 || (self.years == 0 && self.months == 0) {
            write!(f, "{}D", self.days)?;
        }
        Ok(())
    }
}

impl Serialize for IsoDuration {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for IsoDuration {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        IsoDuration::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// What happens at the end of retention.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Disposal {
    Delete,
    Keep,
}

/// Who may deposit documents of a type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Depositor {
    Citizen,
    Agent,
    Provider,
}

fn default_formats() -> Vec<String> {
    vec!["pdf".into(), "jpeg".into(), "png".into(), "webp".into()]
}
fn default_max_size() -> u64 {
    10 * 1024 * 1024
}
fn default_max_pixels() -> u64 {
    DEFAULT_MAX_PIXELS
}
fn default_true() -> bool {
    true
}
fn default_depositors() -> Vec<Depositor> {
    vec![Depositor::Citizen, Depositor::Agent]
}
fn default_notice_days() -> u32 {
    30
}
fn default_retention() -> IsoDuration {
    IsoDuration {
        years: 1,
        ..IsoDuration::default()
    }
}

/// A document type of a tenant's catalogue.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DocumentType {
    pub code: String,
    /// French label shown to citizens.
    pub label: String,
    /// Domain whose agents handle it: `etat-civil`, `scolaire`, `social`, `fiscalite`, ...
    pub domain: String,
    pub validity: Validity,
    #[serde(default = "default_true")]
    pub reusable: bool,
    /// How long the document is kept after it expires (or after the end of its use).
    #[serde(default = "default_retention")]
    pub retention: IsoDuration,
    #[serde(default = "default_disposal")]
    pub disposal: Disposal,
    /// Days of notice to the citizen before disposal.
    #[serde(default = "default_notice_days")]
    pub disposal_notice_days: u32,
    /// Whether a citizen may keep a document beyond its retention.
    #[serde(default)]
    pub keep_allowed: bool,
    /// Accepted formats among pdf, jpeg, png, webp.
    #[serde(default = "default_formats")]
    pub formats: Vec<String>,
    #[serde(default = "default_max_size")]
    pub max_size: u64,
    /// Most pixels (width × height) an image of this type may have: decoding costs memory by
    /// the pixel whatever the file's size, so a small file can still be too big to open.
    /// Checked from the image's header, before any decoding.
    #[serde(default = "default_max_pixels")]
    pub max_pixels: u64,
    #[serde(default = "default_true")]
    pub review_required: bool,
    #[serde(default = "default_depositors")]
    pub depositors: Vec<Depositor>,
    #[serde(default)]
    pub description: String,
}

fn default_disposal() -> Disposal {
    Disposal::Delete
}

/// The largest file a type may declare.
pub const MAX_TYPE_SIZE: u64 = 2 * 1024 * 1024 * 1024;

/// Pixel limit of a type that sets none: 40 megapixels, more than a phone's camera gives
/// (an A4 page scanned at 600 dpi is 35 megapixels).
pub const DEFAULT_MAX_PIXELS: u64 = 40_000_000;

/// The highest pixel limit a type may declare (the inspector's own ceiling).
pub const MAX_TYPE_PIXELS: u64 = 100_000_000;

impl DocumentType {
    /// Checks a definition before it enters the catalogue; the message is in French for admins.
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
        if self.label.trim().is_empty() || self.label.len() > 200 {
            return Err("le libellé est obligatoire (200 caractères au plus)".into());
        }
        if self.domain.trim().is_empty() || self.domain.len() > 64 {
            return Err("le domaine est obligatoire".into());
        }
        if self.formats.is_empty() {
            return Err("au moins un format accepté est nécessaire".into());
        }
        for f in &self.formats {
            if !["pdf", "jpeg", "png", "webp"].contains(&f.as_str()) {
                return Err(format!("format « {f} » inconnu : pdf, jpeg, png ou webp"));
            }
        }
        if self.max_size == 0 || self.max_size > MAX_TYPE_SIZE {
            return Err("la taille maximale doit être comprise entre 1 octet et 2 Gio".into());
        }
        if self.depositors.is_empty() {
            return Err("au moins un déposant autorisé est nécessaire".into());
        }
        if self.max_pixels == 0 || self.max_pixels > MAX_TYPE_PIXELS {
            return Err(
                "le nombre maximal de pixels des images doit être compris entre 1 et 100 millions"
                    .into(),
            );
        }
        Ok(())
    }
}

/// Parses a `YYYY-MM-DD` date.
pub fn parse_date(s: &str) -> Result<Date, String> {
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(s.trim(), &fmt)
        .map_err(|_| format!("date « {s} » invalide : format attendu AAAA-MM-JJ"))
}

pub fn format_date(d: Date) -> String {
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    d.format(&fmt).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use time::macros::date;

    #[test]
    fn durations() {
        assert_eq!(
            IsoDuration::parse("P3M")
                .unwrap()
                .add_to(date!(2026 - 01 - 31)),
            date!(2026 - 04 - 30)
        );
        assert_eq!(
            IsoDuration::parse("P1M")
                .unwrap()
                .add_to(date!(2028 - 01 - 31)),
            date!(2028 - 02 - 29)
        );
        assert_eq!(
            IsoDuration::parse("P10Y")
                .unwrap()
                .add_to(date!(2026 - 11 - 26)),
            date!(2036 - 11 - 26)
        );
        assert_eq!(
            IsoDuration::parse("P2W")
                .unwrap()
                .add_to(date!(2026 - 12 - 25)),
            date!(2027 - 01 - 08)
        );
        for bad in [
            "", "P", "3M", "PT1H", "P1M1Y", "P-1D", "P1.5Y", "P99999Y", "P1",
        ] {
            assert!(IsoDuration::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn rules() {
        let d = date!(2026 - 09 - 15);
        assert_eq!(
            Validity::parse("unlimited")
                .unwrap()
                .valid_until(d, None)
                .unwrap(),
            None
        );
        assert_eq!(
            Validity::parse("end-of-year")
                .unwrap()
                .valid_until(d, None)
                .unwrap(),
            Some(date!(2026 - 12 - 31))
        );
        assert_eq!(
            Validity::parse("end-of-school-year")
                .unwrap()
                .valid_until(d, None)
                .unwrap(),
            Some(date!(2027 - 08 - 31))
        );
        assert_eq!(
            Validity::parse("end-of-school-year")
                .unwrap()
                .valid_until(date!(2026 - 03 - 01), None)
                .unwrap(),
            Some(date!(2026 - 08 - 31))
        );
        assert!(
            Validity::parse("printed-date")
                .unwrap()
                .valid_until(d, None)
                .is_err()
        );
        assert_eq!(Validity::parse("P3M").unwrap().code(), "P3M");
        assert!(Validity::parse("forever").is_err());
    }
}
