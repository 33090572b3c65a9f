//! Query-string parsing with Kubernetes' parameter rules (repeated keys, Go-style booleans).

use chrono::{DateTime, Utc};
use peapod_apimachinery::query::QueryParams;

use crate::backend::StdioSpec;
use crate::error::StreamError;

/// A decoded query string that keeps repeated keys in order.
#[derive(Debug, Default, Clone)]
pub struct Query {
    params: QueryParams,
}

impl Query {
    pub fn parse(raw: Option<&str>) -> Self {
        Query {
            params: QueryParams::parse(raw),
        }
    }

    /// The first value of `key`, as Go's `url.Values.Get`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.params.get(key)
    }

    /// Every value of a repeated key, in order (`command=sh&command=-c`).
    pub fn all(&self, key: &str) -> Vec<String> {
        self.params.all(key)
    }

    /// A boolean with Go's strconv.ParseBool spellings; absent means false.
    pub fn bool(&self, key: &str) -> Result<bool, StreamError> {
        match self.get(key) {
            None => Ok(false),
            Some("1" | "t" | "T" | "true" | "TRUE" | "True") => Ok(true),
            Some("0" | "f" | "F" | "false" | "FALSE" | "False" | "") => Ok(false),
            Some(other) => Err(StreamError::BadRequest(format!(
                "invalid value {other:?} for parameter {key}: not a boolean"
            ))),
        }
    }

    /// An optional integer parameter.
    pub fn int(&self, key: &str) -> Result<Option<i64>, StreamError> {
        self.get(key)
            .map(|v| {
                v.parse::<i64>().map_err(|_| {
                    StreamError::BadRequest(format!(
                        "invalid value {v:?} for parameter {key}: not an integer"
                    ))
                })
            })
            .transpose()
    }

    /// An optional RFC 3339 time parameter.
    pub fn time(&self, key: &str) -> Result<Option<DateTime<Utc>>, StreamError> {
        self.get(key)
            .map(|v| {
                DateTime::parse_from_rfc3339(v)
                    .map(|t| t.with_timezone(&Utc))
                    .map_err(|_| {
                        StreamError::BadRequest(format!(
                            "invalid value {v:?} for parameter {key}: not an RFC 3339 time"
                        ))
                    })
            })
            .transpose()
    }

    /// The stdio flags of an exec or attach request, checked as a kubelet checks them.
    pub fn stdio(&self) -> Result<StdioSpec, StreamError> {
        let tty = self.bool("tty")?;
        let spec = StdioSpec {
            stdin: self.bool("stdin")?,
            stdout: self.bool("stdout")?,
            // A terminal has a single output stream; a kubelet silently drops stderr too.
            stderr: self.bool("stderr")? && !tty,
            tty,
        };
        if !spec.stdin && !spec.stdout && !self.bool("stderr")? {
            return Err(StreamError::BadRequest(
                "you must specify at least 1 of stdin, stdout, stderr".into(),
            ));
        }
        Ok(spec)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_command_keeps_order_and_decodes() {
        let q = Query::parse(Some(
            "command=sh&command=-c&command=echo%20hi%3B%20exit%203&container=main",
        ));
        assert_eq!(q.all("command"), vec!["sh", "-c", "echo hi; exit 3"]);
        assert_eq!(q.get("container"), Some("main"));
    }

    #[test]
    fn booleans_follow_go_spelling_and_reject_garbage() {
        let q = Query::parse(Some("stdin=true&stdout=1&stderr=False&tty=yes"));
        assert_eq!(q.bool("stdin"), Ok(true));
        assert_eq!(q.bool("stdout"), Ok(true));
        assert_eq!(q.bool("stderr"), Ok(false));
        assert_eq!(q.bool("missing"), Ok(false));
        assert!(matches!(q.bool("tty"), Err(StreamError::BadRequest(_))));
    }

    #[test]
    fn tty_drops_stderr_and_some_stream_is_required() {
        let q = Query::parse(Some("stdin=true&stdout=true&stderr=true&tty=true"));
        let spec = q.stdio().expect("valid");
        assert!(spec.tty && spec.stdin && spec.stdout && !spec.stderr);
        let none = Query::parse(Some("command=ls"));
        assert!(matches!(none.stdio(), Err(StreamError::BadRequest(_))));
    }

    #[test]
    fn bad_numbers_and_times_are_bad_requests() {
        let q = Query::parse(Some("tailLines=x&sinceTime=yesterday&limitBytes=10"));
        assert!(q.int("tailLines").is_err());
        assert!(q.time("sinceTime").is_err());
        assert_eq!(q.int("limitBytes"), Ok(Some(10)));
    }
}
