//! CNI mode with Debian's containernetworking-plugins (bridge + host-local + portmap),
//! each test inside its own host namespace (plugins inherit it, iptables rules included).

mod common;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};

use common::*;
use peapod_network::{CniConfig, CniNetwork, PodNetwork, PodNetworkRequest, PortMapping, Protocol};

const PLUGIN_DIR: &str = "/usr/lib/cni";

struct CniFixture {
    cfg: CniConfig,
    ipam_dir: PathBuf,
    bridge: String,
    _dir: tempfile::TempDir,
}

fn cni_fixture() -> CniFixture {
    let dir = tempfile::Builder::new()
        .prefix("peapod-cni-")
        .tempdir()
        .expect("tempdir");
    let conf_dir = dir.path().join("net.d");
    std::fs::create_dir_all(&conf_dir).expect("conf dir");
    let ipam_dir = dir.path().join("host-local");
    let bridge = format!("cnibr{}", rand_suffix());
    let conf = serde_json::json!({
        "cniVersion": "1.0.0",
        "name": format!("pptest-{}", rand_suffix()),
        "plugins": [
            {
                "type": "bridge", "bridge": bridge, "isGateway": true, "ipMasq": false, "hairpinMode": true,
                "ipam": {
                    "type": "host-local",
                    "ranges": [[{"subnet": format!("10.244.{}.0/24", rand_octet())}]],
                    "routes": [{"dst": "0.0.0.0/0"}],
                    "dataDir": ipam_dir
                }
            },
            {"type": "portmap", "capabilities": {"portMappings": true}}
        ]
    });
    std::fs::write(conf_dir.join("10-test.conflist"), conf.to_string()).expect("write conflist");
    let cfg = CniConfig::new(&conf_dir, PLUGIN_DIR, dir.path().join("data"));
    CniFixture {
        cfg,
        ipam_dir,
        bridge,
        _dir: dir,
    }
}

fn request(id: &str, netns: &Path, ports: Vec<PortMapping>) -> PodNetworkRequest {
    PodNetworkRequest {
        pod_namespace: "default".into(),
        pod_name: format!("pod-{id}"),
        pod_uid: format!("uid-{id}"),
        sandbox_id: id.into(),
        netns_path: netns.to_path_buf(),
        port_mappings: ports,
    }
}

/// IPs still reserved by host-local (one file per IP, like ours).
fn reserved_ips(ipam_dir: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(ipam_dir) else {
        return Vec::new();
    };
    entries
        .flatten()
        .flat_map(|net| {
            std::fs::read_dir(net.path())
                .into_iter()
                .flatten()
                .flatten()
        })
        .filter_map(|f| {
            f.file_name()
                .to_str()
                .filter(|n| n.parse::<Ipv4Addr>().is_ok())
                .map(str::to_string)
        })
        .collect()
}

#[test]
fn cni_pods_talk_hostport_and_teardown() {
    if !Path::new(PLUGIN_DIR).join("bridge").exists() {
        panic!("install containernetworking-plugins (Debian) to run the CNI tests");
    }
    let host = TestHost::new();
    let f = cni_fixture();
    let (pod_a, pod_b) = (TestNetns::new(), TestNetns::new());
    let (a_path, b_path) = (pod_a.path().to_path_buf(), pod_b.path().to_path_buf());
    let host_ns = host.netns.path().to_path_buf();
    let (cfg, ipam_dir, bridge) = (f.cfg.clone(), f.ipam_dir.clone(), f.bridge.clone());
    host.run(move || async move {
        let net = CniNetwork::new(cfg.clone()).expect("cni");
        let a = net
            .setup(&request("cni-a", &a_path, vec![]))
            .await
            .expect("ADD a");
        let ports = vec![PortMapping {
            host_port: 18081,
            container_port: 8080,
            protocol: Protocol::Tcp,
            host_ip: None,
        }];
        let b = net
            .setup(&request("cni-b", &b_path, ports))
            .await
            .expect("ADD b");
        let (ip_a, ip_b) = (v4(a.ips[0]), v4(b.ips[0]));
        assert!(
            ip_a.octets()[..2] == [10, 244] && ip_a != ip_b,
            "{ip_a} {ip_b}"
        );
        let link = TestNetns::sh_path(&b_path, &["ip", "-o", "link", "show", "eth0"]);
        assert!(
            !b.mac.is_empty() && link.contains(&b.mac),
            "{link} / {}",
            b.mac
        );
        assert_eq!(reserved_ips(&ipam_dir).len(), 2);
        let links = TestNetns::sh_path(&host_ns, &["ip", "-br", "link"]);
        assert!(
            links.contains(&bridge),
            "CNI bridge {bridge} created:\n{links}"
        );

        net.check("cni-a").await.expect("CHECK a");

        spawn_tcp_server(&b_path, 8080, "cni-b");
        spawn_tcp_server(&a_path, 8080, "cni-a");
        let to_b = SocketAddr::new(IpAddr::V4(ip_b), 8080);
        assert_eq!(tcp_request_from(&a_path, to_b).expect("a -> b"), "cni-b");
        assert_eq!(
            tcp_request_from(&b_path, SocketAddr::new(IpAddr::V4(ip_a), 8080)).expect("b -> a"),
            "cni-a"
        );
        assert_eq!(tcp_request(to_b).expect("host -> b"), "cni-b");
        let gw = Ipv4Addr::new(ip_b.octets()[0], ip_b.octets()[1], ip_b.octets()[2], 1);
        let via_node = SocketAddr::new(IpAddr::V4(gw), 18081);
        assert_eq!(
            tcp_request(via_node).expect("hostPort via node address"),
            "cni-b"
        );
        let local = SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 18081);
        assert_eq!(tcp_request(local).expect("hostPort via 127.0.0.1"), "cni-b");

        // "Crash": a new instance whose conf dir no longer has the network still DELs
        // from the cached config and result.
        std::fs::remove_dir_all(&cfg.conf_dir).expect("remove conf dir");
        std::fs::create_dir_all(&cfg.conf_dir).expect("empty conf dir");
        let restarted = CniNetwork::new(cfg.clone()).expect("cni");
        assert_eq!(restarted.attached_sandboxes().expect("cache").len(), 2);
        restarted
            .teardown("cni-a", Some(&a_path))
            .await
            .expect("DEL a");
        restarted.reconcile(&[]).await.expect("reconcile DELs b");
        assert!(restarted.attached_sandboxes().expect("cache").is_empty());
        assert!(
            reserved_ips(&ipam_dir).is_empty(),
            "host-local released both IPs"
        );
        let links = TestNetns::sh_path(&host_ns, &["ip", "-br", "link"]);
        assert!(!links.contains("veth"), "{links}");
        assert!(TestNetns::sh_path(&b_path, &["ip", "-br", "link"])
            .lines()
            .all(|l| !l.starts_with("eth0")));
        assert!(tcp_request(local).is_err(), "hostPort removed");
        restarted
            .teardown("cni-a", None)
            .await
            .expect("DEL is idempotent without cache");
    });
}

#[test]
fn cni_plugin_failure_is_reported_and_rolled_back() {
    let host = TestHost::new();
    let f = cni_fixture();
    let pod = TestNetns::new();
    let path = pod.path().to_path_buf();
    let mut cfg = f.cfg.clone();
    // A bin dir where "portmap" fails ADD with a spec error object (and DEL succeeds):
    // bridge + host-local already attached the pod when the failure happens.
    let bin = tempfile::tempdir().expect("bin dir");
    for p in ["bridge", "host-local"] {
        std::os::unix::fs::symlink(Path::new(PLUGIN_DIR).join(p), bin.path().join(p))
            .expect("symlink");
    }
    let failing = "#!/bin/sh\ncat >/dev/null\nif [ \"$CNI_COMMAND\" = ADD ]; then\n  echo '{\"cniVersion\":\"1.0.0\",\"code\":11,\"msg\":\"port busy\",\"details\":\"test\"}'\n  exit 1\nfi\n";
    let script = bin.path().join("portmap");
    std::fs::write(&script, failing).expect("write plugin");
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755))
        .expect("chmod");
    cfg.bin_dirs = vec![bin.path().to_path_buf()];
    let ipam_dir = f.ipam_dir.clone();
    host.run(move || async move {
        let net = CniNetwork::new(cfg).expect("cni");
        let err = net
            .setup(&request("fail", &path, vec![]))
            .await
            .expect_err("portmap fails");
        assert!(
            err.to_string().contains("code 11: port busy (test)"),
            "{err}"
        );
        assert!(
            reserved_ips(&ipam_dir).is_empty(),
            "the IP of the failed ADD is released"
        );
        assert!(net.attached_sandboxes().expect("cache").is_empty());
        let inside = TestNetns::sh_path(&path, &["ip", "-br", "link"]);
        assert!(inside.lines().all(|l| !l.starts_with("eth0")), "{inside}");
    });
}
