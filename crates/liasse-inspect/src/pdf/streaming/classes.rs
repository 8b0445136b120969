//! The byte classes of PDF syntax (white space, digits, regular characters, delimiters), looked up in one table.

/// What a byte is to the tokenizer, looked up in a table: the inner loops run on every byte.
pub(super) const SPACE: u8 = 0;

pub(super) const NUMERIC: u8 = 1;

pub(super) const REGULAR: u8 = 2;

/// `%`, `/`, `(`, `<`: delimiters that start something.
pub(super) const OPENER: u8 = 3;

pub(super) const CLASSES: [u8; 256] = {
    let mut table = [REGULAR; 256];
    let mut b = 0;
    while b < 256 {
        table[b] = match b as u8 {
            b' ' | b'\t' | b'\n' | b'\r' | b'\0' | 0x0C => SPACE,
            // One-byte tokens: nothing to remember after them, like spaces.
            b'[' | b']' | b'{' | b'}' | b')' | b'>' => SPACE,
            b'%' | b'/' | b'(' | b'<' => OPENER,
            b'0'..=b'9' | b'+' | b'-' | b'.' => NUMERIC,
            _ => REGULAR,
        };
        b += 1;
    }
    table
};

pub(super) fn class(b: u8) -> u8 {
    CLASSES[usize::from(b)]
}

/// Length of the run at the start of `bytes` whose bytes satisfy `keep`.
pub(super) fn run_of(bytes: &[u8], keep: impl Fn(u8) -> bool) -> usize {
    bytes.iter().position(|&c| !keep(c)).unwrap_or(bytes.len())
}

pub(super) fn hex(b: u8) -> Option<u8> {
    char::from(b)
        .to_digit(16)
        .and_then(|d| u8::try_from(d).ok())
}
