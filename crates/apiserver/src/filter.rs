//! List/watch filtering by `labelSelector` and `fieldSelector`.

use peapod_apimachinery::selectors::{FieldSelector, LabelSelector};
use serde_json::Value;

use crate::errors::{ApiError, ApiResult};
use crate::object_meta;
use crate::query::Query;
use crate::registry::ResourceInfo;

pub struct Filter {
    labels: Option<LabelSelector>,
    fields: Option<FieldSelector>,
}

impl Filter {
    pub fn from_query(res: &ResourceInfo, q: &Query) -> ApiResult<Filter> {
        let labels = match q.non_empty("labelSelector") {
            Some(s) => Some(
                LabelSelector::parse(s)
                    .map_err(|e| ApiError::bad_request(e.message().to_string()))?,
            ),
            None => None,
        };
        let fields = match q.non_empty("fieldSelector") {
            Some(s) => {
                let f = FieldSelector::parse(s)
                    .map_err(|e| ApiError::bad_request(e.message().to_string()))?;
                for r in f.requirements() {
                    let known = matches!(r.field.as_str(), "metadata.name" | "metadata.namespace")
                        || res.field_selectors.contains(&r.field.as_str());
                    if !known {
                        return Err(ApiError::bad_request(format!(
                            "field label not supported: {}",
                            r.field
                        )));
                    }
                }
                Some(f)
            }
            None => None,
        };
        Ok(Filter { labels, fields })
    }

    pub fn is_everything(&self) -> bool {
        self.labels.is_none() && self.fields.is_none()
    }

    /// `metadata.name=x`: lets list/watch narrow to one key.
    pub fn exact_name(&self) -> Option<&str> {
        self.fields.as_ref()?.exact("metadata.name")
    }

    pub fn matches(&self, obj: &Value) -> bool {
        if let Some(l) = &self.labels {
            if !l.matches(object_meta::labels(obj)) {
                return false;
            }
        }
        if let Some(f) = &self.fields {
            return f.matches(|field| object_meta::field_value(obj, field));
        }
        true
    }
}
