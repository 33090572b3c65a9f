//! Taint-based eviction: a pod on a node with NoExecute taints is evicted at once unless it
//! tolerates every one of them, and otherwise after the shortest tolerationSeconds of the
//! tolerations that matched (counted from when the taint was added); tolerations without
//! seconds let it stay.

use chrono::{DateTime, Duration, Utc};
use k8s_openapi::api::core::v1::{Taint, Toleration};
use peapod_apimachinery::placement::tolerates;

use crate::nodeutil::NO_EXECUTE;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Eviction {
    Never,
    Now,
    At(DateTime<Utc>),
}

pub fn decide(tolerations: &[Toleration], taints: &[Taint], now: DateTime<Utc>) -> Eviction {
    let no_execute: Vec<&Taint> = taints.iter().filter(|t| t.effect == NO_EXECUTE).collect();
    if no_execute.is_empty() {
        return Eviction::Never;
    }
    let mut deadline: Option<DateTime<Utc>> = None;
    for taint in no_execute {
        let used: Vec<&Toleration> = tolerations.iter().filter(|t| tolerates(t, taint)).collect();
        if used.is_empty() {
            return Eviction::Now;
        }
        let since = taint
            .time_added
            .as_ref()
            .map(|t| peapod_apimachinery::timeconv::to_chrono(&t.0))
            .unwrap_or(now);
        // Any toleration without seconds tolerates this taint forever.
        if used.iter().any(|t| t.toleration_seconds.is_none()) {
            continue;
        }
        let secs = used
            .iter()
            .filter_map(|t| t.toleration_seconds)
            .min()
            .unwrap_or(0);
        let at = since + Duration::seconds(secs.max(0));
        deadline = Some(deadline.map_or(at, |d| d.min(at)));
    }
    match deadline {
        None => Eviction::Never,
        Some(at) if at <= now => Eviction::Now,
        Some(at) => Eviction::At(at),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nodeutil;

    fn taint(key: &str, effect: &str, added: DateTime<Utc>) -> Taint {
        Taint {
            key: key.into(),
            effect: effect.into(),
            value: None,
            time_added: Some(peapod_apimachinery::timeconv::time(added)),
        }
    }

    fn tol(key: &str, secs: Option<i64>) -> Toleration {
        Toleration {
            key: Some(key.into()),
            operator: Some("Exists".into()),
            effect: Some(NO_EXECUTE.into()),
            value: None,
            toleration_seconds: secs,
        }
    }

    #[test]
    fn eviction_timing() {
        let now = Utc::now();
        let t = [taint(nodeutil::UNREACHABLE, NO_EXECUTE, now)];
        assert_eq!(decide(&[], &t, now), Eviction::Now);
        assert_eq!(decide(&[tol("other", None)], &t, now), Eviction::Now);
        assert_eq!(
            decide(&[tol(nodeutil::UNREACHABLE, None)], &t, now),
            Eviction::Never
        );
        assert_eq!(
            decide(&[tol(nodeutil::UNREACHABLE, Some(300))], &t, now),
            Eviction::At(now + Duration::seconds(300))
        );
        assert_eq!(
            decide(
                &[tol(nodeutil::UNREACHABLE, Some(300))],
                &t,
                now + Duration::seconds(301)
            ),
            Eviction::Now
        );
        assert_eq!(
            decide(&[tol(nodeutil::UNREACHABLE, Some(0))], &t, now),
            Eviction::Now
        );
        let no_schedule = [taint(nodeutil::UNREACHABLE, "NoSchedule", now)];
        assert_eq!(decide(&[], &no_schedule, now), Eviction::Never);
    }
}
