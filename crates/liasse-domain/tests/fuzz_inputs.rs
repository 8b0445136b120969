//! Every input the `condition` fuzz target of `fuzz/` keeps (committed seeds, and every input
//! that ever crashed it, `fuzz/regressions/condition`), replayed on stable in the normal test
//! run with the target's checks: parsing and evaluation never panic, and an accepted
//! condition's canonical form re-parses to a condition that evaluates the same way.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use liasse_domain::condition::{Condition, MAX_LENGTH};
use serde_json::json;

#[test]
fn condition_inputs_are_answered() {
    let fuzz = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz");
    let answers = json!({
        "x": 1, "y": 2.5, "n": -3, "big": 1e300, "zero": 0, "t": true, "f": false,
        "nul": null, "s": "hébergé", "empty": "", "date": "2024-09-01",
        "list": [1, "a", null], "obj": {"a": {"b": 1, "c": "x"}},
        "situation": "locataire", "children": 2, "in": "mot-clé", "and": 1
    });
    let household = json!({"children": 2, "members": 4, "adults": 2});
    let mut seen = 0;
    for dir in ["seeds", "regressions"] {
        let Ok(entries) = std::fs::read_dir(fuzz.join(dir).join("condition")) else {
            continue;
        };
        for path in entries.flatten().map(|e| e.path()) {
            seen += 1;
            let bytes = std::fs::read(&path).expect("read input");
            // The target takes the longest valid UTF-8 prefix (arbitrary's &str).
            let src = match std::str::from_utf8(&bytes) {
                Ok(s) => s,
                Err(e) => std::str::from_utf8(&bytes[..e.valid_up_to()]).expect("prefix"),
            };
            let Ok(cond) = Condition::parse(src) else {
                continue;
            };
            let value = cond.eval(&answers, &household);
            let _ = cond.eval(&json!([1, 2, 3]), &json!(null));
            let shown = cond.to_string();
            if shown.chars().count() > MAX_LENGTH {
                continue;
            }
            let again = Condition::parse(&shown)
                .unwrap_or_else(|e| panic!("{}: {shown:?} does not re-parse: {e}", path.display()));
            assert_eq!(
                again.eval(&answers, &household),
                value,
                "{}",
                path.display()
            );
        }
    }
    assert!(seen > 0, "fuzz/seeds/condition is missing");
}
