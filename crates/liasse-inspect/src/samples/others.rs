//! Files that are neither PDF nor image (a video, an archive), for the refusals of unknown formats.

use super::*;

/// The box structure of an MP4 file, without real video.
pub fn fake_mp4() -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&20u32.to_be_bytes());
    out.extend_from_slice(b"ftypisom\0\0\x02\0isom");
    out.extend_from_slice(&24u32.to_be_bytes());
    out.extend_from_slice(b"mdat");
    out.extend_from_slice(&[0x42; 16]);
    out
}

/// A ZIP archive holding one stored file.
pub fn tiny_zip() -> Vec<u8> {
    let name = b"a.txt";
    let data = b"hello";
    let crc = crc32(data).to_le_bytes();
    let size = u32::try_from(data.len()).unwrap_or(0).to_le_bytes();
    let name_len = u16::try_from(name.len()).unwrap_or(0).to_le_bytes();

    let mut out = Vec::new();
    out.extend_from_slice(b"PK\x03\x04\x14\0\0\0\0\0\0\0\0\0");
    out.extend_from_slice(&crc);
    out.extend_from_slice(&size);
    out.extend_from_slice(&size);
    out.extend_from_slice(&name_len);
    out.extend_from_slice(&[0, 0]);
    out.extend_from_slice(name);
    out.extend_from_slice(data);

    let directory = out.len();
    out.extend_from_slice(b"PK\x01\x02\x14\0\x14\0\0\0\0\0\0\0\0\0");
    out.extend_from_slice(&crc);
    out.extend_from_slice(&size);
    out.extend_from_slice(&size);
    out.extend_from_slice(&name_len);
    out.extend_from_slice(&[0; 12]);
    out.extend_from_slice(&[0; 4]);
    out.extend_from_slice(name);
    let directory_len = out.len() - directory;

    out.extend_from_slice(b"PK\x05\x06\0\0\0\0\x01\0\x01\0");
    out.extend_from_slice(&u32::try_from(directory_len).unwrap_or(0).to_le_bytes());
    out.extend_from_slice(&u32::try_from(directory).unwrap_or(0).to_le_bytes());
    out.extend_from_slice(&[0, 0]);
    out
}
