//! The runtime's SandboxConfig from a pod: hostname, /etc/hosts, DNS, namespaces, pod cgroup
//! and volumes.

use std::collections::HashMap;
use std::path::PathBuf;

use k8s_openapi::api::core::v1::{Container, Pod, PodSpec};
use peapod_apimachinery::quantity::Quantity;
use peapod_runtime::{
    DnsConfig, HostAlias, HostPathType, Resources, SandboxConfig, Volume, VolumeSource,
};

use crate::config::AgentConfig;

/// Builds the sandbox config. `prepared` maps API-projected volumes to their host dirs.
pub fn sandbox_config(
    pod: &Pod,
    cfg: &AgentConfig,
    prepared: &HashMap<String, PathBuf>,
) -> Result<SandboxConfig, String> {
    let spec = pod.spec.clone().unwrap_or_default();
    let name = pod.metadata.name.clone().unwrap_or_default();
    let hostname = spec
        .hostname
        .clone()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| name.clone());
    // Linux limits hostnames to 64 bytes; the kubelet truncates pod names likewise.
    let hostname: String = hostname
        .chars()
        .take(63)
        .collect::<String>()
        .trim_end_matches(['-', '.'])
        .to_string();
    Ok(SandboxConfig {
        name,
        namespace: pod
            .metadata
            .namespace
            .clone()
            .unwrap_or_else(|| "default".into()),
        uid: pod.metadata.uid.clone().unwrap_or_default(),
        hostname,
        subdomain: spec.subdomain.clone().filter(|s| !s.is_empty()),
        cluster_domain: Some(cfg.cluster_domain.clone()),
        share_pid: spec.share_process_namespace == Some(true),
        host_network: spec.host_network == Some(true),
        host_ipc: spec.host_ipc == Some(true),
        host_pid: spec.host_pid == Some(true),
        host_aliases: spec
            .host_aliases
            .iter()
            .flatten()
            .map(|a| HostAlias {
                ip: a.ip.clone(),
                hostnames: a.hostnames.clone().unwrap_or_default(),
            })
            .collect(),
        dns: dns_config(pod, cfg),
        resources: pod_resources(&spec),
        volumes: volumes(&spec, prepared)?,
    })
}

fn volumes(spec: &PodSpec, prepared: &HashMap<String, PathBuf>) -> Result<Vec<Volume>, String> {
    let mut out = Vec::new();
    for v in spec.volumes.iter().flatten() {
        let source = if let Some(e) = &v.empty_dir {
            VolumeSource::EmptyDir {
                memory: e.medium.as_deref() == Some("Memory"),
                size_limit: e
                    .size_limit
                    .as_ref()
                    .and_then(|q| Quantity::parse(&q.0).ok())
                    .and_then(|q| u64::try_from(q.value()).ok()),
            }
        } else if let Some(h) = &v.host_path {
            VolumeSource::HostPath {
                path: PathBuf::from(&h.path),
                kind: host_path_type(h.type_.as_deref())?,
            }
        } else if let Some(path) = prepared.get(&v.name) {
            VolumeSource::Prepared { path: path.clone() }
        } else {
            return Err(format!(
                "MountVolume.SetUp failed for volume {:?} : volume type not supported on this node",
                v.name
            ));
        };
        out.push(Volume {
            name: v.name.clone(),
            source,
        });
    }
    Ok(out)
}

fn host_path_type(t: Option<&str>) -> Result<HostPathType, String> {
    Ok(match t.unwrap_or("") {
        "" => HostPathType::Unset,
        "DirectoryOrCreate" => HostPathType::DirectoryOrCreate,
        "Directory" => HostPathType::Directory,
        "FileOrCreate" => HostPathType::FileOrCreate,
        "File" => HostPathType::File,
        "Socket" => HostPathType::Socket,
        "CharDevice" => HostPathType::CharDevice,
        "BlockDevice" => HostPathType::BlockDevice,
        other => return Err(format!("invalid hostPath type {other:?}")),
    })
}

/// `(nameservers, searches, options)` of a resolv.conf.
fn parse_resolv(text: &str) -> (Vec<String>, Vec<String>, Vec<String>) {
    let (mut ns, mut search, mut opts) = (Vec::new(), Vec::new(), Vec::new());
    for line in text.lines() {
        let mut words = line.split_whitespace();
        match words.next() {
            Some("nameserver") => ns.extend(words.next().map(str::to_string)),
            Some("search") | Some("domain") => search = words.map(str::to_string).collect(),
            Some("options") => opts.extend(words.map(str::to_string)),
            _ => {}
        }
    }
    (ns, search, opts)
}

/// dnsPolicy and dnsConfig applied; `None` copies the node's resolv.conf unchanged.
pub fn dns_config(pod: &Pod, cfg: &AgentConfig) -> Option<DnsConfig> {
    let spec = pod.spec.as_ref()?;
    let host_net = spec.host_network == Some(true);
    let mut policy = spec
        .dns_policy
        .clone()
        .unwrap_or_else(|| "ClusterFirst".into());
    if (policy == "ClusterFirst" && host_net)
        || (policy.starts_with("ClusterFirst") && cfg.cluster_dns.is_empty())
    {
        policy = "Default".into();
    }
    let extra = spec.dns_config.as_ref();
    let mut dns = match policy.as_str() {
        "None" => DnsConfig::default(),
        "Default" => {
            // Without dnsConfig the node's file is copied unchanged.
            extra?;
            let host = std::fs::read_to_string("/etc/resolv.conf").unwrap_or_default();
            let (nameservers, searches, options) = parse_resolv(&host);
            DnsConfig {
                nameservers,
                searches,
                options,
            }
        }
        _ => {
            let ns = pod.metadata.namespace.as_deref().unwrap_or("default");
            let d = &cfg.cluster_domain;
            let host = std::fs::read_to_string("/etc/resolv.conf").unwrap_or_default();
            let (_, host_search, _) = parse_resolv(&host);
            let mut searches = vec![format!("{ns}.svc.{d}"), format!("svc.{d}"), d.clone()];
            searches.extend(host_search);
            DnsConfig {
                nameservers: cfg.cluster_dns.iter().map(|ip| ip.to_string()).collect(),
                searches,
                options: vec!["ndots:5".into()],
            }
        }
    };
    if let Some(x) = extra {
        for n in x.nameservers.iter().flatten() {
            if !dns.nameservers.contains(n) {
                dns.nameservers.push(n.clone());
            }
        }
        for s in x.searches.iter().flatten() {
            if !dns.searches.contains(s) {
                dns.searches.push(s.clone());
            }
        }
        for o in x.options.iter().flatten() {
            let rendered = match &o.value {
                Some(v) => format!("{}:{v}", o.name.clone().unwrap_or_default()),
                None => o.name.clone().unwrap_or_default(),
            };
            let key = o.name.clone().unwrap_or_default();
            dns.options
                .retain(|e| e.split(':').next() != Some(key.as_str()));
            dns.options.push(rendered);
        }
    }
    Some(dns)
}

fn quantity(c: &Container, kind: &str, name: &str) -> Option<String> {
    let res = c.resources.as_ref()?;
    let map = if kind == "limits" {
        res.limits.as_ref()
    } else {
        res.requests.as_ref()
    }?;
    map.get(name).map(|q| q.0.clone())
}

/// Container cgroup limits from its resources.
pub fn container_resources(c: &Container) -> Resources {
    let cpu_req = quantity(c, "requests", "cpu").or_else(|| quantity(c, "limits", "cpu"));
    Resources {
        cpu_request_millis: cpu_req
            .and_then(|q| Quantity::parse(&q).ok())
            .and_then(|q| u64::try_from(q.milli_value()).ok()),
        cpu_limit_millis: quantity(c, "limits", "cpu")
            .and_then(|q| Quantity::parse(&q).ok())
            .and_then(|q| u64::try_from(q.milli_value()).ok()),
        memory_limit_bytes: quantity(c, "limits", "memory")
            .and_then(|q| Quantity::parse(&q).ok())
            .and_then(|q| u64::try_from(q.value()).ok()),
        pids_limit: None,
    }
}

/// Pod cgroup: limits only when every app container has one (else the pod is unbounded).
fn pod_resources(spec: &PodSpec) -> Resources {
    let each: Vec<Resources> = spec.containers.iter().map(container_resources).collect();
    let sum_all = |f: fn(&Resources) -> Option<u64>| -> Option<u64> {
        each.iter().map(f).sum::<Option<u64>>()
    };
    let cpu_req: u64 = each.iter().filter_map(|r| r.cpu_request_millis).sum();
    Resources {
        cpu_request_millis: (cpu_req > 0).then_some(cpu_req),
        cpu_limit_millis: sum_all(|r| r.cpu_limit_millis),
        memory_limit_bytes: sum_all(|r| r.memory_limit_bytes),
        pids_limit: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{PodDNSConfig, PodDNSConfigOption};
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

    fn pod(policy: Option<&str>, extra: Option<PodDNSConfig>) -> Pod {
        Pod {
            metadata: ObjectMeta {
                name: Some("p".into()),
                namespace: Some("ns1".into()),
                uid: Some("u".into()),
                ..Default::default()
            },
            spec: Some(PodSpec {
                dns_policy: policy.map(str::to_string),
                dns_config: extra,
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    #[test]
    fn cluster_first_with_cluster_dns() {
        let mut cfg = AgentConfig::new("n", "/tmp/x", "/bin/true");
        cfg.cluster_dns = vec!["10.43.0.10".parse().unwrap()];
        let d = dns_config(&pod(None, None), &cfg).unwrap();
        assert_eq!(d.nameservers, vec!["10.43.0.10"]);
        assert_eq!(
            &d.searches[..3],
            &[
                "ns1.svc.cluster.local",
                "svc.cluster.local",
                "cluster.local"
            ]
        );
        assert_eq!(d.options, vec!["ndots:5"]);
    }

    #[test]
    fn none_policy_uses_only_dns_config() {
        let cfg = AgentConfig::new("n", "/tmp/x", "/bin/true");
        let extra = PodDNSConfig {
            nameservers: Some(vec!["1.2.3.4".into()]),
            searches: Some(vec!["ns1.svc.cluster-domain.example".into()]),
            options: Some(vec![PodDNSConfigOption {
                name: Some("ndots".into()),
                value: Some("2".into()),
            }]),
        };
        let d = dns_config(&pod(Some("None"), Some(extra)), &cfg).unwrap();
        assert_eq!(d.nameservers, vec!["1.2.3.4"]);
        assert_eq!(d.options, vec!["ndots:2"]);
        // Without cluster DNS, ClusterFirst falls back to the node's resolv.conf.
        assert!(dns_config(&pod(None, None), &cfg).is_none());
    }
}
