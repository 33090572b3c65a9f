//! Content of the per-pod `/etc/hosts`, `/etc/resolv.conf` and `/etc/hostname`.

use crate::config::{DnsConfig, SandboxConfig};

/// `/etc/hosts` in the format the kubelet manages. `pod_ips` is empty until the
/// network hook reported the pod's addresses.
pub fn hosts_file(cfg: &SandboxConfig, pod_ips: &[String], host_hosts: &str) -> String {
    let mut out = String::new();
    if cfg.host_network {
        out.push_str("# Kubernetes-managed hosts file (host network).\n");
        out.push_str(host_hosts);
        if !out.ends_with('\n') {
            out.push('\n');
        }
    } else {
        out.push_str("# Kubernetes-managed hosts file.\n");
        out.push_str("127.0.0.1\tlocalhost\n");
        out.push_str("::1\tlocalhost ip6-localhost ip6-loopback\n");
        out.push_str("fe00::0\tip6-localnet\n");
        out.push_str("fe00::0\tip6-mcastprefix\n");
        out.push_str("fe00::1\tip6-allnodes\n");
        out.push_str("fe00::2\tip6-allrouters\n");
        let names = match (&cfg.subdomain, &cfg.cluster_domain) {
            (Some(sub), Some(domain)) if !sub.is_empty() => format!(
                "{h}.{sub}.{ns}.svc.{domain}\t{h}",
                h = cfg.hostname,
                ns = cfg.namespace
            ),
            _ => cfg.hostname.clone(),
        };
        for ip in pod_ips {
            out.push_str(&format!("{ip}\t{names}\n"));
        }
    }
    if !cfg.host_aliases.is_empty() {
        out.push_str("\n# Entries added by HostAliases.\n");
        for a in &cfg.host_aliases {
            out.push_str(&format!("{}\t{}\n", a.ip, a.hostnames.join("\t")));
        }
    }
    out
}

/// The pod's resolv.conf: the host's when no DNS config is given.
pub fn resolv_conf(dns: Option<&DnsConfig>, host_resolv: &str) -> String {
    let Some(dns) = dns
        .filter(|d| !(d.nameservers.is_empty() && d.searches.is_empty() && d.options.is_empty()))
    else {
        return host_resolv.to_string();
    };
    let mut out = String::new();
    for ns in &dns.nameservers {
        out.push_str(&format!("nameserver {ns}\n"));
    }
    if !dns.searches.is_empty() {
        out.push_str(&format!("search {}\n", dns.searches.join(" ")));
    }
    if !dns.options.is_empty() {
        out.push_str(&format!("options {}\n", dns.options.join(" ")));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::HostAlias;

    #[test]
    fn hosts_has_pod_ip_and_aliases() {
        let cfg = SandboxConfig {
            hostname: "web".into(),
            namespace: "default".into(),
            host_aliases: vec![HostAlias {
                ip: "1.2.3.4".into(),
                hostnames: vec!["foo".into(), "bar".into()],
            }],
            ..Default::default()
        };
        let h = hosts_file(&cfg, &["10.0.0.5".into()], "");
        assert!(h.starts_with("# Kubernetes-managed hosts file.\n127.0.0.1\tlocalhost\n"));
        assert!(h.contains("10.0.0.5\tweb\n"));
        assert!(h.ends_with("# Entries added by HostAliases.\n1.2.3.4\tfoo\tbar\n"));
        let sub = SandboxConfig {
            subdomain: Some("s".into()),
            cluster_domain: Some("cluster.local".into()),
            ..cfg
        };
        assert!(hosts_file(&sub, &["10.0.0.5".into()], "")
            .contains("10.0.0.5\tweb.s.default.svc.cluster.local\tweb\n"));
    }

    #[test]
    fn resolv_conf_from_dns_config_or_host() {
        assert_eq!(
            resolv_conf(None, "nameserver 9.9.9.9\n"),
            "nameserver 9.9.9.9\n"
        );
        let dns = DnsConfig {
            nameservers: vec!["10.96.0.10".into()],
            searches: vec![
                "default.svc.cluster.local".into(),
                "svc.cluster.local".into(),
            ],
            options: vec!["ndots:5".into()],
        };
        assert_eq!(
            resolv_conf(Some(&dns), ""),
            "nameserver 10.96.0.10\nsearch default.svc.cluster.local svc.cluster.local\noptions ndots:5\n"
        );
    }
}
