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

mod eval;
mod lexer;
mod parser;
mod syntax;

use eval::*;
use lexer::*;
use parser::*;
use syntax::*;

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
// Evaluation

static NULL: Value = Value::Null;

#[cfg(test)]
mod tests;
