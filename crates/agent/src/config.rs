//! What the embedding binary (or a test) tells the agent.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;
use std::time::Duration;

use crate::node::eviction::EvictionThresholds;
use peapod_network::Ipv4Cidr;
use peapod_streaming::ServerTls;

/// Configuration of one node agent.
#[derive(Debug, Clone)]
pub struct AgentConfig {
    /// Name of the Node object (and `kubernetes.io/hostname` label).
    pub node_name: String,
    /// Root of the runtime state, image store, logs, network and volume state.
    pub data_dir: PathBuf,
    /// Binary implementing the runtime's helper modes (`std::env::current_exe()` in peapod).
    pub helper_exe: PathBuf,
    /// cgroup parent of pod cgroups (relative to the cgroup root).
    pub cgroup_parent: String,
    /// Pod CIDR of this node; `None` takes `Node.spec.podCIDR` (allocated if the server has not).
    pub pod_cidr: Option<Ipv4Cidr>,
    /// Whole cluster pod network (masquerade boundary, node CIDR allocation).
    pub cluster_cidr: Ipv4Cidr,
    /// Bridge of the built-in network.
    pub bridge_name: String,
    /// nftables table of the built-in network.
    pub nft_table: String,
    /// Use CNI plugins instead of the built-in network: (conf dir, bin dir).
    pub cni: Option<(PathBuf, PathBuf)>,
    /// Port of the kubelet-style streaming server (reported in the Node's daemonEndpoints).
    pub streaming_port: u16,
    pub streaming_bind: IpAddr,
    /// TLS of the streaming server; `None` leaves it off (nothing to serve without a CA).
    pub streaming_tls: Option<ServerTls>,
    /// Nameservers for `dnsPolicy: ClusterFirst`; empty falls back to the node's resolv.conf.
    pub cluster_dns: Vec<IpAddr>,
    pub cluster_domain: String,
    /// Extra labels of the Node object.
    pub node_labels: BTreeMap<String, String>,
    /// How often each pod worker re-checks its containers (PLEG-like relist).
    pub resync_interval: Duration,
    /// How often the node status is refreshed and the Lease renewed.
    pub heartbeat_interval: Duration,
    /// Hard eviction thresholds: node pressure conditions and what allocatable holds back.
    pub eviction_hard: EvictionThresholds,
}

impl AgentConfig {
    /// Defaults: bridge `peapod0`, table `peapod`, cluster `10.42.0.0/16`, port 10250.
    pub fn new(
        node_name: impl Into<String>,
        data_dir: impl Into<PathBuf>,
        helper_exe: impl Into<PathBuf>,
    ) -> Self {
        AgentConfig {
            node_name: node_name.into(),
            data_dir: data_dir.into(),
            helper_exe: helper_exe.into(),
            cgroup_parent: "peapod".into(),
            pod_cidr: None,
            cluster_cidr: Ipv4Cidr::new(Ipv4Addr::new(10, 42, 0, 0), 16)
                .expect("10.42.0.0/16 is a valid CIDR"),
            bridge_name: peapod_network::DEFAULT_BRIDGE.into(),
            nft_table: peapod_network::DEFAULT_NFT_TABLE.into(),
            cni: None,
            streaming_port: peapod_streaming::DEFAULT_PORT,
            streaming_bind: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            streaming_tls: None,
            cluster_dns: Vec::new(),
            cluster_domain: "cluster.local".into(),
            node_labels: BTreeMap::new(),
            resync_interval: Duration::from_millis(500),
            heartbeat_interval: Duration::from_secs(10),
            eviction_hard: EvictionThresholds::default(),
        }
    }
}
