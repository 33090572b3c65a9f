//! The supervisor's event loop: control socket, container output, SIGCHLD, stop timers.

use std::collections::HashMap;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::net::{UnixListener, UnixStream};
use std::time::{Duration, Instant};

use anyhow::Context;
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::Pid;

use super::containers::Ctr;
use super::create::PendingCreate;
use super::signals;
use crate::cgroups::{self, Layout};
use crate::paths::SandboxPaths;
use crate::protocol::{self, Request, Response};

pub struct Supervisor {
    pub(super) paths: SandboxPaths,
    pub(super) layout: Layout,
    pause_pid: Option<i32>,
    listener: UnixListener,
    sig_fd: OwnedFd,
    pub(super) containers: HashMap<String, Ctr>,
    /// Containers being created by creator processes.
    pub(super) pending: Vec<PendingCreate>,
    /// Exec processes waiting for their exit code to be sent back.
    execs: HashMap<i32, UnixStream>,
    shutdown: bool,
}

impl Supervisor {
    pub fn new(paths: SandboxPaths, pause_pid: i32, sig_fd: OwnedFd) -> anyhow::Result<Self> {
        let sock = paths.socket();
        let _ = std::fs::remove_file(&sock);
        let listener =
            UnixListener::bind(&sock).with_context(|| format!("binding {}", sock.display()))?;
        listener.set_nonblocking(true)?;
        Ok(Supervisor {
            paths,
            layout: cgroups::detect(),
            pause_pid: Some(pause_pid),
            listener,
            sig_fd,
            containers: HashMap::new(),
            pending: Vec::new(),
            execs: HashMap::new(),
            shutdown: false,
        })
    }

    pub fn pause_pid(&self) -> i32 {
        self.pause_pid.unwrap_or(0)
    }

    pub fn run(&mut self) {
        while !self.shutdown {
            let mut fds = vec![
                libc::pollfd {
                    fd: self.listener.as_raw_fd(),
                    events: libc::POLLIN,
                    revents: 0,
                },
                libc::pollfd {
                    fd: self.sig_fd.as_raw_fd(),
                    events: libc::POLLIN,
                    revents: 0,
                },
            ];
            for c in self.containers.values() {
                for (fd, events) in c.poll_fds() {
                    fds.push(libc::pollfd {
                        fd,
                        events,
                        revents: 0,
                    });
                }
            }
            for p in &self.pending {
                fds.push(libc::pollfd {
                    fd: p.report_fd(),
                    events: libc::POLLIN,
                    revents: 0,
                });
            }
            let timeout = self
                .next_deadline()
                .map(|d| d.as_millis().min(1000) as i32)
                .unwrap_or(1000);
            // SAFETY: fds is a valid array of pollfd for the duration of the call.
            let n = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, timeout) };
            if n < 0 {
                continue;
            }
            let ready: Vec<i32> = fds[2..]
                .iter()
                .filter(|p| p.revents != 0)
                .map(|p| p.fd)
                .collect();
            for c in self.containers.values_mut() {
                c.pump(&ready);
            }
            if fds[1].revents != 0 {
                signals::drain(&self.sig_fd);
            }
            // Reaping every loop is cheap and covers a lost wake-up.
            self.reap();
            self.finish_ready_creates(&ready);
            if fds[0].revents != 0 {
                self.accept_all();
            }
            self.fire_deadlines();
        }
    }

    fn next_deadline(&self) -> Option<Duration> {
        let now = Instant::now();
        self.containers
            .values()
            .filter_map(|c| c.kill_at)
            .min()
            .map(|d| d.saturating_duration_since(now))
    }

    fn fire_deadlines(&mut self) {
        let now = Instant::now();
        for c in self.containers.values_mut() {
            if c.kill_at.is_some_and(|d| d <= now) {
                c.kill_at = None;
                c.signal(libc::SIGKILL);
            }
        }
    }

    fn reap(&mut self) {
        loop {
            match waitpid(Pid::from_raw(-1), Some(WaitPidFlag::WNOHANG)) {
                Ok(WaitStatus::StillAlive) | Err(_) => return,
                Ok(st) => {
                    let Some(pid) = st.pid().map(|p| p.as_raw()) else {
                        continue;
                    };
                    let code = match st {
                        WaitStatus::Exited(_, c) => c,
                        WaitStatus::Signaled(_, s, _) => 128 + s as i32,
                        _ => continue,
                    };
                    self.on_exit(pid, code);
                }
            }
        }
    }

    pub(super) fn on_exit(&mut self, pid: i32, code: i32) {
        if self.pause_pid == Some(pid) {
            eprintln!("pause process {pid} exited with {code}");
            self.pause_pid = None;
            return;
        }
        if let Some(conn) = self.execs.remove(&pid) {
            let _ = protocol::reply(
                &conn,
                &Response {
                    exit_code: Some(code),
                    ..Response::ok()
                },
            );
            return;
        }
        let layout = self.layout;
        if let Some(c) = self.containers.values_mut().find(|c| c.pid == Some(pid)) {
            c.on_exit(layout, code);
        }
    }

    fn accept_all(&mut self) {
        while let Ok((stream, _)) = self.listener.accept() {
            let _ = stream.set_nonblocking(false);
            let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
            let _ = stream.set_write_timeout(Some(Duration::from_secs(5)));
            match protocol::receive(&stream) {
                Ok((req, fds)) => self.handle(req, fds, stream),
                Err(e) => {
                    let _ = protocol::reply(&stream, &Response::err(format!("{e:#}")));
                }
            }
        }
    }

    fn handle(&mut self, req: Request, fds: Vec<OwnedFd>, stream: UnixStream) {
        let resp = match req {
            Request::Ping => Ok(Response {
                pause_pid: self.pause_pid,
                ..Response::ok()
            }),
            Request::Create { id } => {
                self.begin_create(&id, stream);
                return;
            }
            Request::Start { id } => self.with_ctr(&id, |c| c.start()),
            Request::Stop {
                id,
                signal,
                grace_ms,
            } => self.with_ctr(&id, |c| {
                c.stop(signal, Duration::from_millis(grace_ms));
                Ok(())
            }),
            Request::Remove { id } => self.remove(&id).map(|_| Response::ok()),
            Request::ReopenLog { id } => self.with_ctr(&id, |c| c.reopen_log()),
            Request::Resize { id, cols, rows } => self.with_ctr(&id, |c| c.resize(cols, rows)),
            Request::Attach { id, stdin } => match self.attach(&id, stdin, fds, &stream) {
                Ok(()) => return,
                Err(e) => Err(e),
            },
            Request::Exec { id, args, env, cwd } => match self.exec(&id, args, env, cwd, fds) {
                Ok(pid) => {
                    if protocol::reply(
                        &stream,
                        &Response {
                            pid: Some(pid),
                            ..Response::ok()
                        },
                    )
                    .is_ok()
                    {
                        let _ = stream.set_write_timeout(Some(Duration::from_secs(5)));
                        self.execs.insert(pid, stream);
                    }
                    return;
                }
                Err(e) => Err(e),
            },
            Request::Shutdown => {
                self.shutdown_all();
                Ok(Response::ok())
            }
        };
        let resp = resp.unwrap_or_else(|e| Response::err(format!("{e:#}")));
        let _ = protocol::reply(&stream, &resp);
    }

    fn with_ctr(
        &mut self,
        id: &str,
        f: impl FnOnce(&mut Ctr) -> anyhow::Result<()>,
    ) -> anyhow::Result<Response> {
        let c = self
            .containers
            .get_mut(id)
            .with_context(|| format!("no container {id} in this sandbox"))?;
        f(c)?;
        Ok(Response::ok())
    }

    /// Kills everything the pod still runs; the process exits after replying.
    fn shutdown_all(&mut self) {
        self.finish_all_creates();
        let ids: Vec<String> = self.containers.keys().cloned().collect();
        for id in ids {
            let _ = self.remove(&id);
        }
        if let Some(pid) = self.pause_pid.take() {
            // SAFETY: kill(2) on our own child.
            unsafe { libc::kill(pid, libc::SIGKILL) };
            let _ = waitpid(Pid::from_raw(pid), None);
        }
        let _ = std::fs::remove_file(self.paths.socket());
        self.shutdown = true;
    }
}
