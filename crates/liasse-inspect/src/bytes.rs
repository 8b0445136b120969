//! Searching byte strings: what the format sniffer, the polyglot checks and the PDF parser
//! all look for in raw input.

/// First occurrence of `needle` in `hay`.
pub(crate) fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    find_from(hay, needle, 0)
}

/// First occurrence of `needle` in `hay` at or after `from`.
pub(crate) fn find_from(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    let (&first, rest) = needle.split_first()?;
    let mut pos = from;
    loop {
        let window = hay.get(pos..)?;
        let at = pos + window.iter().position(|&b| b == first)?;
        if hay.get(at + 1..at + needle.len()) == Some(rest) {
            return Some(at);
        }
        pos = at + 1;
    }
}

/// Last occurrence of `needle` in `hay`.
pub(crate) fn rfind(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() || needle.len() > hay.len() {
        return None;
    }
    hay.windows(needle.len()).rposition(|w| w == needle)
}

/// First occurrence of `needle` in `hay`, ignoring ASCII case.
pub(crate) fn find_ignore_ascii_case(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() {
        return None;
    }
    hay.windows(needle.len())
        .position(|w| w.eq_ignore_ascii_case(needle))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_substrings() {
        assert_eq!(find(b"abcabc", b"ca"), Some(2));
        assert_eq!(find(b"abc", b"abcd"), None);
        assert_eq!(find(b"", b"a"), None);
        assert_eq!(find(b"aaab", b"ab"), Some(2));
        assert_eq!(find_from(b"abab", b"ab", 1), Some(2));
        assert_eq!(find_from(b"abab", b"ab", 9), None);
        assert_eq!(rfind(b"abab", b"ab"), Some(2));
        assert_eq!(rfind(b"a", b"ab"), None);
        assert_eq!(find_ignore_ascii_case(b"xx<HtMl>", b"<html"), Some(2));
    }
}
