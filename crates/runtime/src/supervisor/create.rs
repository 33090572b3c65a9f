//! Container creation in a forked creator process. libcontainer's create blocks for its
//! whole set-up (namespaces, mounts, cgroups: 15–20 ms) and the supervisor is a single
//! thread, so creating in a child lets the containers of a pod be created side by side
//! while the supervisor keeps serving. The container's init is the creator's child; when the
//! creator exits it is reparented to the supervisor (a child subreaper), which reaps it.

use std::io::Read;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::net::UnixStream;

use anyhow::{bail, Context};
use nix::sys::signal::{signal, SigHandler, Signal};
use nix::sys::wait::waitpid;
use nix::unistd::{fork, pipe2, ForkResult, Pid};

use super::containers::{build_container, NewCtr};
use super::server::Supervisor;
use crate::errors::ProcessStartError;
use crate::protocol::{self, Response};

/// Report prefixes of a failed creation: the kind of error is kept across the pipe.
const ERROR: &str = "error: ";
const PROCESS_START_ERROR: &str = "process-start-error: ";

/// A container whose creator process is still at work; the caller's connection is
/// answered when it reports.
pub(super) struct PendingCreate {
    id: String,
    new: NewCtr,
    /// Read end of the creator's report, one line: `ok <pid>`, `error: <message>` or
    /// `process-start-error: <message>` (a [`ProcessStartError`]).
    report: OwnedFd,
    creator: Pid,
    conn: UnixStream,
}

impl PendingCreate {
    pub fn report_fd(&self) -> i32 {
        self.report.as_raw_fd()
    }
}

impl Supervisor {
    /// Starts creating container `id`; `conn` is answered by `finish_create`.
    pub(super) fn begin_create(&mut self, id: &str, conn: UnixStream) {
        match self.fork_creator(id) {
            Ok((new, report, creator)) => self.pending.push(PendingCreate {
                id: id.to_string(),
                new,
                report,
                creator,
                conn,
            }),
            Err(e) => {
                let _ = protocol::reply(&conn, &Response::failure(&e));
            }
        }
    }

    fn fork_creator(&mut self, id: &str) -> anyhow::Result<(NewCtr, OwnedFd, Pid)> {
        if self.containers.contains_key(id) || self.pending.iter().any(|p| p.id == id) {
            bail!("container {id} already exists");
        }
        let (new, inputs) = self.prepare_new(id)?;
        let (report_rd, report_wr) = pipe2(nix::fcntl::OFlag::O_CLOEXEC).context("pipe")?;
        // SAFETY: the supervisor is single-threaded, so the child may run ordinary code.
        match unsafe { fork() }.context("forking the container creator")? {
            ForkResult::Child => {
                drop(report_rd);
                let _ = nix::sys::prctl::set_name(c"pod-creator");
                // The supervisor's SIGCHLD handler would wake it for the creator's children.
                // SAFETY: restoring the default disposition.
                let _ = unsafe { signal(Signal::SIGCHLD, SigHandler::SigDfl) };
                let built = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    build_container(id, inputs)
                }));
                let line = match built {
                    Ok(Ok(pid)) => format!("ok {pid}\n"),
                    Ok(Err(e)) => {
                        let prefix = if e.downcast_ref::<ProcessStartError>().is_some() {
                            PROCESS_START_ERROR
                        } else {
                            ERROR
                        };
                        format!("{prefix}{}\n", format!("{e:#}").replace('\n', " "))
                    }
                    Err(_) => "error: the container creator panicked\n".to_string(),
                };
                let _ = nix::unistd::write(&report_wr, line.as_bytes());
                // SAFETY: leave without running the supervisor's destructors.
                unsafe { libc::_exit(0) }
            }
            ForkResult::Parent { child } => {
                // The container's stdio ends now live in the creator (and its init).
                drop(inputs);
                drop(report_wr);
                Ok((new, report_rd, child))
            }
        }
    }

    /// Answers the creations whose creator has reported (its report fd is in `ready`).
    pub(super) fn finish_ready_creates(&mut self, ready: &[i32]) {
        let mut i = 0;
        while i < self.pending.len() {
            if ready.contains(&self.pending[i].report_fd()) {
                let p = self.pending.swap_remove(i);
                self.finish_create(p);
            } else {
                i += 1;
            }
        }
    }

    /// Waits for every creation still under way (before shutting down).
    pub(super) fn finish_all_creates(&mut self) {
        for p in std::mem::take(&mut self.pending) {
            self.finish_create(p);
        }
    }

    fn finish_create(&mut self, p: PendingCreate) {
        let report = read_report(p.report);
        // The creator exits right after reporting; once reaped, its child (the container's
        // init) is ours. It may already have been reaped by `reap`.
        let _ = waitpid(p.creator, None);
        let resp = match report.and_then(|pid| self.register(&p.id, p.new, pid)) {
            Ok(pid) => Response {
                pid: Some(pid),
                ..Response::ok()
            },
            Err(e) => Response::failure(&e),
        };
        let _ = protocol::reply(&p.conn, &resp);
    }
}

/// Reads the creator's one-line report. Not to EOF: the container's init inherited the
/// write end and keeps it open until it execs.
fn read_report(fd: OwnedFd) -> anyhow::Result<i32> {
    let mut file = std::fs::File::from(fd);
    let mut line = Vec::new();
    let mut byte = [0u8; 1];
    while !line.ends_with(b"\n") {
        match file.read(&mut byte) {
            Ok(0) => break,
            Ok(_) => line.push(byte[0]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e).context("reading the creator's report"),
        }
    }
    let line = String::from_utf8_lossy(&line);
    let line = line.trim();
    if let Some(pid) = line.strip_prefix("ok ") {
        return pid.parse().context("creator reported a bad pid");
    }
    if let Some(msg) = line.strip_prefix(PROCESS_START_ERROR) {
        return Err(ProcessStartError(msg.to_string()).into());
    }
    match line.strip_prefix(ERROR) {
        Some(msg) => bail!("{msg}"),
        None => bail!("container creator died without a report"),
    }
}
