use std::fmt;

/// How far into a file a PDF header may start. Readers such as Acrobat accept up to 1 KiB of
/// leading bytes; anything further away is treated as a polyglot.
pub(crate) const PDF_HEADER_WINDOW: usize = 1024;

/// Bytes [`sniff`] needs to see to recognise every format.
pub const SNIFF_LEN: usize = PDF_HEADER_WINDOW + PDF_MAGIC.len();

pub(crate) const PDF_MAGIC: &[u8] = b"%PDF-";
const PNG_MAGIC: &[u8] = b"\x89PNG\r\n\x1a\n";
const JPEG_MAGIC: &[u8] = &[0xFF, 0xD8, 0xFF];

/// A file format Liasse can store.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Pdf,
    Jpeg,
    Png,
    Webp,
}

impl Format {
    /// Every format, the allowlist of a document type that does not restrict formats.
    pub const DEFAULT_ALLOWED: [Format; 4] = [Format::Pdf, Format::Jpeg, Format::Png, Format::Webp];

    /// The media type to store and to serve the file with.
    pub fn media_type(self) -> &'static str {
        match self {
            Format::Pdf => "application/pdf",
            Format::Jpeg => "image/jpeg",
            Format::Png => "image/png",
            Format::Webp => "image/webp",
        }
    }

    /// The usual file extension, without the dot.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Pdf => "pdf",
            Format::Jpeg => "jpg",
            Format::Png => "png",
            Format::Webp => "webp",
        }
    }

    /// Parse a format code as written in configuration ("pdf", "jpeg" or "jpg", "png",
    /// "webp"), ignoring case and surrounding spaces.
    pub fn from_code(s: &str) -> Option<Self> {
        let code = s.trim();
        [
            ("pdf", Format::Pdf),
            ("jpeg", Format::Jpeg),
            ("jpg", Format::Jpeg),
            ("png", Format::Png),
            ("webp", Format::Webp),
        ]
        .into_iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(code))
        .map(|(_, format)| format)
    }

    /// The stable code, as used in configuration and serialization.
    pub fn code(self) -> &'static str {
        match self {
            Format::Pdf => "pdf",
            Format::Jpeg => "jpeg",
            Format::Png => "png",
            Format::Webp => "webp",
        }
    }

    /// The name people know the format by, for messages.
    pub fn label(self) -> &'static str {
        match self {
            Format::Pdf => "PDF",
            Format::Jpeg => "JPEG",
            Format::Png => "PNG",
            Format::Webp => "WebP",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// Decide the format from magic bytes only (never from the name or the client's content type).
///
/// `head` should hold the first [`SNIFF_LEN`] bytes of the file (or all of a shorter file):
/// a PDF header is recognised anywhere within the first KiB, because PDF readers accept it
/// there.
pub fn sniff(head: &[u8]) -> Option<Format> {
    if head.starts_with(JPEG_MAGIC) {
        return Some(Format::Jpeg);
    }
    if head.starts_with(PNG_MAGIC) {
        return Some(Format::Png);
    }
    if head.get(0..4) == Some(b"RIFF") && head.get(8..12) == Some(b"WEBP") {
        return Some(Format::Webp);
    }
    if pdf_header_offset(head).is_some() {
        return Some(Format::Pdf);
    }
    None
}

/// Where the PDF header starts, if it starts within the window readers accept.
pub(crate) fn pdf_header_offset(buf: &[u8]) -> Option<usize> {
    let window = buf.get(..SNIFF_LEN).unwrap_or(buf);
    crate::bytes::find(window, PDF_MAGIC)
}
