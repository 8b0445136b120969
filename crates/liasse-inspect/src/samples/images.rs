//! Image samples: valid PNG, JPEG and WebP, bombs, polyglots and images with something appended.

use super::*;

pub(super) fn encode(width: u32, height: u32, format: ImageFormat) -> Vec<u8> {
    let image = RgbImage::from_fn(width, height, |x, y| {
        image::Rgb([
            (x * 255 / width.max(1)) as u8,
            (y * 255 / height.max(1)) as u8,
            160,
        ])
    });
    let mut out = Cursor::new(Vec::new());
    match DynamicImage::ImageRgb8(image).write_to(&mut out, format) {
        Ok(()) => out.into_inner(),
        Err(_) => Vec::new(),
    }
}

/// A valid PNG (empty if the dimensions are zero).
pub fn small_png(width: u32, height: u32) -> Vec<u8> {
    encode(width, height, ImageFormat::Png)
}

/// A valid baseline JPEG (empty if the dimensions are zero).
pub fn small_jpeg(width: u32, height: u32) -> Vec<u8> {
    encode(width, height, ImageFormat::Jpeg)
}

/// A valid lossless WebP (empty if the dimensions are zero).
pub fn small_webp(width: u32, height: u32) -> Vec<u8> {
    encode(width, height, ImageFormat::WebP)
}

/// CRC-32 as used by PNG and ZIP.
pub(super) fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &byte in data {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

pub(super) fn png_chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut chunk = u32::try_from(data.len())
        .unwrap_or(u32::MAX)
        .to_be_bytes()
        .to_vec();
    chunk.extend_from_slice(kind);
    chunk.extend_from_slice(data);
    let mut checked = kind.to_vec();
    checked.extend_from_slice(data);
    chunk.extend_from_slice(&crc32(&checked).to_be_bytes());
    chunk
}

/// A small PNG whose header claims `width` x `height` pixels (RGB, 8 bits), with a token of
/// pixel data: decoding it would need width x height x 3 bytes. Refused before decoding:
/// `ImageTooLarge`.
pub fn png_bomb(width: u32, height: u32) -> Vec<u8> {
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut header = Vec::new();
    header.extend_from_slice(&width.to_be_bytes());
    header.extend_from_slice(&height.to_be_bytes());
    header.extend_from_slice(&[8, 2, 0, 0, 0]);
    out.extend_from_slice(&png_chunk(b"IHDR", &header));
    out.extend_from_slice(&png_chunk(b"IDAT", &zlib(&[0u8; 4096])));
    out.extend_from_slice(&png_chunk(b"IEND", b""));
    out
}

/// A complete, valid PNG of `width` x `height` RGB pixels, all of one colour: a few hundred
/// KiB for 10000 x 10000, yet decoding it needs width x height x 3 bytes. Built row by row,
/// so that making it costs no more memory than the result.
pub fn uniform_png(width: u32, height: u32) -> Vec<u8> {
    use flate2::{Compression, write::ZlibEncoder};
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut header = Vec::new();
    header.extend_from_slice(&width.to_be_bytes());
    header.extend_from_slice(&height.to_be_bytes());
    header.extend_from_slice(&[8, 2, 0, 0, 0]);
    out.extend_from_slice(&png_chunk(b"IHDR", &header));
    // Filter byte 0, then the row's pixels: a light grey background.
    let mut row = vec![0xeeu8; 1 + width as usize * 3];
    row[0] = 0;
    let mut z = ZlibEncoder::new(Vec::new(), Compression::best());
    for _ in 0..height {
        let _ = z.write_all(&row);
    }
    let data = z.finish().unwrap_or_default();
    out.extend_from_slice(&png_chunk(b"IDAT", &data));
    out.extend_from_slice(&png_chunk(b"IEND", b""));
    out
}

/// A PNG followed by a PDF: valid as both. Refused: `Polyglot`.
pub fn polyglot_png_pdf() -> Vec<u8> {
    let mut out = small_png(8, 8);
    out.extend_from_slice(&minimal_pdf());
    out
}

/// A JPEG followed by a PDF. Refused: `Polyglot`.
pub fn polyglot_jpeg_pdf() -> Vec<u8> {
    let mut out = small_jpeg(8, 8);
    out.extend_from_slice(&minimal_pdf());
    out
}

/// A JPEG uploaded under a PDF name and content type: `(file name, content type, bytes)`.
/// Sniffed as JPEG whatever the client says; refused where only PDF is allowed.
pub fn jpeg_with_pdf_declared() -> (&'static str, &'static str, Vec<u8>) {
    ("attestation.pdf", "application/pdf", small_jpeg(16, 16))
}

/// Insert a segment right after the SOI marker of a JPEG.
pub(super) fn with_segment(jpeg: Vec<u8>, marker: u8, payload: &[u8]) -> Vec<u8> {
    let Some(rest) = jpeg.get(2..) else {
        return jpeg;
    };
    let mut out = vec![0xFF, 0xD8, 0xFF, marker];
    out.extend_from_slice(
        &u16::try_from(payload.len() + 2)
            .unwrap_or(u16::MAX)
            .to_be_bytes(),
    );
    out.extend_from_slice(payload);
    out.extend_from_slice(rest);
    out
}

/// A JPEG whose comment segment holds a script, for browsers that guess types. Refused:
/// `Polyglot`.
pub fn jpeg_with_html() -> Vec<u8> {
    with_segment(
        small_jpeg(16, 16),
        0xFE,
        b"<script>alert(document.domain)</script>",
    )
}

/// A JPEG with an EXIF segment holding a thumbnail (itself a JPEG, with its own end marker),
/// as cameras write them. Accepted.
pub fn jpeg_with_exif_thumbnail(width: u32, height: u32) -> Vec<u8> {
    let mut exif = b"Exif\0\0".to_vec();
    exif.extend_from_slice(&small_jpeg(4, 4));
    with_segment(small_jpeg(width, height), 0xE1, &exif)
}

/// A JPEG followed by 4 KiB of data. Refused: `Polyglot`.
pub fn jpeg_with_trailing_data() -> Vec<u8> {
    let mut out = small_jpeg(16, 16);
    out.extend(std::iter::repeat_n(b'A', 4096));
    out
}

/// A JPEG followed by a ZIP archive. Refused: `Polyglot`.
pub fn jpeg_with_trailing_zip() -> Vec<u8> {
    let mut out = small_jpeg(16, 16);
    out.extend_from_slice(&tiny_zip());
    out
}

/// A JPEG followed by a second JPEG, as in multi-picture files and HDR photos with a gain
/// map. Accepted.
pub fn jpeg_with_appended_jpeg() -> Vec<u8> {
    let mut out = small_jpeg(16, 16);
    out.extend_from_slice(&small_jpeg(8, 8));
    out
}

/// A "motion photo": a JPEG followed by a short MP4. Accepted.
pub fn jpeg_motion_photo() -> Vec<u8> {
    let mut out = small_jpeg(16, 16);
    out.extend_from_slice(&fake_mp4());
    out
}

/// The first half of a JPEG. Refused: `ImageMalformed`.
pub fn truncated_jpeg() -> Vec<u8> {
    let mut out = small_jpeg(64, 64);
    out.truncate(out.len() / 2);
    out
}

/// The first half of a PNG. Refused: `ImageMalformed`.
pub fn truncated_png() -> Vec<u8> {
    let mut out = small_png(64, 64);
    out.truncate(out.len() / 2);
    out
}

/// A PNG followed by 100 bytes of data. Refused: `Polyglot`.
pub fn png_with_trailing_data() -> Vec<u8> {
    let mut out = small_png(8, 8);
    out.extend(std::iter::repeat_n(b'A', 100));
    out
}
