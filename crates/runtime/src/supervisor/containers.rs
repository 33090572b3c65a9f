//! Containers inside the supervisor: libcontainer create/start/delete, stdio and logs,
//! exit bookkeeping (exit code, OOMKilled, termination message).

use std::collections::HashMap;
use std::fs;
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use chrono::Utc;
use libcontainer::container::builder::ContainerBuilder;
use libcontainer::container::Container;
use libcontainer::syscall::syscall::SyscallType;
use nix::fcntl::{fcntl, FcntlArg, OFlag};
use nix::sys::wait::{waitpid, WaitStatus};
use nix::unistd::{pipe2, Pid};

use super::attach::{Attachment, StdinSink};
use super::server::Supervisor;
use super::tty_executor::TtyExecutor;
use crate::cgroups::{self, Layout};
use crate::config::TerminationMessagePolicy;
use crate::errors::ProcessStartError;
use crate::logs::{log_tail, LineSplitter, LogWriter, Stream};
use crate::status::{read_json, write_json_atomic, ContainerMeta, ContainerState, ContainerStatus};

const MAX_MESSAGE: usize = 4096;
const FALLBACK_LINES: usize = 80;
const FALLBACK_BYTES: usize = 2048;

struct Output {
    fd: OwnedFd,
    split: LineSplitter,
}

/// The container's own process identity, which exec'd processes inherit.
struct ExecDefaults {
    uid: u32,
    gid: u32,
    additional_gids: Vec<u32>,
    cwd: String,
}

pub struct Ctr {
    meta: ContainerMeta,
    exec_defaults: ExecDefaults,
    status_path: std::path::PathBuf,
    status: ContainerStatus,
    lc: Container,
    pub pid: Option<i32>,
    outputs: Vec<Output>,
    log: LogWriter,
    /// Write end of stdin (or the pty master), kept open so `stdin: true` keeps the
    /// container's stdin open, and written with what attached callers type.
    stdin: StdinSink,
    attachments: Vec<Attachment>,
    pub kill_at: Option<Instant>,
}

pub(super) fn nonblocking(fd: &OwnedFd) -> nix::Result<()> {
    let flags = OFlag::from_bits_truncate(fcntl(fd.as_raw_fd(), FcntlArg::F_GETFL)?);
    fcntl(fd.as_raw_fd(), FcntlArg::F_SETFL(flags | OFlag::O_NONBLOCK)).map(|_| ())
}

/// stdin, stdout, stderr for the container; what the supervisor keeps.
struct Stdio {
    child: [OwnedFd; 3],
    outputs: Vec<Output>,
    hold: Option<OwnedFd>,
}

fn make_stdio(meta: &ContainerMeta) -> anyhow::Result<Stdio> {
    if meta.tty {
        let pty = nix::pty::openpty(None, None).context("openpty")?;
        let master = pty.master;
        nonblocking(&master)?;
        let hold = master.try_clone()?;
        let s = pty.slave;
        return Ok(Stdio {
            child: [s.try_clone()?, s.try_clone()?, s],
            outputs: vec![Output {
                fd: master,
                split: LineSplitter::new(Stream::Stdout),
            }],
            hold: Some(hold),
        });
    }
    let (out_r, out_w) = pipe2(OFlag::O_CLOEXEC)?;
    let (err_r, err_w) = pipe2(OFlag::O_CLOEXEC)?;
    nonblocking(&out_r)?;
    nonblocking(&err_r)?;
    let (stdin_child, hold) = if meta.stdin {
        let (r, w) = pipe2(OFlag::O_CLOEXEC)?;
        nonblocking(&w)?;
        (r, Some(w))
    } else {
        (OwnedFd::from(fs::File::open("/dev/null")?), None)
    };
    Ok(Stdio {
        child: [stdin_child, out_w, err_w],
        outputs: vec![
            Output {
                fd: out_r,
                split: LineSplitter::new(Stream::Stdout),
            },
            Output {
                fd: err_r,
                split: LineSplitter::new(Stream::Stderr),
            },
        ],
        hold,
    })
}

/// What the supervisor keeps of a container between preparing it and registering it once
/// libcontainer has created it (in a creator process, see `create.rs`).
pub(super) struct NewCtr {
    meta: ContainerMeta,
    exec_defaults: ExecDefaults,
    outputs: Vec<Output>,
    hold: Option<OwnedFd>,
    log: LogWriter,
}

/// The container's side of its stdio and its bundle: what the creator needs.
pub(super) struct CreateInputs {
    pub stdio: [OwnedFd; 3],
    pub bundle: PathBuf,
    pub root: PathBuf,
}

/// Runs libcontainer's create (namespaces, mounts, cgroups; the init then waits for
/// `start`) and returns the init's pid.
pub(super) fn build_container(id: &str, inputs: CreateInputs) -> anyhow::Result<i32> {
    let [sin, sout, serr] = inputs.stdio;
    let lc = ContainerBuilder::new(id.to_string(), SyscallType::default())
        .with_root_path(inputs.root)
        .context("libcontainer root")?
        .with_stdin(sin)
        .with_stdout(sout)
        .with_stderr(serr)
        .with_executor(TtyExecutor)
        .as_init(inputs.bundle)
        .with_systemd(false)
        .with_detach(true)
        .build()
        .map_err(|e| {
            let message = format!("creating container {id}: {e}");
            if exec_failed(&e) {
                anyhow::Error::new(ProcessStartError(message))
            } else {
                anyhow::anyhow!(message)
            }
        })?;
    lc.pid()
        .map(|p| p.as_raw())
        .context("libcontainer returned no pid")
}

/// Whether libcontainer failed because the container's init could not execute the process
/// (its executor's validation or exec: missing or non-executable binary, bad cwd). That
/// failure reaches us as `ChannelError::ExecError` wrapped in `CreateContainerError`, whose
/// fields libcontainer 0.7 keeps private, so the variant is read from the error's derived
/// `Debug` form: its variant names, not its wording.
fn exec_failed(e: &libcontainer::error::LibcontainerError) -> bool {
    format!("{e:?}").contains("ExecError(")
}

impl Supervisor {
    /// Reads the container's meta and spec and opens its stdio and log.
    pub(super) fn prepare_new(&self, id: &str) -> anyhow::Result<(NewCtr, CreateInputs)> {
        let cpaths = self.paths.container(id);
        let meta: ContainerMeta = read_json(&cpaths.meta())?;
        let spec = oci_spec::runtime::Spec::load(cpaths.bundle().join("config.json"))
            .context("loading config.json")?;
        let process = spec
            .process()
            .clone()
            .context("config.json has no process")?;
        let exec_defaults = ExecDefaults {
            uid: process.user().uid(),
            gid: process.user().gid(),
            additional_gids: process.user().additional_gids().clone().unwrap_or_default(),
            cwd: process.cwd().to_string_lossy().to_string(),
        };
        let stdio = make_stdio(&meta)?;
        let log = LogWriter::open(&meta.log_path)
            .with_context(|| format!("opening log {}", meta.log_path.display()))?;
        Ok((
            NewCtr {
                meta,
                exec_defaults,
                outputs: stdio.outputs,
                hold: stdio.hold,
                log,
            },
            CreateInputs {
                stdio: stdio.child,
                bundle: cpaths.bundle(),
                root: self.paths.libcontainer_root(),
            },
        ))
    }

    /// Takes over a container libcontainer created with init `pid`.
    pub(super) fn register(&mut self, id: &str, new: NewCtr, pid: i32) -> anyhow::Result<i32> {
        let lc = Container::load(self.paths.libcontainer_root().join(id))
            .map_err(|e| anyhow::anyhow!("loading container {id}: {e}"))?;
        let cpaths = self.paths.container(id);
        let meta = new.meta;
        let status = ContainerStatus {
            id: id.to_string(),
            name: meta.name.clone(),
            sandbox_id: meta.sandbox_id.clone(),
            state: ContainerState::Created,
            pid: Some(pid),
            exit_code: None,
            created_at: meta.created_at,
            started_at: None,
            finished_at: None,
            reason: None,
            message: None,
            log_path: meta.log_path.clone(),
            restart_count: meta.restart_count,
        };
        write_json_atomic(&cpaths.status(), &status)?;
        self.containers.insert(
            id.to_string(),
            Ctr {
                meta,
                exec_defaults: new.exec_defaults,
                status_path: cpaths.status(),
                status,
                lc,
                pid: Some(pid),
                outputs: new.outputs,
                log: new.log,
                stdin: StdinSink::new(new.hold),
                attachments: Vec::new(),
                kill_at: None,
            },
        );
        Ok(pid)
    }

    pub(super) fn remove(&mut self, id: &str) -> anyhow::Result<()> {
        let Some(c) = self.containers.get_mut(id) else {
            return Ok(());
        };
        if let Some(pid) = c.pid {
            c.signal(libc::SIGKILL);
            let code = match waitpid(Pid::from_raw(pid), None) {
                Ok(WaitStatus::Exited(_, code)) => code,
                Ok(WaitStatus::Signaled(_, s, _)) => 128 + s as i32,
                _ => 137,
            };
            let layout = self.layout;
            c.on_exit(layout, code);
        }
        let mut c = self.containers.remove(id).context("container vanished")?;
        c.lc.delete(true)
            .map_err(|e| anyhow::anyhow!("deleting container {id}: {e}"))?;
        Ok(())
    }

    pub(super) fn exec(
        &mut self,
        id: &str,
        args: Vec<String>,
        env: Vec<String>,
        cwd: Option<String>,
        fds: Vec<OwnedFd>,
    ) -> anyhow::Result<i32> {
        let c = self
            .containers
            .get(id)
            .with_context(|| format!("no container {id} in this sandbox"))?;
        if c.status.state != ContainerState::Running {
            bail!("container {id} is not running");
        }
        if args.is_empty() {
            bail!("exec needs a command");
        }
        let [sin, sout, serr]: [OwnedFd; 3] = fds
            .try_into()
            .map_err(|_| anyhow::anyhow!("exec needs 3 fds"))?;
        let env: HashMap<String, String> = env
            .iter()
            .filter_map(|e| {
                e.split_once('=')
                    .map(|(k, v)| (k.to_string(), v.to_string()))
            })
            .collect();
        let d = &c.exec_defaults;
        let pid = ContainerBuilder::new(id.to_string(), SyscallType::default())
            .with_root_path(self.paths.libcontainer_root())
            .context("libcontainer root")?
            .with_stdin(sin)
            .with_stdout(sout)
            .with_stderr(serr)
            .with_executor(TtyExecutor)
            .as_tenant()
            .with_container_args(args)
            .with_env(env)
            .with_cwd(Some(cwd.unwrap_or_else(|| d.cwd.clone())))
            .with_user(Some(d.uid))
            .with_group(Some(d.gid))
            .with_additional_gids(d.additional_gids.clone())
            .with_detach(true)
            .build()
            .map_err(|e| anyhow::anyhow!("exec in {id}: {e}"))?;
        Ok(pid.as_raw())
    }
}

impl Ctr {
    /// What the event loop waits on for this container: (fd, events).
    pub fn poll_fds(&self) -> Vec<(i32, i16)> {
        let mut fds: Vec<(i32, i16)> = self
            .outputs
            .iter()
            .map(|o| (o.fd.as_raw_fd(), libc::POLLIN))
            .collect();
        for a in &self.attachments {
            fds.push((a.conn_fd(), libc::POLLIN));
        }
        match &self.stdin.fd {
            Some(fd) if !self.stdin.pending.is_empty() => {
                fds.push((fd.as_raw_fd(), libc::POLLOUT));
            }
            Some(_) => fds.extend(
                self.attachments
                    .iter()
                    .filter_map(|a| a.stdin_fd())
                    .map(|fd| (fd, libc::POLLIN)),
            ),
            None => {}
        }
        fds
    }

    /// Moves available output into the log and to attached callers, and callers' input
    /// to the container's stdin; closed streams and departed callers are dropped.
    pub fn pump(&mut self, ready: &[i32]) {
        let (log, attachments) = (&mut self.log, &mut self.attachments);
        self.outputs.retain_mut(|o| {
            if !ready.contains(&o.fd.as_raw_fd()) {
                return true;
            }
            drain(o, log, attachments)
        });
        // Anything readable on a control connection means the caller hung up.
        self.attachments.retain(|a| !ready.contains(&a.conn_fd()));
        if self.stdin.fd.is_some() {
            for a in &mut self.attachments {
                if a.stdin_fd().is_some_and(|fd| ready.contains(&fd))
                    && !a.read_stdin(&mut self.stdin.pending)
                    && self.meta.stdin_once
                    && !self.meta.tty
                {
                    self.stdin.close_when_flushed = true;
                }
            }
        }
        self.stdin.flush();
    }

    fn drain_all(&mut self) {
        let (log, attachments) = (&mut self.log, &mut self.attachments);
        self.outputs.retain_mut(|o| drain(o, log, attachments));
    }

    pub fn check_running(&self) -> anyhow::Result<()> {
        if self.status.state != ContainerState::Running {
            bail!("container {} is not running", self.meta.name);
        }
        Ok(())
    }

    pub fn add_attachment(&mut self, a: Attachment) {
        self.attachments.push(a);
    }

    /// Sets the terminal size of a tty container (a no-op without a tty, as in kubelet).
    pub fn resize(&self, cols: u16, rows: u16) -> anyhow::Result<()> {
        let (true, Some(fd)) = (self.meta.tty, self.outputs.first()) else {
            return Ok(());
        };
        let ws = libc::winsize {
            ws_row: rows,
            ws_col: cols,
            ws_xpixel: 0,
            ws_ypixel: 0,
        };
        // SAFETY: TIOCSWINSZ with a valid winsize on the container's pty master.
        if unsafe { libc::ioctl(fd.fd.as_raw_fd(), libc::TIOCSWINSZ, &ws) } != 0 {
            bail!("resize: {}", std::io::Error::last_os_error());
        }
        Ok(())
    }

    pub fn start(&mut self) -> anyhow::Result<()> {
        if self.status.state != ContainerState::Created {
            bail!(
                "container {} is {:?}, not created",
                self.meta.id,
                self.status.state
            );
        }
        self.lc
            .start()
            .map_err(|e| anyhow::anyhow!("starting container {}: {e}", self.meta.id))?;
        self.status.state = ContainerState::Running;
        self.status.started_at = Some(Utc::now());
        write_json_atomic(&self.status_path, &self.status)
    }

    pub fn signal(&self, sig: i32) {
        if let Some(pid) = self.pid {
            // SAFETY: kill(2) on our own, not yet reaped, child.
            unsafe { libc::kill(pid, sig) };
        }
    }

    pub fn stop(&mut self, sig: i32, grace: Duration) {
        if self.pid.is_none() {
            return;
        }
        if self.status.state == ContainerState::Created || grace.is_zero() {
            self.signal(libc::SIGKILL);
            return;
        }
        self.signal(sig);
        self.kill_at = Some(Instant::now() + grace);
    }

    pub fn reopen_log(&mut self) -> anyhow::Result<()> {
        self.log.reopen().context("reopening log")
    }

    /// Records the exit of the container's main process.
    pub fn on_exit(&mut self, layout: Layout, code: i32) {
        self.pid = None;
        self.kill_at = None;
        // Leftovers (possible in a shared PID namespace) die with the main process.
        for p in cgroups::procs(layout, &self.meta.cgroup_rel) {
            // SAFETY: kill(2) on pids listed in the container's own cgroup.
            unsafe { libc::kill(p, libc::SIGKILL) };
        }
        self.drain_all();
        for a in self.attachments.drain(..) {
            a.finish(code);
        }
        let oom = cgroups::oom_kills(layout, &self.meta.cgroup_rel) > 0;
        let now = Utc::now();
        let was_started = self.status.started_at.is_some();
        self.status.state = ContainerState::Exited;
        self.status.exit_code = Some(code);
        self.status.finished_at = Some(now);
        if !was_started {
            self.status.started_at = Some(now);
        }
        self.status.reason = Some(
            if oom {
                "OOMKilled"
            } else if code == 0 {
                "Completed"
            } else {
                "Error"
            }
            .to_string(),
        );
        self.status.message = self.termination_message(code);
        self.status.pid = None;
        if let Err(e) = write_json_atomic(&self.status_path, &self.status) {
            eprintln!("recording exit of {}: {e:#}", self.meta.id);
        }
    }

    fn termination_message(&self, code: i32) -> Option<String> {
        let mut msg = fs::read(&self.meta.termination_log).unwrap_or_default();
        msg.truncate(MAX_MESSAGE);
        let msg = String::from_utf8_lossy(&msg).to_string();
        if msg.is_empty()
            && code != 0
            && self.meta.termination_policy == TerminationMessagePolicy::FallbackToLogsOnError
        {
            let tail = log_tail(&self.meta.log_path, FALLBACK_LINES, FALLBACK_BYTES);
            return (!tail.is_empty()).then_some(tail);
        }
        (!msg.is_empty()).then_some(msg)
    }
}

/// Reads what is available; returns false once the stream is closed.
fn drain(o: &mut Output, log: &mut LogWriter, attachments: &mut [Attachment]) -> bool {
    let mut buf = [0u8; 16 * 1024];
    loop {
        match nix::unistd::read(o.fd.as_raw_fd(), &mut buf) {
            Ok(0) => {
                o.split.finish(log);
                return false;
            }
            Ok(n) => {
                for a in attachments.iter_mut() {
                    a.write(o.split.stream, &buf[..n]);
                }
                o.split.feed(&buf[..n], log)
            }
            Err(nix::errno::Errno::EAGAIN) => return true,
            Err(nix::errno::Errno::EINTR) => continue,
            // EIO: the pty's slave side is gone.
            Err(_) => {
                o.split.finish(log);
                return false;
            }
        }
    }
}
