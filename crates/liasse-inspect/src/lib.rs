//! Upload inspection for Liasse: decides whether an uploaded file may be stored.
//!
//! The server spools an upload to a temporary file and calls [`inspect`] before anything is
//! kept. The type is decided from the content only ([`sniff`]), checked against the document
//! type's allowlist, then the file is examined for its format:
//!
//! - PDF: structure checked before lopdf parses it (lopdf recurses without limit, inflates
//!   without limit and trusts cross-reference data, so a hostile file could otherwise exhaust
//!   the stack or the memory of the server), then parsed; encrypted files, JavaScript, launch
//!   actions and embedded files are refused.
//! - Images: dimensions read from the header before any pixel buffer exists, then a full decode
//!   under memory limits.
//! - Every format: polyglots (files that are also valid as another format) are refused.
//!
//! Nothing here panics on hostile input; the calls into third-party decoders are additionally
//! wrapped in `catch_unwind` so that a bug there turns into a refusal, not a crashed worker.

mod bytes;
mod filename;
mod format;
mod image_check;
mod pdf;
mod polyglot;
mod refusal;
#[doc(hidden)]
pub mod samples;

use std::io::{Read, Seek, SeekFrom};

pub use filename::sanitize_filename;
pub use format::{Format, SNIFF_LEN, sniff};
pub use refusal::Refusal;

/// Resource limits applied while inspecting one file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Widest image accepted, in pixels.
    pub max_width: u32,
    /// Tallest image accepted, in pixels.
    pub max_height: u32,
    /// Largest image area accepted, in pixels.
    pub max_pixels: u64,
    /// Memory a decoder may allocate; also bounds the file size held in memory and the
    /// amount of decompressed PDF data.
    pub max_alloc: u64,
    /// Most indirect objects a PDF may contain.
    pub max_pdf_objects: usize,
    /// Largest file inspected in memory. Larger PDFs are checked in one streaming pass whose
    /// memory does not depend on the file's size; larger images are still decoded in memory,
    /// up to `max_alloc`.
    pub max_in_memory: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_width: 12_000,
            max_height: 12_000,
            max_pixels: 100_000_000,
            max_alloc: 512 * 1024 * 1024,
            max_pdf_objects: 200_000,
            max_in_memory: 32 * 1024 * 1024,
        }
    }
}

/// What an accepted file turned out to be.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Inspection {
    pub format: Format,
    pub media_type: &'static str,
    /// Image width in pixels; `None` for PDFs.
    pub width: Option<u32>,
    /// Image height in pixels; `None` for PDFs.
    pub height: Option<u32>,
    /// Page count; `None` for images.
    pub pages: Option<u32>,
}

impl Inspection {
    fn pdf(pages: u32) -> Self {
        Inspection {
            format: Format::Pdf,
            media_type: Format::Pdf.media_type(),
            width: None,
            height: None,
            pages: Some(pages),
        }
    }
}

/// Inspect a complete file. `allowed` is the document type's allowlist.
///
/// The file is read from its start (whatever the current position) up to `len` bytes, which
/// must be the file's length: bytes past `len` are not inspected. Files up to
/// `limits.max_in_memory` are held in memory and fully parsed; larger PDFs are checked in one
/// streaming pass with bounded memory; images are refused above `limits.max_alloc`.
pub fn inspect<R: Read + Seek>(
    file: &mut R,
    len: u64,
    allowed: &[Format],
    limits: &Limits,
) -> Result<Inspection, Refusal> {
    if len == 0 {
        return Err(Refusal::Empty);
    }
    if len > limits.max_in_memory {
        return inspect_large(file, len, allowed, limits);
    }
    let buf = read_file(file, len)?;
    inspect_bytes(&buf, allowed, limits)
}

/// A file above the in-memory size: its head and tail decide what it is, then PDFs are read
/// through once; images are decoded in memory while they fit the decoder's budget.
fn inspect_large<R: Read + Seek>(
    file: &mut R,
    len: u64,
    allowed: &[Format],
    limits: &Limits,
) -> Result<Inspection, Refusal> {
    let Some(head) = read_head(file) else {
        return Err(Refusal::UnknownFormat);
    };
    // A PDF hidden behind other data is looked for in the first MiB only: the file is refused
    // either way, only the reason differs.
    let format = allowed_format(
        &head,
        || read_range(file, 0, 1 << 20).unwrap_or_default().into(),
        allowed,
    )?;
    if format != Format::Pdf {
        if len > limits.max_alloc {
            return Err(refuse_oversized(file, len, allowed));
        }
        let buf = read_file(file, len)?;
        return inspect_bytes(&buf, allowed, limits);
    }
    let tail_len = polyglot::ZIP_EOCD_WINDOW as u64;
    let tail =
        read_range(file, len.saturating_sub(tail_len), tail_len).ok_or(Refusal::PdfMalformed)?;
    polyglot::check_head_and_tail(&head, &tail)?;
    pdf::inspect_pdf_file(file, len, limits).map(Inspection::pdf)
}

/// The format the content says, if `allowed` holds it. `hidden_pdf_window` gives the bytes
/// to search for a PDF header when the head says nothing: some PDF readers search further
/// than the first KiB, which makes such a file a PDF hidden behind other data.
fn allowed_format<'a>(
    head: &[u8],
    hidden_pdf_window: impl FnOnce() -> std::borrow::Cow<'a, [u8]>,
    allowed: &[Format],
) -> Result<Format, Refusal> {
    let Some(format) = sniff(head) else {
        if bytes::find(&hidden_pdf_window(), format::PDF_MAGIC).is_some() {
            return Err(Refusal::Polyglot);
        }
        return Err(Refusal::UnknownFormat);
    };
    if !allowed.contains(&format) {
        return Err(Refusal::FormatNotAllowed {
            found: format,
            allowed: allowed.to_vec(),
        });
    }
    Ok(format)
}

/// Same as [`inspect`] for a file already in memory.
pub fn inspect_bytes(
    buf: &[u8],
    allowed: &[Format],
    limits: &Limits,
) -> Result<Inspection, Refusal> {
    if buf.is_empty() {
        return Err(Refusal::Empty);
    }
    let format = allowed_format(buf, || buf.into(), allowed)?;
    polyglot::check_common(buf, format)?;
    match format {
        Format::Pdf => pdf::inspect_pdf(buf, limits).map(Inspection::pdf),
        Format::Jpeg | Format::Png | Format::Webp => {
            let (width, height) = image_check::inspect_image(buf, format, limits)?;
            Ok(Inspection {
                format,
                media_type: format.media_type(),
                width: Some(width),
                height: Some(height),
                pages: None,
            })
        }
    }
}

/// Entry points for the fuzz targets (`fuzz/`), which must reach one parser directly
/// without the checks that would refuse most inputs before it. Not an API.
#[doc(hidden)]
pub mod fuzzing {
    use crate::{Limits, Refusal};

    /// The PDF inspector alone (what [`crate::inspect_bytes`] runs once the content is known
    /// to be an allowed PDF and no polyglot): the page count, or the refusal.
    pub fn inspect_pdf(buf: &[u8], limits: &Limits) -> Result<u32, Refusal> {
        crate::pdf::inspect_pdf(buf, limits)
    }

    /// The one-pass inspector of large PDFs, on a file in memory.
    pub fn inspect_pdf_streaming(buf: &[u8], limits: &Limits) -> Result<u32, Refusal> {
        let len = u64::try_from(buf.len()).unwrap_or(u64::MAX);
        crate::pdf::inspect_pdf_file(&mut std::io::Cursor::new(buf), len, limits)
    }
}

fn read_file<R: Read + Seek>(file: &mut R, len: u64) -> Result<Vec<u8>, Refusal> {
    let unreadable = |file: &mut R| refuse_unreadable(file);
    if file.seek(SeekFrom::Start(0)).is_err() {
        return Err(unreadable(file));
    }
    let Ok(capacity) = usize::try_from(len) else {
        return Err(unreadable(file));
    };
    let mut buf = Vec::new();
    if buf.try_reserve_exact(capacity).is_err() {
        return Err(unreadable(file));
    }
    // A short read only means the file is shorter than announced; what was read is the file.
    if file.by_ref().take(len).read_to_end(&mut buf).is_err() {
        return Err(unreadable(file));
    }
    if buf.is_empty() {
        return Err(Refusal::Empty);
    }
    Ok(buf)
}

/// The file could not be read completely. There is no refusal for a server-side I/O error, and
/// accepting a file whose end was never inspected would be unsafe, so the refusal names the
/// format the head claims, malformed.
fn refuse_unreadable<R: Read + Seek>(file: &mut R) -> Refusal {
    match read_head(file).as_deref().and_then(sniff) {
        Some(Format::Pdf) => Refusal::PdfMalformed,
        Some(_) => Refusal::ImageMalformed,
        None => Refusal::UnknownFormat,
    }
}

fn read_head<R: Read + Seek>(file: &mut R) -> Option<Vec<u8>> {
    read_range(file, 0, format::SNIFF_LEN as u64)
}

fn read_range<R: Read + Seek>(file: &mut R, at: u64, len: u64) -> Option<Vec<u8>> {
    file.seek(SeekFrom::Start(at)).ok()?;
    let mut buf = Vec::new();
    file.by_ref().take(len).read_to_end(&mut buf).ok()?;
    Some(buf)
}

/// A file larger than the memory budget is never loaded; the refusal still says what it is.
fn refuse_oversized<R: Read + Seek>(file: &mut R, len: u64, allowed: &[Format]) -> Refusal {
    let Some(head) = read_head(file) else {
        return Refusal::UnknownFormat;
    };
    let Some(format) = sniff(&head) else {
        return Refusal::UnknownFormat;
    };
    if !allowed.contains(&format) {
        return Refusal::FormatNotAllowed {
            found: format,
            allowed: allowed.to_vec(),
        };
    }
    if format == Format::Pdf {
        return Refusal::PdfMalformed;
    }
    if file.seek(SeekFrom::Start(0)).is_err() {
        return Refusal::ImageMalformed;
    }
    // Headers sit at the start; a bounded prefix is enough to read the dimensions.
    let mut prefix = Vec::new();
    if file
        .by_ref()
        .take(len.min(1024 * 1024))
        .read_to_end(&mut prefix)
        .is_err()
    {
        return Refusal::ImageMalformed;
    }
    match image_check::header_dimensions(&prefix, format) {
        Some((width, height)) => Refusal::ImageTooLarge { width, height },
        None => Refusal::ImageMalformed,
    }
}
