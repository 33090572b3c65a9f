//! The interface the node agent implements so this server can reach its containers.

use std::path::PathBuf;

use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncRead, AsyncWrite};

use crate::error::StreamError;

/// A readable process stream (stdout, stderr or a tty's output).
pub type BoxedReader = Box<dyn AsyncRead + Send + Unpin>;
/// The writable process stream (stdin or a tty's input). `shutdown()` closes it.
pub type BoxedWriter = Box<dyn AsyncWrite + Send + Unpin>;

/// Which container a request is about.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ContainerRef {
    pub namespace: String,
    pub pod: String,
    /// The container name from the `container` query parameter. Empty when the client gave none:
    /// the backend then picks the pod's only container or answers BadRequest.
    pub container: String,
}

/// Which standard streams the client asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StdioSpec {
    pub stdin: bool,
    pub stdout: bool,
    /// Always false when `tty` is true: a terminal merges stderr into its output.
    pub stderr: bool,
    pub tty: bool,
}

/// Terminal size as kubectl sends it on the resize channel: `{"Width":120,"Height":40}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TerminalSize {
    #[serde(rename = "Width")]
    pub width: u16,
    #[serde(rename = "Height")]
    pub height: u16,
}

/// A running exec'd process or an attached container.
///
/// The streams are `Some` exactly when the matching [`StdioSpec`] flag was set (stdout only
/// when `tty`). Dropping a `Process` before [`ProcessControl::wait`] finished means the client
/// went away: an exec backend should kill the process, an attach backend just detaches.
pub struct Process {
    pub stdin: Option<BoxedWriter>,
    pub stdout: Option<BoxedReader>,
    pub stderr: Option<BoxedReader>,
    pub control: Box<dyn ProcessControl>,
}

/// Control operations on a [`Process`]; both take `&self` so they can run concurrently.
pub trait ProcessControl: Send + Sync {
    /// Resize the process's terminal (ignored when there is no tty).
    fn resize(&self, size: TerminalSize) -> Result<(), StreamError>;
    /// Wait for the process (or attached container) to end; yields its exit code.
    fn wait(&self) -> BoxFuture<'_, Result<i32, StreamError>>;
}

/// Where a container's CRI-format log lives and whether the container is still running.
pub struct LogSource {
    /// The CRI log file (`<RFC3339Nano> stdout|stderr F|P <content>` lines).
    pub path: PathBuf,
    /// `follow` ends once this returns false and the file has been read to its end.
    pub is_running: Box<dyn Fn() -> bool + Send + Sync>,
}

/// What the node agent provides to the streaming server.
pub trait StreamingBackend: Send + Sync + 'static {
    /// Validate that the pod and container exist, before a WebSocket upgrade is accepted.
    /// Unknown pod: NotFound; unknown container: BadRequest (as a kubelet answers).
    fn check_container(&self, target: &ContainerRef) -> Result<(), StreamError>;

    /// The log file of the container's current instance, or of the previous one when `previous`.
    fn log_source(&self, target: &ContainerRef, previous: bool) -> Result<LogSource, StreamError>;

    /// Start `command` in the container with the requested streams.
    fn exec(
        &self,
        target: ContainerRef,
        command: Vec<String>,
        stdio: StdioSpec,
    ) -> BoxFuture<'static, Result<Process, StreamError>>;

    /// Attach to the container's main process.
    fn attach(
        &self,
        target: ContainerRef,
        stdio: StdioSpec,
    ) -> BoxFuture<'static, Result<Process, StreamError>>;

    /// Path of the pod's network namespace (e.g. `/proc/<pid>/ns/net` or a bind-mounted file);
    /// port-forward dials `localhost:<port>` inside it.
    fn pod_netns(&self, namespace: &str, pod: &str) -> Result<PathBuf, StreamError>;
}
