//! `peapod reset`: stops and removes every pod sandbox of this node, unmounts its pod volumes
//! and removes its pod network (bridge, nftables table, IPAM state). A node agent restart never
//! does this (pods outlive the agent); reset is the deliberate way to leave the machine clean.

use std::path::PathBuf;
use std::time::Duration;

#[derive(clap::Args)]
pub struct ResetArgs {
    #[arg(long, default_value = "/var/lib/peapod")]
    pub data_dir: PathBuf,
    /// Bridge of the built-in pod network.
    #[arg(long, default_value = "peapod0")]
    pub bridge_name: String,
}

pub fn run(args: ResetArgs) -> anyhow::Result<()> {
    crate::logging::init();
    let exe = std::env::current_exe()?;
    let runtime =
        peapod_runtime::Runtime::new(peapod_runtime::RuntimeConfig::new(&args.data_dir, &exe))?;
    runtime.recover();
    for sb in runtime.list_sandboxes() {
        for c in runtime.list_containers(Some(&sb.id)) {
            let _ = runtime.stop_container(&c.id, Duration::from_secs(0));
            if let Err(e) = runtime.remove_container(&c.id) {
                tracing::warn!(container = %c.id, error = %e, "remove container");
            }
        }
        let _ = runtime.stop_sandbox(&sb.id, Duration::from_secs(0));
        if let Err(e) = runtime.remove_sandbox(&sb.id) {
            tracing::warn!(sandbox = %sb.id, error = %e, "remove sandbox");
        }
    }
    let pods = args.data_dir.join("pods");
    if pods.exists() {
        for m in peapod_volumes::mounts::mounts_under(&pods)? {
            let _ = peapod_volumes::mounts::unmount_all(&m);
        }
    }
    remove_empty_cgroup_parents("peapod");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let flags = crate::node_flags::NodeFlags {
            node_name: None,
            bridge_name: args.bridge_name.clone(),
            kubelet_port: 0,
            cni_conf_dir: None,
            cni_bin_dir: None,
            eviction_hard: None,
        };
        let cidr = bridge_cidr(&args.bridge_name)
            .unwrap_or_else(|| "10.42.0.0/24".parse().expect("valid"));
        // The bridge's own range stands in for the cluster range: nothing is routed here.
        let cfg = flags.agent_config(&args.data_dir, cidr)?;
        peapod_agent::destroy_network(&cfg, cidr).await
    })
}

/// The pod CIDR the bridge serves, from its gateway address.
fn bridge_cidr(bridge: &str) -> Option<peapod_network::Ipv4Cidr> {
    let out = std::process::Command::new("ip")
        .args(["-4", "-o", "addr", "show", "dev", bridge])
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let inet = text
        .split_whitespace()
        .skip_while(|w| *w != "inet")
        .nth(1)?;
    let (ip, prefix) = inet.split_once('/')?;
    let ip: std::net::Ipv4Addr = ip.parse().ok()?;
    let prefix: u8 = prefix.parse().ok()?;
    let mask = if prefix == 0 {
        0
    } else {
        u32::MAX << (32 - prefix)
    };
    peapod_network::Ipv4Cidr::new(std::net::Ipv4Addr::from(u32::from(ip) & mask), prefix).ok()
}

/// Removes the pods' parent cgroup in every hierarchy once no pod cgroup is left in it
/// (rmdir refuses while children exist, so a busy parent is kept).
fn remove_empty_cgroup_parents(parent: &str) {
    let Ok(entries) = std::fs::read_dir("/sys/fs/cgroup") else {
        return;
    };
    for e in entries.flatten() {
        let dir = e.path().join(parent);
        if dir.is_dir() {
            let _ = std::fs::remove_dir(&dir);
        }
    }
    let _ = std::fs::remove_dir(std::path::Path::new("/sys/fs/cgroup").join(parent));
}
