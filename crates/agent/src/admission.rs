//! Node-side admission: does the pod fit next to the pods already admitted here?
//! Rejections carry the kubelet's reasons (`OutOfcpu`, `OutOfmemory`, `OutOfpods`, `NodePorts`).

use k8s_openapi::api::core::v1::{Container, PodSpec};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity as ApiQuantity;
use peapod_apimachinery::quantity::Quantity;

use crate::ctx::{Admitted, Ctx};
use crate::node::machine::MAX_PODS;
use crate::status::Terminal;

fn request(c: &Container, name: &str) -> i128 {
    let res = c.resources.as_ref();
    let q = res
        .and_then(|r| r.requests.as_ref())
        .and_then(|m| m.get(name))
        .or_else(|| {
            res.and_then(|r| r.limits.as_ref())
                .and_then(|m| m.get(name))
        });
    q.and_then(|q| amount(q, name)).unwrap_or(0)
}

/// A quantity as admission counts it: cpu in millicores, everything else in units, rounded up;
/// None when it does not parse.
fn amount(q: &ApiQuantity, name: &str) -> Option<i128> {
    let q = Quantity::parse(&q.0).ok()?;
    Some(i128::from(if name == "cpu" {
        q.milli_value()
    } else {
        q.value()
    }))
}

/// The pod's effective request: max(sum of app containers + sidecars, largest init) + overhead.
pub fn pod_request(spec: &PodSpec) -> Admitted {
    let each = |name: &str| -> i128 {
        let sidecars: i128 = spec
            .init_containers
            .iter()
            .flatten()
            .filter(|c| c.restart_policy.as_deref() == Some("Always"))
            .map(|c| request(c, name))
            .sum();
        let apps: i128 = spec
            .containers
            .iter()
            .map(|c| request(c, name))
            .sum::<i128>()
            + sidecars;
        let init = spec
            .init_containers
            .iter()
            .flatten()
            .map(|c| request(c, name))
            .max()
            .unwrap_or(0);
        let overhead = spec
            .overhead
            .as_ref()
            .and_then(|o| o.get(name))
            .and_then(|q| amount(q, name))
            .unwrap_or(0);
        apps.max(init) + overhead
    };
    let host_ports = spec
        .containers
        .iter()
        .chain(spec.init_containers.iter().flatten())
        .flat_map(|c| c.ports.iter().flatten())
        .filter_map(|p| {
            let hp = u16::try_from(p.host_port?).ok().filter(|p| *p > 0)?;
            Some((
                hp,
                p.protocol.clone().unwrap_or_else(|| "TCP".into()),
                p.host_ip.clone().unwrap_or_default(),
            ))
        })
        .collect();
    Admitted {
        cpu_milli: each("cpu"),
        memory: each("memory"),
        storage: each("ephemeral-storage"),
        host_ports,
    }
}

/// Why the node refused a pod: the failing predicate's reason and its text. The event says
/// `message`; the pod status says "Pod was rejected: " + `message` (as the kubelet does).
#[derive(Debug, Clone, PartialEq)]
pub struct Rejection {
    pub reason: String,
    pub message: String,
}

impl Rejection {
    fn insufficient(name: &str, requested: i128, used: i128, capacity: i128) -> Self {
        Rejection {
            reason: format!("OutOf{name}"),
            message: format!(
                "Node didn't have enough resource: {name}, requested: {requested}, used: {used}, capacity: {capacity}"
            ),
        }
    }

    /// The pod's final status.
    pub fn terminal(&self) -> Terminal {
        Terminal {
            phase: "Failed",
            reason: self.reason.clone(),
            message: format!("Pod was rejected: {}", self.message),
        }
    }
}

fn ports_clash(a: &(u16, String, String), b: &(u16, String, String)) -> bool {
    let any = |ip: &str| ip.is_empty() || ip == "0.0.0.0";
    a.0 == b.0 && a.1 == b.1 && (any(&a.2) || any(&b.2) || a.2 == b.2)
}

/// What the node offers to pods.
#[derive(Debug, Clone, Copy)]
pub struct Capacity {
    pub cpu_milli: i128,
    pub memory: i128,
    pub storage: i128,
    pub pods: i128,
}

/// Admits the pod (recording what it holds) or returns the rejection.
pub fn admit(ctx: &Ctx, uid: &str, spec: &PodSpec) -> Result<(), Rejection> {
    let want = pod_request(spec);
    let Ok(mut admitted) = ctx.admitted.lock() else {
        return Ok(());
    };
    let m = &ctx.machine;
    let capacity = Capacity {
        cpu_milli: i128::from(m.cpus) * 1000,
        memory: i128::from(m.allocatable_memory(&ctx.cfg.eviction_hard)),
        storage: i128::from(m.allocatable_storage(&ctx.cfg.eviction_hard)),
        pods: i128::from(MAX_PODS),
    };
    let others: Vec<&Admitted> = admitted
        .iter()
        .filter(|(k, _)| k.as_str() != uid)
        .map(|(_, v)| v)
        .collect();
    tracing::debug!(
        "admitting pod {uid}: {} pods already admitted",
        others.len()
    );
    fits(&want, &others, capacity)?;
    admitted.insert(uid.to_string(), want);
    Ok(())
}

/// The kubelet's admission predicates, in its order: pods, cpu, memory, storage, host ports.
pub fn fits(want: &Admitted, others: &[&Admitted], capacity: Capacity) -> Result<(), Rejection> {
    let used = |f: fn(&Admitted) -> i128| others.iter().map(|a| f(a)).sum::<i128>();
    let pods = others.len() as i128;
    if pods >= capacity.pods {
        return Err(Rejection::insufficient("pods", 1, pods, capacity.pods));
    }
    let checks: [(&str, i128, i128, i128); 3] = [
        (
            "cpu",
            want.cpu_milli,
            used(|a| a.cpu_milli),
            capacity.cpu_milli,
        ),
        ("memory", want.memory, used(|a| a.memory), capacity.memory),
        (
            "ephemeral-storage",
            want.storage,
            used(|a| a.storage),
            capacity.storage,
        ),
    ];
    for (name, req, used, cap) in checks {
        if req > 0 && req + used > cap {
            return Err(Rejection::insufficient(name, req, used, cap));
        }
    }
    for p in &want.host_ports {
        if others
            .iter()
            .any(|o| o.host_ports.iter().any(|q| ports_clash(p, q)))
        {
            return Err(Rejection {
                reason: "NodePorts".into(),
                message: "Predicate NodePorts failed: node(s) didn't have free ports for the requested pod ports".into(),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::ResourceRequirements;
    use k8s_openapi::apimachinery::pkg::api::resource::Quantity;

    fn c(mem: &str) -> Container {
        Container {
            name: "c".into(),
            resources: Some(ResourceRequirements {
                requests: Some([("memory".to_string(), Quantity(mem.into()))].into()),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    #[test]
    fn pod_is_the_atomic_unit() {
        let spec = PodSpec {
            containers: vec![c("100Mi"), c("200Mi")],
            init_containers: Some(vec![c("250Mi")]),
            ..Default::default()
        };
        assert_eq!(pod_request(&spec).memory, 300 << 20);
        let spec = PodSpec {
            containers: vec![c("100Mi")],
            init_containers: Some(vec![c("250Mi")]),
            ..Default::default()
        };
        assert_eq!(pod_request(&spec).memory, 250 << 20);
    }

    #[test]
    fn rejection_texts_follow_the_kubelet() {
        let t = Rejection::insufficient("cpu", 3000, 0, 2000).terminal();
        assert_eq!(t.phase, "Failed");
        assert_eq!(t.reason, "OutOfcpu");
        assert_eq!(
            t.message,
            "Pod was rejected: Node didn't have enough resource: cpu, requested: 3000, used: 0, capacity: 2000"
        );
        assert_eq!(
            Rejection::insufficient("ephemeral-storage", 1, 2, 2).reason,
            "OutOfephemeral-storage"
        );
    }

    #[test]
    fn host_port_conflict_is_rejected_like_the_kubelet() {
        let cap = Capacity {
            cpu_milli: 2000,
            memory: 1 << 30,
            storage: 1 << 30,
            pods: 110,
        };
        let holder = Admitted {
            host_ports: vec![(8080, "TCP".into(), String::new())],
            ..Default::default()
        };
        let want = holder.clone();
        let r = fits(&want, &[&holder], cap).unwrap_err();
        assert_eq!(r.reason, "NodePorts");
        assert_eq!(
            r.terminal().message,
            "Pod was rejected: Predicate NodePorts failed: node(s) didn't have free ports for the requested pod ports"
        );
        let cpu = Admitted {
            cpu_milli: 3000,
            ..Default::default()
        };
        let r = fits(&cpu, &[], cap).unwrap_err();
        assert_eq!(r.reason, "OutOfcpu");
        assert_eq!(
            r.message,
            "Node didn't have enough resource: cpu, requested: 3000, used: 0, capacity: 2000"
        );
        let full = vec![&holder; 110];
        assert_eq!(fits(&cpu, &full, cap).unwrap_err().reason, "OutOfpods");
        assert!(fits(&Admitted::default(), &[&holder], cap).is_ok());
    }

    #[test]
    fn port_clashes() {
        let a = (80, "TCP".to_string(), String::new());
        assert!(ports_clash(&a, &(80, "TCP".into(), "10.0.0.1".into())));
        assert!(!ports_clash(&a, &(80, "UDP".into(), String::new())));
        assert!(!ports_clash(
            &(80, "TCP".into(), "10.0.0.2".into()),
            &(80, "TCP".into(), "10.0.0.1".into())
        ));
    }
}
