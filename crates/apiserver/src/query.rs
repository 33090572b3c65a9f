//! Query parameters, with the typed accessors handlers need.

use peapod_apimachinery::query::QueryParams;

use crate::errors::{ApiError, ApiResult};

#[derive(Debug, Default, Clone)]
pub struct Query {
    params: QueryParams,
}

impl Query {
    pub fn parse(raw: Option<&str>) -> Query {
        Query {
            params: QueryParams::parse(raw),
        }
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.params.get(key)
    }

    pub fn flag(&self, key: &str) -> bool {
        matches!(self.get(key), Some("true") | Some("1"))
    }

    pub fn non_empty(&self, key: &str) -> Option<&str> {
        self.params.non_empty(key)
    }

    pub fn int(&self, key: &str) -> ApiResult<Option<i64>> {
        match self.non_empty(key) {
            None => Ok(None),
            Some(v) => v
                .parse()
                .map(Some)
                .map_err(|_| ApiError::bad_request(format!("invalid value for {key}: {v:?}"))),
        }
    }

    /// `dryRun=All`: run everything but the write.
    pub fn dry_run(&self) -> ApiResult<bool> {
        match self.non_empty("dryRun") {
            None => Ok(false),
            Some("All") => Ok(true),
            Some(v) => Err(ApiError::bad_request(format!(
                "Unsupported value: {v:?}: supported values: \"All\""
            ))),
        }
    }

    /// `fieldValidation`: Strict rejects unknown fields; Warn/Ignore accept them.
    pub fn strict(&self) -> ApiResult<bool> {
        match self.non_empty("fieldValidation") {
            None | Some("Ignore") | Some("Warn") => Ok(false),
            Some("Strict") => Ok(true),
            Some(v) => Err(ApiError::bad_request(format!(
                "fieldValidation: Unsupported value: {v:?}: supported values: \"Ignore\", \"Strict\", \"Warn\""
            ))),
        }
    }
}
