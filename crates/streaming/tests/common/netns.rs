//! A real network namespace (unshared on a helper thread, bind-mounted to a temp file) with
//! loopback up and a TCP echo server listening inside it. Everything is removed on drop.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use nix::mount::{mount, umount2, MntFlags, MsFlags};
use nix::sched::{unshare, CloneFlags};

pub struct TestNetns {
    pub path: PathBuf,
    /// Port of the echo server (echoes until EOF, then closes).
    pub echo_port: u16,
    /// A port nobody listens on inside the namespace.
    pub closed_port: u16,
    stop: Arc<AtomicBool>,
    _dir: tempfile::TempDir,
}

impl TestNetns {
    pub fn create() -> anyhow::Result<Self> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("netns");
        std::fs::File::create(&path)?;
        let stop = Arc::new(AtomicBool::new(false));
        let (tx, rx) = std::sync::mpsc::channel();
        let mount_point = path.clone();
        let stop_flag = stop.clone();
        std::thread::spawn(move || {
            let setup = (|| -> anyhow::Result<(TcpListener, u16)> {
                // unshare() affects only this thread; the test's other threads stay outside.
                unshare(CloneFlags::CLONE_NEWNET)?;
                let tid = nix::unistd::gettid();
                mount(
                    Some(format!("/proc/self/task/{tid}/ns/net").as_str()),
                    &mount_point,
                    None::<&str>,
                    MsFlags::MS_BIND,
                    None::<&str>,
                )?;
                // A child forked from this thread inherits its network namespace.
                let status = std::process::Command::new("ip")
                    .args(["link", "set", "lo", "up"])
                    .status()?;
                anyhow::ensure!(status.success(), "ip link set lo up failed");
                let listener = TcpListener::bind("127.0.0.1:0")?;
                let closed_port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
                Ok((listener, closed_port))
            })();
            match setup {
                Ok((listener, closed_port)) => {
                    let port = listener.local_addr().map(|a| a.port()).unwrap_or(0);
                    let _ = tx.send(Ok((port, closed_port)));
                    echo_server(listener, stop_flag);
                }
                Err(err) => {
                    let _ = tx.send(Err(err));
                }
            }
        });
        let created = rx.recv_timeout(Duration::from_secs(10));
        let guard_on_failure = |dir| TestNetns {
            path: path.clone(),
            echo_port: 0,
            closed_port: 0,
            stop: stop.clone(),
            _dir: dir,
        };
        match created {
            Ok(Ok((echo_port, closed_port))) => Ok(TestNetns {
                path,
                echo_port,
                closed_port,
                stop,
                _dir: dir,
            }),
            Ok(Err(err)) => {
                drop(guard_on_failure(dir));
                Err(err)
            }
            Err(err) => {
                drop(guard_on_failure(dir));
                Err(anyhow::anyhow!("netns setup timed out: {err}"))
            }
        }
    }
}

impl Drop for TestNetns {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = umount2(&self.path, MntFlags::MNT_DETACH);
    }
}

fn echo_server(listener: TcpListener, stop: Arc<AtomicBool>) {
    if listener.set_nonblocking(true).is_err() {
        return;
    }
    while !stop.load(Ordering::SeqCst) {
        match listener.accept() {
            Ok((mut conn, _)) => {
                std::thread::spawn(move || {
                    let _ = conn.set_nonblocking(false);
                    let mut buf = [0u8; 16 * 1024];
                    loop {
                        match conn.read(&mut buf) {
                            Ok(0) | Err(_) => break,
                            Ok(n) => {
                                if conn.write_all(&buf[..n]).is_err() {
                                    break;
                                }
                            }
                        }
                    }
                });
            }
            Err(_) => std::thread::sleep(Duration::from_millis(10)),
        }
    }
}
