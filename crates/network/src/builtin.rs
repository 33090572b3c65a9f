//! The built-in pod network: bridge + veth per pod + host-local IPAM + nftables.
//!
//! Setup order is chosen for crash safety: the address is reserved and the sandbox
//! record written *before* any kernel object exists, and the host end of the veth is
//! created already enslaved to the bridge, so everything a crash can leak is found by
//! reconcile (records, IPAM entries, bridge ports, nft elements).

use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};

use futures::TryStreamExt;
use netlink_packet_route::link::{InfoBridgePort, InfoData, InfoPortData, InfoPortKind, InfoVeth};
use rtnetlink::{Handle, LinkMessageBuilder, LinkUnspec, LinkVeth, RouteMessageBuilder};

use crate::bridge::{default_route_mtu, ensure_bridge, set_ipv4_sysctl};
use crate::cidr::Ipv4Cidr;
use crate::error::{NetworkError, Result};
use crate::ipam::HostLocalIpam;
use crate::netns::open_netns;
use crate::nft;
use crate::nl::{
    current_handle, delete_link, link_controller, link_index, link_name, netns_handle, set_up,
};
use crate::state::{SandboxRecord, SandboxStore};
use crate::types::{
    validate_sandbox_id, BoxFuture, PodNetwork, PodNetworkRequest, PodNetworkStatus,
};

/// Name of the interface inside every pod.
pub const POD_INTERFACE: &str = "eth0";
/// Default bridge name.
pub const DEFAULT_BRIDGE: &str = "peapod0";
/// Default nftables table name.
pub const DEFAULT_NFT_TABLE: &str = "peapod";
/// The loopback device always has index 1 in a network namespace.
const LOOPBACK_INDEX: u32 = 1;

/// Configuration of the built-in network of one node.
#[derive(Debug, Clone)]
pub struct BuiltinConfig {
    /// Bridge name (≤ 15 characters).
    pub bridge: String,
    /// This node's `spec.podCIDR`; the bridge holds its first address.
    pub pod_cidr: Ipv4Cidr,
    /// Whole cluster pod network; traffic leaving it is masqueraded.
    pub cluster_cidr: Ipv4Cidr,
    /// Agent data directory; state lives under `<data_dir>/builtin/<bridge>/`.
    pub data_dir: PathBuf,
    /// nftables table owned by this network (`ip` family).
    pub nft_table: String,
    /// MTU of bridge and veths; `None` takes the default route interface's (or 1500).
    pub mtu: Option<u32>,
    /// Masquerade pod traffic leaving the cluster CIDR.
    pub masquerade: bool,
    /// Set `net.ipv4.ip_forward=1` (needed for pod egress; a node-wide setting).
    pub enable_ip_forward: bool,
}

impl BuiltinConfig {
    /// Defaults: bridge `peapod0`, table `peapod`, cluster `10.42.0.0/16`, masquerade and forwarding on.
    pub fn new(pod_cidr: Ipv4Cidr, data_dir: impl Into<PathBuf>) -> Self {
        BuiltinConfig {
            bridge: DEFAULT_BRIDGE.to_string(),
            pod_cidr,
            cluster_cidr: Ipv4Cidr::new(Ipv4Addr::new(10, 42, 0, 0), 16).unwrap_or(pod_cidr),
            data_dir: data_dir.into(),
            nft_table: DEFAULT_NFT_TABLE.to_string(),
            mtu: None,
            masquerade: true,
            enable_ip_forward: true,
        }
    }

    fn validate(&self) -> Result<()> {
        validate_ifname(&self.bridge)?;
        nft::validate_table_name(&self.nft_table)?;
        if !self.cluster_cidr.contains(self.pod_cidr.network())
            || self.pod_cidr.prefix() < self.cluster_cidr.prefix()
        {
            return Err(NetworkError::invalid(format!(
                "pod CIDR {} is not inside the cluster CIDR {}",
                self.pod_cidr, self.cluster_cidr
            )));
        }
        if let Some(mtu) = self.mtu {
            if !(576..=65535).contains(&mtu) {
                return Err(NetworkError::invalid(format!(
                    "MTU {mtu} must be between 576 and 65535"
                )));
            }
        }
        Ok(())
    }
}

fn validate_ifname(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 15
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(())
    } else {
        Err(NetworkError::invalid(format!(
            "interface name {name:?} must be 1-15 characters of [A-Za-z0-9._-]"
        )))
    }
}

/// What reconcile removed.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ReconcileReport {
    pub sandboxes: usize,
    pub addresses: usize,
    pub links: usize,
    pub host_ports: usize,
}

/// The built-in network of one node.
#[derive(Debug)]
pub struct BuiltinNetwork {
    cfg: BuiltinConfig,
    gateway: Ipv4Addr,
    mtu: u32,
    ipam: HostLocalIpam,
    store: SandboxStore,
}

impl BuiltinNetwork {
    /// Prepares the node: bridge, gateway address, sysctls, nftables table, state dirs.
    /// Existing pods keep working (nothing per pod is touched); call reconcile next.
    pub async fn new(cfg: BuiltinConfig) -> Result<Self> {
        cfg.validate()?;
        let gateway = cfg.pod_cidr.gateway().ok_or_else(|| {
            NetworkError::invalid(format!("pod CIDR {} is too small", cfg.pod_cidr))
        })?;
        let root = cfg.data_dir.join("builtin").join(&cfg.bridge);
        let ipam = HostLocalIpam::open(root.join("ipam"), cfg.pod_cidr, gateway)?;
        let store = SandboxStore::open(root.join("sandboxes"))?;
        let handle = current_handle()?;
        let mtu = match cfg.mtu {
            Some(m) => m,
            None => default_route_mtu(&handle).await?,
        };
        ensure_bridge(&handle, &cfg.bridge, cfg.pod_cidr, gateway, mtu).await?;
        // hostPort from 127.0.0.1: DNAT'ed loopback-sourced packets must be routable out of the bridge.
        set_ipv4_sysctl(&format!("conf/{}/route_localnet", cfg.bridge), "1")?;
        if cfg.enable_ip_forward {
            set_ipv4_sysctl("ip_forward", "1")?;
        }
        nft::ensure_table(&nft::TableSpec {
            table: &cfg.nft_table,
            bridge: &cfg.bridge,
            pod_cidr: cfg.pod_cidr,
            cluster_cidr: cfg.cluster_cidr,
            masquerade: cfg.masquerade,
        })
        .await?;
        Ok(BuiltinNetwork {
            cfg,
            gateway,
            mtu,
            ipam,
            store,
        })
    }

    pub fn config(&self) -> &BuiltinConfig {
        &self.cfg
    }

    pub fn gateway(&self) -> Ipv4Addr {
        self.gateway
    }

    pub fn mtu(&self) -> u32 {
        self.mtu
    }

    /// Read access to the address allocations (tests, diagnostics).
    pub fn ipam(&self) -> &HostLocalIpam {
        &self.ipam
    }

    /// Host-side veth name of a sandbox: stable, unique per bridge, ≤ 15 characters.
    pub fn host_veth_name(&self, sandbox_id: &str) -> String {
        let hash = fnv1a64(format!("{}/{}", self.cfg.bridge, sandbox_id).as_bytes());
        format!("veth{:011x}", hash & 0xfff_ffff_ffff)
    }

    /// Attaches a sandbox (see [`PodNetwork::setup`]).
    pub async fn setup_pod(&self, req: &PodNetworkRequest) -> Result<PodNetworkStatus> {
        req.validate()?;
        if self.store.load(&req.sandbox_id)?.is_some() {
            self.teardown_pod(&req.sandbox_id).await?;
        }
        let ip = self.ipam.allocate(&req.sandbox_id)?;
        let record = SandboxRecord {
            sandbox_id: req.sandbox_id.clone(),
            pod_namespace: req.pod_namespace.clone(),
            pod_name: req.pod_name.clone(),
            ip,
            host_veth: self.host_veth_name(&req.sandbox_id),
            netns_path: req.netns_path.clone(),
            port_mappings: req.port_mappings.clone(),
        };
        if let Err(e) = self.store.save(&record) {
            let _ = self.ipam.release(ip, &req.sandbox_id);
            return Err(e);
        }
        match self.attach(&record).await {
            Ok(status) => Ok(status),
            Err(e) => {
                if let Err(cleanup) = self.teardown_pod(&req.sandbox_id).await {
                    tracing::warn!(sandbox = %req.sandbox_id, error = %cleanup, "cleanup after failed setup");
                }
                Err(e)
            }
        }
    }

    async fn attach(&self, rec: &SandboxRecord) -> Result<PodNetworkStatus> {
        let ns = open_netns(&rec.netns_path)?;
        let host = current_handle()?;
        let bridge_index = link_index(&host, &self.cfg.bridge).await?.ok_or_else(|| {
            NetworkError::netlink(
                "bridge lookup",
                format!("bridge {} is missing", self.cfg.bridge),
            )
        })?;
        let mac = mac_for(rec.ip);
        // The pod end is created directly inside the sandbox namespace, already named eth0.
        let peer = LinkMessageBuilder::<LinkUnspec>::new()
            .name(POD_INTERFACE)
            .mtu(self.mtu)
            .address(mac.to_vec())
            .setns_by_fd(ns.as_raw_fd())
            .build();
        let veth = LinkVeth::new(&rec.host_veth, POD_INTERFACE)
            .set_info_data(InfoData::Veth(InfoVeth::Peer(peer)))
            .mtu(self.mtu)
            .controller(bridge_index)
            .up()
            .build();
        host.link().add(veth).execute().await.map_err(|e| {
            NetworkError::netlink(
                format!("creating veth {} for {}", rec.host_veth, rec.sandbox_id),
                e,
            )
        })?;
        drop(ns);
        set_hairpin(&host, &rec.host_veth).await?;

        let pod = netns_handle(&rec.netns_path)?;
        configure_pod_side(&pod, rec.ip, self.cfg.pod_cidr.prefix(), self.gateway).await?;
        nft::add_host_ports(&self.cfg.nft_table, rec.ip, &rec.port_mappings).await?;
        Ok(PodNetworkStatus {
            ips: vec![IpAddr::V4(rec.ip)],
            mac: format_mac(&mac),
            interface: POD_INTERFACE.to_string(),
        })
    }

    /// Detaches a sandbox (see [`PodNetwork::teardown`]); idempotent.
    pub async fn teardown_pod(&self, sandbox_id: &str) -> Result<()> {
        validate_sandbox_id(sandbox_id)?;
        let record = self.store.load(sandbox_id)?;
        if let Some(r) = record.as_ref().filter(|r| !r.port_mappings.is_empty()) {
            nft::remove_host_ports_where(&self.cfg.nft_table, |ip| ip == r.ip).await?;
        }
        let veth = record
            .as_ref()
            .map(|r| r.host_veth.clone())
            .unwrap_or_else(|| self.host_veth_name(sandbox_id));
        // Deleting the host end removes the pod end with it.
        delete_link(&current_handle()?, &veth).await?;
        match &record {
            Some(r) => {
                self.ipam.release(r.ip, sandbox_id)?;
            }
            None => {
                self.ipam.release_owner(sandbox_id)?;
            }
        }
        self.store.remove(sandbox_id)
    }

    /// Removes whatever belongs to sandboxes not in `live` (see [`PodNetwork::reconcile`]).
    pub async fn reconcile_pods(&self, live: &[String]) -> Result<ReconcileReport> {
        let live: HashSet<&str> = live.iter().map(String::as_str).collect();
        let mut report = ReconcileReport::default();
        for id in self.store.ids()? {
            if !live.contains(id.as_str()) {
                self.teardown_pod(&id).await?;
                report.sandboxes += 1;
            }
        }
        for (ip, owner) in self.ipam.allocations()? {
            if !live.contains(owner.as_str()) && self.ipam.release(ip, &owner)? {
                report.addresses += 1;
            }
        }
        let mut live_veths = HashSet::new();
        let mut live_ips = HashSet::new();
        for id in &live {
            match self.store.load(id)? {
                Some(r) => {
                    live_veths.insert(r.host_veth);
                    live_ips.insert(r.ip);
                }
                None => {
                    live_veths.insert(self.host_veth_name(id));
                }
            }
        }
        let host = current_handle()?;
        if let Some(bridge_index) = link_index(&host, &self.cfg.bridge).await? {
            for name in bridge_ports(&host, bridge_index).await? {
                if !live_veths.contains(&name) && delete_link(&host, &name).await? {
                    report.links += 1;
                }
            }
        }
        report.host_ports =
            nft::remove_host_ports_where(&self.cfg.nft_table, |ip| !live_ips.contains(&ip)).await?;
        Ok(report)
    }

    /// Names of the interfaces currently attached to the bridge (diagnostics, tests).
    pub async fn bridge_ports(&self) -> Result<Vec<String>> {
        let host = current_handle()?;
        match link_index(&host, &self.cfg.bridge).await? {
            Some(index) => bridge_ports(&host, index).await,
            None => Ok(Vec::new()),
        }
    }

    /// Releases every pod, then removes the bridge, the nftables table and the state
    /// directory (node decommission; tests).
    pub async fn destroy(self) -> Result<()> {
        self.reconcile_pods(&[]).await?;
        delete_link(&current_handle()?, &self.cfg.bridge).await?;
        nft::delete_table(&self.cfg.nft_table).await?;
        let root = self.cfg.data_dir.join("builtin").join(&self.cfg.bridge);
        match std::fs::remove_dir_all(&root) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(NetworkError::io("removing network state", root, e)),
        }
    }
}

/// Brings up `lo` and `eth0`, adds the pod address and the default route via the bridge.
async fn configure_pod_side(
    pod: &Handle,
    ip: Ipv4Addr,
    prefix: u8,
    gateway: Ipv4Addr,
) -> Result<()> {
    set_up(pod, LOOPBACK_INDEX, "lo").await?;
    let eth0 = link_index(pod, POD_INTERFACE).await?.ok_or_else(|| {
        NetworkError::netlink("pod interface", "eth0 missing in the sandbox namespace")
    })?;
    set_up(pod, eth0, POD_INTERFACE).await?;
    pod.address()
        .add(eth0, IpAddr::V4(ip), prefix)
        .execute()
        .await
        .map_err(|e| NetworkError::netlink(format!("adding {ip}/{prefix} to eth0"), e))?;
    pod.route()
        .add(
            RouteMessageBuilder::<Ipv4Addr>::new()
                .gateway(gateway)
                .output_interface(eth0)
                .build(),
        )
        .execute()
        .await
        .map_err(|e| NetworkError::netlink(format!("adding default route via {gateway}"), e))
}

/// Hairpin lets a pod reach itself through its own hostPort.
async fn set_hairpin(host: &Handle, veth: &str) -> Result<()> {
    let msg = LinkUnspec::new_with_name(veth)
        .set_port_kind(InfoPortKind::Bridge)
        .set_port_data(InfoPortData::BridgePort(vec![InfoBridgePort::HairpinMode(
            true,
        )]))
        .build();
    host.link()
        .set_port(msg)
        .execute()
        .await
        .map_err(|e| NetworkError::netlink(format!("enabling hairpin on {veth}"), e))
}

async fn bridge_ports(host: &Handle, bridge_index: u32) -> Result<Vec<String>> {
    let mut links = host.link().get().execute();
    let mut names = Vec::new();
    while let Some(link) = links
        .try_next()
        .await
        .map_err(|e| NetworkError::netlink("listing links", e))?
    {
        if link_controller(&link) == Some(bridge_index) {
            if let Some(name) = link_name(&link) {
                names.push(name.to_string());
            }
        }
    }
    Ok(names)
}

/// Locally administered MAC derived from the IP: an address always comes back with
/// the same MAC, so stale neighbour entries of a reused IP stay correct.
fn mac_for(ip: Ipv4Addr) -> [u8; 6] {
    let o = ip.octets();
    [0x0a, 0x58, o[0], o[1], o[2], o[3]]
}

fn format_mac(mac: &[u8; 6]) -> String {
    mac.iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

fn fnv1a64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

impl PodNetwork for BuiltinNetwork {
    fn setup<'a>(&'a self, req: &'a PodNetworkRequest) -> BoxFuture<'a, Result<PodNetworkStatus>> {
        Box::pin(self.setup_pod(req))
    }

    fn teardown<'a>(
        &'a self,
        sandbox_id: &'a str,
        _netns_path: Option<&'a Path>,
    ) -> BoxFuture<'a, Result<()>> {
        Box::pin(self.teardown_pod(sandbox_id))
    }

    fn reconcile<'a>(&'a self, live_sandbox_ids: &'a [String]) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move { self.reconcile_pods(live_sandbox_ids).await.map(|_| ()) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn veth_names_fit_and_differ() {
        let cfg = BuiltinConfig::new("10.42.0.0/24".parse().expect("cidr"), "/tmp/x");
        let net_name = |id: &str| {
            let hash = fnv1a64(format!("{}/{}", cfg.bridge, id).as_bytes());
            format!("veth{:011x}", hash & 0xfff_ffff_ffff)
        };
        let a = net_name("sandbox-a");
        assert_eq!(a.len(), 15);
        assert_ne!(a, net_name("sandbox-b"));
        assert_eq!(a, net_name("sandbox-a"));
    }

    #[test]
    fn mac_is_local_unicast() {
        let mac = mac_for(Ipv4Addr::new(10, 42, 0, 5));
        assert_eq!(format_mac(&mac), "0a:58:0a:2a:00:05");
        assert_eq!(mac[0] & 0x01, 0, "unicast");
        assert_eq!(mac[0] & 0x02, 0x02, "locally administered");
    }

    #[test]
    fn config_validation() {
        let mut cfg = BuiltinConfig::new("10.42.0.0/24".parse().expect("cidr"), "/tmp/x");
        assert!(cfg.validate().is_ok());
        cfg.bridge = "a-very-long-bridge-name".into();
        assert!(cfg.validate().is_err());
        cfg.bridge = "peapod0".into();
        cfg.pod_cidr = "10.99.0.0/24".parse().expect("cidr");
        assert!(cfg.validate().is_err());
        cfg.pod_cidr = "10.42.0.0/24".parse().expect("cidr");
        cfg.mtu = Some(10);
        assert!(cfg.validate().is_err());
    }
}
