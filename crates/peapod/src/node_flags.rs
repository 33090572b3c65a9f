//! Node-agent flags shared by `peapod server` (embedded agent) and `peapod agent`.

use std::path::PathBuf;

use peapod_agent::EvictionThresholds;

#[derive(clap::Args, Clone)]
pub struct NodeFlags {
    /// Name of this node (default: the host name).
    #[arg(long)]
    pub node_name: Option<String>,
    /// Bridge of the built-in pod network.
    #[arg(long, default_value = "peapod0")]
    pub bridge_name: String,
    /// Port of the node's streaming API (logs, exec, port-forward).
    #[arg(long, default_value_t = 10250)]
    pub kubelet_port: u16,
    /// Use CNI plugins from this configuration directory instead of the built-in network.
    #[arg(long, requires = "cni_bin_dir")]
    pub cni_conf_dir: Option<PathBuf>,
    /// Where the CNI plugin binaries are.
    #[arg(long, requires = "cni_conf_dir")]
    pub cni_bin_dir: Option<PathBuf>,
    /// Hard eviction thresholds, as kubelet's: `memory.available<100Mi,nodefs.available<10%,
    /// pid.available<10%` (the default). Naming any drops the defaults of the others.
    #[arg(long, value_parser = EvictionThresholds::parse)]
    pub eviction_hard: Option<EvictionThresholds>,
}

impl NodeFlags {
    pub fn node_name(&self) -> String {
        self.node_name.clone().unwrap_or_else(|| {
            std::fs::read_to_string("/proc/sys/kernel/hostname")
                .map(|s| s.trim().to_lowercase())
                .unwrap_or_else(|_| "localhost".into())
        })
    }

    /// The agent configuration for these flags; the nftables table is named after the bridge
    /// so that two nodes on one machine (tests) never share one.
    pub fn agent_config(
        &self,
        data_dir: &std::path::Path,
        cluster_cidr: peapod_network::Ipv4Cidr,
    ) -> anyhow::Result<peapod_agent::AgentConfig> {
        let mut cfg =
            peapod_agent::AgentConfig::new(self.node_name(), data_dir, std::env::current_exe()?);
        cfg.cluster_cidr = cluster_cidr;
        cfg.bridge_name = self.bridge_name.clone();
        cfg.nft_table = if self.bridge_name == "peapod0" {
            "peapod".into()
        } else {
            self.bridge_name.clone()
        };
        cfg.streaming_port = self.kubelet_port;
        cfg.cni = self.cni_conf_dir.clone().zip(self.cni_bin_dir.clone());
        if let Some(e) = self.eviction_hard {
            cfg.eviction_hard = e;
        }
        Ok(cfg)
    }
}

/// The host's primary IPv4 address (source of the default route), else loopback.
pub fn primary_ip() -> std::net::IpAddr {
    let probe = std::net::UdpSocket::bind("0.0.0.0:0").and_then(|s| {
        // No packet is sent: connecting a UDP socket only selects the route and source.
        s.connect("192.0.2.1:9")?;
        s.local_addr()
    });
    match probe {
        Ok(a) if !a.ip().is_unspecified() => a.ip(),
        _ => std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST),
    }
}
