//! host-gw route sync against the kernel, inside a test host namespace whose
//! "node network" is a veth pair.

mod common;

use std::net::Ipv4Addr;

use common::*;
use peapod_network::{sync_node_routes, NodeRoute, PEAPOD_ROUTE_PROTOCOL};

fn r(cidr: &str, ip: [u8; 4]) -> NodeRoute {
    NodeRoute {
        pod_cidr: cidr.parse().expect("cidr"),
        node_ip: Ipv4Addr::from(ip),
    }
}

#[test]
fn routes_follow_nodes() {
    let host = TestHost::new();
    host.sh(&[
        "ip", "link", "add", "nodenet0", "type", "veth", "peer", "name", "nodenet1",
    ]);
    host.sh(&["ip", "link", "set", "nodenet1", "up"]);
    host.sh(&["ip", "addr", "add", "192.168.77.1/24", "dev", "nodenet0"]);
    host.sh(&["ip", "link", "set", "nodenet0", "up"]);
    // A route someone else owns must survive every sync.
    host.sh(&[
        "ip",
        "route",
        "add",
        "10.42.99.0/24",
        "via",
        "192.168.77.99",
    ]);
    let host_ns = host.netns.path().to_path_buf();
    let proto = PEAPOD_ROUTE_PROTOCOL.to_string();
    host.run(move || async move {
        let own = Some("10.42.0.0/24".parse().expect("cidr"));
        let show = || TestNetns::sh_path(&host_ns, &["ip", "route", "show", "proto", &proto]);

        let plan = sync_node_routes(
            own,
            &[
                r("10.42.1.0/24", [192, 168, 77, 2]),
                r("10.42.2.0/24", [192, 168, 77, 3]),
                r("10.42.0.0/24", [192, 168, 77, 1]),
            ],
        )
        .await
        .expect("sync");
        assert_eq!(plan.add.len(), 2);
        let routes = show();
        assert!(
            routes.contains("10.42.1.0/24 via 192.168.77.2 dev nodenet0"),
            "{routes}"
        );
        assert!(
            routes.contains("10.42.2.0/24 via 192.168.77.3 dev nodenet0"),
            "{routes}"
        );
        assert!(
            !routes.contains("10.42.0.0/24"),
            "own pod CIDR is never routed away: {routes}"
        );

        // Node 3 moved, node 2 left.
        let plan = sync_node_routes(own, &[r("10.42.2.0/24", [192, 168, 77, 4])])
            .await
            .expect("sync");
        assert_eq!((plan.add.len(), plan.delete.len()), (1, 2));
        let routes = show();
        assert_eq!(
            routes.trim(),
            "10.42.2.0/24 via 192.168.77.4 dev nodenet0",
            "{routes}"
        );

        // Idempotent.
        let plan = sync_node_routes(own, &[r("10.42.2.0/24", [192, 168, 77, 4])])
            .await
            .expect("sync");
        assert!(plan.add.is_empty() && plan.delete.is_empty());

        // An unreachable node address is an error, not a silent route.
        assert!(
            sync_node_routes(own, &[r("10.42.3.0/24", [203, 0, 113, 5])])
                .await
                .is_err()
        );

        sync_node_routes(own, &[]).await.expect("sync empty");
        assert!(show().trim().is_empty());
        let all = TestNetns::sh_path(&host_ns, &["ip", "route"]);
        assert!(
            all.contains("10.42.99.0/24 via 192.168.77.99"),
            "foreign route kept: {all}"
        );
    });
}
