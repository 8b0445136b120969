use crate::Format;

/// Why an upload was refused. [`Refusal::code`] is a stable slug for APIs and logs;
/// [`Refusal::detail_fr`] is the sentence shown to the citizen. `Display` is for operators.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("empty file")]
    Empty,
    #[error("unrecognized file format")]
    UnknownFormat,
    #[error("format {found} is not allowed for this document type")]
    FormatNotAllowed { found: Format, allowed: Vec<Format> },
    #[error("file is also valid as another format, or carries data after its end")]
    Polyglot,
    #[error("malformed, truncated or overly complex PDF")]
    PdfMalformed,
    #[error("encrypted PDF")]
    PdfEncrypted,
    #[error("PDF contains JavaScript")]
    PdfJavascript,
    #[error("PDF contains a launch action")]
    PdfLaunchAction,
    #[error("PDF contains an embedded file")]
    PdfEmbeddedFile,
    #[error("malformed or truncated image")]
    ImageMalformed,
    #[error("image too large ({width}x{height})")]
    ImageTooLarge { width: u32, height: u32 },
    /// More pixels than the document type accepts (decoding costs memory by the pixel,
    /// whatever the file's size).
    #[error("image has too many pixels ({width}x{height}, limit {max_pixels})")]
    ImageTooManyPixels {
        width: u32,
        height: u32,
        max_pixels: u64,
    },
}

impl Refusal {
    /// A stable slug naming the reason.
    pub fn code(&self) -> &'static str {
        match self {
            Refusal::Empty => "empty-file",
            Refusal::UnknownFormat => "unknown-format",
            Refusal::FormatNotAllowed { .. } => "format-not-allowed",
            Refusal::Polyglot => "polyglot",
            Refusal::PdfMalformed => "pdf-malformed",
            Refusal::PdfEncrypted => "pdf-encrypted",
            Refusal::PdfJavascript => "pdf-javascript",
            Refusal::PdfLaunchAction => "pdf-launch-action",
            Refusal::PdfEmbeddedFile => "pdf-embedded-file",
            Refusal::ImageMalformed => "image-malformed",
            Refusal::ImageTooLarge { .. } => "image-too-large",
            Refusal::ImageTooManyPixels { .. } => "image-too-many-pixels",
        }
    }

    /// A plain French sentence for the citizen, saying what is wrong and what to do.
    pub fn detail_fr(&self) -> String {
        match self {
            Refusal::Empty => {
                "Le fichier est vide. Vérifiez que vous avez choisi le bon fichier.".to_owned()
            }
            Refusal::UnknownFormat => "Le format de ce fichier n'est pas reconnu. \
                 Envoyez un document PDF ou une image JPEG, PNG ou WebP."
                .to_owned(),
            Refusal::FormatNotAllowed { found, allowed } => {
                if allowed.is_empty() {
                    format!("Les fichiers {found} ne sont pas acceptés pour ce document.")
                } else {
                    format!(
                        "Les fichiers {found} ne sont pas acceptés pour ce document. Formats acceptés : {}.",
                        french_list(allowed)
                    )
                }
            }
            Refusal::Polyglot => {
                "Le fichier contient des données cachées ou mélange plusieurs formats, \
                 ce qui n'est pas accepté pour des raisons de sécurité. \
                 Enregistrez-le à nouveau depuis l'application d'origine ou scannez le document."
                    .to_owned()
            }
            Refusal::PdfMalformed => {
                "Le fichier PDF est endommagé, incomplet ou trop complexe pour être vérifié. \
                 Enregistrez-le à nouveau ou scannez le document."
                    .to_owned()
            }
            Refusal::PdfEncrypted => "Le fichier PDF est protégé par un mot de passe ou chiffré. \
                 Enregistrez une version sans protection, puis envoyez-la."
                .to_owned(),
            Refusal::PdfJavascript => "Le fichier PDF contient du JavaScript, \
                 ce qui n'est pas accepté pour des raisons de sécurité."
                .to_owned(),
            Refusal::PdfLaunchAction => {
                "Le fichier PDF contient une commande qui lance un programme, \
                 ce qui n'est pas accepté pour des raisons de sécurité."
                    .to_owned()
            }
            Refusal::PdfEmbeddedFile => "Le fichier PDF contient des fichiers joints, \
                 ce qui n'est pas accepté pour des raisons de sécurité. \
                 Envoyez chaque document séparément."
                .to_owned(),
            Refusal::ImageMalformed => {
                "L'image est endommagée ou incomplète et ne peut pas être lue. \
                 Enregistrez-la à nouveau ou reprenez la photo."
                    .to_owned()
            }
            Refusal::ImageTooLarge { width, height } => format!(
                "L'image est trop grande ({} × {} pixels). Réduisez sa taille, puis envoyez-la à nouveau.",
                group_thousands(u64::from(*width)),
                group_thousands(u64::from(*height))
            ),
            Refusal::ImageTooManyPixels {
                width,
                height,
                max_pixels,
            } => format!(
                "L'image compte trop de pixels ({} × {}, soit {} mégapixels) : ce type de pièce en \
                 accepte {} mégapixels au plus. Réduisez sa définition (par exemple en la \
                 redimensionnant ou en la photographiant à nouveau), puis envoyez-la à nouveau.",
                group_thousands(u64::from(*width)),
                group_thousands(u64::from(*height)),
                megapixels(u64::from(*width) * u64::from(*height)),
                megapixels(*max_pixels)
            ),
        }
    }
}

/// Megapixels for a person: "12", "0,5", "100" (rounded down to one decimal).
fn megapixels(pixels: u64) -> String {
    let tenths = pixels / 100_000;
    if tenths.is_multiple_of(10) {
        group_thousands(tenths / 10)
    } else {
        format!("{},{}", group_thousands(tenths / 10), tenths % 10)
    }
}

/// "PDF", "PDF ou PNG", "PDF, JPEG ou PNG".
fn french_list(formats: &[Format]) -> String {
    let mut labels: Vec<&str> = Vec::with_capacity(formats.len());
    for format in formats {
        if !labels.contains(&format.label()) {
            labels.push(format.label());
        }
    }
    match labels.split_last() {
        None => String::new(),
        Some((last, [])) => (*last).to_owned(),
        Some((last, rest)) => format!("{} ou {last}", rest.join(", ")),
    }
}

/// French digit grouping, with a no-break space so the number never wraps.
fn group_thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 * 2);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push('\u{a0}');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_thousands_the_french_way() {
        assert_eq!(group_thousands(0), "0");
        assert_eq!(group_thousands(999), "999");
        assert_eq!(group_thousands(20_000), "20\u{a0}000");
        assert_eq!(group_thousands(1_234_567), "1\u{a0}234\u{a0}567");
    }

    #[test]
    fn lists_formats_in_french() {
        assert_eq!(french_list(&[Format::Pdf]), "PDF");
        assert_eq!(french_list(&[Format::Pdf, Format::Png]), "PDF ou PNG");
        assert_eq!(
            french_list(&Format::DEFAULT_ALLOWED),
            "PDF, JPEG, PNG ou WebP"
        );
    }

    #[test]
    fn every_refusal_has_a_code_and_a_french_detail() {
        let all = [
            Refusal::Empty,
            Refusal::UnknownFormat,
            Refusal::FormatNotAllowed {
                found: Format::Jpeg,
                allowed: vec![Format::Pdf],
            },
            Refusal::Polyglot,
            Refusal::PdfMalformed,
            Refusal::PdfEncrypted,
            Refusal::PdfJavascript,
            Refusal::PdfLaunchAction,
            Refusal::PdfEmbeddedFile,
            Refusal::ImageMalformed,
            Refusal::ImageTooLarge {
                width: 20_000,
                height: 20_000,
            },
            Refusal::ImageTooManyPixels {
                width: 10_000,
                height: 10_000,
                max_pixels: 12_000_000,
            },
        ];
        let mut codes: Vec<&str> = all.iter().map(Refusal::code).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), all.len());
        for refusal in &all {
            let detail = refusal.detail_fr();
            assert!(detail.ends_with('.'), "{detail}");
            assert!(!refusal.to_string().is_empty());
        }
        assert_eq!(
            Refusal::PdfJavascript.detail_fr(),
            "Le fichier PDF contient du JavaScript, ce qui n'est pas accepté pour des raisons de sécurité."
        );
        assert!(
            Refusal::FormatNotAllowed {
                found: Format::Jpeg,
                allowed: vec![Format::Pdf]
            }
            .detail_fr()
            .contains("JPEG")
        );
    }
}
