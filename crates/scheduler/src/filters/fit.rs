//! NodeResourcesFit: the pod's whole request must fit in allocatable minus what the pods already
//! on the node request. Every short resource is a reason of its own.

use super::{FilterResult, Rejection};
use crate::node_info::NodeInfo;
use crate::requests::Resources;

pub const TOO_MANY_PODS: &str = "Too many pods";

pub fn insufficient(resource: &str) -> String {
    format!("Insufficient {resource}")
}

pub fn resources_fit(request: &Resources, node: &NodeInfo) -> FilterResult {
    let mut reasons = Vec::new();
    if node.pods.len() as i64 + 1 > node.allowed_pods {
        reasons.push(TOO_MANY_PODS.to_string());
    }
    let free = |alloc: i64, used: i64| alloc.saturating_sub(used);
    let (alloc, used) = (&node.allocatable, &node.requested);
    if request.milli_cpu > 0 && request.milli_cpu > free(alloc.milli_cpu, used.milli_cpu) {
        reasons.push(insufficient("cpu"));
    }
    if request.memory > 0 && request.memory > free(alloc.memory, used.memory) {
        reasons.push(insufficient("memory"));
    }
    if request.ephemeral_storage > 0
        && request.ephemeral_storage > free(alloc.ephemeral_storage, used.ephemeral_storage)
    {
        reasons.push(insufficient("ephemeral-storage"));
    }
    for (name, want) in &request.scalar {
        let have = free(
            alloc.scalar.get(name).copied().unwrap_or(0),
            used.scalar.get(name).copied().unwrap_or(0),
        );
        if *want > 0 && *want > have {
            reasons.push(insufficient(name));
        }
    }
    if reasons.is_empty() {
        Ok(())
    } else {
        Err(Rejection::unschedulable(reasons))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::filters::Code;
    use crate::node_info::tests::{node, placed};
    use std::sync::Arc;

    const GI: i64 = 1 << 30;

    fn want(milli_cpu: i64, memory: i64) -> Resources {
        Resources {
            milli_cpu,
            memory,
            ..Default::default()
        }
    }

    #[test]
    fn fits_until_allocatable_is_used_up() {
        let mut info = NodeInfo::new(Arc::new(node("n", "2", "4Gi", "110")));
        assert!(
            resources_fit(&want(2000, 4 * GI), &info).is_ok(),
            "exactly allocatable fits"
        );
        info.add_pod(placed("a", 1500, 3 * GI));
        assert!(resources_fit(&want(500, GI), &info).is_ok());
        let err = resources_fit(&want(501, GI + 1), &info).unwrap_err();
        assert_eq!(err.code, Code::Unschedulable);
        assert_eq!(
            err.reasons,
            vec![
                "Insufficient cpu".to_string(),
                "Insufficient memory".to_string()
            ]
        );
    }

    #[test]
    fn pod_count_is_a_resource() {
        let mut info = NodeInfo::new(Arc::new(node("n", "2", "4Gi", "1")));
        assert!(resources_fit(&want(0, 0), &info).is_ok());
        info.add_pod(placed("a", 0, 0));
        assert_eq!(
            resources_fit(&want(0, 0), &info).unwrap_err().reasons,
            vec![TOO_MANY_PODS.to_string()]
        );
    }

    #[test]
    fn zero_requests_fit_even_on_a_full_node() {
        let mut info = NodeInfo::new(Arc::new(node("n", "1", "1Gi", "10")));
        info.add_pod(placed("hog", 2000, 2 * GI));
        assert!(resources_fit(&want(0, 0), &info).is_ok());
    }

    #[test]
    fn ephemeral_storage_and_extended_resources() {
        let info = NodeInfo::new(Arc::new(node("n", "1", "1Gi", "10")));
        let mut r = Resources {
            ephemeral_storage: 1,
            ..Default::default()
        };
        r.scalar.insert("example.com/gpu".into(), 1);
        r.scalar.insert("example.com/none".into(), 0);
        assert_eq!(
            resources_fit(&r, &info).unwrap_err().reasons,
            vec![
                "Insufficient ephemeral-storage".to_string(),
                "Insufficient example.com/gpu".to_string()
            ]
        );
    }
}
