//! The node bridge: created once at start, holds the gateway address of the pod CIDR.

use std::net::{IpAddr, Ipv4Addr};

use futures::TryStreamExt;
use netlink_packet_route::address::AddressAttribute;
use netlink_packet_route::route::RouteAttribute;
use netlink_packet_route::AddressFamily;
use rtnetlink::{Handle, LinkBridge, LinkUnspec, RouteMessageBuilder};

use crate::cidr::Ipv4Cidr;
use crate::error::{NetworkError, Result};
use crate::nl::{errno, link_by_name, link_mtu};

pub(crate) const FALLBACK_MTU: u32 = 1500;

/// Creates the bridge if missing, sets its MTU, gateway address and brings it up.
/// Returns the bridge's interface index.
pub(crate) async fn ensure_bridge(
    handle: &Handle,
    name: &str,
    subnet: Ipv4Cidr,
    gateway: Ipv4Addr,
    mtu: u32,
) -> Result<u32> {
    let index = match link_by_name(handle, name).await? {
        Some(link) => link.header.index,
        None => {
            handle
                .link()
                .add(LinkBridge::new(name).mtu(mtu).build())
                .execute()
                .await
                .map_err(|e| NetworkError::netlink(format!("creating bridge {name}"), e))?;
            link_by_name(handle, name)
                .await?
                .ok_or_else(|| {
                    NetworkError::netlink(format!("bridge {name}"), "vanished after creation")
                })?
                .header
                .index
        }
    };
    handle
        .link()
        .change(LinkUnspec::new_with_index(index).mtu(mtu).up().build())
        .execute()
        .await
        .map_err(|e| NetworkError::netlink(format!("configuring bridge {name}"), e))?;
    if !has_address(handle, index, gateway).await? {
        match handle
            .address()
            .add(index, IpAddr::V4(gateway), subnet.prefix())
            .execute()
            .await
        {
            Ok(()) => {}
            Err(e) if errno(&e) == Some(libc::EEXIST) => {}
            Err(e) => {
                return Err(NetworkError::netlink(
                    format!("adding {gateway} to {name}"),
                    e,
                ))
            }
        }
    }
    Ok(index)
}

async fn has_address(handle: &Handle, index: u32, ip: Ipv4Addr) -> Result<bool> {
    let mut addrs = handle
        .address()
        .get()
        .set_link_index_filter(index)
        .execute();
    while let Some(msg) = addrs
        .try_next()
        .await
        .map_err(|e| NetworkError::netlink("listing addresses", e))?
    {
        if msg.attributes.iter().any(|a| matches!(a, AddressAttribute::Local(IpAddr::V4(v)) | AddressAttribute::Address(IpAddr::V4(v)) if *v == ip)) {
            return Ok(true);
        }
    }
    Ok(false)
}

/// MTU of the interface holding the IPv4 default route, or 1500 when there is none.
pub(crate) async fn default_route_mtu(handle: &Handle) -> Result<u32> {
    let mut routes = handle
        .route()
        .get(RouteMessageBuilder::<Ipv4Addr>::new().build())
        .execute();
    while let Some(route) = routes
        .try_next()
        .await
        .map_err(|e| NetworkError::netlink("listing routes", e))?
    {
        if route.header.address_family != AddressFamily::Inet
            || route.header.destination_prefix_length != 0
        {
            continue;
        }
        let oif = route.attributes.iter().find_map(|a| match a {
            RouteAttribute::Oif(i) => Some(*i),
            _ => None,
        });
        if let Some(oif) = oif {
            let link = handle
                .link()
                .get()
                .match_index(oif)
                .execute()
                .try_next()
                .await;
            if let Ok(Some(link)) = link {
                return Ok(link_mtu(&link).unwrap_or(FALLBACK_MTU));
            }
        }
    }
    Ok(FALLBACK_MTU)
}

/// Writes an IPv4 sysctl of the current network namespace (`/proc/sys/net/ipv4/...`).
pub(crate) fn set_ipv4_sysctl(rel: &str, value: &str) -> Result<()> {
    let path = format!("/proc/sys/net/ipv4/{rel}");
    std::fs::write(&path, value).map_err(|e| NetworkError::io("writing sysctl", path, e))
}
