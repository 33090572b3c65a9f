//! Deployment arithmetic and bookkeeping shared by the strategies: surge/unavailable
//! fenceposts, the revision and replica annotations, the pod-template hash.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::core::v1::PodTemplateSpec;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

pub const REVISION: &str = "deployment.kubernetes.io/revision";
pub const REVISION_HISTORY: &str = "deployment.kubernetes.io/revision-history";
pub const DESIRED_REPLICAS: &str = "deployment.kubernetes.io/desired-replicas";
pub const MAX_REPLICAS: &str = "deployment.kubernetes.io/max-replicas";
pub const HASH_LABEL: &str = "pod-template-hash";

pub fn replicas(d: &Deployment) -> i32 {
    d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1).max(0)
}

pub fn rs_replicas(rs: &ReplicaSet) -> i32 {
    rs.spec.as_ref().and_then(|s| s.replicas).unwrap_or(0)
}

pub fn rs_available(rs: &ReplicaSet) -> i32 {
    rs.status
        .as_ref()
        .and_then(|s| s.available_replicas)
        .unwrap_or(0)
}

pub fn is_recreate(d: &Deployment) -> bool {
    d.spec
        .as_ref()
        .and_then(|s| s.strategy.as_ref())
        .and_then(|s| s.type_.as_deref())
        == Some("Recreate")
}

/// Resolves an int-or-percent against `total`, rounding percentages up or down.
pub fn scaled_value(
    v: Option<&IntOrString>,
    total: i32,
    default: &str,
    round_up: bool,
) -> Result<i32, String> {
    let v = v
        .cloned()
        .unwrap_or_else(|| IntOrString::String(default.to_string()));
    match v {
        IntOrString::Int(i) => Ok(i.max(0)),
        IntOrString::String(s) => {
            let Some(p) = s.strip_suffix('%') else {
                return s
                    .parse::<i32>()
                    .map(|i| i.max(0))
                    .map_err(|_| format!("invalid value {s:?}: want an integer or a percentage"));
            };
            let p: i64 = p.parse().map_err(|_| format!("invalid percentage {s:?}"))?;
            let x = i64::from(total) * p.max(0);
            let r = if round_up { (x + 99) / 100 } else { x / 100 };
            Ok(i32::try_from(r).unwrap_or(i32::MAX))
        }
    }
}

/// (maxSurge, maxUnavailable) for a rolling update; both 0 would deadlock, so unavailable
/// becomes 1 then. Recreate has neither.
pub fn fenceposts(d: &Deployment) -> Result<(i32, i32), String> {
    if is_recreate(d) {
        return Ok((0, 0));
    }
    let ru = d
        .spec
        .as_ref()
        .and_then(|s| s.strategy.as_ref())
        .and_then(|s| s.rolling_update.as_ref());
    let want = replicas(d);
    let surge = scaled_value(ru.and_then(|r| r.max_surge.as_ref()), want, "25%", true)?;
    let mut unavailable = scaled_value(
        ru.and_then(|r| r.max_unavailable.as_ref()),
        want,
        "25%",
        false,
    )?;
    if surge == 0 && unavailable == 0 {
        unavailable = 1;
    }
    Ok((surge, unavailable.min(want)))
}

pub fn revision_of(annotations: Option<&BTreeMap<String, String>>) -> i64 {
    annotations
        .and_then(|a| a.get(REVISION))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

pub fn rs_revision(rs: &ReplicaSet) -> i64 {
    revision_of(rs.metadata.annotations.as_ref())
}

/// The hash of the template's JSON and the collision count.
pub fn template_hash(template: &PodTemplateSpec, collision_count: Option<i32>) -> String {
    crate::hashing::short_hash(
        serde_json::to_string(template)
            .unwrap_or_default()
            .as_bytes(),
        collision_count,
    )
}

/// Whether the RS's template is `template` once the hash label is set aside.
pub fn same_template(rs: &ReplicaSet, template: &PodTemplateSpec) -> bool {
    let Some(mut t) = rs.spec.as_ref().and_then(|s| s.template.clone()) else {
        return false;
    };
    let mut want = template.clone();
    for tt in [&mut t, &mut want] {
        if let Some(m) = tt.metadata.as_mut() {
            if let Some(l) = m.labels.as_mut() {
                l.remove(HASH_LABEL);
                if l.is_empty() {
                    m.labels = None;
                }
            }
        }
    }
    serde_json::to_value(&t).ok() == serde_json::to_value(&want).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentages_round_the_safe_way() {
        let p = IntOrString::String("25%".into());
        assert_eq!(scaled_value(Some(&p), 10, "0", true), Ok(3));
        assert_eq!(scaled_value(Some(&p), 10, "0", false), Ok(2));
        assert_eq!(
            scaled_value(Some(&IntOrString::Int(2)), 10, "0", false),
            Ok(2)
        );
        assert_eq!(scaled_value(None, 4, "25%", true), Ok(1));
        assert!(scaled_value(Some(&IntOrString::String("x%".into())), 10, "0", true).is_err());
    }

    #[test]
    fn hash_is_stable_and_changes_with_template_and_collisions() {
        let t = PodTemplateSpec::default();
        let a = template_hash(&t, None);
        assert_eq!(a, template_hash(&t, None));
        assert_ne!(a, template_hash(&t, Some(1)));
        assert!(a
            .bytes()
            .all(|b| b"bcdfghjklmnpqrstvwxz2456789".contains(&b)));
    }
}
