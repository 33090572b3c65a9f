//! What a pod asks of a node: Kubernetes' pod-level request (app containers summed, init
//! containers taking the max, sidecars adding up, overhead on top).

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Container, PodSpec};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity as ApiQuantity;

use peapod_apimachinery::quantity::Quantity;

pub const CPU: &str = "cpu";
pub const MEMORY: &str = "memory";
pub const EPHEMERAL_STORAGE: &str = "ephemeral-storage";
pub const PODS: &str = "pods";

/// Requests counted for containers that request nothing, for scoring only (upstream defaults).
pub const DEFAULT_MILLI_CPU_REQUEST: i64 = 100;
pub const DEFAULT_MEMORY_REQUEST: i64 = 200 * 1024 * 1024;

/// A resource list that cannot be read; the message names the container and the resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestsError(pub String);

impl std::fmt::Display for RequestsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for RequestsError {}

/// An amount of each schedulable resource. cpu in millicores, the rest in units.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Resources {
    pub milli_cpu: i64,
    pub memory: i64,
    pub ephemeral_storage: i64,
    /// Extended resources, hugepages and anything else requested by name.
    pub scalar: BTreeMap<String, i64>,
}

impl Resources {
    /// Reads a resource list; `pods` and `storage` are not container requests and are skipped.
    pub fn from_list(list: &BTreeMap<String, ApiQuantity>) -> Result<Self, RequestsError> {
        let mut r = Resources::default();
        for (name, q) in list {
            let parsed = Quantity::parse(&q.0)
                .map_err(|e| RequestsError(format!("resource {name}: {e}")))?;
            match name.as_str() {
                CPU => r.milli_cpu = parsed.milli_value(),
                MEMORY => r.memory = parsed.value(),
                EPHEMERAL_STORAGE => r.ephemeral_storage = parsed.value(),
                PODS | "storage" => {}
                other => {
                    r.scalar.insert(other.to_string(), parsed.value());
                }
            }
        }
        Ok(r)
    }

    pub fn add(&mut self, other: &Resources) {
        self.milli_cpu = self.milli_cpu.saturating_add(other.milli_cpu);
        self.memory = self.memory.saturating_add(other.memory);
        self.ephemeral_storage = self
            .ephemeral_storage
            .saturating_add(other.ephemeral_storage);
        for (k, v) in &other.scalar {
            let e = self.scalar.entry(k.clone()).or_insert(0);
            *e = e.saturating_add(*v);
        }
    }

    pub fn subtract(&mut self, other: &Resources) {
        self.milli_cpu = self.milli_cpu.saturating_sub(other.milli_cpu);
        self.memory = self.memory.saturating_sub(other.memory);
        self.ephemeral_storage = self
            .ephemeral_storage
            .saturating_sub(other.ephemeral_storage);
        for (k, v) in &other.scalar {
            let e = self.scalar.entry(k.clone()).or_insert(0);
            *e = e.saturating_sub(*v);
        }
    }

    /// Per resource, keeps the larger of the two.
    pub fn max_with(&mut self, other: &Resources) {
        self.milli_cpu = self.milli_cpu.max(other.milli_cpu);
        self.memory = self.memory.max(other.memory);
        self.ephemeral_storage = self.ephemeral_storage.max(other.ephemeral_storage);
        for (k, v) in &other.scalar {
            let e = self.scalar.entry(k.clone()).or_insert(0);
            *e = (*e).max(*v);
        }
    }

    pub fn is_zero(&self) -> bool {
        self.milli_cpu == 0
            && self.memory == 0
            && self.ephemeral_storage == 0
            && self.scalar.values().all(|v| *v == 0)
    }
}

/// How missing container requests are counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Missing {
    /// As zero: what the node must really reserve (filtering).
    Zero,
    /// As 100m cpu / 200Mi memory: so best-effort pods still spread (least-allocated scoring).
    Defaulted,
}

/// The pod's request: max(Σ app containers + Σ sidecars, each init container + the sidecars started
/// before it) + overhead.
pub fn pod_requests(spec: &PodSpec, missing: Missing) -> Result<Resources, RequestsError> {
    let mut total = Resources::default();
    for c in &spec.containers {
        total.add(&container_requests(c, missing)?);
    }
    let mut sidecars = Resources::default();
    let mut init_peak = Resources::default();
    for c in spec.init_containers.iter().flatten() {
        let own = container_requests(c, missing)?;
        let during_this_init = if is_sidecar(c) {
            // A sidecar keeps running for the pod's whole life: it adds to the steady state too.
            total.add(&own);
            sidecars.add(&own);
            sidecars.clone()
        } else {
            let mut r = own;
            r.add(&sidecars);
            r
        };
        init_peak.max_with(&during_this_init);
    }
    total.max_with(&init_peak);
    if let Some(overhead) = &spec.overhead {
        total.add(&Resources::from_list(overhead)?);
    }
    Ok(total)
}

/// An init container with `restartPolicy: Always` is a sidecar.
pub fn is_sidecar(c: &Container) -> bool {
    c.restart_policy.as_deref() == Some("Always")
}

fn container_requests(c: &Container, missing: Missing) -> Result<Resources, RequestsError> {
    let empty = BTreeMap::new();
    let list = c
        .resources
        .as_ref()
        .and_then(|r| r.requests.as_ref())
        .unwrap_or(&empty);
    let mut r = Resources::from_list(list)
        .map_err(|e| RequestsError(format!("container {}: {e}", c.name)))?;
    if missing == Missing::Defaulted {
        if !list.contains_key(CPU) {
            r.milli_cpu = DEFAULT_MILLI_CPU_REQUEST;
        }
        if !list.contains_key(MEMORY) {
            r.memory = DEFAULT_MEMORY_REQUEST;
        }
    }
    Ok(r)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::ResourceRequirements;

    pub fn container(name: &str, requests: &[(&str, &str)]) -> Container {
        let requests: BTreeMap<String, ApiQuantity> = requests
            .iter()
            .map(|(k, v)| (k.to_string(), ApiQuantity(v.to_string())))
            .collect();
        Container {
            name: name.into(),
            resources: Some(ResourceRequirements {
                requests: Some(requests),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    fn sidecar(name: &str, requests: &[(&str, &str)]) -> Container {
        Container {
            restart_policy: Some("Always".into()),
            ..container(name, requests)
        }
    }

    const MI: i64 = 1 << 20;

    #[test]
    fn app_containers_are_summed() {
        let spec = PodSpec {
            containers: vec![
                container("a", &[("cpu", "100m"), ("memory", "1Gi")]),
                container("b", &[("cpu", "250m"), ("memory", "512Mi")]),
                container("c", &[("memory", "512Mi"), ("ephemeral-storage", "1Gi")]),
            ],
            ..Default::default()
        };
        let r = pod_requests(&spec, Missing::Zero).unwrap();
        assert_eq!(r.milli_cpu, 350);
        assert_eq!(r.memory, 2048 * MI);
        assert_eq!(r.ephemeral_storage, 1024 * MI);
    }

    #[test]
    fn init_containers_take_the_max_per_resource() {
        let spec = PodSpec {
            containers: vec![container("app", &[("cpu", "100m"), ("memory", "100Mi")])],
            init_containers: Some(vec![
                container("i1", &[("cpu", "1"), ("memory", "10Mi")]),
                container("i2", &[("cpu", "50m"), ("memory", "300Mi")]),
            ]),
            ..Default::default()
        };
        let r = pod_requests(&spec, Missing::Zero).unwrap();
        assert_eq!(r.milli_cpu, 1000, "largest init cpu wins over app sum");
        assert_eq!(r.memory, 300 * MI, "largest init memory wins over app sum");
    }

    #[test]
    fn app_sum_wins_when_larger_than_any_init() {
        let spec = PodSpec {
            containers: vec![
                container("a", &[("memory", "200Mi")]),
                container("b", &[("memory", "200Mi")]),
            ],
            init_containers: Some(vec![container("i", &[("memory", "300Mi")])]),
            ..Default::default()
        };
        assert_eq!(pod_requests(&spec, Missing::Zero).unwrap().memory, 400 * MI);
    }

    #[test]
    fn sidecars_add_to_the_steady_state_and_to_later_inits() {
        let spec = PodSpec {
            containers: vec![container("app", &[("memory", "100Mi")])],
            init_containers: Some(vec![
                container("before", &[("memory", "150Mi")]),
                sidecar("proxy", &[("memory", "50Mi")]),
                container("after", &[("memory", "120Mi")]),
            ]),
            ..Default::default()
        };
        // steady: app 100 + sidecar 50 = 150; init peak: max(150, 50, 120+50=170) = 170.
        assert_eq!(pod_requests(&spec, Missing::Zero).unwrap().memory, 170 * MI);

        let small_inits = PodSpec {
            containers: vec![container("app", &[("memory", "100Mi")])],
            init_containers: Some(vec![
                sidecar("proxy", &[("memory", "50Mi")]),
                container("i", &[("memory", "10Mi")]),
            ]),
            ..Default::default()
        };
        assert_eq!(
            pod_requests(&small_inits, Missing::Zero).unwrap().memory,
            150 * MI
        );
    }

    #[test]
    fn overhead_is_added_after_the_max() {
        let spec = PodSpec {
            containers: vec![container("app", &[("cpu", "100m")])],
            init_containers: Some(vec![container("i", &[("cpu", "500m")])]),
            overhead: Some(BTreeMap::from([
                ("cpu".to_string(), ApiQuantity("250m".into())),
                ("memory".to_string(), ApiQuantity("120Mi".into())),
            ])),
            ..Default::default()
        };
        let r = pod_requests(&spec, Missing::Zero).unwrap();
        assert_eq!(r.milli_cpu, 750);
        assert_eq!(r.memory, 120 * MI);
    }

    #[test]
    fn missing_requests_are_defaulted_only_when_asked() {
        let spec = PodSpec {
            containers: vec![container("a", &[]), container("b", &[("cpu", "0")])],
            ..Default::default()
        };
        assert!(pod_requests(&spec, Missing::Zero).unwrap().is_zero());
        let r = pod_requests(&spec, Missing::Defaulted).unwrap();
        assert_eq!(
            r.milli_cpu, 100,
            "an explicit 0 is kept, a missing one defaulted"
        );
        assert_eq!(r.memory, 400 * MI);
    }

    #[test]
    fn extended_resources_are_scalar() {
        let spec = PodSpec {
            containers: vec![
                container("a", &[("example.com/gpu", "2")]),
                container("b", &[("example.com/gpu", "1")]),
            ],
            ..Default::default()
        };
        assert_eq!(
            pod_requests(&spec, Missing::Zero)
                .unwrap()
                .scalar
                .get("example.com/gpu"),
            Some(&3)
        );
    }

    #[test]
    fn bad_quantity_is_an_error_naming_the_container() {
        let spec = PodSpec {
            containers: vec![container("web", &[("memory", "lots")])],
            ..Default::default()
        };
        let e = pod_requests(&spec, Missing::Zero).unwrap_err();
        assert!(
            e.to_string().contains("web") && e.to_string().contains("memory"),
            "{e}"
        );
    }
}
