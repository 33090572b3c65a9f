//! A StatefulSet pod's stable identity: the name `<set>-<ordinal>`, hostname = pod name,
//! subdomain = the governing service, and the labels naming the pod, its index and the
//! revision that made it.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::api::core::v1::{Pod, PodTemplateSpec};
use kube::ResourceExt;

use crate::ownership::controller_ref;
use crate::podutil;
use crate::revisions::HASH_LABEL;

pub const POD_NAME_LABEL: &str = "statefulset.kubernetes.io/pod-name";
pub const POD_INDEX_LABEL: &str = "apps.kubernetes.io/pod-index";

pub fn pod_name(set: &str, ordinal: i32) -> String {
    format!("{set}-{ordinal}")
}

/// The ordinal of a pod named `<set>-<n>`; None for any other name.
pub fn ordinal_of(set: &str, pod_name: &str) -> Option<i32> {
    let digits = pod_name.strip_prefix(set)?.strip_prefix('-')?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    // Ordinals are written without leading zeros; "web-01" is not web's pod 1.
    if digits.len() > 1 && digits.starts_with('0') {
        return None;
    }
    digits.parse().ok()
}

/// The labels that make up a pod's identity (the revision label aside).
pub fn identity_labels(set: &str, ordinal: i32) -> BTreeMap<String, String> {
    [
        (POD_NAME_LABEL.to_string(), pod_name(set, ordinal)),
        (POD_INDEX_LABEL.to_string(), ordinal.to_string()),
    ]
    .into()
}

/// Identity labels the pod lacks or has wrong (to be patched back).
pub fn missing_identity(pod: &Pod, set: &str, ordinal: i32) -> BTreeMap<String, String> {
    identity_labels(set, ordinal)
        .into_iter()
        .filter(|(k, v)| pod.labels().get(k) != Some(v))
        .collect()
}

/// Pod `ordinal` of `sts` made from `template` of revision `revision`.
pub fn new_pod(sts: &StatefulSet, template: &PodTemplateSpec, revision: &str, ordinal: i32) -> Pod {
    let set = sts.name_any();
    let name = pod_name(&set, ordinal);
    let mut labels = identity_labels(&set, ordinal);
    labels.insert(HASH_LABEL.into(), revision.into());
    let mut pod = podutil::pod_from_template(
        template,
        &sts.namespace().unwrap_or_default(),
        controller_ref(sts),
        Some(name.clone()),
        None,
        &labels,
    );
    let service = sts
        .spec
        .as_ref()
        .and_then(|s| s.service_name.clone())
        .filter(|s| !s.is_empty());
    if let Some(spec) = pod.spec.as_mut() {
        spec.hostname = Some(name);
        spec.subdomain = service;
    }
    pod
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::apps::v1::StatefulSetSpec;
    use k8s_openapi::api::core::v1::PodSpec;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

    #[test]
    fn ordinals_parse_only_for_the_set() {
        assert_eq!(ordinal_of("web", "web-0"), Some(0));
        assert_eq!(ordinal_of("web", "web-12"), Some(12));
        assert_eq!(ordinal_of("web", "web-01"), None);
        assert_eq!(ordinal_of("web", "web-x"), None);
        assert_eq!(ordinal_of("web", "web-"), None);
        assert_eq!(ordinal_of("web", "webx-1"), None);
        assert_eq!(ordinal_of("web", "web-api-1"), None);
        assert_eq!(ordinal_of("web-api", "web-api-1"), Some(1));
    }

    #[test]
    fn pods_carry_their_identity() {
        let sts = StatefulSet {
            metadata: ObjectMeta {
                name: Some("web".into()),
                namespace: Some("ns".into()),
                uid: Some("u".into()),
                ..Default::default()
            },
            spec: Some(StatefulSetSpec {
                service_name: Some("nginx".into()),
                ..Default::default()
            }),
            status: None,
        };
        let t = PodTemplateSpec {
            metadata: Some(ObjectMeta {
                labels: Some([("app".to_string(), "web".to_string())].into()),
                ..Default::default()
            }),
            spec: Some(PodSpec::default()),
        };
        let p = new_pod(&sts, &t, "web-abc", 2);
        assert_eq!(p.metadata.name.as_deref(), Some("web-2"));
        let l = p.labels();
        assert_eq!(l.get(POD_NAME_LABEL).map(String::as_str), Some("web-2"));
        assert_eq!(l.get(POD_INDEX_LABEL).map(String::as_str), Some("2"));
        assert_eq!(l.get(HASH_LABEL).map(String::as_str), Some("web-abc"));
        assert_eq!(l.get("app").map(String::as_str), Some("web"));
        let spec = p.spec.clone().unwrap_or_default();
        assert_eq!(spec.hostname.as_deref(), Some("web-2"));
        assert_eq!(spec.subdomain.as_deref(), Some("nginx"));
        assert!(missing_identity(&p, "web", 2).is_empty());
        assert_eq!(missing_identity(&p, "web", 3).len(), 2);
    }
}
