//! Query strings as Kubernetes reads them (Go's `url.Values`): percent-decoded pairs in order,
//! repeated keys kept (`command=sh&command=-c`), the first value of a key the one that counts.

/// A decoded query string.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct QueryParams {
    pairs: Vec<(String, String)>,
}

impl QueryParams {
    /// Decodes `raw` (the part after `?`); no query is an empty one.
    pub fn parse(raw: Option<&str>) -> QueryParams {
        let pairs = raw
            .map(|q| {
                url::form_urlencoded::parse(q.as_bytes())
                    .into_owned()
                    .collect()
            })
            .unwrap_or_default();
        QueryParams { pairs }
    }

    /// The first value of `key`, as `url.Values.Get`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The first value of `key` unless it is empty (`?labelSelector=` means no selector).
    pub fn non_empty(&self, key: &str) -> Option<&str> {
        self.get(key).filter(|v| !v.is_empty())
    }

    /// Every value of a repeated key, in order.
    pub fn all(&self, key: &str) -> Vec<String> {
        self.pairs
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_keeps_repeats_and_takes_the_first_value() {
        let q = QueryParams::parse(Some(
            "command=sh&command=-c&command=echo%20hi%3B%20exit%203&container=main&x=&c=a+b",
        ));
        assert_eq!(q.all("command"), vec!["sh", "-c", "echo hi; exit 3"]);
        assert_eq!(q.get("command"), Some("sh"));
        assert_eq!(q.get("container"), Some("main"));
        assert_eq!(q.get("c"), Some("a b"));
        assert_eq!(q.get("x"), Some(""));
        assert_eq!(q.non_empty("x"), None);
        assert_eq!(q.get("missing"), None);
        assert!(q.all("missing").is_empty());
        assert_eq!(QueryParams::parse(None), QueryParams::default());
    }
}
