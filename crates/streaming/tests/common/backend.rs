//! A backend whose "containers" are local processes: exec runs `command` directly on this
//! machine (pipes, or a real pty for tty), logs come from a temp file, port-forward dials into
//! a test network namespace.

use std::os::fd::{AsRawFd, OwnedFd};
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use futures::future::BoxFuture;
use nix::pty::openpty;
use peapod_streaming::{
    BoxedReader, BoxedWriter, ContainerRef, LogSource, Process, ProcessControl, StdioSpec,
    StreamError, StreamingBackend, TerminalSize,
};
use tokio::process::{Child, Command};

pub const NAMESPACE: &str = "default";
pub const POD: &str = "web";
pub const CONTAINER: &str = "main";

pub struct TestBackend {
    pub log_path: PathBuf,
    pub previous_log_path: PathBuf,
    pub running: Arc<AtomicBool>,
    pub netns: Option<PathBuf>,
    /// What `attach` runs as the container's "main process".
    pub attach_command: Vec<String>,
}

impl TestBackend {
    pub fn new(log_dir: &std::path::Path) -> Self {
        TestBackend {
            log_path: log_dir.join("1.log"),
            previous_log_path: log_dir.join("0.log"),
            running: Arc::new(AtomicBool::new(true)),
            netns: None,
            attach_command: vec![
                "sh".into(),
                "-c".into(),
                "echo attached; read x; echo got $x".into(),
            ],
        }
    }
}

fn check_pod(namespace: &str, pod: &str) -> Result<(), StreamError> {
    if namespace != NAMESPACE || pod != POD {
        return Err(StreamError::NotFound(format!("pods \"{pod}\" not found")));
    }
    Ok(())
}

impl StreamingBackend for TestBackend {
    fn check_container(&self, target: &ContainerRef) -> Result<(), StreamError> {
        check_pod(&target.namespace, &target.pod)?;
        if !target.container.is_empty() && target.container != CONTAINER {
            return Err(StreamError::BadRequest(format!(
                "container {} is not valid for pod {}",
                target.container, target.pod
            )));
        }
        Ok(())
    }

    fn log_source(&self, target: &ContainerRef, previous: bool) -> Result<LogSource, StreamError> {
        self.check_container(target)?;
        let running = self.running.clone();
        Ok(LogSource {
            path: if previous {
                self.previous_log_path.clone()
            } else {
                self.log_path.clone()
            },
            is_running: Box::new(move || !previous && running.load(Ordering::SeqCst)),
        })
    }

    fn exec(
        &self,
        target: ContainerRef,
        command: Vec<String>,
        stdio: StdioSpec,
    ) -> BoxFuture<'static, Result<Process, StreamError>> {
        let checked = self.check_container(&target);
        Box::pin(async move {
            checked?;
            spawn_local(command, stdio)
        })
    }

    fn attach(
        &self,
        target: ContainerRef,
        stdio: StdioSpec,
    ) -> BoxFuture<'static, Result<Process, StreamError>> {
        let checked = self.check_container(&target);
        let command = self.attach_command.clone();
        Box::pin(async move {
            checked?;
            spawn_local(command, stdio)
        })
    }

    fn pod_netns(&self, namespace: &str, pod: &str) -> Result<PathBuf, StreamError> {
        check_pod(namespace, pod)?;
        self.netns
            .clone()
            .ok_or_else(|| StreamError::BadRequest("pod has no network namespace".into()))
    }
}

struct LocalControl {
    child: tokio::sync::Mutex<Child>,
    pty_master: Option<OwnedFd>,
}

impl ProcessControl for LocalControl {
    fn resize(&self, size: TerminalSize) -> Result<(), StreamError> {
        let Some(master) = &self.pty_master else {
            return Ok(());
        };
        let winsize = libc::winsize {
            ws_row: size.height,
            ws_col: size.width,
            ws_xpixel: 0,
            ws_ypixel: 0,
        };
        // SAFETY: TIOCSWINSZ reads a winsize struct from a valid pointer on an open pty fd.
        let rc = unsafe { libc::ioctl(master.as_raw_fd(), libc::TIOCSWINSZ, &winsize) };
        if rc != 0 {
            return Err(StreamError::internal(std::io::Error::last_os_error()));
        }
        Ok(())
    }

    fn wait(&self) -> BoxFuture<'_, Result<i32, StreamError>> {
        Box::pin(async move {
            let status = self
                .child
                .lock()
                .await
                .wait()
                .await
                .map_err(StreamError::internal)?;
            Ok(status.code().unwrap_or(137))
        })
    }
}

fn spawn_local(command: Vec<String>, stdio: StdioSpec) -> Result<Process, StreamError> {
    let (program, args) = command
        .split_first()
        .ok_or_else(|| StreamError::BadRequest("empty command".into()))?;
    let mut cmd = Command::new(program);
    cmd.args(args).kill_on_drop(true);
    if stdio.tty {
        return spawn_with_pty(cmd);
    }
    let pipe = |wanted: bool| {
        if wanted {
            Stdio::piped()
        } else {
            Stdio::null()
        }
    };
    cmd.stdin(pipe(stdio.stdin))
        .stdout(pipe(stdio.stdout))
        .stderr(pipe(stdio.stderr));
    let mut child = cmd
        .spawn()
        .map_err(|e| StreamError::Internal(format!("exec failed: {e}")))?;
    Ok(Process {
        stdin: child.stdin.take().map(|s| Box::new(s) as BoxedWriter),
        stdout: child.stdout.take().map(|s| Box::new(s) as BoxedReader),
        stderr: child.stderr.take().map(|s| Box::new(s) as BoxedReader),
        control: Box::new(LocalControl {
            child: tokio::sync::Mutex::new(child),
            pty_master: None,
        }),
    })
}

fn spawn_with_pty(mut cmd: Command) -> Result<Process, StreamError> {
    let pty = openpty(None, None).map_err(StreamError::internal)?;
    let slave = pty.slave;
    let stdio = |fd: &OwnedFd| -> Result<Stdio, StreamError> {
        Ok(Stdio::from(fd.try_clone().map_err(StreamError::internal)?))
    };
    cmd.stdin(stdio(&slave)?)
        .stdout(stdio(&slave)?)
        .stderr(stdio(&slave)?);
    // SAFETY: only async-signal-safe calls (setsid, ioctl) between fork and exec.
    unsafe {
        cmd.pre_exec(|| {
            if libc::setsid() < 0 || libc::ioctl(0, libc::TIOCSCTTY, 0) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let child = cmd
        .spawn()
        .map_err(|e| StreamError::Internal(format!("exec failed: {e}")))?;
    drop(cmd);
    drop(slave); // the master reads EIO once the child's copies are gone
    let reader = std::fs::File::from(pty.master.try_clone().map_err(StreamError::internal)?);
    let writer = std::fs::File::from(pty.master.try_clone().map_err(StreamError::internal)?);
    Ok(Process {
        stdin: Some(Box::new(tokio::fs::File::from_std(writer))),
        stdout: Some(Box::new(tokio::fs::File::from_std(reader))),
        stderr: None,
        control: Box::new(LocalControl {
            child: tokio::sync::Mutex::new(child),
            pty_master: Some(pty.master),
        }),
    })
}
