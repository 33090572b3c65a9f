//! metav1.Status documents: HTTP error bodies and the exec result on channel 3.

use serde_json::{json, Value};

use crate::error::StreamError;

/// The Status body for an HTTP error response (includes `kind`, `apiVersion` and `code`).
pub fn error_status(err: &StreamError) -> Value {
    json!({
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": err.to_string(),
        "reason": err.reason(),
        "code": err.code(),
    })
}

/// The Status sent on the error channel when a process ended with `exit_code`.
///
/// kubectl turns `NonZeroExitCode` + cause `ExitCode` into its own exit code.
pub fn exit_status(exit_code: i32) -> Value {
    if exit_code == 0 {
        return json!({"metadata": {}, "status": "Success"});
    }
    json!({
        "metadata": {},
        "status": "Failure",
        "message": format!("command terminated with non-zero exit code: exit code {exit_code}"),
        "reason": "NonZeroExitCode",
        "details": {"causes": [{"reason": "ExitCode", "message": exit_code.to_string()}]},
    })
}

/// The Status sent on the error channel when the session failed for another reason
/// (kubectl prints the message and exits 1).
pub fn failure_status(err: &StreamError) -> Value {
    json!({
        "metadata": {},
        "status": "Failure",
        "message": err.to_string(),
        "reason": err.reason(),
        "code": err.code(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn success_status_has_no_reason() {
        assert_eq!(exit_status(0), json!({"metadata": {}, "status": "Success"}));
    }

    #[test]
    fn non_zero_exit_carries_code_as_cause() {
        let status = exit_status(3);
        assert_eq!(status["status"], "Failure");
        assert_eq!(status["reason"], "NonZeroExitCode");
        assert_eq!(status["details"]["causes"][0]["reason"], "ExitCode");
        assert_eq!(status["details"]["causes"][0]["message"], "3");
    }

    #[test]
    fn http_error_status_is_a_full_status_object() {
        let status = error_status(&StreamError::NotFound("pods \"web\" not found".into()));
        assert_eq!(status["kind"], "Status");
        assert_eq!(status["code"], 404);
        assert_eq!(status["reason"], "NotFound");
        assert_eq!(status["message"], "pods \"web\" not found");
    }
}
