//! The scale subresource's write: `spec.replicas` of the parent object, through the update path.

use serde_json::{json, Value};

use super::{update, Current, ObjectRef, Part, UpdateRequest};
use crate::errors::{ApiError, ApiResult, Cause};
use crate::state::SharedState;

/// The replica count a Scale asks for: present and not negative (422 otherwise).
pub fn requested_replicas(target: ObjectRef<'_>, replicas: &Value) -> ApiResult<i64> {
    let invalid = |reason: &str, message: String| {
        ApiError::invalid(
            target.res,
            target.name,
            vec![Cause {
                reason: reason.into(),
                field: "spec.replicas".into(),
                message,
            }],
        )
    };
    let Some(n) = replicas.as_i64() else {
        return Err(invalid("FieldValueRequired", "Required value".into()));
    };
    if n < 0 {
        return Err(invalid(
            "FieldValueInvalid",
            format!("Invalid value: {n}: must be greater than or equal to 0"),
        ));
    }
    Ok(n)
}

/// Writes `replicas` into the parent object; answers the parent as written. A write that loses
/// a race is retried unless the Scale pinned a resourceVersion.
pub async fn set_replicas(
    state: &SharedState,
    target: ObjectRef<'_>,
    replicas: i64,
    pinned_rv: Option<&str>,
    dry_run: bool,
) -> ApiResult<Value> {
    let (res, ns, name) = (target.res, target.namespace, target.name);
    for _ in 0..super::RETRIES {
        let (current, rev) = state.objects.must_get(res, ns, name).await?;
        if pinned_rv.is_some_and(|p| p != rev.to_string()) {
            return Err(ApiError::conflict(res, name));
        }
        let mut new = current.clone();
        new["spec"]["replicas"] = json!(replicas);
        let req = UpdateRequest {
            target,
            current: Current {
                object: current,
                revision: rev,
            },
            object: new,
            part: Part::Whole,
            dry_run,
        };
        match update(state, req).await {
            Ok(out) => return Ok(out),
            Err(e) if e.code == 409 && pinned_rv.is_none() => continue,
            Err(e) => return Err(e),
        }
    }
    Err(ApiError::conflict(res, name))
}
