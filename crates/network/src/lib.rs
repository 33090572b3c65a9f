//! peapod pod network: one IP per pod, held by the sandbox's network namespace and
//! shared by all its containers.
//!
//! * [`BuiltinNetwork`]: bridge (`peapod0`) + veth per pod + host-local IPAM +
//!   nftables masquerade and hostPort DNAT. Setup uses netlink only (no process),
//!   except `nft` for pods that have hostPorts.
//! * [`CniNetwork`]: runs standard CNI plugins (spec 1.0) from a conf dir.
//! * [`allocate_node_cidr`]: server side, one pod CIDR per Node.
//! * [`sync_node_routes`]: host-gw routes to other nodes' pod CIDRs.
//!
//! `hostNetwork: true` pods need nothing from this crate: the agent skips the
//! network setup and reports the node's InternalIP as podIP.
//!
//! All async operations must run inside a tokio runtime (netlink connections are
//! spawned on it); they act on the network namespace of the calling thread.
//! Node packages: `nftables` (built-in mode), `containernetworking-plugins` (CNI mode).
//!
//! ```no_run
//! # async fn demo() -> peapod_network::Result<()> {
//! use peapod_network::*;
//! let cfg = BuiltinConfig::new("10.42.0.0/24".parse()?, "/var/lib/peapod");
//! let net = BuiltinNetwork::new(cfg).await?;
//! net.reconcile(&["live-sandbox".to_string()]).await?; // at agent start
//! let status = net
//!     .setup(&PodNetworkRequest {
//!         pod_namespace: "default".into(),
//!         pod_name: "tomcat".into(),
//!         pod_uid: "uid".into(),
//!         sandbox_id: "sb1".into(),
//!         netns_path: "/proc/1234/ns/net".into(),
//!         port_mappings: vec![PortMapping { host_port: 8001, container_port: 8080, protocol: Protocol::Tcp, host_ip: None }],
//!     })
//!     .await?;
//! println!("podIP {}", status.ips[0]);
//! net.teardown("sb1", None).await?;
//! # Ok(()) }
//! ```

mod bridge;
mod builtin;
mod cidr;
mod cni;
mod error;
mod ipam;
mod netns;
mod nft;
mod nl;
mod node_cidr;
mod routes;
mod state;
mod types;

pub use builtin::{
    BuiltinConfig, BuiltinNetwork, ReconcileReport, DEFAULT_BRIDGE, DEFAULT_NFT_TABLE,
    POD_INTERFACE,
};
pub use cidr::Ipv4Cidr;
pub use cni::{CniConfig, CniNetwork};
pub use error::{NetworkError, Result};
pub use ipam::HostLocalIpam;
pub use netns::run_in_netns;
pub use node_cidr::{
    allocate_node_cidr, DEFAULT_CLUSTER_CIDR, DEFAULT_NODE_MASK, DEFAULT_SERVICE_CIDR,
};
pub use routes::{plan_node_routes, sync_node_routes, NodeRoute, RoutePlan, PEAPOD_ROUTE_PROTOCOL};
pub use types::{
    BoxFuture, PodNetwork, PodNetworkRequest, PodNetworkStatus, PortMapping, Protocol,
};
