//! host-gw routing between nodes: every node routes each other node's pod CIDR via
//! that node's InternalIP (nodes must share an L2 segment). Routes carry peapod's own
//! routing protocol number so sync only ever touches routes it created.

use std::collections::HashMap;
use std::net::Ipv4Addr;

use futures::TryStreamExt;
use netlink_packet_route::route::{RouteAddress, RouteAttribute, RouteMessage, RouteProtocol};
use netlink_packet_route::AddressFamily;
use rtnetlink::RouteMessageBuilder;

use crate::cidr::Ipv4Cidr;
use crate::error::{NetworkError, Result};
use crate::nl::current_handle;

/// Routing protocol id stamped on peapod's routes (`ip route show proto 211`).
pub const PEAPOD_ROUTE_PROTOCOL: u8 = 211;

/// "Send `pod_cidr` via `node_ip`": one other node, from its Node object
/// (`spec.podCIDR`, `status.addresses[type=InternalIP]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeRoute {
    pub pod_cidr: Ipv4Cidr,
    pub node_ip: Ipv4Addr,
}

/// Changes needed to go from the installed routes to the desired ones.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct RoutePlan {
    pub add: Vec<NodeRoute>,
    pub delete: Vec<NodeRoute>,
}

/// Pure planning step of [`sync_node_routes`].
///
/// Desired routes overlapping this node's own pod CIDR are dropped (they would steal
/// local pod traffic), as are later duplicates of an already planned CIDR.
pub fn plan_node_routes(
    own_pod_cidr: Option<Ipv4Cidr>,
    desired: &[NodeRoute],
    installed: &[NodeRoute],
) -> RoutePlan {
    let mut wanted: HashMap<Ipv4Cidr, Ipv4Addr> = HashMap::new();
    let mut order = Vec::new();
    for r in desired {
        if own_pod_cidr.is_some_and(|own| own.overlaps(&r.pod_cidr)) {
            continue;
        }
        if wanted.keys().any(|c| c.overlaps(&r.pod_cidr)) {
            tracing::warn!(cidr = %r.pod_cidr, "pod CIDR overlaps another node's; route skipped");
            continue;
        }
        wanted.insert(r.pod_cidr, r.node_ip);
        order.push(*r);
    }
    let mut plan = RoutePlan::default();
    for r in installed {
        if wanted.get(&r.pod_cidr) != Some(&r.node_ip) {
            plan.delete.push(*r);
        }
    }
    for r in order {
        if !installed.contains(&r) {
            plan.add.push(r);
        }
    }
    plan.add.sort();
    plan.delete.sort();
    plan
}

/// Makes the main routing table hold exactly `desired` (minus this node's own CIDR)
/// among peapod's routes, in the caller's network namespace. Returns what changed.
pub async fn sync_node_routes(
    own_pod_cidr: Option<Ipv4Cidr>,
    desired: &[NodeRoute],
) -> Result<RoutePlan> {
    let handle = current_handle()?;
    let mut installed = Vec::new();
    let mut routes = handle
        .route()
        .get(RouteMessageBuilder::<Ipv4Addr>::new().build())
        .execute();
    while let Some(msg) = routes
        .try_next()
        .await
        .map_err(|e| NetworkError::netlink("listing routes", e))?
    {
        if let Some(r) = as_node_route(&msg) {
            installed.push(r);
        }
    }
    let plan = plan_node_routes(own_pod_cidr, desired, &installed);
    for r in &plan.delete {
        handle
            .route()
            .del(route_message(r))
            .execute()
            .await
            .map_err(|e| {
                NetworkError::netlink(
                    format!("deleting route {} via {}", r.pod_cidr, r.node_ip),
                    e,
                )
            })?;
    }
    for r in &plan.add {
        handle
            .route()
            .add(route_message(r))
            .execute()
            .await
            .map_err(|e| {
                NetworkError::netlink(format!("adding route {} via {}", r.pod_cidr, r.node_ip), e)
            })?;
    }
    Ok(plan)
}

fn route_message(r: &NodeRoute) -> RouteMessage {
    RouteMessageBuilder::<Ipv4Addr>::new()
        .destination_prefix(r.pod_cidr.network(), r.pod_cidr.prefix())
        .gateway(r.node_ip)
        .protocol(RouteProtocol::Other(PEAPOD_ROUTE_PROTOCOL))
        .build()
}

fn as_node_route(msg: &RouteMessage) -> Option<NodeRoute> {
    if msg.header.address_family != AddressFamily::Inet
        || msg.header.protocol != RouteProtocol::Other(PEAPOD_ROUTE_PROTOCOL)
    {
        return None;
    }
    let mut dst = None;
    let mut gw = None;
    for a in &msg.attributes {
        match a {
            RouteAttribute::Destination(RouteAddress::Inet(ip)) => dst = Some(*ip),
            RouteAttribute::Gateway(RouteAddress::Inet(ip)) => gw = Some(*ip),
            _ => {}
        }
    }
    let pod_cidr = Ipv4Cidr::new(dst?, msg.header.destination_prefix_length).ok()?;
    Some(NodeRoute {
        pod_cidr,
        node_ip: gw?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(cidr: &str, ip: [u8; 4]) -> NodeRoute {
        NodeRoute {
            pod_cidr: cidr.parse().expect("cidr"),
            node_ip: Ipv4Addr::from(ip),
        }
    }

    #[test]
    fn adds_missing_deletes_stale_and_moved() {
        let own = Some("10.42.0.0/24".parse().expect("cidr"));
        let desired = [
            r("10.42.1.0/24", [192, 168, 5, 2]),
            r("10.42.2.0/24", [192, 168, 5, 3]),
            r("10.42.0.0/24", [192, 168, 5, 1]),
        ];
        let installed = [
            r("10.42.1.0/24", [192, 168, 5, 2]),
            r("10.42.2.0/24", [192, 168, 5, 9]),
            r("10.42.3.0/24", [192, 168, 5, 4]),
        ];
        let plan = plan_node_routes(own, &desired, &installed);
        assert_eq!(plan.add, vec![r("10.42.2.0/24", [192, 168, 5, 3])]);
        assert_eq!(
            plan.delete,
            vec![
                r("10.42.2.0/24", [192, 168, 5, 9]),
                r("10.42.3.0/24", [192, 168, 5, 4])
            ]
        );
    }

    #[test]
    fn own_cidr_and_overlaps_skipped() {
        let own = Some("10.42.0.0/24".parse().expect("cidr"));
        let desired = [
            r("10.42.0.0/16", [192, 168, 5, 2]),
            r("10.42.4.0/24", [192, 168, 5, 3]),
            r("10.42.4.0/25", [192, 168, 5, 4]),
        ];
        let plan = plan_node_routes(own, &desired, &[]);
        assert_eq!(plan.add, vec![r("10.42.4.0/24", [192, 168, 5, 3])]);
        assert!(plan.delete.is_empty());
    }

    #[test]
    fn in_sync_is_empty() {
        let desired = [r("10.42.1.0/24", [192, 168, 5, 2])];
        assert_eq!(
            plan_node_routes(None, &desired, &desired),
            RoutePlan::default()
        );
    }
}
