//! Built-in network against the real kernel, each test inside its own host namespace.

mod common;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::Path;
use std::time::Duration;

use common::*;
use peapod_network::{
    BuiltinConfig, BuiltinNetwork, Ipv4Cidr, NetworkError, PodNetwork, PodNetworkRequest,
    PortMapping, Protocol,
};

struct Fixture {
    cfg: BuiltinConfig,
    _data: tempfile::TempDir,
}

fn fixture() -> Fixture {
    let data = tempfile::Builder::new()
        .prefix("peapod-net-data-")
        .tempdir()
        .expect("tempdir");
    let octet = rand_octet();
    let pod_cidr: Ipv4Cidr = format!("10.42.{octet}.0/24").parse().expect("cidr");
    let mut cfg = BuiltinConfig::new(pod_cidr, data.path());
    cfg.bridge = format!("pptest{}", rand_suffix());
    cfg.nft_table = format!("peapod_test_{}", rand_suffix());
    Fixture { cfg, _data: data }
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

/// Asserts the host namespace holds nothing of the pods: no veth, no address, no
/// hostPort element, no IPAM entry, no bridge port.
async fn assert_clean(net: &BuiltinNetwork, host_ns: &Path) {
    let links = TestNetns::sh_path(host_ns, &["ip", "-br", "link"]);
    assert!(!links.contains("veth"), "veth left behind:\n{links}");
    assert!(net.bridge_ports().await.expect("ports").is_empty());
    assert!(
        net.ipam().allocations().expect("ipam").is_empty(),
        "IPAM entries left"
    );
    let table = TestNetns::sh_path(
        host_ns,
        &["nft", "list", "table", "ip", &net.config().nft_table],
    );
    assert!(
        !table.contains("elements"),
        "hostPort elements left:\n{table}"
    );
    let addrs = TestNetns::sh_path(host_ns, &["ip", "-4", "-br", "addr"]);
    assert_eq!(
        addrs.lines().count(),
        2,
        "only lo and the bridge keep addresses:\n{addrs}"
    );
}

#[test]
fn two_pods_talk_host_reaches_pod_and_hostport_works() {
    let host = TestHost::new();
    let f = fixture();
    let (pod_a, pod_b) = (TestNetns::new(), TestNetns::new());
    let (a_path, b_path) = (pod_a.path().to_path_buf(), pod_b.path().to_path_buf());
    let host_ns = host.netns.path().to_path_buf();
    let cfg = f.cfg.clone();
    host.run(move || async move {
        let net = BuiltinNetwork::new(cfg).await.expect("network");
        let a = net
            .setup(&request("sb-a", &a_path, vec![]))
            .await
            .expect("setup a");
        let ports = vec![
            PortMapping {
                host_port: 18080,
                container_port: 8080,
                protocol: Protocol::Tcp,
                host_ip: None,
            },
            PortMapping {
                host_port: 18053,
                container_port: 5353,
                protocol: Protocol::Udp,
                host_ip: None,
            },
        ];
        let b = net
            .setup(&request("sb-b", &b_path, ports))
            .await
            .expect("setup b");
        let (ip_a, ip_b) = (v4(a.ips[0]), v4(b.ips[0]));
        assert_ne!(ip_a, ip_b);
        assert!(net.config().pod_cidr.contains(ip_a) && net.config().pod_cidr.contains(ip_b));
        assert_eq!(a.interface, "eth0");

        // Inside the pod: eth0 has the IP and MAC reported, default route via the bridge.
        let inside = TestNetns::sh_path(&b_path, &["ip", "-o", "addr", "show", "eth0"]);
        assert!(inside.contains(&format!("{ip_b}/24")), "{inside}");
        let link = TestNetns::sh_path(&b_path, &["ip", "-o", "link", "show", "eth0"]);
        assert!(link.contains(&b.mac), "{link} should show {}", b.mac);
        assert!(link.contains(&format!("mtu {}", net.mtu())), "{link}");
        let route = TestNetns::sh_path(&b_path, &["ip", "route", "show", "default"]);
        assert!(route.contains(&format!("via {}", net.gateway())), "{route}");
        let lo = TestNetns::sh_path(&b_path, &["ip", "-o", "link", "show", "lo"]);
        assert!(lo.contains("UP"), "{lo}");

        spawn_tcp_server(&b_path, 8080, "from-b");
        spawn_udp_echo(&b_path, 5353);
        spawn_tcp_server(&a_path, 8080, "from-a");

        // Pod to pod, both directions, TCP and UDP.
        let to_b = SocketAddr::new(IpAddr::V4(ip_b), 8080);
        assert_eq!(tcp_request_from(&a_path, to_b).expect("a -> b"), "from-b");
        let to_a = SocketAddr::new(IpAddr::V4(ip_a), 8080);
        assert_eq!(tcp_request_from(&b_path, to_a).expect("b -> a"), "from-a");
        let udp_b = SocketAddr::new(IpAddr::V4(ip_b), 5353);
        assert_eq!(
            udp_request_from(&a_path, udp_b, "ping").expect("udp a -> b"),
            "ping"
        );

        // A second "container" of pod b (another thread in the same namespace) sees the same IP.
        let second =
            peapod_network::run_in_netns(&b_path, move || tcp_request(to_a)).expect("netns");
        assert_eq!(second.expect("second container"), "from-a");

        // Host to pod.
        assert_eq!(tcp_request(to_b).expect("host -> b"), "from-b");

        // hostPort from 127.0.0.1, TCP and UDP.
        let local = |p| SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), p);
        assert_eq!(tcp_request(local(18080)).expect("hostPort tcp"), "from-b");
        assert_eq!(
            udp_request(local(18053), "udp-hostport").expect("hostPort udp"),
            "udp-hostport"
        );
        // hostPort from pod a to the node (bridge) address.
        let via_node = SocketAddr::new(IpAddr::V4(net.gateway()), 18080);
        assert_eq!(
            tcp_request_from(&a_path, via_node).expect("pod -> node hostPort"),
            "from-b"
        );

        // A second pod asking for the same hostPort is refused and leaves nothing.
        let pod_c = TestNetns::new();
        let dup = vec![PortMapping {
            host_port: 18080,
            container_port: 80,
            protocol: Protocol::Tcp,
            host_ip: None,
        }];
        let err = net
            .setup(&request("sb-c", pod_c.path(), dup))
            .await
            .expect_err("conflict");
        assert!(matches!(err, NetworkError::PortConflict(_)), "{err}");
        assert_eq!(net.ipam().allocations().expect("ipam").len(), 2);

        net.teardown("sb-a", Some(&a_path))
            .await
            .expect("teardown a");
        net.teardown("sb-b", None).await.expect("teardown b");
        net.teardown("sb-b", None)
            .await
            .expect("teardown is idempotent");
        assert!(tcp_request(local(18080)).is_err(), "hostPort must be gone");
        assert_clean(&net, &host_ns).await;
        let inside = TestNetns::sh_path(&b_path, &["ip", "-br", "link"]);
        assert!(!inside.contains("eth0"), "pod eth0 must be gone: {inside}");
        net.destroy().await.expect("destroy");
    });
    let links = host.sh(&["ip", "-br", "link"]);
    assert!(!links.contains(&f.cfg.bridge), "bridge removed by destroy");
    let tables = host.sh(&["nft", "list", "tables"]);
    assert!(
        !tables.contains(&f.cfg.nft_table),
        "table removed by destroy"
    );
}

#[test]
fn many_pods_set_up_and_torn_down_leave_nothing() {
    let host = TestHost::new();
    let f = fixture();
    let pods: Vec<TestNetns> = (0..200).map(|_| TestNetns::new()).collect();
    let paths: Vec<_> = pods.iter().map(|p| p.path().to_path_buf()).collect();
    let host_ns = host.netns.path().to_path_buf();
    let cfg = f.cfg.clone();
    host.run(move || async move {
        let net = BuiltinNetwork::new(cfg).await.expect("network");
        let mut ips = Vec::new();
        for (i, path) in paths.iter().enumerate() {
            // Every 20th pod has a hostPort so nftables elements are part of the churn.
            let ports = if i % 20 == 0 {
                vec![PortMapping {
                    host_port: 20000 + i as u16,
                    container_port: 80,
                    protocol: Protocol::Tcp,
                    host_ip: None,
                }]
            } else {
                vec![]
            };
            let st = net
                .setup(&request(&format!("many-{i}"), path, ports))
                .await
                .expect("setup");
            ips.push(st.ips[0]);
        }
        let mut unique = ips.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), 200, "every pod has its own IP");
        assert_eq!(net.bridge_ports().await.expect("ports").len(), 200);
        let table = TestNetns::sh_path(
            &host_ns,
            &["nft", "list", "table", "ip", &net.config().nft_table],
        );
        assert_eq!(
            table.matches(": 10.42.").count(),
            10,
            "10 hostPort elements:\n{table}"
        );
        // A full /24 has 253 pod addresses; 200 are taken.
        assert_eq!(net.ipam().allocations().expect("ipam").len(), 200);
        for i in 0..200 {
            net.teardown(&format!("many-{i}"), None)
                .await
                .expect("teardown");
        }
        assert_clean(&net, &host_ns).await;
        net.destroy().await.expect("destroy");
    });
}

#[test]
fn crash_mid_setup_is_cleaned_by_reconcile_after_restart() {
    let host = TestHost::new();
    let f = fixture();
    let pods: Vec<TestNetns> = (0..12).map(|_| TestNetns::new()).collect();
    let paths: Vec<_> = pods.iter().map(|p| p.path().to_path_buf()).collect();
    let host_ns = host.netns.path().to_path_buf();
    let cfg = f.cfg.clone();
    host.run(move || async move {
        let ports = || {
            vec![PortMapping {
                host_port: 18443,
                container_port: 443,
                protocol: Protocol::Tcp,
                host_ip: None,
            }]
        };
        // The "agent" dies at a different point of setup each time: the setup future is
        // dropped mid-flight (no cleanup code runs), then a new instance reconciles.
        let mut interrupted = 0;
        for (i, path) in paths.iter().take(10).enumerate() {
            let net = BuiltinNetwork::new(cfg.clone()).await.expect("network");
            let req = request(&format!("crash-{i}"), path, ports());
            let budget = Duration::from_micros(100 + 250 * i as u64);
            if tokio::time::timeout(budget, net.setup(&req)).await.is_err() {
                interrupted += 1;
            }
            drop(net);
            let restarted = BuiltinNetwork::new(cfg.clone()).await.expect("restart");
            restarted.reconcile(&[]).await.expect("reconcile");
            assert_clean(&restarted, &host_ns).await;
        }
        assert!(
            interrupted > 0,
            "at least one setup must have been cut short"
        );

        // A finished pod survives a restart while live, and is released once it is not.
        let net = BuiltinNetwork::new(cfg.clone()).await.expect("network");
        let kept = net
            .setup(&request("kept", &paths[10], ports()))
            .await
            .expect("setup");
        let gone = net
            .setup(&request("gone", &paths[11], vec![]))
            .await
            .expect("setup");
        drop(net);
        let restarted = BuiltinNetwork::new(cfg.clone()).await.expect("restart");
        let report = restarted
            .reconcile_pods(&["kept".to_string()])
            .await
            .expect("reconcile");
        assert_eq!(report.sandboxes, 1);
        let allocations = restarted.ipam().allocations().expect("ipam");
        assert_eq!(allocations, vec![(v4(kept.ips[0]), "kept".to_string())]);
        assert!(!allocations
            .iter()
            .any(|(ip, _)| IpAddr::V4(*ip) == gone.ips[0]));
        assert_eq!(restarted.bridge_ports().await.expect("ports").len(), 1);
        // IPAM persisted: a new pod on the restarted instance never gets the kept IP.
        let extra = TestNetns::new();
        let fresh = restarted
            .setup(&request("fresh", extra.path(), vec![]))
            .await
            .expect("setup");
        assert_ne!(fresh.ips[0], kept.ips[0]);
        // The kept pod's hostPort survived the restart.
        let table = TestNetns::sh_path(
            &host_ns,
            &["nft", "list", "table", "ip", &restarted.config().nft_table],
        );
        assert!(table.contains("tcp . 18443"), "{table}");
        restarted.reconcile(&[]).await.expect("reconcile all");
        assert_clean(&restarted, &host_ns).await;
        restarted.destroy().await.expect("destroy");
    });
}

#[test]
fn leaked_veth_without_record_is_removed() {
    let host = TestHost::new();
    let f = fixture();
    let pod = TestNetns::new();
    let path = pod.path().to_path_buf();
    let host_ns = host.netns.path().to_path_buf();
    let cfg = f.cfg.clone();
    let data_dir = f.cfg.data_dir.clone();
    host.run(move || async move {
        let net = BuiltinNetwork::new(cfg.clone()).await.expect("network");
        net.setup(&request("leak", &path, vec![]))
            .await
            .expect("setup");
        // Simulate losing the state directory (e.g. crash before the record hit the disk).
        let records = data_dir.join("builtin").join(&cfg.bridge).join("sandboxes");
        std::fs::remove_dir_all(&records).expect("drop records");
        drop(net);
        let restarted = BuiltinNetwork::new(cfg.clone()).await.expect("restart");
        let report = restarted.reconcile_pods(&[]).await.expect("reconcile");
        assert_eq!((report.addresses, report.links), (1, 1), "{report:?}");
        assert_clean(&restarted, &host_ns).await;
        restarted.destroy().await.expect("destroy");
    });
}

#[test]
fn bad_input_is_an_error_not_a_panic() {
    let host = TestHost::new();
    let f = fixture();
    let cfg = f.cfg.clone();
    host.run(move || async move {
        let net = BuiltinNetwork::new(cfg).await.expect("network");
        let missing = Path::new("/nonexistent/netns");
        let err = net
            .setup(&request("bad/id", missing, vec![]))
            .await
            .expect_err("bad id");
        assert!(matches!(err, NetworkError::InvalidInput(_)), "{err}");
        let err = net
            .setup(&request("no-netns", missing, vec![]))
            .await
            .expect_err("missing netns");
        assert!(matches!(err, NetworkError::Io { .. }), "{err}");
        assert!(
            net.ipam().allocations().expect("ipam").is_empty(),
            "failed setup released its IP"
        );
        net.destroy().await.expect("destroy");
    });
}
