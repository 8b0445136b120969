//! The procedure condition language: `Condition::parse` on arbitrary UTF-8, then `eval` on fixed
//! answers and household numbers. Neither may panic; an accepted condition's canonical form
//! (its `Display`) re-parses to a condition that evaluates the same way.
#![no_main]

use std::sync::OnceLock;

use liasse_domain::condition::{Condition, MAX_LENGTH};
use libfuzzer_sys::fuzz_target;
use serde_json::{Value, json};

fn answers() -> &'static (Value, Value, Value) {
    static FIXED: OnceLock<(Value, Value, Value)> = OnceLock::new();
    FIXED.get_or_init(|| {
        (
            json!({
                "x": 1, "y": 2.5, "n": -3, "big": 1e300, "zero": 0, "t": true, "f": false,
                "nul": null, "s": "hébergé", "empty": "", "date": "2024-09-01",
                "list": [1, "a", null], "obj": {"a": {"b": 1, "c": "x"}},
                "situation": "locataire", "children": 2, "in": "mot-clé", "and": 1
            }),
            json!({"children": 2, "members": 4, "adults": 2}),
            // Not an object: every path evaluates to null.
            json!([1, 2, 3]),
        )
    })
}

fuzz_target!(|src: &str| {
    let Ok(cond) = Condition::parse(src) else {
        return;
    };
    let (a, h, weird) = answers();
    let value = cond.eval(a, h);
    let _ = cond.eval(weird, weird);
    let _ = cond.eval(&Value::Null, &Value::Null);
    let _ = cond.answer_paths();
    let _ = serde_json::to_string(&cond);
    let shown = cond.to_string();
    if shown.chars().count() > MAX_LENGTH {
        // The canonical form adds spaces; a source at the length limit may not fit again.
        return;
    }
    let again = Condition::parse(&shown)
        .unwrap_or_else(|e| panic!("canonical form {shown:?} of {src:?} does not re-parse: {e}"));
    assert_eq!(
        again.eval(a, h),
        value,
        "{src:?} and its canonical form {shown:?} differ"
    );
    assert_eq!(again.eval(weird, weird), cond.eval(weird, weird));
});
