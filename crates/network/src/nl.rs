//! Thin helpers over rtnetlink shared by the built-in network and route sync.

use std::os::fd::IntoRawFd;
use std::path::Path;

use futures::TryStreamExt;
use netlink_packet_route::link::{LinkAttribute, LinkMessage};
use rtnetlink::sys::TokioSocket;
use rtnetlink::{Handle, LinkUnspec};

use crate::error::{NetworkError, Result};
use crate::netns::route_socket_in;

/// A netlink handle in the caller's current network namespace.
/// The connection task ends when the last handle clone is dropped.
pub(crate) fn current_handle() -> Result<Handle> {
    let (conn, handle, _) = rtnetlink::new_connection()
        .map_err(|e| NetworkError::netlink("opening netlink socket", e))?;
    tokio::spawn(conn);
    Ok(handle)
}

/// A netlink handle inside the namespace at `path`.
pub(crate) fn netns_handle(path: &Path) -> Result<Handle> {
    let fd = route_socket_in(path)?;
    // SAFETY: `fd` is an owned, open NETLINK_ROUTE socket; TokioSocket takes ownership.
    let socket = unsafe { <TokioSocket as std::os::fd::FromRawFd>::from_raw_fd(fd.into_raw_fd()) };
    let (conn, handle, _) = rtnetlink::from_socket(socket);
    tokio::spawn(conn);
    Ok(handle)
}

/// The kernel errno carried by a netlink error, if any (positive, e.g. `libc::ENODEV`).
pub(crate) fn errno(err: &rtnetlink::Error) -> Option<i32> {
    match err {
        rtnetlink::Error::NetlinkError(msg) => msg.code.map(|c| -c.get()),
        _ => None,
    }
}

/// Looks a link up by name; `None` when it does not exist.
pub(crate) async fn link_by_name(handle: &Handle, name: &str) -> Result<Option<LinkMessage>> {
    match handle
        .link()
        .get()
        .match_name(name)
        .execute()
        .try_next()
        .await
    {
        Ok(link) => Ok(link),
        Err(e) if errno(&e) == Some(libc::ENODEV) => Ok(None),
        Err(e) => Err(NetworkError::netlink(format!("looking up link {name}"), e)),
    }
}

pub(crate) async fn link_index(handle: &Handle, name: &str) -> Result<Option<u32>> {
    Ok(link_by_name(handle, name).await?.map(|l| l.header.index))
}

pub(crate) async fn set_up(handle: &Handle, index: u32, what: &str) -> Result<()> {
    handle
        .link()
        .change(LinkUnspec::new_with_index(index).up().build())
        .execute()
        .await
        .map_err(|e| NetworkError::netlink(format!("setting {what} up"), e))
}

/// Deletes a link by name; returns false when it was already gone.
pub(crate) async fn delete_link(handle: &Handle, name: &str) -> Result<bool> {
    let Some(index) = link_index(handle, name).await? else {
        return Ok(false);
    };
    match handle.link().del(index).execute().await {
        Ok(()) => Ok(true),
        Err(e) if errno(&e) == Some(libc::ENODEV) => Ok(false),
        Err(e) => Err(NetworkError::netlink(format!("deleting link {name}"), e)),
    }
}

pub(crate) fn link_name(link: &LinkMessage) -> Option<&str> {
    link.attributes.iter().find_map(|a| match a {
        LinkAttribute::IfName(n) => Some(n.as_str()),
        _ => None,
    })
}

pub(crate) fn link_controller(link: &LinkMessage) -> Option<u32> {
    link.attributes.iter().find_map(|a| match a {
        LinkAttribute::Controller(i) => Some(*i),
        _ => None,
    })
}

pub(crate) fn link_mtu(link: &LinkMessage) -> Option<u32> {
    link.attributes.iter().find_map(|a| match a {
        LinkAttribute::Mtu(m) => Some(*m),
        _ => None,
    })
}
