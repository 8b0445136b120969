//! Image checks: header dimensions first, then structure and trailing data, then a full decode
//! under memory limits.

use std::io::Cursor;
use std::panic::{AssertUnwindSafe, catch_unwind};

use image::{ImageError, ImageFormat, ImageReader};

use crate::polyglot::{is_padding, tail_is_insignificant};
use crate::{Format, Limits, Refusal};

pub(crate) fn inspect_image(
    buf: &[u8],
    format: Format,
    limits: &Limits,
) -> Result<(u32, u32), Refusal> {
    // The header is read without decoding, so a "decompression bomb" claiming huge dimensions
    // is refused before any pixel buffer is allocated.
    let (width, height) = header_dimensions(buf, format).ok_or(Refusal::ImageMalformed)?;
    if width == 0 || height == 0 {
        return Err(Refusal::ImageMalformed);
    }
    if width > limits.max_width || height > limits.max_height {
        return Err(Refusal::ImageTooLarge { width, height });
    }
    if u64::from(width) * u64::from(height) > limits.max_pixels {
        return Err(Refusal::ImageTooManyPixels {
            width,
            height,
            max_pixels: limits.max_pixels,
        });
    }

    let end = match format {
        Format::Png => png_end(buf),
        Format::Jpeg => jpeg_end(buf),
        Format::Webp => webp_end(buf),
        Format::Pdf => None,
    }
    .ok_or(Refusal::ImageMalformed)?;
    let tail = buf.get(end..).unwrap_or_default();
    let tail_ok = match format {
        Format::Jpeg => jpeg_tail_is_acceptable(tail),
        _ => tail_is_insignificant(tail),
    };
    if !tail_ok {
        return Err(Refusal::Polyglot);
    }

    decode(buf, format, limits, width, height)
}

fn image_format(format: Format) -> Option<ImageFormat> {
    match format {
        Format::Jpeg => Some(ImageFormat::Jpeg),
        Format::Png => Some(ImageFormat::Png),
        Format::Webp => Some(ImageFormat::WebP),
        Format::Pdf => None,
    }
}

/// Dimensions from the header, without decoding pixels.
pub(crate) fn header_dimensions(buf: &[u8], format: Format) -> Option<(u32, u32)> {
    let image_format = image_format(format)?;
    let read = || ImageReader::with_format(Cursor::new(buf), image_format).into_dimensions();
    catch_unwind(AssertUnwindSafe(read)).ok()?.ok()
}

/// A full decode proves the pixel data is complete and well-formed; the image is then dropped.
fn decode(
    buf: &[u8],
    format: Format,
    limits: &Limits,
    width: u32,
    height: u32,
) -> Result<(u32, u32), Refusal> {
    let image_format = image_format(format).ok_or(Refusal::ImageMalformed)?;
    let mut decoder_limits = image::Limits::default();
    decoder_limits.max_image_width = Some(limits.max_width);
    decoder_limits.max_image_height = Some(limits.max_height);
    decoder_limits.max_alloc = Some(limits.max_alloc);
    let run = || {
        let mut reader = ImageReader::with_format(Cursor::new(buf), image_format);
        reader.limits(decoder_limits);
        reader.decode().map(|image| (image.width(), image.height()))
    };
    match catch_unwind(AssertUnwindSafe(run)) {
        Ok(Ok(dimensions)) if dimensions == (width, height) => Ok(dimensions),
        Ok(Err(ImageError::Limits(_))) => Err(Refusal::ImageTooLarge { width, height }),
        _ => Err(Refusal::ImageMalformed),
    }
}

fn be_u32(buf: &[u8], at: usize) -> Option<u32> {
    let bytes: [u8; 4] = buf.get(at..at.checked_add(4)?)?.try_into().ok()?;
    Some(u32::from_be_bytes(bytes))
}

fn be_u16(buf: &[u8], at: usize) -> Option<u16> {
    let bytes: [u8; 2] = buf.get(at..at.checked_add(2)?)?.try_into().ok()?;
    Some(u16::from_be_bytes(bytes))
}

/// Offset just past the IEND chunk; `None` if the chunk sequence is truncated.
fn png_end(buf: &[u8]) -> Option<usize> {
    let mut pos = 8usize;
    loop {
        let len = usize::try_from(be_u32(buf, pos)?).ok()?;
        let kind = buf.get(pos + 4..pos + 8)?;
        // length, type, data, CRC
        let next = pos.checked_add(12)?.checked_add(len)?;
        if next > buf.len() {
            return None;
        }
        if kind == b"IEND" {
            return Some(next);
        }
        pos = next;
    }
}

/// Offset just past the RIFF container; `None` if it claims more bytes than the file has.
fn webp_end(buf: &[u8]) -> Option<usize> {
    let size_bytes: [u8; 4] = buf.get(4..8)?.try_into().ok()?;
    let size = usize::try_from(u32::from_le_bytes(size_bytes)).ok()?;
    let end = size.checked_add(8)?;
    if end > buf.len() {
        return None;
    }
    // RIFF pads odd chunks to an even size; the pad byte may be missing at the very end.
    Some(if size % 2 == 1 && end < buf.len() {
        end + 1
    } else {
        end
    })
}

/// Offset just past the EOI marker of the JPEG image starting at the beginning of `buf`,
/// following the marker structure (so an EXIF thumbnail's own EOI is skipped with its segment).
/// `None` if the image is truncated.
pub(crate) fn jpeg_end(buf: &[u8]) -> Option<usize> {
    if buf.get(..2)? != [0xFF, 0xD8] {
        return None;
    }
    let mut pos = 2usize;
    loop {
        // Decoders tolerate stray bytes between segments; skip them the same way.
        pos += buf.get(pos..)?.iter().position(|&b| b == 0xFF)?;
        pos += buf.get(pos..)?.iter().position(|&b| b != 0xFF)?;
        let marker = *buf.get(pos)?;
        pos += 1;
        match marker {
            0xD9 => return Some(pos),
            // Markers without a length.
            0x00 | 0x01 | 0xD0..=0xD8 => {}
            0xDA => {
                pos = pos.checked_add(usize::from(be_u16(buf, pos)?))?;
                pos = entropy_coded_end(buf, pos)?;
            }
            _ => {
                let len = usize::from(be_u16(buf, pos)?);
                if len < 2 {
                    return None;
                }
                pos = pos.checked_add(len)?;
            }
        }
    }
}

/// Position of the first marker after entropy-coded data starting at `pos`.
fn entropy_coded_end(buf: &[u8], mut pos: usize) -> Option<usize> {
    loop {
        pos += buf.get(pos..)?.iter().position(|&b| b == 0xFF)?;
        match *buf.get(pos + 1)? {
            // Stuffed zero, restart marker, or fill byte before the real marker.
            0x00 | 0xD0..=0xD7 => pos += 2,
            0xFF => pos += 1,
            _ => return Some(pos),
        }
    }
}

/// Phones append data after the main JPEG image: further JPEG images (MPF, gain maps of HDR
/// photos), the MP4 video of "motion photos", Samsung's metadata trailer. Those are accepted;
/// anything else after the image is a hidden payload.
fn jpeg_tail_is_acceptable(tail: &[u8]) -> bool {
    let mut rest = tail;
    // Each step consumes at least one byte, so this ends.
    loop {
        if rest.is_empty() {
            return true;
        }
        if rest.starts_with(&[0xFF, 0xD8]) {
            match jpeg_end(rest) {
                Some(end) => rest = rest.get(end..).unwrap_or_default(),
                None => return false,
            }
        } else if let Some(end) = iso_bmff_end(rest) {
            rest = rest.get(end..).unwrap_or_default();
        } else if rest.ends_with(b"SEFT") && crate::bytes::find(rest, b"SEFH").is_some() {
            // Samsung's trailer wraps its entries (video included) up to the end of the file.
            return true;
        } else {
            // Padding may include 0xFF bytes, but not the one starting the next image.
            let padding = (0..rest.len())
                .find(|&at| {
                    let b = rest.get(at).copied().unwrap_or(0);
                    !is_padding(b) || rest.get(at..at + 2) == Some(&[0xFF, 0xD8])
                })
                .unwrap_or(rest.len());
            if padding == 0 {
                return rest.len() <= crate::polyglot::SMALL_TAIL;
            }
            rest = rest.get(padding..).unwrap_or_default();
        }
    }
}

/// Length of a run of ISO base media boxes (an MP4 file) starting with `ftyp`, or `None`.
fn iso_bmff_end(buf: &[u8]) -> Option<usize> {
    if buf.get(4..8)? != b"ftyp" {
        return None;
    }
    let mut pos = 0usize;
    while pos < buf.len() {
        let Some(size) = be_u32(buf, pos) else { break };
        let Some(kind) = buf.get(pos + 4..pos + 8) else {
            break;
        };
        if !kind.iter().all(|b| b.is_ascii_alphanumeric() || *b == b' ') {
            break;
        }
        let size = match size {
            0 => buf.len() - pos,
            1 => {
                let high = u64::from(be_u32(buf, pos + 8)?);
                let low = u64::from(be_u32(buf, pos + 12)?);
                usize::try_from((high << 32) | low).ok()?
            }
            n => usize::try_from(n).ok()?,
        };
        if size < 8 {
            break;
        }
        pos = pos.checked_add(size)?;
    }
    // A box claiming more bytes than remain is a truncated or forged video.
    (pos > 0 && pos <= buf.len()).then_some(pos)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::samples;

    #[test]
    fn finds_the_end_of_each_format() {
        let png = samples::small_png(3, 2);
        assert_eq!(png_end(&png), Some(png.len()));
        let jpeg = samples::small_jpeg(3, 2);
        assert_eq!(jpeg_end(&jpeg), Some(jpeg.len()));
        let webp = samples::small_webp(3, 2);
        assert_eq!(webp_end(&webp), Some(webp.len()));
    }

    #[test]
    fn truncated_images_have_no_end() {
        let png = samples::small_png(16, 16);
        assert_eq!(png_end(png.get(..png.len() - 1).unwrap_or_default()), None);
        let jpeg = samples::small_jpeg(16, 16);
        assert_eq!(
            jpeg_end(jpeg.get(..jpeg.len() - 2).unwrap_or_default()),
            None
        );
        let webp = samples::small_webp(16, 16);
        assert_eq!(
            webp_end(webp.get(..webp.len() - 1).unwrap_or_default()),
            None
        );
    }

    #[test]
    fn exif_thumbnails_do_not_end_the_image() {
        let jpeg = samples::jpeg_with_exif_thumbnail(8, 8);
        assert_eq!(jpeg_end(&jpeg), Some(jpeg.len()));
    }

    #[test]
    fn phone_tails_are_accepted_and_others_are_not() {
        assert!(jpeg_tail_is_acceptable(&samples::small_jpeg(4, 4)));
        assert!(jpeg_tail_is_acceptable(&samples::fake_mp4()));
        assert!(jpeg_tail_is_acceptable(b"\0\0\0"));
        let mut padded = vec![0xFF, 0xFF, 0];
        padded.extend_from_slice(&samples::small_jpeg(4, 4));
        assert!(jpeg_tail_is_acceptable(&padded));
        assert!(jpeg_tail_is_acceptable(
            b"xxxxImage_UTC_Data1700000000000SEFHxxxxSEFT"
        ));
        assert!(!jpeg_tail_is_acceptable(&[b'A'; 64]));
        assert!(!jpeg_tail_is_acceptable(
            b"\0\0\0\x04ftyp0000000000000000000000"
        ));
        let mut forged = samples::fake_mp4();
        forged.extend_from_slice(&[b'A'; 64]);
        assert!(!jpeg_tail_is_acceptable(&forged));
    }
}
