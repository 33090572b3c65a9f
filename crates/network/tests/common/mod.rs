//! Test fixtures: network namespaces as "hosts" and "pods", all removed on drop.
//!
//! Every test runs inside its own test-host namespace, so bridges, veths, routes,
//! sysctls and nftables tables never touch the real machine, and vanish with the
//! namespace even if a test panics.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::mpsc;
use std::time::Duration;

use nix::mount::{mount, umount2, MntFlags, MsFlags};
use nix::sched::{setns, unshare, CloneFlags};
use peapod_network::run_in_netns;

/// A network namespace pinned by a bind mount on a temp file.
pub struct TestNetns {
    path: PathBuf,
    _dir: tempfile::TempDir,
}

impl TestNetns {
    pub fn new() -> TestNetns {
        let dir = tempfile::Builder::new()
            .prefix("peapod-netns-")
            .tempdir()
            .expect("tempdir");
        let path = dir.path().join("net");
        std::fs::File::create(&path).expect("netns file");
        let target = path.clone();
        std::thread::spawn(move || {
            unshare(CloneFlags::CLONE_NEWNET).expect("unshare netns");
            mount(
                Some("/proc/thread-self/ns/net"),
                &target,
                None::<&str>,
                MsFlags::MS_BIND,
                None::<&str>,
            )
            .expect("bind mount netns");
        })
        .join()
        .expect("netns thread");
        TestNetns { path, _dir: dir }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs a command inside the namespace (checks and diagnostics only).
    pub fn sh(&self, args: &[&str]) -> String {
        let netns = format!("--net={}", self.path.display());
        let out = Command::new("nsenter")
            .arg(netns)
            .args(args)
            .output()
            .expect("nsenter");
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

impl Drop for TestNetns {
    fn drop(&mut self) {
        let _ = umount2(&self.path, MntFlags::MNT_DETACH);
    }
}

/// A namespace standing in for a node, with `lo` up.
pub struct TestHost {
    pub netns: TestNetns,
}

impl TestHost {
    pub fn new() -> TestHost {
        let netns = TestNetns::new();
        netns.sh(&["ip", "link", "set", "lo", "up"]);
        TestHost { netns }
    }

    /// Runs an async test body on a thread that lives in this host namespace
    /// (tokio current-thread runtime; child processes inherit the namespace).
    pub fn run<F, Fut>(&self, body: F)
    where
        F: FnOnce() -> Fut + Send + 'static,
        Fut: std::future::Future<Output = ()>,
    {
        let ns = std::fs::File::open(self.netns.path()).expect("open host netns");
        let result = std::thread::spawn(move || {
            setns(&ns, CloneFlags::CLONE_NEWNET).expect("enter host netns");
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(body());
        })
        .join();
        if let Err(panic) = result {
            std::panic::resume_unwind(panic);
        }
    }

    pub fn sh(&self, args: &[&str]) -> String {
        self.netns.sh(args)
    }
}

/// A random byte in 100..=249 for unique subnets and names.
pub fn rand_octet() -> u8 {
    100 + (rand::random::<u8>() % 150)
}

pub fn rand_suffix() -> String {
    format!("{:06x}", rand::random::<u32>() & 0xff_ffff)
}

/// TCP server inside `netns` answering each connection with `reply` after reading a line.
pub fn spawn_tcp_server(netns: &Path, port: u16, reply: &'static str) {
    let ns = std::fs::File::open(netns).expect("open pod netns");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        setns(&ns, CloneFlags::CLONE_NEWNET).expect("enter pod netns");
        let listener = TcpListener::bind(("0.0.0.0", port)).expect("bind");
        tx.send(()).expect("ready");
        for mut conn in listener.incoming().flatten() {
            let mut buf = [0u8; 64];
            let _ = conn.read(&mut buf);
            let _ = conn.write_all(reply.as_bytes());
        }
    });
    rx.recv_timeout(Duration::from_secs(5))
        .expect("server ready");
}

/// UDP echo server inside `netns`.
pub fn spawn_udp_echo(netns: &Path, port: u16) {
    let ns = std::fs::File::open(netns).expect("open pod netns");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        setns(&ns, CloneFlags::CLONE_NEWNET).expect("enter pod netns");
        let sock = UdpSocket::bind(("0.0.0.0", port)).expect("bind udp");
        tx.send(()).expect("ready");
        let mut buf = [0u8; 256];
        while let Ok((n, from)) = sock.recv_from(&mut buf) {
            let _ = sock.send_to(&buf[..n], from);
        }
    });
    rx.recv_timeout(Duration::from_secs(5)).expect("udp ready");
}

/// Connects from the current namespace and returns the server's reply.
pub fn tcp_request(addr: SocketAddr) -> std::io::Result<String> {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(3))?;
    s.set_read_timeout(Some(Duration::from_secs(3)))?;
    s.write_all(b"hello\n")?;
    let mut out = String::new();
    s.read_to_string(&mut out)?;
    Ok(out)
}

pub fn udp_request(addr: SocketAddr, payload: &str) -> std::io::Result<String> {
    let s = UdpSocket::bind(("0.0.0.0", 0))?;
    s.set_read_timeout(Some(Duration::from_secs(3)))?;
    s.send_to(payload.as_bytes(), addr)?;
    let mut buf = [0u8; 256];
    let (n, _) = s.recv_from(&mut buf)?;
    Ok(String::from_utf8_lossy(&buf[..n]).into_owned())
}

/// Runs a TCP request from inside `netns` (a pod talking to another pod).
pub fn tcp_request_from(netns: &Path, addr: SocketAddr) -> std::io::Result<String> {
    run_in_netns(netns, move || tcp_request(addr)).expect("enter netns")
}

pub fn udp_request_from(
    netns: &Path,
    addr: SocketAddr,
    payload: &'static str,
) -> std::io::Result<String> {
    run_in_netns(netns, move || udp_request(addr, payload)).expect("enter netns")
}

pub fn v4(ip: std::net::IpAddr) -> Ipv4Addr {
    match ip {
        std::net::IpAddr::V4(v) => v,
        other => panic!("expected IPv4, got {other}"),
    }
}

impl TestNetns {
    pub fn sh_path(path: &Path, args: &[&str]) -> String {
        let netns = format!("--net={}", path.display());
        let out = Command::new("nsenter")
            .arg(netns)
            .args(args)
            .output()
            .expect("nsenter");
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}
