//! podFailurePolicy: what a failed pod means for its job (first matching rule wins).

use k8s_openapi::api::batch::v1::PodFailurePolicy;
use k8s_openapi::api::core::v1::Pod;

#[derive(Debug, PartialEq, Eq, Clone, Copy)]
pub enum Verdict {
    /// Counts toward backoffLimit (no rule matched, or action Count).
    Count,
    /// Not counted at all.
    Ignore,
    /// The whole job fails now.
    FailJob,
    /// The pod's index fails (Indexed jobs with backoffLimitPerIndex).
    FailIndex,
}

pub fn judge(policy: Option<&PodFailurePolicy>, pod: &Pod) -> Verdict {
    let Some(policy) = policy else {
        return Verdict::Count;
    };
    let statuses = pod
        .status
        .as_ref()
        .and_then(|s| s.container_statuses.clone())
        .unwrap_or_default();
    for rule in &policy.rules {
        let matched = if let Some(codes) = &rule.on_exit_codes {
            statuses.iter().any(|cs| {
                if codes.container_name.as_ref().is_some_and(|n| *n != cs.name) {
                    return false;
                }
                let Some(code) = cs
                    .state
                    .as_ref()
                    .and_then(|s| s.terminated.as_ref())
                    .map(|t| t.exit_code)
                else {
                    return false;
                };
                // Exit code 0 never counts as a failure exit.
                code != 0
                    && match codes.operator.as_str() {
                        "In" => codes.values.contains(&code),
                        "NotIn" => !codes.values.contains(&code),
                        _ => false,
                    }
            })
        } else if let Some(conds) = &rule.on_pod_conditions {
            let have = pod
                .status
                .as_ref()
                .and_then(|s| s.conditions.clone())
                .unwrap_or_default();
            conds.iter().any(|want| {
                let status = if want.status.is_empty() {
                    "True"
                } else {
                    want.status.as_str()
                };
                have.iter()
                    .any(|c| c.type_ == want.type_ && c.status == status)
            })
        } else {
            false
        };
        if matched {
            return match rule.action.as_str() {
                "FailJob" => Verdict::FailJob,
                "Ignore" => Verdict::Ignore,
                "FailIndex" => Verdict::FailIndex,
                _ => Verdict::Count,
            };
        }
    }
    Verdict::Count
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::batch::v1::{
        PodFailurePolicyOnExitCodesRequirement, PodFailurePolicyRule,
    };
    use k8s_openapi::api::core::v1::{
        ContainerState, ContainerStateTerminated, ContainerStatus, PodStatus,
    };

    fn failed_with(code: i32) -> Pod {
        Pod {
            status: Some(PodStatus {
                phase: Some("Failed".into()),
                container_statuses: Some(vec![ContainerStatus {
                    name: "c".into(),
                    state: Some(ContainerState {
                        terminated: Some(ContainerStateTerminated {
                            exit_code: code,
                            ..Default::default()
                        }),
                        ..Default::default()
                    }),
                    ..Default::default()
                }]),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    #[test]
    fn first_matching_rule_decides() {
        let policy = PodFailurePolicy {
            rules: vec![
                PodFailurePolicyRule {
                    action: "FailJob".into(),
                    on_exit_codes: Some(PodFailurePolicyOnExitCodesRequirement {
                        container_name: None,
                        operator: "In".into(),
                        values: vec![42],
                    }),
                    on_pod_conditions: None,
                },
                PodFailurePolicyRule {
                    action: "Ignore".into(),
                    on_exit_codes: Some(PodFailurePolicyOnExitCodesRequirement {
                        container_name: None,
                        operator: "NotIn".into(),
                        values: vec![1],
                    }),
                    on_pod_conditions: None,
                },
            ],
        };
        assert_eq!(judge(Some(&policy), &failed_with(42)), Verdict::FailJob);
        assert_eq!(judge(Some(&policy), &failed_with(3)), Verdict::Ignore);
        assert_eq!(judge(Some(&policy), &failed_with(1)), Verdict::Count);
        assert_eq!(judge(None, &failed_with(42)), Verdict::Count);
    }
}
