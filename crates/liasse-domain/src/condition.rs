//! The small expression language of procedure requirements' conditions.
//!
//! A requirement of a procedure may apply only to some requests: "proof of custody, if the
//! household has children", "rent receipt, if the applicant is a tenant". The administrator who
//! writes the procedure states this as a condition on the request's answers and on a few numbers
//! about the citizen's household, for example `household.children > 0`. A condition is parsed
//! once, when the procedure is saved ([`Condition::parse`], with French error messages and a
//! position for the administrator), and evaluated on every request ([`Condition::eval`], which
//! never fails).
//!
//! # Language
//!
//! **Literals**: integers and decimals (`1`, `2.5`, `-3`, `1e6`), strings in double quotes with
//! the escapes `\"` and `\\` (`"hébergé"`, `"il a dit \"oui\""`), `true`, `false` and `null`.
//!
//! **Paths**:
//! - `answers.x`, `answers.a.b`: dotted access into the request's answers (a JSON object). A
//!   field that does not exist, or a path going through something that is not an object,
//!   evaluates to `null`. Field names are letters, digits and `_`; keywords may be used as field
//!   names (`answers.in`).
//! - `household.children`, `household.members`, `household.adults`: numbers provided by the
//!   caller (the second argument of [`Condition::eval`]); missing ones evaluate to `null`.
//!
//! Any other name (`foo.bar`, `answer.x`, `household.pets`) is a parse error.
//!
//! **Operators**, from the loosest to the tightest:
//!
//! | operators                        | meaning                                          |
//! |----------------------------------|--------------------------------------------------|
//! | `\|\|`, `or`                     | either side is true                              |
//! | `&&`, `and`                      | both sides are true                              |
//! | `!`, `not` (prefix)              | negation                                         |
//! | `==` `!=` `<` `<=` `>` `>=`, `in`| comparisons, non-associative                     |
//! | `( … )`                          | grouping                                         |
//!
//! So `!answers.x == 1` means `!(answers.x == 1)`, and `a == b || c` means `(a == b) || c`.
//! Comparisons do not chain: `1 < answers.x < 3` is an error, write
//! `1 < answers.x && answers.x < 3`. `in` takes a list of literals:
//! `answers.situation in ["locataire", "hébergé"]`.
//!
//! # Semantics
//!
//! - `==` and `!=` compare JSON values: numbers numerically (`1 == 1.0`), strings, booleans and
//!   `null` by value, lists and objects element by element. Values of different types are
//!   different (`1 != "1"`, `0 != false`).
//! - `<`, `<=`, `>`, `>=` order two numbers, or two strings lexicographically (which orders ISO
//!   dates, `answers.birth_date < "2010-01-01"`). Any other pair of operands makes the comparison
//!   false: evaluation never fails, a type mismatch is simply not satisfied.
//! - `x in [a, b, …]` is `x == a || x == b || …`.
//! - `&&`, `||`, `!` and the final result use truthiness: `false`, `null` (hence a missing
//!   answer), `0` and `""` are false, everything else (including lists and objects) is true.
//!
//! # Examples
//!
//! ```text
//! answers.children >= 1
//! answers.owner == false
//! household.children > 0 && answers.mode == "cantine"
//! not (answers.a or answers.b)
//! answers.x in [1, 2, 3]
//! answers.birth_date >= "2008-09-01" && answers.situation in ["locataire", "hébergé"]
//! answers.email                          (true when the citizen gave a non-empty email)
//! ```
//!
//! # Limits
//!
//! Conditions are written by administrators but evaluated on citizens' answers, and neither
//! parsing nor evaluation may crash the server: a source is at most [`MAX_LENGTH`] characters
//! and at most [`MAX_DEPTH`] parentheses and negations deep, so that recursion stays shallow.
//! Error positions are 0-based offsets in characters (not bytes) from the start of the source.
//!
//! A [`Condition`] serialises as its source. Its [`Display`](fmt::Display) is a canonical form
//! (single spaces around operators, `&&`, `||`, `!`, minimal parentheses, `not` before a negated
//! comparison), meant for showing; it re-parses to an equivalent condition.

use std::borrow::Cow;
use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Number, Value};

/// The longest accepted source, in characters.
pub const MAX_LENGTH: usize = 4096;

/// The deepest accepted nesting of parentheses and negations (`!`, `not`).
pub const MAX_DEPTH: usize = 32;

/// Why a condition's source was refused: a French message for the administrator who wrote it,
/// and the 0-based character offset where the problem was found.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message} (position {position})")]
pub struct ParseError {
    pub message: String,
    pub position: usize,
}

impl ParseError {
    fn new(message: impl Into<String>, position: usize) -> ParseError {
        ParseError {
            message: message.into(),
            position,
        }
    }
}

/// A parsed condition, with the source it was parsed from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Condition {
    source: String,
    expr: Expr,
}

impl Condition {
    /// Parses a condition.
    ///
    /// # Errors
    ///
    /// A [`ParseError`] (French message and position) when the source is empty, too long, too
    /// deeply nested, uses an unknown name or is not well formed.
    pub fn parse(src: &str) -> Result<Condition, ParseError> {
        if src.chars().nth(MAX_LENGTH).is_some() {
            return Err(ParseError::new(
                format!("condition trop longue (au plus {MAX_LENGTH} caractères)"),
                MAX_LENGTH,
            ));
        }
        let chars: Vec<char> = src.chars().collect();
        let toks = lex(&chars)?;
        if toks.is_empty() {
            return Err(ParseError::new("condition vide", 0));
        }
        let mut parser = Parser {
            chars: &chars,
            toks,
            pos: 0,
            depth: 0,
            last_operand: (0, 0),
        };
        let expr = parser.parse_or()?;
        if let Some(tok) = parser.peek() {
            return Err(parser.operator_expected(tok, false));
        }
        Ok(Condition {
            source: src.to_owned(),
            expr,
        })
    }

    /// The source the condition was parsed from, as written.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Evaluates the condition on a request's answers (a JSON object) and the household's
    /// numbers (a JSON object with `children`, `members`, `adults`). Never fails: missing fields
    /// are `null` and type mismatches make comparisons false.
    pub fn eval(&self, answers: &Value, household: &Value) -> bool {
        let env = Env { answers, household };
        eval_bool(&self.expr, &env)
    }

    /// Every `answers.*` path the condition reads, without the `answers.` prefix (`"x"` for
    /// `answers.x`, `"a.b"` for `answers.a.b`), each once, in order of first appearance; so a
    /// procedure can check that its questions exist.
    pub fn answer_paths(&self) -> Vec<String> {
        let mut paths: Vec<String> = Vec::new();
        collect_answer_paths(&self.expr, &mut paths);
        paths
    }
}

impl fmt::Display for Condition {
    /// The canonical form (see the module documentation).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.expr)
    }
}

impl FromStr for Condition {
    type Err = ParseError;

    fn from_str(s: &str) -> Result<Condition, ParseError> {
        Condition::parse(s)
    }
}

impl Serialize for Condition {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.source)
    }
}

impl<'de> Deserialize<'de> for Condition {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Condition, D::Error> {
        let source = String::deserialize(deserializer)?;
        Condition::parse(&source).map_err(serde::de::Error::custom)
    }
}

// ---------------------------------------------------------------------------------------------
// Syntax tree

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl CmpOp {
    fn symbol(self) -> &'static str {
        match self {
            CmpOp::Eq => "==",
            CmpOp::Ne => "!=",
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum HouseholdField {
    Children,
    Members,
    Adults,
}

impl HouseholdField {
    fn name(self) -> &'static str {
        match self {
            HouseholdField::Children => "children",
            HouseholdField::Members => "members",
            HouseholdField::Adults => "adults",
        }
    }

    fn from_name(name: &str) -> Option<HouseholdField> {
        match name {
            "children" => Some(HouseholdField::Children),
            "members" => Some(HouseholdField::Members),
            "adults" => Some(HouseholdField::Adults),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Expr {
    /// `null`, a boolean, a number or a string.
    Lit(Value),
    /// `answers.` followed by these segments (at least one).
    Answer(Vec<String>),
    Household(HouseholdField),
    Not(Box<Expr>),
    /// At least two operands.
    And(Vec<Expr>),
    /// At least two operands.
    Or(Vec<Expr>),
    Cmp(CmpOp, Box<Expr>, Box<Expr>),
    In(Box<Expr>, Vec<Value>),
}

impl Expr {
    /// Binding strength, for printing with minimal parentheses.
    fn precedence(&self) -> u8 {
        match self {
            Expr::Or(_) => 1,
            Expr::And(_) => 2,
            Expr::Not(_) => 3,
            Expr::Cmp(..) | Expr::In(..) => 4,
            Expr::Lit(_) | Expr::Answer(_) | Expr::Household(_) => 5,
        }
    }

    fn write_operand(&self, f: &mut fmt::Formatter<'_>, min_precedence: u8) -> fmt::Result {
        if self.precedence() < min_precedence {
            write!(f, "({self})")
        } else {
            write!(f, "{self}")
        }
    }
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expr::Lit(value) => write_literal(f, value),
            Expr::Answer(segments) => {
                f.write_str("answers")?;
                for segment in segments {
                    write!(f, ".{segment}")?;
                }
                Ok(())
            }
            Expr::Household(field) => write!(f, "household.{}", field.name()),
            Expr::Not(inner) => {
                // A chain of negations is printed `!!x`, or `not not a == b` when it negates a
                // comparison (`!a == b` would read as `(!a) == b`, and `!(a == b)` would nest
                // deeper than the source may).
                let mut count = 1usize;
                let mut base: &Expr = inner;
                while let Expr::Not(next) = base {
                    count += 1;
                    base = next;
                }
                let keyword = matches!(base, Expr::Cmp(..) | Expr::In(..));
                for _ in 0..count {
                    f.write_str(if keyword { "not " } else { "!" })?;
                }
                base.write_operand(f, 3)
            }
            Expr::And(items) | Expr::Or(items) => {
                let (separator, min) = if matches!(self, Expr::And(_)) {
                    (" && ", 2)
                } else {
                    (" || ", 1)
                };
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(separator)?;
                    }
                    item.write_operand(f, min)?;
                }
                Ok(())
            }
            Expr::Cmp(op, left, right) => {
                left.write_operand(f, 5)?;
                write!(f, " {} ", op.symbol())?;
                right.write_operand(f, 5)
            }
            Expr::In(left, items) => {
                left.write_operand(f, 5)?;
                f.write_str(" in [")?;
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write_literal(f, item)?;
                }
                f.write_str("]")
            }
        }
    }
}

fn write_literal(f: &mut fmt::Formatter<'_>, value: &Value) -> fmt::Result {
    match value {
        Value::String(s) => {
            f.write_str("\"")?;
            for c in s.chars() {
                match c {
                    '"' => f.write_str("\\\"")?,
                    '\\' => f.write_str("\\\\")?,
                    c => write!(f, "{c}")?,
                }
            }
            f.write_str("\"")
        }
        // Only null, booleans and numbers remain, which JSON prints as the language reads them.
        other => write!(f, "{other}"),
    }
}

fn collect_answer_paths(expr: &Expr, paths: &mut Vec<String>) {
    match expr {
        Expr::Answer(segments) => {
            let path = segments.join(".");
            if !paths.contains(&path) {
                paths.push(path);
            }
        }
        Expr::Lit(_) | Expr::Household(_) => {}
        Expr::Not(inner) | Expr::In(inner, _) => collect_answer_paths(inner, paths),
        Expr::And(items) | Expr::Or(items) => {
            for item in items {
                collect_answer_paths(item, paths);
            }
        }
        Expr::Cmp(_, left, right) => {
            collect_answer_paths(left, paths);
            collect_answer_paths(right, paths);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Lexer

#[derive(Debug, Clone, PartialEq)]
enum Tok {
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
struct Token {
    tok: Tok,
    start: usize,
    end: usize,
}

fn is_name_start(c: char) -> bool {
    c.is_alphabetic() || c == '_'
}

fn is_name_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

fn is_digit(c: Option<&char>) -> bool {
    c.is_some_and(char::is_ascii_digit)
}

/// The source text between two character offsets (empty if out of range).
fn text(chars: &[char], start: usize, end: usize) -> String {
    chars
        .get(start..end)
        .map(|s| s.iter().collect())
        .unwrap_or_default()
}

fn lex(chars: &[char]) -> Result<Vec<Token>, ParseError> {
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

fn lex_string(chars: &[char], start: usize) -> Result<(Tok, usize), ParseError> {
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

fn skip_digits(chars: &[char], mut i: usize) -> usize {
    while is_digit(chars.get(i)) {
        i += 1;
    }
    i
}

fn lex_number(chars: &[char], start: usize) -> Result<(Tok, usize), ParseError> {
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

fn lex_name(chars: &[char], start: usize) -> Result<(Tok, usize), ParseError> {
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

// ---------------------------------------------------------------------------------------------
// Parser
//
// or   := and (("||" | "or") and)*
// and  := not (("&&" | "and") not)*
// not  := ("!" | "not") not | cmp
// cmp  := primary (cmpop primary | "in" list)?
// primary := literal | path | "(" or ")"
// list := "[" (literal ("," literal)*)? "]"

struct Parser<'a> {
    chars: &'a [char],
    toks: Vec<Token>,
    pos: usize,
    depth: usize,
    /// Span of the last complete operand, to say what an operator was expected after.
    last_operand: (usize, usize),
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Token> {
        self.toks.get(self.pos)
    }

    fn peek_tok(&self) -> Option<&Tok> {
        self.peek().map(|t| &t.tok)
    }

    fn at_keyword(&self, keyword: &str) -> bool {
        matches!(self.peek_tok(), Some(Tok::Name(word, segments))
            if segments.is_empty() && word == keyword)
    }

    fn end(&self) -> usize {
        self.chars.len()
    }

    /// A piece of the source for a message, shortened when long.
    fn snippet(&self, start: usize, end: usize) -> String {
        const MAX: usize = 40;
        if end.saturating_sub(start) > MAX {
            format!("{}…", text(self.chars, start, start + MAX))
        } else {
            text(self.chars, start, end)
        }
    }

    fn token_text(&self, token: &Token) -> String {
        self.snippet(token.start, token.end)
    }

    fn previous_text(&self) -> Option<String> {
        let previous = self.pos.checked_sub(1)?;
        self.toks.get(previous).map(|t| self.token_text(t))
    }

    fn enter(&mut self, position: usize) -> Result<(), ParseError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(ParseError::new(
                format!(
                    "imbrication trop profonde (au plus {MAX_DEPTH} niveaux de parenthèses \
                     et de négations)"
                ),
                position,
            ));
        }
        Ok(())
    }

    fn leave(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }

    /// A value was expected at the current position.
    fn value_expected(&self) -> ParseError {
        match (self.peek(), self.previous_text()) {
            (None, Some(previous)) => {
                ParseError::new(format!("valeur attendue après « {previous} »"), self.end())
            }
            (None, None) => ParseError::new("condition vide", 0),
            (Some(tok), Some(previous)) => ParseError::new(
                format!(
                    "valeur attendue après « {previous} », trouvé « {} »",
                    self.token_text(tok)
                ),
                tok.start,
            ),
            (Some(tok), None) => ParseError::new(
                format!(
                    "valeur attendue au début de la condition, trouvé « {} »",
                    self.token_text(tok)
                ),
                tok.start,
            ),
        }
    }

    /// An operand is complete but `tok` cannot follow it.
    fn operator_expected(&self, tok: &Token, in_parentheses: bool) -> ParseError {
        if matches!(tok.tok, Tok::RParen) && !in_parentheses {
            return ParseError::new("« ) » sans parenthèse ouvrante correspondante", tok.start);
        }
        let (start, end) = self.last_operand;
        let operand = self.snippet(start, end);
        let expected = if in_parentheses {
            "opérateur ou « ) » attendu"
        } else {
            "opérateur attendu"
        };
        ParseError::new(format!("{expected} après « {operand} »"), tok.start)
    }

    fn parse_or(&mut self) -> Result<Expr, ParseError> {
        let first = self.parse_and()?;
        let mut items = Vec::new();
        while matches!(self.peek_tok(), Some(Tok::OrOr)) || self.at_keyword("or") {
            self.pos += 1;
            match self.parse_and()? {
                Expr::Or(nested) => items.extend(nested),
                other => items.push(other),
            }
        }
        if items.is_empty() {
            return Ok(first);
        }
        match first {
            Expr::Or(mut nested) => {
                nested.extend(items);
                Ok(Expr::Or(nested))
            }
            other => {
                items.insert(0, other);
                Ok(Expr::Or(items))
            }
        }
    }

    fn parse_and(&mut self) -> Result<Expr, ParseError> {
        let first = self.parse_not()?;
        let mut items = Vec::new();
        while matches!(self.peek_tok(), Some(Tok::AndAnd)) || self.at_keyword("and") {
            self.pos += 1;
            match self.parse_not()? {
                Expr::And(nested) => items.extend(nested),
                other => items.push(other),
            }
        }
        if items.is_empty() {
            return Ok(first);
        }
        match first {
            Expr::And(mut nested) => {
                nested.extend(items);
                Ok(Expr::And(nested))
            }
            other => {
                items.insert(0, other);
                Ok(Expr::And(items))
            }
        }
    }

    fn parse_not(&mut self) -> Result<Expr, ParseError> {
        let negation = matches!(self.peek_tok(), Some(Tok::Bang)) || self.at_keyword("not");
        let Some(position) = self.peek().filter(|_| negation).map(|t| t.start) else {
            return self.parse_cmp();
        };
        self.pos += 1;
        self.enter(position)?;
        let inner = self.parse_not();
        self.leave();
        Ok(Expr::Not(Box::new(inner?)))
    }

    fn parse_cmp(&mut self) -> Result<Expr, ParseError> {
        let start = self.peek().map_or(0, |t| t.start);
        let left = self.parse_primary()?;
        let expr = match self.peek_tok() {
            Some(&Tok::Cmp(op)) => {
                self.pos += 1;
                let right = self.parse_primary()?;
                Expr::Cmp(op, Box::new(left), Box::new(right))
            }
            _ if self.at_keyword("in") => {
                self.pos += 1;
                let (items, end) = self.parse_list()?;
                self.last_operand = (start, end);
                Expr::In(Box::new(left), items)
            }
            _ => return Ok(left),
        };
        if let Some(tok) = self.peek()
            && (matches!(tok.tok, Tok::Cmp(_)) || self.at_keyword("in"))
        {
            return Err(ParseError::new(
                format!(
                    "comparaisons enchaînées interdites devant « {} » : combinez-les avec « && », \
                     par exemple « 1 < answers.x && answers.x < 3 »",
                    self.token_text(tok)
                ),
                tok.start,
            ));
        }
        Ok(expr)
    }

    /// A literal token as a value, if it is one.
    fn literal(tok: &Tok) -> Option<Value> {
        match tok {
            Tok::Num(n) => Some(Value::Number(n.clone())),
            Tok::Str(s) => Some(Value::String(s.clone())),
            Tok::Name(word, segments) if segments.is_empty() => match word.as_str() {
                "true" => Some(Value::Bool(true)),
                "false" => Some(Value::Bool(false)),
                "null" => Some(Value::Null),
                _ => None,
            },
            _ => None,
        }
    }

    fn parse_primary(&mut self) -> Result<Expr, ParseError> {
        let Some(token) = self.peek().cloned() else {
            return Err(self.value_expected());
        };
        let expr = if let Some(value) = Self::literal(&token.tok) {
            Expr::Lit(value)
        } else {
            match &token.tok {
                Tok::Name(word, segments) => self.name(&token, word, segments)?,
                Tok::LParen => return self.parenthesised(&token),
                Tok::LBracket => {
                    return Err(ParseError::new(
                        "une liste « [ … ] » n'est permise qu'après « in »",
                        token.start,
                    ));
                }
                _ => return Err(self.value_expected()),
            }
        };
        self.pos += 1;
        self.last_operand = (token.start, token.end);
        Ok(expr)
    }

    fn name(&self, token: &Token, word: &str, segments: &[String]) -> Result<Expr, ParseError> {
        match (word, segments) {
            ("answers" | "household", []) => Err(ParseError::new(
                format!("« . » et un nom de champ attendus après « {word} »"),
                token.end,
            )),
            ("answers", _) => Ok(Expr::Answer(segments.to_vec())),
            ("household", [field]) => HouseholdField::from_name(field)
                .map(Expr::Household)
                .ok_or_else(|| {
                    ParseError::new(
                        format!(
                            "donnée de foyer inconnue « household.{field} » : utilisez \
                             household.children, household.members ou household.adults"
                        ),
                        token.start,
                    )
                }),
            ("household", _) => Err(ParseError::new(
                format!(
                    "« {} » : les données du foyer n'ont pas de sous-champ",
                    self.token_text(token)
                ),
                token.start,
            )),
            ("and" | "or" | "not" | "in", []) => Err(self.value_expected()),
            _ => Err(ParseError::new(
                format!("nom inconnu « {word} » : une condition lit answers.… ou household.…"),
                token.start,
            )),
        }
    }

    fn parenthesised(&mut self, open: &Token) -> Result<Expr, ParseError> {
        self.pos += 1;
        self.enter(open.start)?;
        let inner = self.parse_or();
        self.leave();
        let inner = inner?;
        match self.peek() {
            Some(close) if matches!(close.tok, Tok::RParen) => {
                self.last_operand = (open.start, close.end);
                self.pos += 1;
                Ok(inner)
            }
            Some(tok) => Err(self.operator_expected(tok, true)),
            None => Err(ParseError::new(
                format!(
                    "« ) » manquante : la parenthèse ouverte en position {} n'est pas fermée",
                    open.start
                ),
                self.end(),
            )),
        }
    }

    /// `[literal, …]`, returning the values and the offset just after `]`.
    fn parse_list(&mut self) -> Result<(Vec<Value>, usize), ParseError> {
        let open = match self.peek() {
            Some(t) if matches!(t.tok, Tok::LBracket) => t.start,
            Some(t) => {
                return Err(ParseError::new(
                    format!(
                        "liste « [ … ] » attendue après « in », trouvé « {} »",
                        self.token_text(t)
                    ),
                    t.start,
                ));
            }
            None => {
                return Err(ParseError::new(
                    "liste « [ … ] » attendue après « in »",
                    self.end(),
                ));
            }
        };
        self.pos += 1;
        let unclosed = |end| {
            ParseError::new(
                format!("« ] » manquant : la liste ouverte en position {open} n'est pas fermée"),
                end,
            )
        };
        let mut items = Vec::new();
        if let Some(close) = self.peek()
            && matches!(close.tok, Tok::RBracket)
        {
            let end = close.end;
            self.pos += 1;
            return Ok((items, end));
        }
        loop {
            let Some(token) = self.peek() else {
                return Err(unclosed(self.end()));
            };
            let Some(value) = Self::literal(&token.tok) else {
                return Err(ParseError::new(
                    format!(
                        "une liste ne contient que des valeurs (nombres, chaînes, true, false, \
                         null), trouvé « {} »",
                        self.token_text(token)
                    ),
                    token.start,
                ));
            };
            items.push(value);
            self.pos += 1;
            match self.peek() {
                Some(t) if matches!(t.tok, Tok::Comma) => self.pos += 1,
                Some(t) if matches!(t.tok, Tok::RBracket) => {
                    let end = t.end;
                    self.pos += 1;
                    return Ok((items, end));
                }
                Some(t) => {
                    return Err(ParseError::new(
                        format!(
                            "« , » ou « ] » attendu dans la liste, trouvé « {} »",
                            self.token_text(t)
                        ),
                        t.start,
                    ));
                }
                None => return Err(unclosed(self.end())),
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Evaluation

static NULL: Value = Value::Null;

struct Env<'a> {
    answers: &'a Value,
    household: &'a Value,
}

fn lookup<'a>(root: &'a Value, segments: &[String]) -> &'a Value {
    let mut current = root;
    for segment in segments {
        match current.get(segment.as_str()) {
            Some(value) => current = value,
            None => return &NULL,
        }
    }
    current
}

fn eval_value<'a>(expr: &'a Expr, env: &Env<'a>) -> Cow<'a, Value> {
    match expr {
        Expr::Lit(value) => Cow::Borrowed(value),
        Expr::Answer(segments) => Cow::Borrowed(lookup(env.answers, segments)),
        Expr::Household(field) => Cow::Borrowed(env.household.get(field.name()).unwrap_or(&NULL)),
        other => Cow::Owned(Value::Bool(eval_bool(other, env))),
    }
}

fn eval_bool(expr: &Expr, env: &Env<'_>) -> bool {
    match expr {
        Expr::Not(inner) => !eval_bool(inner, env),
        Expr::And(items) => items.iter().all(|item| eval_bool(item, env)),
        Expr::Or(items) => items.iter().any(|item| eval_bool(item, env)),
        Expr::Cmp(op, left, right) => compare(*op, &eval_value(left, env), &eval_value(right, env)),
        Expr::In(left, items) => {
            let value = eval_value(left, env);
            items.iter().any(|item| json_eq(&value, item))
        }
        Expr::Lit(_) | Expr::Answer(_) | Expr::Household(_) => truthy(&eval_value(expr, env)),
    }
}

fn truthy(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|x| x != 0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(_) | Value::Object(_) => true,
    }
}

fn compare(op: CmpOp, left: &Value, right: &Value) -> bool {
    let ordering = match op {
        CmpOp::Eq => return json_eq(left, right),
        CmpOp::Ne => return !json_eq(left, right),
        CmpOp::Lt | CmpOp::Le | CmpOp::Gt | CmpOp::Ge => match (left, right) {
            (Value::Number(a), Value::Number(b)) => cmp_numbers(a, b),
            (Value::String(a), Value::String(b)) => Some(a.cmp(b)),
            _ => None,
        },
    };
    match ordering {
        None => false,
        Some(ordering) => match op {
            CmpOp::Lt => ordering == Ordering::Less,
            CmpOp::Le => ordering != Ordering::Greater,
            CmpOp::Gt => ordering == Ordering::Greater,
            CmpOp::Ge => ordering != Ordering::Less,
            CmpOp::Eq | CmpOp::Ne => false,
        },
    }
}

/// Numeric order: exact between integers, through `f64` when a decimal is involved.
fn cmp_numbers(a: &Number, b: &Number) -> Option<Ordering> {
    if !a.is_f64() && !b.is_f64() {
        if let (Some(x), Some(y)) = (a.as_i64(), b.as_i64()) {
            return Some(x.cmp(&y));
        }
        if let (Some(x), Some(y)) = (a.as_u64(), b.as_u64()) {
            return Some(x.cmp(&y));
        }
        // One is negative, the other above i64::MAX.
        return Some(if a.as_u64().is_none() {
            Ordering::Less
        } else {
            Ordering::Greater
        });
    }
    a.as_f64()?.partial_cmp(&b.as_f64()?)
}

/// JSON equality with numbers compared numerically; iterative, so deeply nested answers cannot
/// exhaust the stack.
fn json_eq(a: &Value, b: &Value) -> bool {
    let mut pending = vec![(a, b)];
    while let Some((x, y)) = pending.pop() {
        let equal = match (x, y) {
            (Value::Null, Value::Null) => true,
            (Value::Bool(p), Value::Bool(q)) => p == q,
            (Value::Number(p), Value::Number(q)) => cmp_numbers(p, q) == Some(Ordering::Equal),
            (Value::String(p), Value::String(q)) => p == q,
            (Value::Array(p), Value::Array(q)) => {
                pending.extend(p.iter().zip(q.iter()));
                p.len() == q.len()
            }
            (Value::Object(p), Value::Object(q)) => {
                p.len() == q.len()
                    && p.iter().all(|(key, value)| match q.get(key) {
                        Some(other) => {
                            pending.push((value, other));
                            true
                        }
                        None => false,
                    })
            }
            _ => false,
        };
        if !equal {
            return false;
        }
    }
    true
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn cond(src: &str) -> Condition {
        Condition::parse(src).unwrap_or_else(|e| panic!("{src}: {e}"))
    }

    fn eval(src: &str, answers: Value) -> bool {
        cond(src).eval(&answers, &json!({}))
    }

    fn error(src: &str) -> ParseError {
        match Condition::parse(src) {
            Ok(c) => panic!("{src:?} parsed as {c}"),
            Err(e) => e,
        }
    }

    // --- literals and paths -----------------------------------------------------------------

    #[test]
    fn condition_literals() {
        assert!(eval("1", json!({})));
        assert!(!eval("0", json!({})));
        assert!(!eval("0.0", json!({})));
        assert!(eval("2.5 == 2.5", json!({})));
        assert!(eval("-3 < 0", json!({})));
        assert!(eval("1e3 == 1000", json!({})));
        assert!(eval(r#""a\"b\\c" == "a\"b\\c""#, json!({})));
        assert!(eval(r#""il a dit \"oui\"""#, json!({})));
        assert!(!eval(r#""""#, json!({})));
        assert!(eval("true", json!({})));
        assert!(!eval("false", json!({})));
        assert!(!eval("null", json!({})));
        assert!(eval("null == null", json!({})));
        assert!(eval(r#""hébergé" == "hébergé""#, json!({})));
    }

    #[test]
    fn condition_string_escapes_are_decoded() {
        let c = cond(r#"answers.s == "a\"b\\c""#);
        assert!(c.eval(&json!({"s": "a\"b\\c"}), &json!({})));
        assert_eq!(c.to_string(), r#"answers.s == "a\"b\\c""#);
    }

    #[test]
    fn condition_paths() {
        let answers = json!({"x": 3, "a": {"b": "oui"}, "in": true, "list": [1]});
        assert!(eval("answers.x == 3", answers.clone()));
        assert!(eval(r#"answers.a.b == "oui""#, answers.clone()));
        assert!(eval("answers.in", answers.clone()));
        assert!(eval("answers.missing == null", answers.clone()));
        assert!(eval("answers.a.b.c == null", answers.clone()));
        assert!(eval("answers.x.y == null", answers.clone()));
        assert!(eval("answers.list", answers.clone()));
        assert!(!eval("answers.missing", answers));
        // Answers that are not an object: every path is missing.
        assert!(eval("answers.x == null", json!([1, 2])));
    }

    #[test]
    fn condition_household() {
        let c = cond("household.children > 0 && household.adults == 2 && household.members == 3");
        assert!(c.eval(
            &json!({}),
            &json!({"children": 1, "adults": 2, "members": 3})
        ));
        assert!(!c.eval(
            &json!({}),
            &json!({"children": 0, "adults": 2, "members": 2})
        ));
        // Missing household numbers are null: comparisons fail, no panic.
        assert!(!c.eval(&json!({}), &json!(null)));
        assert!(cond("household.children == null").eval(&json!({}), &json!({})));
    }

    // --- operators --------------------------------------------------------------------------

    #[test]
    fn condition_eq_and_ne() {
        assert!(eval("answers.x == 1", json!({"x": 1})));
        assert!(eval("answers.x == 1", json!({"x": 1.0})));
        assert!(eval("answers.x == 1.0", json!({"x": 1})));
        assert!(!eval("answers.x == 1", json!({"x": "1"})));
        assert!(!eval("answers.x == false", json!({"x": 0})));
        assert!(eval("answers.x != 1", json!({"x": "1"})));
        assert!(!eval("answers.x != 1", json!({"x": 1})));
        assert!(eval("answers.x != null", json!({"x": 0})));
        assert!(eval(
            "answers.a == answers.b",
            json!({"a": {"k": [1, 2.0]}, "b": {"k": [1.0, 2]}})
        ));
        assert!(!eval(
            "answers.a == answers.b",
            json!({"a": {"k": [1, 2]}, "b": {"k": [1, 2, 3]}})
        ));
        assert!(!eval(
            "answers.a == answers.b",
            json!({"a": {"k": 1}, "b": {"j": 1}})
        ));
    }

    #[test]
    fn condition_ordering() {
        let a = json!({"n": 5, "d": "2024-03-01", "s": "abc"});
        assert!(eval("answers.n < 6", a.clone()));
        assert!(!eval("answers.n < 5", a.clone()));
        assert!(eval("answers.n <= 5", a.clone()));
        assert!(!eval("answers.n <= 4.5", a.clone()));
        assert!(eval("answers.n > 4.5", a.clone()));
        assert!(!eval("answers.n > 5", a.clone()));
        assert!(eval("answers.n >= 5.0", a.clone()));
        assert!(!eval("answers.n >= 5.5", a.clone()));
        assert!(eval(r#"answers.d >= "2024-01-01""#, a.clone()));
        assert!(eval(r#"answers.d < "2024-12-31""#, a.clone()));
        assert!(eval(r#""abc" < "abd""#, a.clone()));
        // Type mismatches and missing values: false both ways, never an error.
        assert!(!eval(r#"answers.n < "6""#, a.clone()));
        assert!(!eval(r#"answers.n >= "6""#, a.clone()));
        assert!(!eval("answers.missing < 1", a.clone()));
        assert!(!eval("answers.missing >= 1", a.clone()));
        assert!(!eval("true > false", a.clone()));
        assert!(!eval("null <= null", a));
    }

    #[test]
    fn condition_ordering_of_large_integers() {
        let a = json!({"big": u64::MAX, "neg": i64::MIN});
        assert!(eval("answers.neg < answers.big", a.clone()));
        assert!(eval("answers.big > answers.neg", a.clone()));
        assert!(eval("answers.big == 18446744073709551615", a.clone()));
        assert!(eval("answers.big > 9223372036854775807", a));
    }

    #[test]
    fn condition_and_or_not() {
        let a = json!({"t": true, "f": false});
        assert!(eval("answers.t && answers.t", a.clone()));
        assert!(!eval("answers.t && answers.f", a.clone()));
        assert!(eval("answers.t || answers.f", a.clone()));
        assert!(!eval("answers.f || answers.missing", a.clone()));
        assert!(eval("!answers.f", a.clone()));
        assert!(!eval("!answers.t", a.clone()));
        assert!(eval("!!answers.t", a.clone()));
        assert!(eval("answers.t and not answers.f", a.clone()));
        assert!(eval("answers.f or answers.t", a.clone()));
        // Precedence: && binds tighter than ||, ! tighter than &&, comparisons tighter than !.
        assert!(eval("answers.t || answers.f && answers.f", a.clone()));
        assert!(!eval("(answers.t || answers.f) && answers.f", a.clone()));
        assert!(eval("!answers.f && answers.t", a.clone()));
        assert!(eval("!answers.t == false", a.clone()));
        assert!(cond("!answers.t == false").to_string() == "not answers.t == false");
        assert!(eval("(!answers.t) == false", a));
    }

    #[test]
    fn condition_truthiness() {
        for falsy in [
            json!(false),
            json!(null),
            json!(0),
            json!(0.0),
            json!(-0.0),
            json!(""),
        ] {
            assert!(!eval("answers.v", json!({ "v": falsy })), "{falsy}");
            assert!(eval("!answers.v", json!({ "v": falsy })), "{falsy}");
        }
        assert!(!eval("answers.v", json!({})));
        for truthy in [
            json!(true),
            json!(1),
            json!(-0.5),
            json!("non"),
            json!([]),
            json!({}),
        ] {
            assert!(eval("answers.v", json!({ "v": truthy })), "{truthy}");
        }
    }

    #[test]
    fn condition_in() {
        assert!(eval("answers.x in [1, 2, 3]", json!({"x": 2})));
        assert!(eval("answers.x in [1, 2, 3]", json!({"x": 2.0})));
        assert!(!eval("answers.x in [1, 2, 3]", json!({"x": 4})));
        assert!(!eval("answers.x in [1, 2, 3]", json!({})));
        assert!(eval("answers.x in [null]", json!({})));
        assert!(!eval("answers.x in []", json!({"x": 1})));
        let situation = r#"answers.situation in ["locataire", "hébergé"]"#;
        assert!(eval(situation, json!({"situation": "hébergé"})));
        assert!(!eval(situation, json!({"situation": "propriétaire"})));
        assert!(eval("not answers.x in [true, \"a\"]", json!({"x": false})));
        assert!(eval("(answers.x in [1]) == true", json!({"x": 1})));
    }

    #[test]
    fn condition_examples() {
        let c = cond("answers.children >= 1");
        assert!(c.eval(&json!({"children": 2}), &json!({})));
        assert!(!c.eval(&json!({"children": 0}), &json!({})));
        assert!(!c.eval(&json!({"children": "2"}), &json!({})));

        let c = cond("answers.owner == false");
        assert!(c.eval(&json!({"owner": false}), &json!({})));
        assert!(!c.eval(&json!({"owner": true}), &json!({})));
        assert!(!c.eval(&json!({}), &json!({})));

        let c = cond(r#"household.children > 0 && answers.mode == "cantine""#);
        assert!(c.eval(&json!({"mode": "cantine"}), &json!({"children": 2})));
        assert!(!c.eval(&json!({"mode": "cantine"}), &json!({"children": 0})));
        assert!(!c.eval(&json!({"mode": "garderie"}), &json!({"children": 2})));

        let c = cond("not (answers.a or answers.b)");
        assert!(c.eval(&json!({}), &json!({})));
        assert!(c.eval(&json!({"a": false, "b": ""}), &json!({})));
        assert!(!c.eval(&json!({"a": true}), &json!({})));
        assert!(!c.eval(&json!({"b": 1}), &json!({})));
        assert_eq!(c.to_string(), "!(answers.a || answers.b)");

        let c = cond("answers.x in [1, 2, 3]");
        assert!(c.eval(&json!({"x": 3}), &json!({})));
        assert!(!c.eval(&json!({"x": "3"}), &json!({})));
    }

    // --- API --------------------------------------------------------------------------------

    #[test]
    fn condition_source_display_and_answer_paths() {
        let src = "  answers.a.b==1 or(answers.c  and not answers.a.b )and household.adults ";
        let c = cond(src);
        assert_eq!(c.source(), src);
        assert_eq!(
            c.to_string(),
            "answers.a.b == 1 || answers.c && !answers.a.b && household.adults"
        );
        assert_eq!(c.answer_paths(), vec!["a.b".to_owned(), "c".to_owned()]);
        assert!(cond("household.children > 1").answer_paths().is_empty());
        assert_eq!(
            cond("answers.x in [1.50, -2, 1e2, \"é\"]").to_string(),
            "answers.x in [1.5, -2, 100.0, \"é\"]"
        );
        assert_eq!(
            cond("((answers.a || answers.b)) || (answers.c || answers.d)").to_string(),
            "answers.a || answers.b || answers.c || answers.d"
        );
        assert_eq!(
            cond("(answers.a == 1) == (!answers.b)").to_string(),
            "(answers.a == 1) == (!answers.b)"
        );
        assert_eq!(
            cond("!!(answers.a < 2)").to_string(),
            "not not answers.a < 2"
        );
        assert_eq!("answers.x".parse::<Condition>(), Ok(cond("answers.x")));
    }

    #[test]
    fn condition_serde_is_the_source() {
        let c = cond("answers.x  ==  1");
        let json = serde_json::to_string(&c).unwrap();
        assert_eq!(json, r#""answers.x  ==  1""#);
        let back: Condition = serde_json::from_str(&json).unwrap();
        assert_eq!(back, c);
        let err = serde_json::from_str::<Condition>(r#""foo.bar""#).unwrap_err();
        assert!(err.to_string().contains("nom inconnu « foo »"), "{err}");
        assert!(err.to_string().contains("(position 0)"), "{err}");
        assert!(serde_json::from_str::<Condition>("1").is_err());
    }

    // --- errors -----------------------------------------------------------------------------

    #[test]
    fn condition_error_empty() {
        assert_eq!(error(""), ParseError::new("condition vide", 0));
        assert_eq!(error("   \n").message, "condition vide");
    }

    #[test]
    fn condition_error_missing_field_name() {
        let e = error("answers.");
        assert_eq!(e.position, 8);
        assert!(
            e.message
                .contains("nom de champ attendu après « answers. »"),
            "{e}"
        );
        assert_eq!(error("answers.x. == 1").position, 10);
        let e = error("answers == 1");
        assert_eq!(e.position, 7);
        assert!(e.message.contains("« . »"), "{e}");
    }

    #[test]
    fn condition_error_missing_operand() {
        let e = error("answers.x >=");
        assert_eq!(e.position, 12);
        assert_eq!(e.message, "valeur attendue après « >= »");
        let e = error("answers.x && || answers.y");
        assert_eq!(e.position, 13);
        assert!(e.message.contains("trouvé « || »"), "{e}");
        assert_eq!(error("answers.x ||").position, 12);
        assert_eq!(error("not").position, 3);
        assert_eq!(error("&& answers.x").position, 0);
        assert_eq!(error("answers.x == and").position, 13);
    }

    #[test]
    fn condition_error_single_equals() {
        let e = error("answers.x = 1");
        assert_eq!(e.position, 10);
        assert!(e.message.contains("« == »"), "{e}");
        assert_eq!(error("answers.x & answers.y").position, 10);
        assert_eq!(error("answers.x | answers.y").position, 10);
    }

    #[test]
    fn condition_error_parentheses() {
        let e = error("(answers.x");
        assert_eq!(e.position, 10);
        assert!(e.message.contains("« ) » manquante"), "{e}");
        let e = error("answers.x)");
        assert_eq!(e.position, 9);
        assert!(e.message.contains("sans parenthèse ouvrante"), "{e}");
        let e = error("(answers.x answers.y)");
        assert_eq!(e.position, 11);
        assert!(
            e.message.contains("« ) » attendu après « answers.x »"),
            "{e}"
        );
        assert_eq!(error("()").position, 1);
    }

    #[test]
    fn condition_error_operator_expected() {
        let e = error("answers.x answers.y");
        assert_eq!(e.position, 10);
        assert_eq!(e.message, "opérateur attendu après « answers.x »");
        assert_eq!(error("answers.x in [1] 2").position, 17);
    }

    #[test]
    fn condition_error_unknown_names() {
        let e = error("foo.bar");
        assert_eq!(e.position, 0);
        assert!(e.message.contains("nom inconnu « foo »"), "{e}");
        let e = error("answers.x == 1 && answer.y");
        assert_eq!(e.position, 18);
        assert!(e.message.contains("nom inconnu « answer »"), "{e}");
        assert!(error("foo").message.contains("nom inconnu"));
        assert!(error("True").message.contains("nom inconnu"));
        let e = error("household.pets > 0");
        assert_eq!(e.position, 0);
        assert!(e.message.contains("household.pets"), "{e}");
        assert_eq!(error("household.children.x").position, 0);
    }

    #[test]
    fn condition_error_strings() {
        let e = error(r#"answers.x == "abc"#);
        assert_eq!(e.position, 13);
        assert!(e.message.contains("chaîne non terminée"), "{e}");
        assert_eq!(error(r#"answers.x == "abc\"#).position, 13);
        let e = error(r#"answers.x == "a\nb""#);
        assert_eq!(e.position, 15);
        assert!(e.message.contains("échappement inconnu"), "{e}");
    }

    #[test]
    fn condition_error_numbers() {
        assert_eq!(error("answers.x == 1.").position, 15);
        assert_eq!(error("answers.x == 1e").position, 15);
        assert_eq!(error("answers.x == 12abc").position, 13);
        assert_eq!(error("answers.x == - 1").position, 13);
        assert_eq!(error("answers.x == 1.2.3").position, 13);
        assert!(error("1e999").message.contains("trop grand"));
        assert!(eval("99999999999999999999 > 1", json!({})));
    }

    #[test]
    fn condition_error_chained_comparisons() {
        let e = error("1 < 2 < 3");
        assert_eq!(e.position, 6);
        assert!(e.message.contains("comparaisons enchaînées"), "{e}");
        assert_eq!(error("answers.x in [1] == true").position, 17);
        assert_eq!(error("answers.x == 1 in [true]").position, 15);
        assert!(eval("(1 < 2) == true", json!({})));
    }

    #[test]
    fn condition_error_lists() {
        assert!(error("[1] == answers.x").message.contains("après « in »"));
        assert_eq!(error("answers.x in 1").position, 13);
        assert_eq!(error("answers.x in").position, 12);
        assert_eq!(error("answers.x in [1, answers.y]").position, 17);
        assert_eq!(error("answers.x in [1,]").position, 16);
        assert_eq!(error("answers.x in [1 2]").position, 16);
        let e = error("answers.x in [1, 2");
        assert_eq!(e.position, 18);
        assert!(e.message.contains("« ] » manquant"), "{e}");
    }

    #[test]
    fn condition_error_unexpected_character() {
        let e = error("answers.x == 1 ; 2");
        assert_eq!(e.position, 15);
        assert!(e.message.contains("« ; »"), "{e}");
        // Positions count characters, not bytes.
        assert_eq!(error(r#""é" == "é" $"#).position, 11);
    }

    #[test]
    fn condition_error_too_deep() {
        let ok = format!("{}1{}", "(".repeat(MAX_DEPTH), ")".repeat(MAX_DEPTH));
        assert!(Condition::parse(&ok).is_ok());
        let deep = format!(
            "{}1{}",
            "(".repeat(MAX_DEPTH + 1),
            ")".repeat(MAX_DEPTH + 1)
        );
        let e = error(&deep);
        assert_eq!(e.position, MAX_DEPTH);
        assert!(e.message.contains("imbrication trop profonde"), "{e}");
        assert!(Condition::parse(&format!("{}1", "!".repeat(MAX_DEPTH))).is_ok());
        assert_eq!(
            error(&format!("{}1", "!".repeat(MAX_DEPTH + 1))).position,
            MAX_DEPTH
        );
        assert!(
            error(&format!("{}1", "not (".repeat(20)))
                .message
                .contains("imbrication trop profonde")
        );
        // Long but flat conditions are fine.
        let flat = vec!["answers.x"; 300].join(" && ");
        assert!(flat.len() < MAX_LENGTH);
        assert!(!cond(&flat).eval(&json!({}), &json!({})));
    }

    #[test]
    fn condition_error_too_long() {
        let long = format!("answers.x == \"{}\"", "a".repeat(MAX_LENGTH));
        let e = error(&long);
        assert_eq!(e.position, MAX_LENGTH);
        assert!(e.message.contains("trop longue"), "{e}");
        assert_eq!(error(&"(".repeat(1_000_000)).position, MAX_LENGTH);
        // The limit counts characters: 4096 two-byte characters are accepted.
        let accented = format!("\"{}\"", "é".repeat(MAX_LENGTH - 2));
        assert!(Condition::parse(&accented).is_ok());
    }

    #[test]
    fn condition_eval_deeply_nested_answers() {
        let mut a = json!(1);
        let mut b = json!(1);
        for _ in 0..10_000 {
            a = Value::Array(vec![a]);
            b = Value::Array(vec![b]);
        }
        // Built by hand: `json!` would serialise the values recursively.
        let answers = Value::Object(serde_json::Map::from_iter([
            ("a".to_owned(), a),
            ("b".to_owned(), b),
        ]));
        assert!(cond("answers.a == answers.b").eval(&answers, &json!({})));
        // serde_json drops values recursively: unnest before dropping.
        let mut answers = answers;
        for key in ["a", "b"] {
            let mut v = answers[key].take();
            while let Value::Array(mut items) = v {
                v = items.pop().unwrap_or(Value::Null);
            }
        }
    }

    // --- properties -------------------------------------------------------------------------

    const KEYS: [&str; 5] = ["a", "b", "c", "in", "not"];

    fn arb_literal() -> impl Strategy<Value = Value> {
        prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            (-3i64..4).prop_map(Value::from),
            prop::sample::select(vec![0.5, -2.5, 1.0, 0.0, 1e-7, 1e21, 3.25])
                .prop_map(|f| Number::from_f64(f).map_or(Value::Null, Value::Number)),
            prop::sample::select(vec!["", "a", "b", "2024-01-01", "q\"u", "b\\s", "hébergé"])
                .prop_map(Value::from),
        ]
    }

    fn arb_leaf() -> impl Strategy<Value = Expr> {
        prop_oneof![
            arb_literal().prop_map(Expr::Lit),
            prop::collection::vec(prop::sample::select(KEYS.to_vec()), 1..3)
                .prop_map(|s| Expr::Answer(s.into_iter().map(String::from).collect())),
            prop::sample::select(vec![
                HouseholdField::Children,
                HouseholdField::Members,
                HouseholdField::Adults,
            ])
            .prop_map(Expr::Household),
        ]
    }

    fn arb_op() -> impl Strategy<Value = CmpOp> {
        prop::sample::select(vec![
            CmpOp::Eq,
            CmpOp::Ne,
            CmpOp::Lt,
            CmpOp::Le,
            CmpOp::Gt,
            CmpOp::Ge,
        ])
    }

    fn arb_expr() -> impl Strategy<Value = Expr> {
        arb_leaf().prop_recursive(4, 24, 3, |inner| {
            prop_oneof![
                inner.clone().prop_map(|e| Expr::Not(Box::new(e))),
                prop::collection::vec(inner.clone(), 2..4).prop_map(Expr::And),
                prop::collection::vec(inner.clone(), 2..4).prop_map(Expr::Or),
                (arb_op(), inner.clone(), inner.clone()).prop_map(|(op, l, r)| Expr::Cmp(
                    op,
                    Box::new(l),
                    Box::new(r)
                )),
                (inner, prop::collection::vec(arb_literal(), 0..3))
                    .prop_map(|(l, items)| Expr::In(Box::new(l), items)),
            ]
        })
    }

    /// Answers using the keys the generated paths read, one level of nesting.
    fn arb_answers() -> impl Strategy<Value = Value> {
        let value = prop_oneof![
            3 => arb_literal(),
            1 => prop::collection::vec((prop::sample::select(KEYS.to_vec()), arb_literal()), 0..3)
                .prop_map(|kv| Value::Object(kv.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())),
        ];
        prop::collection::vec((prop::sample::select(KEYS.to_vec()), value), 0..5)
            .prop_map(|kv| Value::Object(kv.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()))
    }

    fn arb_household() -> impl Strategy<Value = Value> {
        (
            prop::option::of(0i64..3),
            prop::option::of(0i64..3),
            prop::option::of(0i64..5),
        )
            .prop_map(|(children, adults, members)| {
                let mut map = serde_json::Map::new();
                for (key, value) in [
                    ("children", children),
                    ("adults", adults),
                    ("members", members),
                ] {
                    if let Some(value) = value {
                        map.insert(key.to_owned(), Value::from(value));
                    }
                }
                Value::Object(map)
            })
    }

    /// Any JSON value, a few levels deep.
    fn arb_json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            any::<f64>().prop_map(|f| Number::from_f64(f).map_or(Value::Null, Value::Number)),
            ".{0,8}".prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 32, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                prop::collection::vec(
                    (
                        prop_oneof![
                            prop::sample::select(KEYS.to_vec()).prop_map(String::from),
                            ".{0,4}"
                        ],
                        inner
                    ),
                    0..4
                )
                .prop_map(|kv| Value::Object(kv.into_iter().collect())),
            ]
        })
    }

    fn from_expr(expr: Expr) -> Condition {
        Condition {
            source: expr.to_string(),
            expr,
        }
    }

    /// Strings made of the language's tokens, to reach deep into the parser.
    fn arb_token_soup() -> impl Strategy<Value = String> {
        prop::collection::vec(
            prop::sample::select(vec![
                "answers.a",
                "answers.",
                "household.children",
                "household.x",
                "foo",
                "(",
                ")",
                "[",
                "]",
                ",",
                "==",
                "!=",
                "<",
                "<=",
                ">",
                ">=",
                "=",
                "&&",
                "||",
                "&",
                "!",
                "and",
                "or",
                "not",
                "in",
                "true",
                "false",
                "null",
                "1",
                "-2.5",
                "1e",
                "\"s\"",
                "\"",
                "\\",
                ".",
                " ",
            ]),
            0..24,
        )
        .prop_map(|parts| parts.concat())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn condition_prop_parse_never_panics(src in ".{0,64}") {
            let _ = Condition::parse(&src);
        }

        #[test]
        fn condition_prop_parse_token_soup_never_panics(src in arb_token_soup()) {
            if let Ok(c) = Condition::parse(&src) {
                // Whatever parses prints to something that parses again.
                let printed = c.to_string();
                prop_assert!(Condition::parse(&printed).is_ok(), "{} -> {}", src, printed);
            }
        }

        #[test]
        fn condition_prop_display_roundtrip(
            expr in arb_expr(),
            answers in arb_answers(),
            household in arb_household(),
        ) {
            let original = from_expr(expr);
            let printed = original.to_string();
            let reparsed = Condition::parse(&printed)
                .map_err(|e| TestCaseError::fail(format!("{printed}: {e}")))?;
            prop_assert_eq!(reparsed.to_string(), printed.clone());
            prop_assert_eq!(
                reparsed.eval(&answers, &household),
                original.eval(&answers, &household),
                "{}", printed
            );
        }

        #[test]
        fn condition_prop_eval_never_panics(
            expr in arb_expr(),
            answers in arb_json(),
            household in arb_json(),
        ) {
            let c = from_expr(expr);
            let _ = c.eval(&answers, &household);
            let _ = c.answer_paths();
        }

        #[test]
        fn condition_prop_double_negation(
            expr in arb_expr(),
            answers in arb_answers(),
            household in arb_household(),
        ) {
            let c = from_expr(expr);
            let negated = Condition::parse(&format!("!(!({c}))"))
                .map_err(|e| TestCaseError::fail(format!("{c}: {e}")))?;
            prop_assert_eq!(negated.eval(&answers, &household), c.eval(&answers, &household));
        }
    }
}
