//! The expression tree of a condition, and how it is written back as text.

use super::*;

// ---------------------------------------------------------------------------------------------
// Syntax tree

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl CmpOp {
    pub(super) fn symbol(self) -> &'static str {
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
pub(super) enum HouseholdField {
    Children,
    Members,
    Adults,
}

impl HouseholdField {
    pub(super) fn name(self) -> &'static str {
        match self {
            HouseholdField::Children => "children",
            HouseholdField::Members => "members",
            HouseholdField::Adults => "adults",
        }
    }

    pub(super) fn from_name(name: &str) -> Option<HouseholdField> {
        match name {
            "children" => Some(HouseholdField::Children),
            "members" => Some(HouseholdField::Members),
            "adults" => Some(HouseholdField::Adults),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Expr {
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
    pub(super) fn precedence(&self) -> u8 {
        match self {
            Expr::Or(_) => 1,
            Expr::And(_) => 2,
            Expr::Not(_) => 3,
            Expr::Cmp(..) | Expr::In(..) => 4,
            Expr::Lit(_) | Expr::Answer(_) | Expr::Household(_) => 5,
        }
    }

    pub(super) fn write_operand(
        &self,
        f: &mut fmt::Formatter<'_>,
        min_precedence: u8,
    ) -> fmt::Result {
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

pub(super) fn write_literal(f: &mut fmt::Formatter<'_>, value: &Value) -> fmt::Result {
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

pub(super) fn collect_answer_paths(expr: &Expr, paths: &mut Vec<String>) {
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
