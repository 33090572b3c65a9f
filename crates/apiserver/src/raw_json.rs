//! Stored objects served without parsing them: the store keeps each object as a JSON object
//! whose `metadata` has no `resourceVersion` (the revision is the store's), so a reader that
//! needs nothing else can splice `"resourceVersion":"N"` into `metadata` and copy the bytes.
//! Large lists and watches then cost a copy, not a parse and a serialisation per object.
//! Anything not of that shape gives `None`, and the caller decodes the object instead.

/// `raw` with `"resourceVersion":"<rv>"` as the first member of its top-level `metadata`.
pub fn with_resource_version(raw: &[u8], rv: i64) -> Option<Vec<u8>> {
    let open = metadata_open_brace(raw)?;
    let inner_start = skip_ws(raw, open + 1)?;
    let empty = raw[inner_start] == b'}';
    if !empty && has_member(raw, open, b"resourceVersion")? {
        return None;
    }
    let stamp = format!(
        "\"resourceVersion\":\"{rv}\"{}",
        if empty { "" } else { "," }
    );
    let mut out = Vec::with_capacity(raw.len() + stamp.len());
    out.extend_from_slice(&raw[..=open]);
    out.extend_from_slice(stamp.as_bytes());
    out.extend_from_slice(&raw[open + 1..]);
    Some(out)
}

/// Position of the `{` that opens the top-level `metadata` object.
fn metadata_open_brace(b: &[u8]) -> Option<usize> {
    let mut i = skip_ws(b, 0)?;
    if b[i] != b'{' {
        return None;
    }
    i += 1;
    loop {
        i = skip_ws(b, i)?;
        if b[i] == b'}' {
            return None;
        }
        let (key, after_key) = string(b, i)?;
        i = skip_ws(b, after_key)?;
        if b[i] != b':' {
            return None;
        }
        i = skip_ws(b, i + 1)?;
        if key == b"metadata" {
            return (b[i] == b'{').then_some(i);
        }
        i = skip_ws(b, skip_value(b, i)?)?;
        match b[i] {
            b',' => i += 1,
            _ => return None,
        }
    }
}

/// Whether the object opening at `open` has a member named `name` (escaped names count as
/// present: comparing them would need decoding, and the decoder is the safe path).
fn has_member(b: &[u8], open: usize, name: &[u8]) -> Option<bool> {
    let mut i = open + 1;
    loop {
        i = skip_ws(b, i)?;
        if b[i] == b'}' {
            return Some(false);
        }
        let (key, after_key) = string(b, i)?;
        if key == name || key.contains(&b'\\') {
            return Some(true);
        }
        i = skip_ws(b, after_key)?;
        if b[i] != b':' {
            return None;
        }
        i = skip_ws(b, skip_value(b, i + 1)?)?;
        match b[i] {
            b',' => i += 1,
            b'}' => return Some(false),
            _ => return None,
        }
    }
}

fn skip_ws(b: &[u8], mut i: usize) -> Option<usize> {
    while i < b.len() && matches!(b[i], b' ' | b'\t' | b'\n' | b'\r') {
        i += 1;
    }
    (i < b.len()).then_some(i)
}

/// The raw contents of the string starting at `i` (escapes left as they are) and the position
/// after its closing quote.
fn string(b: &[u8], i: usize) -> Option<(&[u8], usize)> {
    if b.get(i) != Some(&b'"') {
        return None;
    }
    let mut j = i + 1;
    while j < b.len() {
        match b[j] {
            b'\\' => j += 2,
            b'"' => return Some((&b[i + 1..j], j + 1)),
            _ => j += 1,
        }
    }
    None
}

/// The position after the JSON value starting at `i`.
fn skip_value(b: &[u8], i: usize) -> Option<usize> {
    let i = skip_ws(b, i)?;
    match b[i] {
        b'"' => string(b, i).map(|(_, end)| end),
        b'{' | b'[' => {
            let mut depth = 0usize;
            let mut j = i;
            while j < b.len() {
                match b[j] {
                    b'"' => {
                        j = string(b, j)?.1;
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return Some(j + 1);
                        }
                    }
                    _ => {}
                }
                j += 1;
            }
            None
        }
        _ => {
            let mut j = i;
            while j < b.len() && !matches!(b[j], b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r')
            {
                j += 1;
            }
            (j > i).then_some(j)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn stamped(v: &Value, rv: i64) -> Option<Value> {
        let raw = serde_json::to_vec(v).unwrap();
        with_resource_version(&raw, rv).map(|b| serde_json::from_slice(&b).unwrap())
    }

    #[test]
    fn stamps_metadata_whatever_comes_before_it() {
        let obj = json!({
            "apiVersion": "v1", "kind": "Pod",
            "weird": {"metadata": {"x": "}"}, "list": [1, "]\"", {"a": null}]},
            "metadata": {"name": "p", "labels": {"a": "b"}},
            "spec": {"containers": [{"name": "c"}]}
        });
        let mut want = obj.clone();
        want["metadata"]["resourceVersion"] = json!("42");
        assert_eq!(stamped(&obj, 42), Some(want));
        let empty = json!({"kind": "X", "metadata": {}});
        assert_eq!(
            stamped(&empty, 7),
            Some(json!({"kind": "X", "metadata": {"resourceVersion": "7"}}))
        );
        // Whitespace and escapes in the stored text are fine.
        let raw = br#" { "a\"b" : -1.5e3 , "metadata" : { "name" : "n\\" } } "#;
        let out: Value = serde_json::from_slice(&with_resource_version(raw, 3).unwrap()).unwrap();
        assert_eq!(
            out["metadata"],
            json!({"name": "n\\", "resourceVersion": "3"})
        );
    }

    #[test]
    fn anything_else_is_left_to_the_decoder() {
        for raw in [
            &b""[..],
            b"[]",
            b"{}",
            b"{\"kind\":\"X\"}",
            b"{\"metadata\":null}",
            b"{\"metadata\":{\"resourceVersion\":\"1\"}}",
            b"{\"metadata\":{\"resource\\u0056ersion\":\"1\"}}",
            b"{\"metadata\":{\"name\":\"unterminated",
            b"{\"a\":[1,2}",
            b"{\"a\" 1,\"metadata\":{}}",
        ] {
            assert_eq!(
                with_resource_version(raw, 1),
                None,
                "{}",
                String::from_utf8_lossy(raw)
            );
        }
    }
}
