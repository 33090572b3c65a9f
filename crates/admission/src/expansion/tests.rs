use std::collections::HashMap;

use super::*;

fn context() -> HashMap<String, String> {
    [
        ("VAR_A", "A"),
        ("VAR_B", "B"),
        ("VAR_C", "C"),
        ("VAR_REF", "$(VAR_A)"),
        ("VAR_EMPTY", ""),
        ("VAR_SPACE", " "),
        ("VAR_UNICODE", "héllo"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

fn expand(input: &str) -> String {
    let vars = context();
    expand_vars(input, |name| vars.get(name).cloned())
}

#[test]
fn kubernetes_expansion_rules() {
    let cases = [
        // (input, expected)
        ("$(VAR_A)", "A"),
        ("___$(VAR_B)___", "___B___"),
        ("$(VAR_A)-$(VAR_A)", "A-A"),
        ("$(VAR_A)$(VAR_B)$(VAR_C)", "ABC"),
        ("$(VAR_A)_$(VAR_B)_$(VAR_C)", "A_B_C"),
        ("f000-$$VAR_A", "f000-$VAR_A"),
        ("foo\\$(VAR_C)bar", "foo\\Cbar"),
        ("foo\\\\$(VAR_C)bar", "foo\\\\Cbar"),
        ("$$(VAR_A)", "$(VAR_A)"),
        ("$$$(VAR_A)", "$A"),
        ("$$$$(VAR_A)", "$$(VAR_A)"),
        ("$$$$$(VAR_A)", "$$A"),
        ("$(VAR_EMPTY)", ""),
        ("$(VAR_SPACE)", " "),
        ("$(UNDEFINED)", "$(UNDEFINED)"),
        ("$(VAR_A)$(UNDEFINED)$(VAR_B)", "A$(UNDEFINED)B"),
        ("$()", "$()"),
        ("$(VAR_A", "$(VAR_A"),
        ("$(VAR_A$(VAR_B)", "$(VAR_A$(VAR_B)"),
        ("$(VAR_A)$(VAR_B", "A$(VAR_B"),
        ("$VAR_A", "$VAR_A"),
        ("$", "$"),
        ("$$", "$"),
        ("foo$", "foo$"),
        ("$(VAR_A)$", "A$"),
        ("$ (VAR_A)", "$ (VAR_A)"),
        ("", ""),
        ("no refs at all", "no refs at all"),
        ("$(VAR_UNICODE)é$(VAR_A)", "hélloéA"),
        ("$é", "$é"),
    ];
    for (input, expected) in cases {
        assert_eq!(expand(input), expected, "input {input:?}");
    }
}

#[test]
fn substituted_values_are_not_expanded_again() {
    assert_eq!(expand("$(VAR_REF)"), "$(VAR_A)");
}

#[test]
fn nested_reference_is_kept_up_to_the_first_closer() {
    // The name runs to the first `)`: `VAR_$(VAR_A` is not defined, so it stays verbatim and
    // the trailing `)` is literal.
    assert_eq!(expand("$(VAR_$(VAR_A))"), "$(VAR_$(VAR_A))");
}

#[test]
fn lookup_sees_exact_names() {
    let seen = std::cell::RefCell::new(Vec::new());
    let out = expand_vars("$(a b)$(X)", |name| {
        seen.borrow_mut().push(name.to_string());
        None
    });
    assert_eq!(out, "$(a b)$(X)");
    assert_eq!(*seen.borrow(), vec!["a b".to_string(), "X".to_string()]);
}
