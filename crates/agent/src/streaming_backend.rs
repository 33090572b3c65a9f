//! The agent's side of the streaming server: logs from the runtime's CRI files, exec through
//! the runtime, port-forward into the sandbox's network namespace.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use futures::future::BoxFuture;
use peapod_runtime::{
    AttachOptions, AttachSession, ContainerState, ExecOptions, ExecSession, Runtime,
};
use peapod_streaming::{
    ContainerRef, LogSource, Process, ProcessControl, StdioSpec, StreamError, StreamingBackend,
    TerminalSize,
};

use crate::ctx::{Ctx, PodRuntimeInfo};

pub struct AgentStreaming {
    pub ctx: Arc<Ctx>,
}

impl AgentStreaming {
    fn pod(&self, namespace: &str, pod: &str) -> Result<PodRuntimeInfo, StreamError> {
        self.ctx
            .find_pod(namespace, pod)
            .ok_or_else(|| StreamError::NotFound(format!("pods {pod:?} not found")))
    }

    /// (current id, previous id) of the target container.
    fn ids(&self, t: &ContainerRef) -> Result<(String, Option<String>), StreamError> {
        let info = self.pod(&t.namespace, &t.pod)?;
        let name = if t.container.is_empty() {
            if info.containers.len() != 1 {
                let mut names: Vec<&String> = info.containers.keys().collect();
                names.sort();
                return Err(StreamError::BadRequest(format!(
                    "a container name must be specified for pod {}, choose one of: {names:?}",
                    t.pod
                )));
            }
            info.containers.keys().next().cloned().unwrap_or_default()
        } else {
            t.container.clone()
        };
        info.containers.get(&name).cloned().ok_or_else(|| {
            StreamError::BadRequest(format!("container {name} is not valid for pod {}", t.pod))
        })
    }
}

struct ExecControl {
    pid: i32,
    session: Mutex<Option<ExecSession>>,
    resize_fd: std::fs::File,
    done: Arc<std::sync::atomic::AtomicBool>,
}

impl ProcessControl for ExecControl {
    fn resize(&self, size: TerminalSize) -> Result<(), StreamError> {
        let ws = libc::winsize {
            ws_row: size.height,
            ws_col: size.width,
            ws_xpixel: 0,
            ws_ypixel: 0,
        };
        use std::os::fd::AsRawFd;
        // SAFETY: TIOCSWINSZ on the exec's pty master (ignored by pipes).
        unsafe { libc::ioctl(self.resize_fd.as_raw_fd(), libc::TIOCSWINSZ, &ws) };
        Ok(())
    }

    fn wait(&self) -> BoxFuture<'_, Result<i32, StreamError>> {
        let session = self.session.lock().ok().and_then(|mut s| s.take());
        let done = self.done.clone();
        Box::pin(async move {
            let s = session.ok_or_else(|| StreamError::internal("exec already waited for"))?;
            let code = tokio::task::spawn_blocking(move || s.wait())
                .await
                .map_err(StreamError::internal)?
                .map_err(StreamError::internal)?;
            done.store(true, std::sync::atomic::Ordering::SeqCst);
            Ok(code)
        })
    }
}

impl Drop for ExecControl {
    fn drop(&mut self) {
        if !self.done.load(std::sync::atomic::Ordering::SeqCst) {
            // The client went away: the exec'd process goes too.
            // SAFETY: kill(2) on the process this exec started.
            unsafe { libc::kill(self.pid, libc::SIGKILL) };
        }
    }
}

/// An attachment: dropping it detaches and leaves the container running.
struct AttachControl {
    runtime: Arc<Runtime>,
    id: String,
    session: Mutex<Option<AttachSession>>,
}

impl ProcessControl for AttachControl {
    fn resize(&self, size: TerminalSize) -> Result<(), StreamError> {
        self.runtime
            .resize_container(&self.id, size.width, size.height)
            .map_err(|e| StreamError::Internal(format!("{e:#}")))
    }

    fn wait(&self) -> BoxFuture<'_, Result<i32, StreamError>> {
        let session = self.session.lock().ok().and_then(|mut s| s.take());
        Box::pin(async move {
            let s = session.ok_or_else(|| StreamError::internal("attach already waited for"))?;
            tokio::task::spawn_blocking(move || s.wait())
                .await
                .map_err(StreamError::internal)?
                .map_err(|e| StreamError::Internal(format!("{e:#}")))
        })
    }
}

impl StreamingBackend for AgentStreaming {
    fn check_container(&self, target: &ContainerRef) -> Result<(), StreamError> {
        self.ids(target).map(|_| ())
    }

    fn log_source(&self, target: &ContainerRef, previous: bool) -> Result<LogSource, StreamError> {
        let (cur, prev) = self.ids(target)?;
        let id = if previous {
            prev.ok_or_else(|| {
                StreamError::BadRequest(format!(
                    "previous terminated container {:?} in pod {:?} not found",
                    target.container, target.pod
                ))
            })?
        } else {
            cur
        };
        let rt = self.ctx.runtime.clone();
        let path = rt.container_log_path(&id).map_err(StreamError::internal)?;
        Ok(LogSource {
            path,
            is_running: Box::new(move || {
                rt.container_status(&id)
                    .map(|s| s.state == ContainerState::Running)
                    .unwrap_or(false)
            }),
        })
    }

    fn exec(
        &self,
        target: ContainerRef,
        command: Vec<String>,
        stdio: StdioSpec,
    ) -> BoxFuture<'static, Result<Process, StreamError>> {
        let ids = self.ids(&target);
        let rt = self.ctx.runtime.clone();
        Box::pin(async move {
            let (id, _) = ids?;
            let opts = ExecOptions {
                cmd: command,
                tty: stdio.tty,
                stdin: stdio.stdin,
                ..Default::default()
            };
            let mut session = tokio::task::spawn_blocking(move || rt.exec(&id, &opts))
                .await
                .map_err(StreamError::internal)?
                .map_err(|e| StreamError::Internal(format!("{e:#}")))?;
            let out = session.stdout.try_clone().map_err(StreamError::internal)?;
            let resize_fd = session.stdout.try_clone().map_err(StreamError::internal)?;
            let stdin = if stdio.tty && stdio.stdin {
                Some(session.stdout.try_clone().map_err(StreamError::internal)?)
            } else {
                session.stdin.take()
            };
            let stderr = session.stderr.take();
            let pid = session.pid;
            Ok(Process {
                stdin: stdin.filter(|_| stdio.stdin).map(|f| {
                    Box::new(tokio::fs::File::from_std(f)) as peapod_streaming::BoxedWriter
                }),
                stdout: stdio.stdout.then(|| {
                    Box::new(tokio::fs::File::from_std(out)) as peapod_streaming::BoxedReader
                }),
                stderr: stderr.filter(|_| stdio.stderr && !stdio.tty).map(|f| {
                    Box::new(tokio::fs::File::from_std(f)) as peapod_streaming::BoxedReader
                }),
                control: Box::new(ExecControl {
                    pid,
                    session: Mutex::new(Some(session)),
                    resize_fd,
                    done: Arc::new(std::sync::atomic::AtomicBool::new(false)),
                }),
            })
        })
    }

    fn attach(
        &self,
        target: ContainerRef,
        stdio: StdioSpec,
    ) -> BoxFuture<'static, Result<Process, StreamError>> {
        let ids = self.ids(&target);
        let rt = self.ctx.runtime.clone();
        Box::pin(async move {
            let (id, _) = ids?;
            let opts = AttachOptions {
                stdin: stdio.stdin,
                tty: stdio.tty,
            };
            let rt2 = rt.clone();
            let id2 = id.clone();
            let mut session = tokio::task::spawn_blocking(move || rt2.attach(&id2, opts))
                .await
                .map_err(StreamError::internal)?
                .map_err(|e| StreamError::BadRequest(format!("{e:#}")))?;
            let out = session.stdout.try_clone().map_err(StreamError::internal)?;
            let stdin = session.stdin.take();
            let stderr = session.stderr.take();
            Ok(Process {
                stdin: stdin.map(|f| {
                    Box::new(tokio::fs::File::from_std(f)) as peapod_streaming::BoxedWriter
                }),
                stdout: stdio.stdout.then(|| {
                    Box::new(tokio::fs::File::from_std(out)) as peapod_streaming::BoxedReader
                }),
                stderr: stderr.filter(|_| stdio.stderr).map(|f| {
                    Box::new(tokio::fs::File::from_std(f)) as peapod_streaming::BoxedReader
                }),
                control: Box::new(AttachControl {
                    runtime: rt,
                    id,
                    session: Mutex::new(Some(session)),
                }),
            })
        })
    }

    fn pod_netns(&self, namespace: &str, pod: &str) -> Result<PathBuf, StreamError> {
        let info = self.pod(namespace, pod)?;
        match info.netns {
            Some(p) => Ok(p),
            // hostNetwork pods: the node's own namespace.
            None if info.sandbox_id.is_some() => Ok(PathBuf::from("/proc/1/ns/net")),
            None => Err(StreamError::BadRequest(format!(
                "pod {pod} has no running sandbox"
            ))),
        }
    }
}
