//! Evaluating a condition against a request's answers and household, as JSON values.

use super::*;

pub(super) struct Env<'a> {
    pub(super) answers: &'a Value,
    pub(super) household: &'a Value,
}

pub(super) fn lookup<'a>(root: &'a Value, segments: &[String]) -> &'a Value {
    let mut current = root;
    for segment in segments {
        match current.get(segment.as_str()) {
            Some(value) => current = value,
            None => return &NULL,
        }
    }
    current
}

pub(super) fn eval_value<'a>(expr: &'a Expr, env: &Env<'a>) -> Cow<'a, Value> {
    match expr {
        Expr::Lit(value) => Cow::Borrowed(value),
        Expr::Answer(segments) => Cow::Borrowed(lookup(env.answers, segments)),
        Expr::Household(field) => Cow::Borrowed(env.household.get(field.name()).unwrap_or(&NULL)),
        other => Cow::Owned(Value::Bool(eval_bool(other, env))),
    }
}

pub(super) fn eval_bool(expr: &Expr, env: &Env<'_>) -> bool {
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

pub(super) fn truthy(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|x| x != 0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(_) | Value::Object(_) => true,
    }
}

pub(super) fn compare(op: CmpOp, left: &Value, right: &Value) -> bool {
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
pub(super) fn cmp_numbers(a: &Number, b: &Number) -> Option<Ordering> {
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
pub(super) fn json_eq(a: &Value, b: &Value) -> bool {
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
