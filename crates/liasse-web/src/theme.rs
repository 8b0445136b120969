//! Per-tenant theme: name, colour and logo from the tenant's settings (`brand_name`,
//! `brand_primary`, `brand_logo_url`), served as a stylesheet of CSS custom properties so that
//! no page needs an inline style. Colours are accepted only as `#rrggbb`; text colours are
//! derived so that contrast stays at WCAG AA whatever colour an administrator picks.

use liasse_app::tenants::Tenant;

/// The default colour (a deep blue, 8.6:1 on white).
pub const DEFAULT_PRIMARY: &str = "#1d4f91";

pub struct Brand {
    pub name: String,
    pub primary: Option<String>,
    pub logo: Option<String>,
}

impl Brand {
    pub fn of(t: &Tenant) -> Brand {
        let s = &t.settings;
        let text = |k: &str| s.get(k).and_then(|v| v.as_str()).map(str::trim);
        Brand {
            name: text("brand_name")
                .filter(|n| !n.is_empty())
                .unwrap_or(&t.name)
                .to_string(),
            primary: text("brand_primary")
                .filter(|c| valid_colour(c))
                .map(|c| c.to_ascii_lowercase()),
            // An uploaded logo from its fixed route (its fingerprint in the address, so that
            // it can be cached and a new one shows at once); else a `/static/` image; an
            // address set before these rules that points anywhere else is ignored.
            logo: match Logo::of(s) {
                Some(logo) => Some(format!(
                    "/theme/{}/logo?v={}",
                    t.slug,
                    logo.sha256.get(..16).unwrap_or_default()
                )),
                None => text("brand_logo_url")
                    .filter(|u| valid_logo(u))
                    .map(String::from),
            },
        }
    }
}

pub use liasse_app::admin::{Logo, valid_colour, valid_logo};

fn rgb(hex: &str) -> (f64, f64, f64) {
    let c = |i: usize| u8::from_str_radix(&hex[i..i + 2], 16).unwrap_or(0) as f64 / 255.0;
    (c(1), c(3), c(5))
}

fn luminance((r, g, b): (f64, f64, f64)) -> f64 {
    let lin = |c: f64| {
        if c <= 0.039_28 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
    };
    0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b)
}

/// WCAG contrast ratio of two `#rrggbb` colours.
pub fn contrast(a: &str, b: &str) -> f64 {
    let (la, lb) = (luminance(rgb(a)), luminance(rgb(b)));
    let (hi, lo) = if la > lb { (la, lb) } else { (lb, la) };
    (hi + 0.05) / (lo + 0.05)
}

fn hex((r, g, b): (f64, f64, f64)) -> String {
    let c = |v: f64| (v.clamp(0.0, 1.0) * 255.0).round() as u8;
    format!("#{:02x}{:02x}{:02x}", c(r), c(g), c(b))
}

/// The colour darkened until it reaches `ratio` against white.
fn darken_for_white(colour: &str, ratio: f64) -> String {
    let mut c = rgb(colour);
    let mut out = colour.to_string();
    for _ in 0..40 {
        if contrast(&out, "#ffffff") >= ratio {
            return out;
        }
        c = (c.0 * 0.9, c.1 * 0.9, c.2 * 0.9);
        out = hex(c);
    }
    "#000000".into()
}

/// The theme stylesheet of a tenant.
pub fn css(brand: &Brand) -> String {
    let primary = brand.primary.as_deref().unwrap_or(DEFAULT_PRIMARY);
    // Text on the brand colour (header, buttons): white or near-black, whichever reads better.
    let on_primary = if contrast(primary, "#ffffff") >= contrast(primary, "#111111") {
        "#ffffff"
    } else {
        "#111111"
    };
    // Links and headings on white need 4.5:1.
    let ink = darken_for_white(primary, 4.6);
    format!(
        ":root {{\n  --brand: {primary};\n  --on-brand: {on_primary};\n  --brand-ink: {ink};\n}}\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colours_are_strict() {
        assert!(valid_colour("#1d4f91"));
        assert!(valid_colour("#ABCDEF"));
        for bad in [
            "red", "#fff", "#12345g", "#1234567", "1d4f91", "#1d4f9;", "",
        ] {
            assert!(!valid_colour(bad), "{bad}");
        }
    }

    #[test]
    fn logos_stay_on_this_origin() {
        assert!(valid_logo("/static/icon.svg"));
        assert!(valid_logo("/static/logo-ville_2.png"));
        for bad in [
            "/api/v1/export",
            "/static/../api/v1/export",
            "/static/%2e%2e/api/v1/export",
            "/static/app.js",
            "/static/x.svg?logout=1",
            "/static/a/b.png",
            "/static/.png",
            "/deconnexion",
            "data:image/png;base64,iVBORw0KGgo=",
            "https://evil.example/x.png",
            "//evil.example/x.png",
            "javascript:alert(1)",
            "data:text/html;base64,PHNjcmlwdD4=",
            "/x\" onerror=\"y",
        ] {
            assert!(!valid_logo(bad), "{bad}");
        }
    }

    #[test]
    fn contrast_is_kept() {
        let light = Brand {
            name: "x".into(),
            primary: Some("#ffee00".into()),
            logo: None,
        };
        let sheet = css(&light);
        assert!(sheet.contains("--on-brand: #111111"), "{sheet}");
        let ink = sheet
            .lines()
            .find_map(|l| l.trim().strip_prefix("--brand-ink: "))
            .map(|l| l.trim_end_matches(';').to_string())
            .unwrap_or_default();
        assert!(contrast(&ink, "#ffffff") >= 4.5, "{ink}");
        assert!(contrast(DEFAULT_PRIMARY, "#ffffff") >= 7.0);
    }
}
