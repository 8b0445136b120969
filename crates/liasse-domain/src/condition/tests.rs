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
