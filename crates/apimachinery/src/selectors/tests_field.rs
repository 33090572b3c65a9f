use super::{FieldOperator, FieldSelector};

fn get(field: &str) -> Option<String> {
    match field {
        "metadata.name" => Some("web-1".into()),
        "metadata.namespace" => Some("default".into()),
        "status.phase" => Some("Running".into()),
        "spec.weird" => Some("a,b=c\\d".into()),
        _ => None,
    }
}

#[test]
fn parses_matches_and_prints() {
    let cases = [
        ("", true, ""),
        ("metadata.name=web-1", true, "metadata.name=web-1"),
        ("metadata.name==web-1", true, "metadata.name=web-1"),
        ("metadata.name!=web-1", false, "metadata.name!=web-1"),
        (
            "status.phase!=Pending,metadata.namespace=default",
            true,
            "metadata.namespace=default,status.phase!=Pending",
        ),
        ("spec.nodeName=", true, "spec.nodeName="),
        ("spec.nodeName!=", false, "spec.nodeName!="),
        (
            "spec.weird=a\\,b\\=c\\\\d",
            true,
            "spec.weird=a\\,b\\=c\\\\d",
        ),
        ("metadata.name=web-1,,", true, "metadata.name=web-1"),
    ];
    for (input, matches, printed) in cases {
        let selector = FieldSelector::parse(input).unwrap_or_else(|e| panic!("{input:?}: {e}"));
        assert_eq!(selector.matches(get), matches, "{input:?}");
        assert_eq!(selector.to_string(), printed, "{input:?}");
    }
}

#[test]
fn rejects_bad_terms() {
    let cases = [
        ("metadata.name", "can't understand 'metadata.name'"),
        ("a=b=c", "unescaped character in value: ="),
        ("a=b\\x", "invalid escape sequence: \\x"),
        ("a=b\\", "invalid escape sequence: \\"),
    ];
    for (input, fragment) in cases {
        match FieldSelector::parse(input) {
            Ok(s) => panic!("{input:?} parsed as {s}"),
            Err(e) => assert!(
                e.message().contains(fragment),
                "{input:?}: {e} lacks {fragment:?}"
            ),
        }
    }
}

#[test]
fn exposes_requirements_and_exact_values() {
    let selector = FieldSelector::parse("spec.nodeName=n1,metadata.name!=x").expect("valid");
    let terms: Vec<_> = selector
        .requirements()
        .iter()
        .map(|r| (r.field.as_str(), r.operator, r.value.as_str()))
        .collect();
    assert_eq!(
        terms,
        vec![
            ("metadata.name", FieldOperator::NotEquals, "x"),
            ("spec.nodeName", FieldOperator::Equals, "n1")
        ]
    );
    assert_eq!(selector.exact("spec.nodeName"), Some("n1"));
    assert_eq!(selector.exact("metadata.name"), None);
    assert_eq!(
        FieldSelector::one_term_equal("a", "b").exact("a"),
        Some("b")
    );
    assert!(FieldSelector::parse("").expect("empty").is_empty());
}
