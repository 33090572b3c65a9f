//! `$(VAR)` expansion in container `command`, `args` and env values, with Kubernetes' rules:
//! `$$` is an escaped `$`, a reference to an unknown variable is kept verbatim, and a `$` that
//! starts neither form is kept as is. Expansion is single-pass: substituted values are not
//! expanded again.

/// Expands `$(NAME)` references in `input` using `lookup`.
pub fn expand_vars(input: &str, lookup: impl Fn(&str) -> Option<String>) -> String {
    let mut output = String::with_capacity(input.len());
    let mut rest = input;
    while let Some(dollar) = rest.find('$') {
        output.push_str(&rest[..dollar]);
        let after = &rest[dollar + 1..];
        let mut chars = after.chars();
        match chars.next() {
            // A trailing `$` stays.
            None => {
                output.push('$');
                rest = after;
            }
            Some('$') => {
                output.push('$');
                rest = &after[1..];
            }
            Some('(') => match after.find(')') {
                Some(close) => {
                    let name = &after[1..close];
                    match lookup(name) {
                        Some(value) => output.push_str(&value),
                        None => {
                            output.push_str("$(");
                            output.push_str(name);
                            output.push(')');
                        }
                    }
                    rest = &after[close + 1..];
                }
                // No closing parenthesis: `$(` is literal and scanning resumes after it.
                None => {
                    output.push_str("$(");
                    rest = &after[1..];
                }
            },
            // `$` followed by anything else is literal, together with that character.
            Some(other) => {
                output.push('$');
                output.push(other);
                rest = chars.as_str();
            }
        }
    }
    output.push_str(rest);
    output
}

#[cfg(test)]
mod tests;
