//! Bounded stream decoding. lopdf inflates without any limit, so the streams it would decode
//! while loading (cross-reference and object streams) are decoded here instead, with a cap.

use std::io::Read;

use super::lexer::Obj;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DecodeError {
    /// The decoded data would exceed the cap: a decompression bomb, or simply too much.
    TooLarge,
    /// A filter or predictor this crate does not decode.
    Unsupported,
}

/// Rows above this size are refused: real cross-reference and object streams use a few bytes.
const MAX_PREDICTOR_ROW: usize = 1 << 20;

/// How a stream is encoded, restricted to what cross-reference and object streams use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Coding {
    flate: bool,
    predictor: Option<Predictor>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Predictor {
    bytes_per_pixel: usize,
    bytes_per_row: usize,
}

/// The parts of a stream dictionary that define its coding, in either representation.
pub(crate) struct CodingFields<'a> {
    /// Filter names; `None` when the entry is absent.
    pub(crate) filters: Option<Vec<&'a [u8]>>,
    /// `/DecodeParms`, when it is a dictionary (lopdf ignores the other forms).
    pub(crate) predictor: Option<i64>,
    pub(crate) columns: Option<i64>,
    pub(crate) colors: Option<i64>,
    pub(crate) bits_per_component: Option<i64>,
}

impl Coding {
    pub(crate) fn from_fields(fields: &CodingFields<'_>) -> Result<Self, DecodeError> {
        let flate = match fields.filters.as_deref() {
            None => false,
            Some([b"FlateDecode"]) => true,
            // lopdf turns an empty filter list into empty data; nothing legitimate does that.
            Some(_) => return Err(DecodeError::Unsupported),
        };
        let predictor = match fields.predictor {
            // As in lopdf: predictors only follow a decompression filter, and only the PNG
            // ones are applied (TIFF's is ignored).
            Some(10..=15) if flate => {
                let columns = usize::try_from(fields.columns.unwrap_or(1).max(1))
                    .map_err(|_| DecodeError::Unsupported)?;
                let colors = usize::try_from(fields.colors.unwrap_or(1).max(1))
                    .map_err(|_| DecodeError::Unsupported)?;
                let bits = usize::try_from(fields.bits_per_component.unwrap_or(8).max(8))
                    .map_err(|_| DecodeError::Unsupported)?;
                let bytes_per_pixel = colors.checked_mul(bits).ok_or(DecodeError::Unsupported)? / 8;
                let bytes_per_row = bytes_per_pixel
                    .checked_mul(columns)
                    .ok_or(DecodeError::Unsupported)?;
                if bytes_per_row > MAX_PREDICTOR_ROW {
                    return Err(DecodeError::Unsupported);
                }
                Some(Predictor {
                    bytes_per_pixel,
                    bytes_per_row,
                })
            }
            _ => None,
        };
        Ok(Coding { flate, predictor })
    }

    pub(crate) fn from_obj(dict: &Obj) -> Result<Self, DecodeError> {
        let filters = match dict.get(b"Filter") {
            None => None,
            Some(Obj::Name(name)) => Some(vec![name.as_slice()]),
            Some(Obj::Array(items)) => Some(
                items
                    .iter()
                    .map(|item| item.as_name().ok_or(DecodeError::Unsupported))
                    .collect::<Result<_, _>>()?,
            ),
            Some(_) => return Err(DecodeError::Unsupported),
        };
        let params = dict
            .get(b"DecodeParms")
            .filter(|p| matches!(p, Obj::Dict(_)));
        let param = |key: &[u8]| params.and_then(|p| p.get(key)).and_then(Obj::as_int);
        Coding::from_fields(&CodingFields {
            filters,
            predictor: param(b"Predictor"),
            columns: param(b"Columns"),
            colors: param(b"Colors"),
            bits_per_component: param(b"BitsPerComponent"),
        })
    }

    pub(crate) fn from_lopdf(dict: &lopdf::Dictionary) -> Result<Self, DecodeError> {
        let filters = match dict.get(b"Filter") {
            Err(_) => None,
            Ok(lopdf::Object::Name(name)) => Some(vec![name.as_slice()]),
            Ok(lopdf::Object::Array(items)) => Some(
                items
                    .iter()
                    .map(|item| item.as_name().map_err(|_| DecodeError::Unsupported))
                    .collect::<Result<_, _>>()?,
            ),
            Ok(_) => return Err(DecodeError::Unsupported),
        };
        let params = dict
            .get(b"DecodeParms")
            .and_then(lopdf::Object::as_dict)
            .ok();
        let param =
            |key: &[u8]| params.and_then(|p| p.get(key).and_then(lopdf::Object::as_i64).ok());
        Coding::from_fields(&CodingFields {
            filters,
            predictor: param(b"Predictor"),
            columns: param(b"Columns"),
            colors: param(b"Colors"),
            bits_per_component: param(b"BitsPerComponent"),
        })
    }

    /// Decode `data`, producing at most `cap` bytes.
    pub(crate) fn decode(self, data: &[u8], cap: usize) -> Result<Vec<u8>, DecodeError> {
        let inflated = if self.flate {
            inflate(data, cap)?
        } else if data.len() > cap {
            return Err(DecodeError::TooLarge);
        } else {
            data.to_vec()
        };
        match self.predictor {
            Some(predictor) => unpredict(&inflated, predictor),
            None => Ok(inflated),
        }
    }
}

/// Inflate zlib data without producing more than `cap` bytes. Corrupt data keeps what was
/// decoded before the error, as lopdf does.
pub(crate) fn inflate(data: &[u8], cap: usize) -> Result<Vec<u8>, DecodeError> {
    let mut out = Vec::new();
    if data.is_empty() {
        return Ok(out);
    }
    let limit = u64::try_from(cap).unwrap_or(u64::MAX).saturating_add(1);
    let mut decoder = flate2::read::ZlibDecoder::new(data).take(limit);
    let _ = decoder.read_to_end(&mut out);
    if out.len() > cap {
        return Err(DecodeError::TooLarge);
    }
    Ok(out)
}

/// The first `n` inflated bytes at most, to look at what a stream holds before decoding it.
pub(crate) fn inflate_prefix(data: &[u8], n: usize) -> Vec<u8> {
    let mut out = Vec::new();
    let limit = u64::try_from(n).unwrap_or(u64::MAX);
    let _ = flate2::read::ZlibDecoder::new(data)
        .take(limit)
        .read_to_end(&mut out);
    out
}

/// Whether data starts with a zlib header (deflate method, valid check bits).
pub(crate) fn looks_like_zlib(data: &[u8]) -> bool {
    match data {
        [cmf, flg, ..] => {
            cmf & 0x0F == 8 && cmf >> 4 <= 7 && (u16::from(*cmf) * 256 + u16::from(*flg)) % 31 == 0
        }
        _ => false,
    }
}

/// Undo the PNG predictors, as lopdf does (a partial last row is an error there too).
fn unpredict(data: &[u8], predictor: Predictor) -> Result<Vec<u8>, DecodeError> {
    let Predictor {
        bytes_per_pixel,
        bytes_per_row,
    } = predictor;
    let mut previous = vec![0u8; bytes_per_row];
    let mut out = Vec::with_capacity(data.len());
    let mut rows = data.chunks(bytes_per_row + 1);
    for row in rows.by_ref() {
        let Some((&filter, encoded)) = row.split_first() else {
            break;
        };
        if encoded.len() != bytes_per_row {
            return Err(DecodeError::Unsupported);
        }
        let mut current = encoded.to_vec();
        let bpp = bytes_per_pixel.min(current.len());
        for i in 0..current.len() {
            let left = if i >= bpp {
                current.get(i - bpp).copied().unwrap_or(0)
            } else {
                0
            };
            let above = previous.get(i).copied().unwrap_or(0);
            let upper_left = if i >= bpp {
                previous.get(i - bpp).copied().unwrap_or(0)
            } else {
                0
            };
            let prediction = match filter {
                0 => 0,
                1 => left,
                2 => above,
                // lopdf computes left + above / 2 rather than the spec's average; the offsets
                // read here must be the ones lopdf will use.
                3 => (u16::from(left) + u16::from(above) / 2) as u8,
                4 => paeth(left, above, upper_left),
                _ => return Err(DecodeError::Unsupported),
            };
            if let Some(byte) = current.get_mut(i) {
                *byte = byte.wrapping_add(prediction);
            }
        }
        out.extend_from_slice(&current);
        previous = current;
    }
    Ok(out)
}

fn paeth(left: u8, above: u8, upper_left: u8) -> u8 {
    let (a, b, c) = (i16::from(left), i16::from(above), i16::from(upper_left));
    let p = a + b - c;
    let (pa, pb, pc) = ((p - a).abs(), (p - b).abs(), (p - c).abs());
    if pa <= pb && pa <= pc {
        left
    } else if pb <= pc {
        above
    } else {
        upper_left
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn deflate(data: &[u8]) -> Vec<u8> {
        let mut encoder =
            flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        let _ = encoder.write_all(data);
        encoder.finish().unwrap_or_default()
    }

    #[test]
    fn inflates_within_the_cap_only() {
        let bomb = deflate(&vec![0u8; 1 << 20]);
        assert!(bomb.len() < 4096);
        assert!(looks_like_zlib(&bomb));
        assert_eq!(inflate(&bomb, 1 << 20).map(|v| v.len()), Ok(1 << 20));
        assert_eq!(inflate(&bomb, (1 << 20) - 1), Err(DecodeError::TooLarge));
        assert_eq!(inflate_prefix(&bomb, 10).len(), 10);
    }

    #[test]
    fn undoes_png_up_predictor() {
        let coding = Coding::from_fields(&CodingFields {
            filters: Some(vec![b"FlateDecode"]),
            predictor: Some(12),
            columns: Some(2),
            colors: None,
            bits_per_component: None,
        });
        let Ok(coding) = coding else {
            panic!("{coding:?}")
        };
        assert_eq!(
            coding.decode(&deflate(&[2, 1, 2, 2, 1, 1]), 100),
            Ok(vec![1, 2, 2, 3])
        );
        assert_eq!(
            coding.decode(&deflate(&[2, 1, 2, 2, 1]), 100),
            Err(DecodeError::Unsupported)
        );
    }

    #[test]
    fn refuses_unknown_filters_and_absurd_rows() {
        let dct = CodingFields {
            filters: Some(vec![b"DCTDecode"]),
            predictor: None,
            columns: None,
            colors: None,
            bits_per_component: None,
        };
        assert_eq!(Coding::from_fields(&dct), Err(DecodeError::Unsupported));
        let wide = CodingFields {
            filters: Some(vec![b"FlateDecode"]),
            predictor: Some(12),
            columns: Some(i64::MAX),
            colors: Some(4),
            bits_per_component: None,
        };
        assert_eq!(Coding::from_fields(&wide), Err(DecodeError::Unsupported));
    }
}
