//! From text to tokens: names, numbers, strings and operators, with the position of each.

use super::*;

// ---------------------------------------------------------------------------------------------
// Lexer

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Tok {
    Num(Number),
    Str(String),
    /// A word and the dotted segments after it: `true` is `("true", [])`, `answers.a.b` is
    /// `("answers", ["a", "b"])`.
    Name(String, Vec<String>),
    LParen,
    RParen,
    LBracket,
    RBracket,
    Comma,
    Cmp(CmpOp),
    AndAnd,
    OrOr,
    Bang,
}

#[derive(Debug, Clone)]
pub(super) struct Token {
    pub(super) tok: Tok,
    pub(super) start: usize,
    pub(super) end: usize,
}

pub(super) fn is_name_start(c: char) -> bool {
    c.is_alphabetic() || c == '_'
}

pub(super) fn is_name_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

pub(super) fn is_digit(c: Option<&char>) -> bool {
    c.is_some_and(char::is_ascii_digit)
}

/// The source text between two character offsets (empty if out of range).
pub(super) fn text(chars: &[char], start: usize, end: usize) -> String {
    chars
        .get(start..end)
        .map(|s| s.iter().collect())
        .unwrap_or_default()
}

pub(super) fn lex(chars: &[char]) -> Result<Vec<Token>, ParseError> {
    let mut toks = Vec::new();
    let mut i = 0;
    while let Some(&c) = chars.get(i) {
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        let next = chars.get(i + 1).copied();
        let (tok, end) = match c {
            '(' => (Tok::LParen, i + 1),
            ')' => (Tok::RParen, i + 1),
            '[' => (Tok::LBracket, i + 1),
            ']' => (Tok::RBracket, i + 1),
            ',' => (Tok::Comma, i + 1),
            '=' if next == Some('=') => (Tok::Cmp(CmpOp::Eq), i + 2),
            '=' => {
                return Err(ParseError::new(
                    "« = » n'est pas un opérateur : utilisez « == » pour comparer",
                    i,
                ));
            }
            '!' if next == Some('=') => (Tok::Cmp(CmpOp::Ne), i + 2),
            '!' => (Tok::Bang, i + 1),
            '<' if next == Some('=') => (Tok::Cmp(CmpOp::Le), i + 2),
            '<' => (Tok::Cmp(CmpOp::Lt), i + 1),
            '>' if next == Some('=') => (Tok::Cmp(CmpOp::Ge), i + 2),
            '>' => (Tok::Cmp(CmpOp::Gt), i + 1),
            '&' if next == Some('&') => (Tok::AndAnd, i + 2),
            '&' => {
                return Err(ParseError::new(
                    "« & » seul n'est pas un opérateur : utilisez « && » ou « and »",
                    i,
                ));
            }
            '|' if next == Some('|') => (Tok::OrOr, i + 2),
            '|' => {
                return Err(ParseError::new(
                    "« | » seul n'est pas un opérateur : utilisez « || » ou « or »",
                    i,
                ));
            }
            '"' => lex_string(chars, i)?,
            '-' | '0'..='9' => lex_number(chars, i)?,
            c if is_name_start(c) => lex_name(chars, i)?,
            c => {
                return Err(ParseError::new(format!("caractère inattendu « {c} »"), i));
            }
        };
        toks.push(Token { tok, start: i, end });
        i = end;
    }
    Ok(toks)
}

pub(super) fn lex_string(chars: &[char], start: usize) -> Result<(Tok, usize), ParseError> {
    let unterminated = || {
        ParseError::new(
            "chaîne non terminée : le guillemet fermant « \" » manque",
            start,
        )
    };
    let mut value = String::new();
    let mut i = start + 1;
    loop {
        match chars.get(i) {
            None => return Err(unterminated()),
            Some('"') => return Ok((Tok::Str(value), i + 1)),
            Some('\\') => {
                match chars.get(i + 1) {
                    Some(&c @ ('"' | '\\')) => value.push(c),
                    Some(c) => {
                        return Err(ParseError::new(
                            format!(
                                "échappement inconnu « \\{c} » dans une chaîne : \
                                 seuls \\\" et \\\\ sont permis"
                            ),
                            i,
                        ));
                    }
                    None => return Err(unterminated()),
                }
                i += 2;
            }
            Some(&c) => {
                value.push(c);
                i += 1;
            }
        }
    }
}

pub(super) fn skip_digits(chars: &[char], mut i: usize) -> usize {
    while is_digit(chars.get(i)) {
        i += 1;
    }
    i
}

pub(super) fn lex_number(chars: &[char], start: usize) -> Result<(Tok, usize), ParseError> {
    let mut i = start;
    if chars.get(i) == Some(&'-') {
        i += 1;
        if !is_digit(chars.get(i)) {
            return Err(ParseError::new("chiffre attendu après « - »", start));
        }
    }
    i = skip_digits(chars, i);
    let mut is_float = false;
    if chars.get(i) == Some(&'.') {
        if !is_digit(chars.get(i + 1)) {
            return Err(ParseError::new(
                "chiffre attendu après le « . » d'un nombre décimal",
                i + 1,
            ));
        }
        is_float = true;
        i = skip_digits(chars, i + 1);
    }
    if matches!(chars.get(i), Some('e' | 'E')) {
        let mut j = i + 1;
        if matches!(chars.get(j), Some('+' | '-')) {
            j += 1;
        }
        if !is_digit(chars.get(j)) {
            return Err(ParseError::new(
                "chiffre attendu dans l'exposant du nombre",
                j,
            ));
        }
        is_float = true;
        i = skip_digits(chars, j);
    }
    if chars.get(i).is_some_and(|&c| is_name_char(c) || c == '.') {
        return Err(ParseError::new(
            format!("nombre mal formé « {} »", text(chars, start, i + 1)),
            start,
        ));
    }
    let literal = text(chars, start, i);
    let integer = if is_float {
        None
    } else if let Ok(n) = literal.parse::<i64>() {
        Some(Number::from(n))
    } else if let Ok(n) = literal.parse::<u64>() {
        Some(Number::from(n))
    } else {
        None
    };
    let number = integer.or_else(|| literal.parse::<f64>().ok().and_then(Number::from_f64));
    match number {
        Some(n) => Ok((Tok::Num(n), i)),
        None => Err(ParseError::new(
            format!("nombre trop grand « {literal} »"),
            start,
        )),
    }
}

pub(super) fn lex_name(chars: &[char], start: usize) -> Result<(Tok, usize), ParseError> {
    let mut i = start;
    while chars.get(i).is_some_and(|&c| is_name_char(c)) {
        i += 1;
    }
    let word = text(chars, start, i);
    let mut segments = Vec::new();
    while chars.get(i) == Some(&'.') {
        let segment_start = i + 1;
        let mut j = segment_start;
        while chars.get(j).is_some_and(|&c| is_name_char(c)) {
            j += 1;
        }
        if j == segment_start {
            return Err(ParseError::new(
                format!(
                    "nom de champ attendu après « {} »",
                    text(chars, start, segment_start)
                ),
                segment_start,
            ));
        }
        segments.push(text(chars, segment_start, j));
        i = j;
    }
    Ok((Tok::Name(word, segments), i))
}
