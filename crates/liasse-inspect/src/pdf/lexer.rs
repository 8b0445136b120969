//! A small, non-allocating PDF tokenizer and a depth-limited object reader.
//!
//! It follows lopdf's grammar where that matters for safety: wherever lopdf starts parsing an
//! object, this reader starts too and reaches at least the same nesting depth, so refusing
//! deep nesting here keeps lopdf's recursive parser within its stack.

/// Deepest nesting of arrays and dictionaries accepted. Real documents stay far below; lopdf
/// needs a few KiB of stack per level in debug builds, and runs on 2 MiB worker stacks.
pub(crate) const MAX_NESTING: usize = 64;

pub(crate) fn is_whitespace(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | b'\0' | 0x0C)
}

fn is_delimiter(b: u8) -> bool {
    matches!(
        b,
        b'(' | b')' | b'<' | b'>' | b'[' | b']' | b'{' | b'}' | b'/' | b'%'
    )
}

pub(crate) fn is_regular(b: u8) -> bool {
    !is_whitespace(b) && !is_delimiter(b)
}

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Token<'a> {
    DictOpen,
    DictClose,
    ArrayOpen,
    ArrayClose,
    /// A name with `#xx` escapes decoded, without the slash.
    Name(Vec<u8>),
    Int(i64),
    /// A real, or an integer too large for `i64`.
    Real,
    /// A literal or hexadecimal string (contents skipped).
    Str,
    Keyword(&'a [u8]),
    /// A byte that cannot start a token (`)`, `>`, `{`, `}`).
    Stray,
}

#[derive(Clone)]
pub(crate) struct Lexer<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Lexer<'a> {
    pub(crate) fn new(buf: &'a [u8], pos: usize) -> Self {
        Lexer {
            buf,
            pos: pos.min(buf.len()),
        }
    }

    pub(crate) fn pos(&self) -> usize {
        self.pos
    }

    pub(crate) fn set_pos(&mut self, pos: usize) {
        self.pos = pos.min(self.buf.len());
    }

    fn peek(&self) -> Option<u8> {
        self.buf.get(self.pos).copied()
    }

    fn bump(&mut self) {
        if self.pos < self.buf.len() {
            self.pos += 1;
        }
    }

    /// Skip whitespace and comments, as lopdf's `space` does.
    pub(crate) fn skip_space(&mut self) {
        while let Some(b) = self.peek() {
            if is_whitespace(b) {
                self.bump();
            } else if b == b'%' {
                while self.peek().is_some_and(|c| c != b'\r' && c != b'\n') {
                    self.bump();
                }
            } else {
                break;
            }
        }
    }

    /// The next token, or `None` at the end of the input.
    pub(crate) fn next_token(&mut self) -> Option<Token<'a>> {
        self.skip_space();
        let start = self.pos;
        let first = self.peek()?;
        self.bump();
        let token = match first {
            b'[' => Token::ArrayOpen,
            b']' => Token::ArrayClose,
            b'<' if self.peek() == Some(b'<') => {
                self.bump();
                Token::DictOpen
            }
            b'<' => {
                while self.peek().is_some_and(|c| c != b'>') {
                    self.bump();
                }
                self.bump();
                Token::Str
            }
            b'>' if self.peek() == Some(b'>') => {
                self.bump();
                Token::DictClose
            }
            b'(' => {
                self.skip_literal_string();
                Token::Str
            }
            b'/' => Token::Name(self.read_name()),
            b')' | b'>' | b'{' | b'}' => Token::Stray,
            b'0'..=b'9' | b'+' | b'-' | b'.' => {
                // Numbers end at the first non-numeric byte, as in lopdf ("0obj" is 0, obj).
                while self
                    .peek()
                    .is_some_and(|c| c.is_ascii_digit() || matches!(c, b'+' | b'-' | b'.'))
                {
                    self.bump();
                }
                let text = self.buf.get(start..self.pos).unwrap_or_default();
                std::str::from_utf8(text)
                    .ok()
                    .and_then(|t| t.parse::<i64>().ok())
                    .map_or(Token::Real, Token::Int)
            }
            _ => {
                while self.peek().is_some_and(is_regular) {
                    self.bump();
                }
                Token::Keyword(self.buf.get(start..self.pos).unwrap_or_default())
            }
        };
        Some(token)
    }

    fn skip_literal_string(&mut self) {
        let mut depth = 1usize;
        while let Some(b) = self.peek() {
            self.bump();
            match b {
                b'\\' => self.bump(),
                b'(' => depth += 1,
                b')' => {
                    depth -= 1;
                    if depth == 0 {
                        return;
                    }
                }
                _ => {}
            }
        }
    }

    fn read_name(&mut self) -> Vec<u8> {
        let mut name = Vec::new();
        while let Some(b) = self.peek().filter(|&b| is_regular(b)) {
            let escaped = if b == b'#' {
                let high = self.buf.get(self.pos + 1).copied().and_then(hex_value);
                let low = self.buf.get(self.pos + 2).copied().and_then(hex_value);
                high.zip(low).map(|(h, l)| (h << 4) | l)
            } else {
                None
            };
            match escaped {
                Some(decoded) => {
                    name.push(decoded);
                    self.set_pos(self.pos + 3);
                }
                None => {
                    name.push(b);
                    self.bump();
                }
            }
        }
        name
    }

    /// After a dictionary: if the `stream` keyword follows, the offset where the data starts.
    pub(crate) fn stream_data_start(&self) -> Option<usize> {
        let mut probe = self.clone();
        probe.skip_space();
        let rest = probe.buf.get(probe.pos..)?;
        if !rest.starts_with(b"stream") {
            return None;
        }
        data_after_stream_keyword(self.buf, probe.pos + 6)
    }
}

/// Where stream data starts, given the offset just past a `stream` keyword: lopdf requires
/// optional spaces or tabs, then an end of line.
pub(crate) fn data_after_stream_keyword(buf: &[u8], pos: usize) -> Option<usize> {
    let after = buf.get(pos..)?;
    let spaces = after
        .iter()
        .take_while(|&&b| b == b' ' || b == b'\t')
        .count();
    let after = after.get(spaces..)?;
    let eol = if after.starts_with(b"\r\n") {
        2
    } else if after.starts_with(b"\n") || after.starts_with(b"\r") {
        1
    } else {
        return None;
    };
    Some(pos + spaces + eol)
}

/// A PDF object as far as the checks need it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Obj {
    Int(i64),
    Ref(u32),
    Name(Vec<u8>),
    Array(Vec<Obj>),
    Dict(Vec<(Vec<u8>, Obj)>),
    /// Strings, reals, keywords, and containers not kept.
    Other,
}

impl Obj {
    /// A dictionary entry; the last one wins on duplicates, as in lopdf.
    pub(crate) fn get(&self, key: &[u8]) -> Option<&Obj> {
        match self {
            Obj::Dict(entries) => entries.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    pub(crate) fn as_int(&self) -> Option<i64> {
        match self {
            Obj::Int(n) => Some(*n),
            _ => None,
        }
    }

    pub(crate) fn as_name(&self) -> Option<&[u8]> {
        match self {
            Obj::Name(n) => Some(n),
            _ => None,
        }
    }

    pub(crate) fn as_int_array(&self) -> Option<Vec<i64>> {
        match self {
            Obj::Array(items) => items.iter().map(Obj::as_int).collect(),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ReadError {
    /// Nested deeper than [`MAX_NESTING`].
    TooDeep,
    /// A kept container with more than [`MAX_KEPT_ITEMS`] items.
    TooLarge,
    /// Not an object (lopdf fails there too).
    Malformed,
}

/// Items kept in one container; cross-reference dictionaries need a few dozen at most, and a
/// file is not allowed to make this reader allocate in proportion to its size.
const MAX_KEPT_ITEMS: usize = 65_536;

/// Which containers to build; others are walked (depth-checked) and returned as `Other`.
#[derive(Clone, Copy)]
pub(crate) struct Keep {
    /// Containers at this nesting level or shallower are built (1 = the outermost).
    pub(crate) depth: usize,
    pub(crate) arrays: bool,
    /// When set, only this dictionary entry is kept.
    pub(crate) key: Option<&'static [u8]>,
}

impl Keep {
    /// Nothing kept: only check depth and find the end.
    pub(crate) const NONE: Keep = Keep {
        depth: 0,
        arrays: false,
        key: None,
    };
    /// The `/Length` of a top-level dictionary (or the object itself when it is a scalar).
    pub(crate) const LENGTH: Keep = Keep {
        depth: 1,
        arrays: false,
        key: Some(b"Length"),
    };
    /// Enough for cross-reference dictionaries (`/W [..]`, `/DecodeParms <<..>>`).
    pub(crate) const XREF: Keep = Keep {
        depth: 2,
        arrays: true,
        key: None,
    };
}

/// Read one object (an `a b R` reference counts as one), refusing deep nesting.
pub(crate) fn read_object(lx: &mut Lexer<'_>, keep: Keep) -> Result<Obj, ReadError> {
    read_at_level(lx, 0, keep)
}

fn read_at_level(lx: &mut Lexer<'_>, level: usize, keep: Keep) -> Result<Obj, ReadError> {
    match lx.next_token().ok_or(ReadError::Malformed)? {
        Token::ArrayOpen => {
            let level = level + 1;
            if level > MAX_NESTING {
                return Err(ReadError::TooDeep);
            }
            let build = keep.arrays && level <= keep.depth;
            let mut items = Vec::new();
            loop {
                let mut probe = lx.clone();
                match probe.next_token() {
                    Some(Token::ArrayClose) => {
                        *lx = probe;
                        break;
                    }
                    None => return Err(ReadError::Malformed),
                    Some(_) => {}
                }
                let item = read_at_level(lx, level, keep)?;
                if build {
                    if items.len() == MAX_KEPT_ITEMS {
                        return Err(ReadError::TooLarge);
                    }
                    items.push(item);
                }
            }
            Ok(if build { Obj::Array(items) } else { Obj::Other })
        }
        Token::DictOpen => {
            let level = level + 1;
            if level > MAX_NESTING {
                return Err(ReadError::TooDeep);
            }
            let build = level <= keep.depth;
            let mut entries = Vec::new();
            loop {
                match lx.next_token() {
                    Some(Token::DictClose) => break,
                    Some(Token::Name(key)) => {
                        let value = read_at_level(lx, level, keep)?;
                        if build && keep.key.is_none_or(|wanted| wanted == key.as_slice()) {
                            if entries.len() == MAX_KEPT_ITEMS {
                                return Err(ReadError::TooLarge);
                            }
                            entries.push((key, value));
                        }
                    }
                    _ => return Err(ReadError::Malformed),
                }
            }
            Ok(if build {
                Obj::Dict(entries)
            } else {
                Obj::Other
            })
        }
        Token::Int(n) => {
            let mut probe = lx.clone();
            if let (Some(Token::Int(_)), Some(Token::Keyword(b"R"))) =
                (probe.next_token(), probe.next_token())
            {
                *lx = probe;
                return Ok(u32::try_from(n).map_or(Obj::Other, Obj::Ref));
            }
            Ok(Obj::Int(n))
        }
        Token::Name(name) => Ok(Obj::Name(name)),
        Token::Real | Token::Str | Token::Keyword(_) => Ok(Obj::Other),
        Token::DictClose | Token::ArrayClose | Token::Stray => Err(ReadError::Malformed),
    }
}

/// Where an indirect object's body starts, if `pos` holds an `N G obj` header as lopdf reads
/// it, or `Err` with how far the header was read. `Ok(None)` when the body is a plain value
/// glued to the keyword (`obj5`): lopdf reads it as a scalar, which cannot nest.
pub(crate) fn object_body(buf: &[u8], pos: usize) -> Result<Option<usize>, usize> {
    let mut lx = Lexer::new(buf, pos);
    let (Some(Token::Int(_)), Some(Token::Int(_)), Some(Token::Keyword(keyword))) =
        (lx.next_token(), lx.next_token(), lx.next_token())
    else {
        return Err(lx.pos());
    };
    if keyword == b"obj" {
        Ok(Some(lx.pos()))
    } else if keyword.starts_with(b"obj") {
        Ok(None)
    } else {
        Err(lx.pos())
    }
}

/// An indirect object as located in the file.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Located {
    pub(crate) value: Obj,
    /// Offset just past the value.
    pub(crate) end: usize,
    /// Offset of the stream data, when the value is a stream dictionary.
    pub(crate) stream_start: Option<usize>,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Indirect {
    /// No `N G obj` header there: lopdf gives up after reading up to `end`.
    Absent {
        end: usize,
    },
    /// A header, then something lopdf fails to parse after reading up to `end`.
    Broken {
        end: usize,
    },
    Object(Located),
}

impl Indirect {
    /// How far lopdf's parse of this object reaches, stream data excluded.
    pub(crate) fn end(&self) -> usize {
        match self {
            Indirect::Absent { end } | Indirect::Broken { end } => *end,
            Indirect::Object(located) => located.end,
        }
    }
}

/// Read the indirect object at `pos` the way lopdf would.
pub(crate) fn read_indirect(buf: &[u8], pos: usize, keep: Keep) -> Result<Indirect, ReadError> {
    let body = match object_body(buf, pos) {
        Ok(Some(body)) => body,
        Ok(None) => {
            return Ok(Indirect::Object(Located {
                value: Obj::Other,
                end: pos,
                stream_start: None,
            }));
        }
        Err(end) => return Ok(Indirect::Absent { end }),
    };
    let mut lx = Lexer::new(buf, body);
    let is_dict = matches!(lx.clone().next_token(), Some(Token::DictOpen));
    let value = match read_object(&mut lx, keep) {
        Ok(value) => value,
        Err(ReadError::Malformed) => return Ok(Indirect::Broken { end: lx.pos() }),
        Err(error) => return Err(error),
    };
    let stream_start = if is_dict {
        lx.stream_data_start()
    } else {
        None
    };
    Ok(Indirect::Object(Located {
        value,
        end: lx.pos(),
        stream_start,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(input: &[u8]) -> Vec<Token<'_>> {
        let mut lx = Lexer::new(input, 0);
        std::iter::from_fn(|| lx.next_token()).collect()
    }

    #[test]
    fn tokenizes_like_pdf() {
        assert_eq!(
            tokens(b"<</A#20B 12 0 R/C[(x(y)\\)z) <ab>]>> % comment\n-3.5 0obj"),
            vec![
                Token::DictOpen,
                Token::Name(b"A B".to_vec()),
                Token::Int(12),
                Token::Int(0),
                Token::Keyword(b"R"),
                Token::Name(b"C".to_vec()),
                Token::ArrayOpen,
                Token::Str,
                Token::Str,
                Token::ArrayClose,
                Token::DictClose,
                Token::Real,
                Token::Int(0),
                Token::Keyword(b"obj"),
            ]
        );
        assert_eq!(
            tokens(b"/J#61vaScript/#zz"),
            vec![
                Token::Name(b"JavaScript".to_vec()),
                Token::Name(b"#zz".to_vec())
            ]
        );
    }

    #[test]
    fn reads_objects_and_references() {
        let mut lx = Lexer::new(b"<</Length 5 0 R /W [1 2 1] /P <</Predictor 12>>>>", 0);
        let obj = read_object(&mut lx, Keep::XREF);
        let Ok(obj) = obj else { panic!("{obj:?}") };
        assert_eq!(obj.get(b"Length"), Some(&Obj::Ref(5)));
        assert_eq!(
            obj.get(b"W").and_then(Obj::as_int_array),
            Some(vec![1, 2, 1])
        );
        assert_eq!(
            obj.get(b"P")
                .and_then(|p| p.get(b"Predictor"))
                .and_then(Obj::as_int),
            Some(12)
        );
    }

    #[test]
    fn refuses_deep_nesting_without_recursing_deeply() {
        let deep = "[".repeat(100_000);
        let mut lx = Lexer::new(deep.as_bytes(), 0);
        assert_eq!(read_object(&mut lx, Keep::NONE), Err(ReadError::TooDeep));
        let ok = format!("{}{}", "[".repeat(MAX_NESTING), "]".repeat(MAX_NESTING));
        let mut lx = Lexer::new(ok.as_bytes(), 0);
        assert_eq!(read_object(&mut lx, Keep::NONE), Ok(Obj::Other));
    }

    #[test]
    fn keeps_bounded_containers_only() {
        let long = format!("[{}]", "0 ".repeat(MAX_KEPT_ITEMS + 1));
        let mut lx = Lexer::new(long.as_bytes(), 0);
        assert_eq!(read_object(&mut lx, Keep::XREF), Err(ReadError::TooLarge));
        let mut lx = Lexer::new(long.as_bytes(), 0);
        assert_eq!(read_object(&mut lx, Keep::NONE), Ok(Obj::Other));
        let mut lx = Lexer::new(b"<</A 1 /Length 2 /B [3]>>", 0);
        assert_eq!(
            read_object(&mut lx, Keep::LENGTH),
            Ok(Obj::Dict(vec![(b"Length".to_vec(), Obj::Int(2))]))
        );
    }

    #[test]
    fn strings_hide_brackets_as_in_lopdf() {
        let mut lx = Lexer::new(b"[(]]]]) <5d5d> 1]", 0);
        assert!(read_object(&mut lx, Keep::NONE).is_ok());
        assert_eq!(lx.pos(), 17);
    }

    #[test]
    fn locates_indirect_objects_and_streams() {
        let buf = b"  12 0 obj\n<</Length 3>>\nstream\r\nabc\nendstream endobj";
        let located = read_indirect(buf, 0, Keep::LENGTH);
        let Ok(Indirect::Object(located)) = located else {
            panic!("{located:?}")
        };
        assert_eq!(located.value.get(b"Length"), Some(&Obj::Int(3)));
        assert_eq!(located.stream_start, Some(33));
        assert_eq!(
            read_indirect(b"garbage", 0, Keep::LENGTH),
            Ok(Indirect::Absent { end: 7 })
        );
        assert!(matches!(
            read_indirect(b"1 0 obj5", 0, Keep::LENGTH),
            Ok(Indirect::Object(_))
        ));
        assert_eq!(
            read_indirect(b"1 0 obj [1 2", 0, Keep::LENGTH),
            Ok(Indirect::Broken { end: 12 })
        );
    }
}
