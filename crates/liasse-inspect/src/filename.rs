/// Longest name kept, in characters.
const MAX_CHARS: usize = 120;
/// Longest suffix still treated as an extension worth keeping when the name is cut.
const MAX_EXTENSION_CHARS: usize = 10;
const FALLBACK: &str = "document";

/// Make a client-supplied file name safe to show and to put in a Content-Disposition header.
///
/// Keeps only the final path component (split on `/` and `\`), drops control characters,
/// quotes and anything outside a conservative set (letters including accented ones, digits,
/// space, `.`, `-`, `_`, `(`, `)`), collapses whitespace, strips leading dots, caps the length
/// at 120 characters keeping the extension, and never returns an empty name ("document").
/// The one exception: an apostrophe becomes the typographic `’`, which is inert everywhere.
/// The result may contain non-ASCII letters: a header needs the RFC 6266 `filename*` form.
///
/// The server never uses the result as a path; it is still harmless as one.
pub fn sanitize_filename(name: &str) -> String {
    let last = name.rsplit(['/', '\\']).next().unwrap_or_default();

    let mut cleaned = String::with_capacity(last.len().min(4 * MAX_CHARS));
    let mut pending_space = false;
    for c in last.chars() {
        // French names are full of elisions ("attestation d'hébergement"); dropping the
        // apostrophe would glue the words. The typographic one is inert in headers and paths.
        let c = if matches!(c, '\'' | '\u{2bc}') {
            '\u{2019}'
        } else {
            c
        };
        if c.is_whitespace() {
            pending_space = true;
        } else if is_allowed(c) {
            if pending_space && !cleaned.is_empty() {
                cleaned.push(' ');
            }
            pending_space = false;
            cleaned.push(c);
        }
        // Everything else is dropped: a dropped character does not separate words.
    }

    // Leading dots would hide the file or walk up a directory; trailing dots and spaces are
    // stripped by Windows and make names that cannot be saved there.
    let had_leading_dot = cleaned.starts_with('.');
    let trimmed = cleaned
        .trim_start_matches(['.', ' '])
        .trim_end_matches(['.', ' ']);
    let mut result = if had_leading_dot && !trimmed.is_empty() && !trimmed.contains('.') {
        // ".pdf" is a bare extension rather than a name.
        format!("{FALLBACK}.{trimmed}")
    } else {
        trimmed.to_owned()
    };

    if result.chars().count() > MAX_CHARS {
        result = shorten(&result);
    }
    if result.is_empty() {
        return FALLBACK.to_owned();
    }
    result
}

fn is_allowed(c: char) -> bool {
    c.is_alphabetic()
        || c.is_ascii_digit()
        || matches!(c, '.' | '-' | '_' | '(' | ')' | '\u{2019}')
        // Combining accents: names typed on macOS arrive decomposed ("e" + U+0301).
        || ('\u{300}'..='\u{36f}').contains(&c)
}

/// Cut to `MAX_CHARS` characters, keeping a short extension intact.
fn shorten(name: &str) -> String {
    let extension = name.rsplit_once('.').filter(|(stem, ext)| {
        !stem.is_empty() && !ext.is_empty() && ext.chars().count() <= MAX_EXTENSION_CHARS
    });
    match extension {
        Some((stem, ext)) => {
            let keep = MAX_CHARS - 1 - ext.chars().count();
            let stem: String = stem.chars().take(keep).collect();
            let stem = stem.trim_end_matches(['.', ' ']);
            if stem.is_empty() {
                format!("{FALLBACK}.{ext}")
            } else {
                format!("{stem}.{ext}")
            }
        }
        None => {
            let cut: String = name.chars().take(MAX_CHARS).collect();
            cut.trim_end_matches(['.', ' ']).to_owned()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_last_component_only() {
        assert_eq!(sanitize_filename("../../etc/passwd"), "passwd");
        assert_eq!(sanitize_filename("..\\..\\x.pdf"), "x.pdf");
        assert_eq!(
            sanitize_filename("C:\\Users\\Léa\\Documents\\avis.pdf"),
            "avis.pdf"
        );
        assert_eq!(sanitize_filename("dossier/"), "document");
    }

    #[test]
    fn drops_controls_and_quotes() {
        assert_eq!(sanitize_filename("a\u{0}b.pdf"), "ab.pdf");
        assert_eq!(sanitize_filename("\"; rm -rf /.pdf"), "document.pdf");
        assert_eq!(sanitize_filename("\"; rm -rf .pdf"), "rm -rf .pdf");
        assert_eq!(sanitize_filename("a\"b`c.pdf"), "abc.pdf");
        assert_eq!(
            sanitize_filename("attestation d'hébergement.pdf"),
            "attestation d\u{2019}hébergement.pdf"
        );
        assert_eq!(
            sanitize_filename("x\r\nContent-Type: text.pdf"),
            "x Content-Type text.pdf"
        );
        assert_eq!(sanitize_filename("\u{202e}fdp.exe"), "fdp.exe");
    }

    #[test]
    fn keeps_accents_and_collapses_whitespace() {
        assert_eq!(
            sanitize_filename("facture été 2025.pdf"),
            "facture été 2025.pdf"
        );
        assert_eq!(
            sanitize_filename("  facture \t\t  (copie)  .pdf  "),
            "facture (copie) .pdf"
        );
        assert_eq!(
            sanitize_filename("e\u{301}te\u{301}.pdf"),
            "e\u{301}te\u{301}.pdf"
        );
    }

    #[test]
    fn strips_leading_dots_and_never_returns_empty() {
        assert_eq!(sanitize_filename(""), "document");
        assert_eq!(sanitize_filename("..."), "document");
        assert_eq!(sanitize_filename("\u{0}\u{1}"), "document");
        assert_eq!(sanitize_filename(".bashrc"), "document.bashrc");
        assert_eq!(sanitize_filename("..a.b"), "a.b");
        assert_eq!(sanitize_filename("nom."), "nom");
    }

    #[test]
    fn caps_the_length_keeping_the_extension() {
        let long = format!("{}.pdf", "a".repeat(496));
        let out = sanitize_filename(&long);
        assert_eq!(out.chars().count(), 120);
        assert!(out.ends_with(".pdf"));
        let long_accented = "é".repeat(500);
        assert_eq!(sanitize_filename(&long_accented).chars().count(), 120);
        let odd = format!("{}.{}", "a".repeat(200), "b".repeat(50));
        assert_eq!(sanitize_filename(&odd).chars().count(), 120);
    }
}
