#![allow(clippy::unwrap_used)]
use super::*;
use time::macros::date;

#[test]
fn first_with_inverts_retention() {
    for r in ["P1Y", "P5Y", "P6M", "P1M", "P3M", "P30D", "P1Y6M"] {
        let r = IsoDuration::parse(r).unwrap();
        let mut day = date!(2027 - 01 - 01);
        for _ in 0..800 {
            let v = first_with(&r, day);
            assert!(r.add_to(v) >= day, "{r} {day} {v}");
            assert!(r.add_to(add_days(v, -1)) < day, "{r} {day} {v}");
            day = add_days(day, 1);
        }
    }
}

#[test]
fn latest_event_wins() {
    let offsets = [0, 7, 30];
    let v = date!(2026 - 02 - 14);
    // J0 = 2026-02-15; J-30 = 2026-01-16; J-7 = 2026-02-08.
    assert_eq!(expiry_event(v, date!(2026 - 01 - 15), &offsets), None);
    assert_eq!(expiry_event(v, date!(2026 - 01 - 16), &offsets), Some(30));
    assert_eq!(expiry_event(v, date!(2026 - 02 - 07), &offsets), Some(30));
    assert_eq!(expiry_event(v, date!(2026 - 02 - 08), &offsets), Some(7));
    assert_eq!(expiry_event(v, date!(2026 - 02 - 15), &offsets), Some(0));
    assert_eq!(expiry_event(v, date!(2026 - 02 - 22), &offsets), Some(0));
    assert_eq!(expiry_event(v, date!(2026 - 02 - 23), &offsets), None);
}

#[test]
fn french_texts() {
    assert_eq!(date_fr(date!(2026 - 02 - 15)), "15 février 2026");
    assert_eq!(
        lower_first("Justificatif de domicile"),
        "justificatif de domicile"
    );
    assert_eq!(lower_first("RIB"), "RIB");
    assert_eq!(
        render(
            templates::EXPIRING.0,
            &[("type", "justificatif de domicile"), ("days", "30 jours")]
        ),
        "Votre justificatif de domicile expire dans 30 jours"
    );
}
