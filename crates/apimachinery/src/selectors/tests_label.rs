use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use super::{LabelOperator, LabelSelector};

fn labels(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => panic!("test labels must be an object"),
    }
}

#[test]
fn parses_and_prints_canonically() {
    let cases = [
        ("", ""),
        ("a=b", "a=b"),
        ("a==b", "a==b"),
        ("a!=b", "a!=b"),
        ("  tier in ( b , a ),app = web ", "app=web,tier in (a,b)"),
        ("x notin (c,a,a)", "x notin (a,c)"),
        ("a", "a"),
        ("!a", "!a"),
        ("!a,b", "!a,b"),
        ("a=", "a="),
        ("x in (,a)", "x in (,a)"),
        ("x in ()", "x in ()"),
        ("example.com/app=web", "example.com/app=web"),
        ("a>5,b<3", "a>5,b<3"),
        ("x in (in,notin)", "x in (in,notin)"),
        ("z,y=1,x", "x,y=1,z"),
    ];
    for (input, printed) in cases {
        let selector = LabelSelector::parse(input).unwrap_or_else(|e| panic!("{input:?}: {e}"));
        assert_eq!(selector.to_string(), printed, "input {input:?}");
        // The printed form parses back to the same selector.
        assert_eq!(
            LabelSelector::parse(printed).ok(),
            Some(selector),
            "reparse {printed:?}"
        );
    }
}

#[test]
fn rejects_bad_syntax() {
    let cases = [
        ("a=b,", "identifier after ','"),
        (",a", "expected: !, identifier"),
        ("a b", "found 'b', expected: in, notin"),
        ("a in b", "expected: '('"),
        ("a in (b", "unable to parse requirement"),
        ("a in (b c)", "expected: ',' or ')'"),
        ("!a=b", "expected: ',' or 'end of string'"),
        ("a=b=c", "expected: ',' or 'end of string'"),
        ("a>x", "must be an integer"),
        ("-a=b", "unable to parse requirement: key: Invalid value"),
        ("a=-b", "values: Invalid value"),
        ("Example.com/a=b", "prefix part"),
        ("/a=b", "prefix part must be non-empty"),
        ("a/=b", "name part must be non-empty"),
        ("a=b c", "expected: ',' or 'end of string'"),
        ("(", "expected: !, identifier"),
    ];
    for (input, fragment) in cases {
        match LabelSelector::parse(input) {
            Ok(s) => panic!("{input:?} parsed as {s}"),
            Err(e) => assert!(
                e.message().contains(fragment),
                "{input:?}: {e} lacks {fragment:?}"
            ),
        }
    }
    let long_name = format!("{}=x", "a".repeat(64));
    assert!(LabelSelector::parse(&long_name).is_err());
    let long_value = format!("a={}", "b".repeat(64));
    assert!(LabelSelector::parse(&long_value).is_err());
    assert!(LabelSelector::parse(&format!("a={}", "b".repeat(63))).is_ok());
}

#[test]
fn matches_like_kubernetes() {
    let web = labels(json!({"app": "web", "tier": "front", "n": "7"}));
    let cases = [
        ("", true),
        ("app=web", true),
        ("app==web", true),
        ("app=db", false),
        ("app!=db", true),
        ("missing!=x", true),
        ("missing=x", false),
        ("tier in (front,back)", true),
        ("tier notin (front)", false),
        ("missing notin (front)", true),
        ("missing in (front)", false),
        ("app", true),
        ("!app", false),
        ("!missing", true),
        ("n>5", true),
        ("n<5", false),
        ("app>5", false),
        ("app=web,tier=back", false),
    ];
    for (input, expected) in cases {
        let selector = LabelSelector::parse(input).unwrap_or_else(|e| panic!("{input:?}: {e}"));
        assert_eq!(selector.matches(Some(&web)), expected, "{input:?}");
    }
    let selector = LabelSelector::parse("app").expect("valid");
    assert!(!selector.matches(None));
    assert!(LabelSelector::parse("!app").expect("valid").matches(None));
    assert!(LabelSelector::everything().matches(None));
    // A label value that is not a string counts as absent.
    assert!(!selector.matches(Some(&labels(json!({"app": 1})))));
    let typed: BTreeMap<String, String> = [("app".to_string(), "web".to_string())].into();
    assert!(LabelSelector::parse("app in (web)")
        .expect("valid")
        .matches_map(&typed));
}

#[test]
fn builds_from_api_objects() {
    let selector = LabelSelector::from_api(&json!({
        "matchLabels": {"tier": "front", "app": "web"},
        "matchExpressions": [
            {"key": "env", "operator": "In", "values": ["prod", "dev"]},
            {"key": "canary", "operator": "DoesNotExist"},
            {"key": "zone", "operator": "Exists", "values": []}
        ]
    }))
    .expect("valid selector");
    assert_eq!(
        selector.to_string(),
        "app=web,!canary,env in (dev,prod),tier=front,zone"
    );
    assert!(selector.matches(Some(&labels(
        json!({"app":"web","tier":"front","env":"dev","zone":"a"})
    ))));
    assert!(!selector.matches(Some(&labels(
        json!({"app":"web","tier":"front","env":"qa","zone":"a"})
    ))));
    assert!(LabelSelector::from_api(&json!({}))
        .expect("empty")
        .is_empty());
    assert_eq!(
        LabelSelector::from_api(&json!({"matchLabels": {"app": "web"}}))
            .expect("valid")
            .requires_exact_match("app"),
        Some("web")
    );

    let bad = [
        (json!(null), "must be an object"),
        (
            json!({"matchExpressions": [{"key": "a", "operator": "In"}]}),
            "values set can't be empty",
        ),
        (
            json!({"matchExpressions": [{"key": "a", "operator": "Exists", "values": ["x"]}]}),
            "must be empty",
        ),
        (
            json!({"matchExpressions": [{"key": "a", "operator": "Gt", "values": ["1"]}]}),
            "not a valid label selector operator",
        ),
        (
            json!({"matchExpressions": [{"operator": "Exists"}]}),
            "key: Required value",
        ),
        (
            json!({"matchLabels": {"a": "b c"}}),
            "matchLabels: values: Invalid value",
        ),
        (json!({"matchLabels": {"a": 1}}), "must be a string"),
        (json!({"matchExpressions": {"key": "a"}}), "must be a list"),
    ];
    for (input, fragment) in bad {
        match LabelSelector::from_api(&input) {
            Ok(s) => panic!("{input} accepted as {s}"),
            Err(e) => assert!(
                e.message().contains(fragment),
                "{input}: {e} lacks {fragment:?}"
            ),
        }
    }
}

#[test]
fn requirement_accessors_and_add() {
    let mut selector = LabelSelector::parse("b=1").expect("valid");
    selector.add(super::LabelRequirement::new("a", LabelOperator::Exists, vec![]).expect("valid"));
    assert_eq!(selector.to_string(), "a,b=1");
    let first = &selector.requirements()[0];
    assert_eq!(
        (first.key(), first.operator(), first.values().len()),
        ("a", LabelOperator::Exists, 0)
    );
    assert_eq!(selector.requires_exact_match("a"), None);
    assert_eq!(selector.requires_exact_match("b"), Some("1"));
}
