//! Syntax of label keys and values (Kubernetes "qualified names" and label values).

use super::SelectorError;

const NAME_MAX: usize = 63;
const PREFIX_MAX: usize = 253;

/// Checks a label key: an optional DNS-subdomain prefix and `/`, then a name of at most 63
/// characters of `[A-Za-z0-9._-]` that begins and ends alphanumeric.
pub fn validate_label_key(key: &str) -> Result<(), SelectorError> {
    let invalid = |why: String| {
        Err(SelectorError::new(format!(
            "key: Invalid value: {key:?}: {why}"
        )))
    };
    let (prefix, name) = match key.split_once('/') {
        Some((prefix, name)) => (Some(prefix), name),
        None => (None, key),
    };
    if let Some(prefix) = prefix {
        if prefix.is_empty() {
            return invalid("prefix part must be non-empty".into());
        }
        if let Err(why) = check_dns_subdomain(prefix) {
            return invalid(format!("prefix part {why}"));
        }
    }
    if name.is_empty() {
        return invalid("name part must be non-empty".into());
    }
    if name.len() > NAME_MAX {
        return invalid(format!(
            "name part must be no more than {NAME_MAX} characters"
        ));
    }
    if !is_name_token(name) {
        return invalid(
            "name part must consist of alphanumeric characters, '-', '_' or '.', and must start \
             and end with an alphanumeric character"
                .into(),
        );
    }
    Ok(())
}

/// Checks a label value: empty, or at most 63 characters of `[A-Za-z0-9._-]` that begin and end
/// alphanumeric.
pub fn validate_label_value(value: &str) -> Result<(), SelectorError> {
    let invalid = |why: String| {
        Err(SelectorError::new(format!(
            "values: Invalid value: {value:?}: {why}"
        )))
    };
    if value.len() > NAME_MAX {
        return invalid(format!("must be no more than {NAME_MAX} characters"));
    }
    if !value.is_empty() && !is_name_token(value) {
        return invalid(
            "a valid label must be an empty string or consist of alphanumeric characters, '-', \
             '_' or '.', and must start and end with an alphanumeric character"
                .into(),
        );
    }
    Ok(())
}

/// `([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]`, non-empty.
fn is_name_token(s: &str) -> bool {
    let bytes = s.as_bytes();
    match (bytes.first(), bytes.last()) {
        (Some(first), Some(last)) => {
            first.is_ascii_alphanumeric()
                && last.is_ascii_alphanumeric()
                && bytes
                    .iter()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        }
        _ => false,
    }
}

/// RFC 1123 subdomain: dot-separated lowercase labels, at most 253 characters in all.
fn check_dns_subdomain(s: &str) -> Result<(), String> {
    if s.len() > PREFIX_MAX {
        return Err(format!("must be no more than {PREFIX_MAX} characters"));
    }
    let lower_alnum = |c: &u8| c.is_ascii_lowercase() || c.is_ascii_digit();
    let label_ok = |label: &str| {
        let b = label.as_bytes();
        match (b.first(), b.last()) {
            (Some(first), Some(last)) => {
                lower_alnum(first)
                    && lower_alnum(last)
                    && b.iter().all(|c| lower_alnum(c) || *c == b'-')
            }
            _ => false,
        }
    };
    if s.split('.').all(label_ok) {
        Ok(())
    } else {
        Err(
            "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, \
             '-' or '.', and must start and end with an alphanumeric character"
                .into(),
        )
    }
}
