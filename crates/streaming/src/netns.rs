//! Dialling a port on localhost inside a pod's network namespace.

use std::io;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, TcpStream};
use std::path::PathBuf;
use std::time::Duration;

use nix::sched::{setns, CloneFlags};
use tokio::sync::oneshot;

const DIAL_TIMEOUT: Duration = Duration::from_secs(10);

/// Connect to `localhost:port` in the network namespace at `netns`.
///
/// setns() changes the calling thread, so the dial runs on a short-lived dedicated thread (never
/// a tokio worker); the connected socket keeps its namespace and is handed back to tokio.
pub async fn connect_in_netns(netns: PathBuf, port: u16) -> io::Result<tokio::net::TcpStream> {
    let (tx, rx) = oneshot::channel();
    std::thread::Builder::new()
        .name("pf-dial".into())
        .spawn(move || {
            let _ = tx.send(dial_in(&netns, port));
        })?;
    let stream = rx
        .await
        .map_err(|_| io::Error::other("port-forward dial thread died"))??;
    stream.set_nonblocking(true)?;
    tokio::net::TcpStream::from_std(stream)
}

fn dial_in(netns: &std::path::Path, port: u16) -> io::Result<TcpStream> {
    let ns = std::fs::File::open(netns)?;
    setns(&ns, CloneFlags::CLONE_NEWNET).map_err(io::Error::from)?;
    // Like a kubelet: IPv4 loopback first, then IPv6.
    let v4 = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    match TcpStream::connect_timeout(&v4, DIAL_TIMEOUT) {
        Ok(stream) => Ok(stream),
        Err(v4_err) => {
            let v6 = SocketAddr::from((Ipv6Addr::LOCALHOST, port));
            TcpStream::connect_timeout(&v6, DIAL_TIMEOUT).map_err(|_| v4_err)
        }
    }
}
