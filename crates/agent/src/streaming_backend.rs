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

use k8s_openapi::api::core::v1::Pod;
use kube::Api;

use crate::ctx::{Ctx, PodRuntimeInfo};

pub struct AgentStreaming {
    pub ctx: Arc<Ctx>,
}

/// How long a streaming request may wait for the API server's view of a pod.
const POD_LOOKUP_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

impl AgentStreaming {
    fn pod(&self, namespace: &str, pod: &str) -> Result<PodRuntimeInfo, StreamError> {
        self.ctx
            .find_pod(namespace, pod)
            .ok_or_else(|| not_found(pod))
    }

    /// The runtime id of the target container's current instance (or previous one). A
    /// container the agent has no instance of is judged from the pod's spec and status, as a
    /// kubelet does: unknown names are invalid, others are waiting to start or terminated.
    fn container_id(&self, t: &ContainerRef, previous: bool) -> Result<String, StreamError> {
        let info = self.ctx.find_pod(&t.namespace, &t.pod);
        if let Some(ids) = info.as_ref().and_then(|i| i.containers.get(&t.container)) {
            return pick_instance(ids, previous, &t.container, &t.pod);
        }
        let pod = match self.fetch_pod(&t.namespace, &t.pod) {
            Some(Ok(Some(pod))) => pod,
            Some(Ok(None)) => return Err(not_found(&t.pod)),
            Some(Err(e)) => {
                tracing::debug!("streaming: reading pod {}/{}: {e}", t.namespace, t.pod);
                return local_only(info, t, previous);
            }
            None => return local_only(info, t, previous),
        };
        let name = choose_container(&pod, &t.pod, &t.container)?;
        if let Some(ids) = info.as_ref().and_then(|i| i.containers.get(&name)) {
            return pick_instance(ids, previous, &name, &t.pod);
        }
        id_from_status(&pod, &name, previous)
    }

    /// The pod as the API server has it, from a synchronous backend call. Only possible on a
    /// multi-threaded runtime (where the agent runs); `None` elsewhere.
    fn fetch_pod(&self, namespace: &str, name: &str) -> Option<Result<Option<Pod>, String>> {
        let handle = tokio::runtime::Handle::try_current().ok()?;
        if handle.runtime_flavor() != tokio::runtime::RuntimeFlavor::MultiThread {
            return None;
        }
        let api: Api<Pod> = Api::namespaced(self.ctx.client.clone(), namespace);
        let got = tokio::task::block_in_place(|| {
            handle.block_on(tokio::time::timeout(POD_LOOKUP_TIMEOUT, api.get_opt(name)))
        });
        Some(match got {
            Ok(r) => r.map_err(|e| e.to_string()),
            Err(_) => Err("timed out".into()),
        })
    }
}

fn not_found(pod: &str) -> StreamError {
    StreamError::NotFound(format!("pods {pod:?} not found"))
}

/// (current id, previous id) → the one asked for.
fn pick_instance(
    ids: &(String, Option<String>),
    previous: bool,
    container: &str,
    pod: &str,
) -> Result<String, StreamError> {
    if !previous {
        return Ok(ids.0.clone());
    }
    ids.1.clone().ok_or_else(|| no_previous(container, pod))
}

fn no_previous(container: &str, pod: &str) -> StreamError {
    StreamError::BadRequest(format!(
        "previous terminated container {container:?} in pod {pod:?} not found"
    ))
}

/// Without the API server: only what the agent itself runs.
fn local_only(
    info: Option<PodRuntimeInfo>,
    t: &ContainerRef,
    previous: bool,
) -> Result<String, StreamError> {
    let info = info.ok_or_else(|| not_found(&t.pod))?;
    let name = if t.container.is_empty() && info.containers.len() == 1 {
        info.containers.keys().next().cloned().unwrap_or_default()
    } else {
        t.container.clone()
    };
    match info.containers.get(&name) {
        Some(ids) => pick_instance(ids, previous, &name, &t.pod),
        None => Err(StreamError::BadRequest(format!(
            "container {name} is not valid for pod {}",
            t.pod
        ))),
    }
}

/// The container a request names, or the default one: the pod's only app container (init
/// and ephemeral containers never are the default), as the API server validates it.
fn choose_container(pod: &Pod, pod_name: &str, requested: &str) -> Result<String, StreamError> {
    let spec = pod.spec.clone().unwrap_or_default();
    let mut all: Vec<String> = spec
        .init_containers
        .iter()
        .flatten()
        .map(|c| c.name.clone())
        .collect();
    all.extend(spec.containers.iter().map(|c| c.name.clone()));
    all.extend(
        spec.ephemeral_containers
            .iter()
            .flatten()
            .map(|c| c.name.clone()),
    );
    if !requested.is_empty() {
        return if all.iter().any(|n| n == requested) {
            Ok(requested.to_string())
        } else {
            Err(StreamError::BadRequest(format!(
                "container {requested} is not valid for pod {pod_name}"
            )))
        };
    }
    match spec.containers.as_slice() {
        [only] => Ok(only.name.clone()),
        [] => Err(StreamError::BadRequest(format!(
            "a container name must be specified for pod {pod_name}"
        ))),
        _ => Err(StreamError::BadRequest(format!(
            "a container name must be specified for pod {pod_name}, choose one of: [{}]",
            all.join(" ")
        ))),
    }
}

/// `peapod://<id>` → `<id>`; empty → None.
fn runtime_id(container_id: Option<&String>) -> Option<String> {
    let id = container_id?;
    let id = id.split_once("://").map_or(id.as_str(), |(_, id)| id);
    (!id.is_empty()).then(|| id.to_string())
}

/// A container the agent holds no instance of, judged from the pod's status with kubelet's
/// order and wording: previous, running, terminated, last terminated, waiting.
fn id_from_status(pod: &Pod, name: &str, previous: bool) -> Result<String, StreamError> {
    let pod_name = pod.metadata.name.clone().unwrap_or_default();
    let status = pod.status.clone().unwrap_or_default();
    let found = [
        status.container_statuses,
        status.init_container_statuses,
        status.ephemeral_container_statuses,
    ]
    .into_iter()
    .flatten()
    .flatten()
    .find(|c| c.name == name);
    let waiting = |reason: &str| {
        StreamError::BadRequest(format!(
            "container {name:?} in pod {pod_name:?} is waiting to start: {reason}"
        ))
    };
    let terminated = || {
        StreamError::BadRequest(format!(
            "container {name:?} in pod {pod_name:?} is terminated"
        ))
    };
    let Some(cs) = found else {
        // Not reported yet: the state a kubelet gives every container before its first sync.
        let has_init = pod
            .spec
            .as_ref()
            .and_then(|s| s.init_containers.as_ref())
            .is_some_and(|i| !i.is_empty());
        return Err(waiting(if has_init {
            "PodInitializing"
        } else {
            "ContainerCreating"
        }));
    };
    let state = cs.state.clone().unwrap_or_default();
    let last_terminated = cs.last_state.as_ref().and_then(|s| s.terminated.as_ref());
    let last_id = last_terminated.and_then(|t| runtime_id(t.container_id.as_ref()));
    if previous {
        return last_id.ok_or_else(|| no_previous(name, &pod_name));
    }
    if state.running.is_some() {
        return runtime_id(cs.container_id.as_ref()).ok_or_else(|| waiting("ContainerCreating"));
    }
    if let Some(t) = &state.terminated {
        return runtime_id(t.container_id.as_ref())
            .or(last_id)
            .ok_or_else(terminated);
    }
    if last_terminated.is_some() {
        return last_id.ok_or_else(terminated);
    }
    match state.waiting.and_then(|w| w.reason) {
        Some(r) if r == "ErrImagePull" => Err(waiting("image can't be pulled")),
        Some(r) if r == "ImagePullBackOff" => Err(waiting("trying and failing to pull image")),
        Some(r) => Err(waiting(&r)),
        None => Err(StreamError::BadRequest(format!(
            "container {name:?} in pod {pod_name:?} is waiting to start - no logs yet"
        ))),
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
        self.container_id(target, false).map(|_| ())
    }

    fn log_source(&self, target: &ContainerRef, previous: bool) -> Result<LogSource, StreamError> {
        let id = self.container_id(target, previous)?;
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
        let id = self.container_id(&target, false);
        let rt = self.ctx.runtime.clone();
        Box::pin(async move {
            let id = id?;
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
        let id = self.container_id(&target, false);
        let rt = self.ctx.runtime.clone();
        Box::pin(async move {
            let id = id?;
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

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(spec: serde_json::Value, status: serde_json::Value) -> Pod {
        serde_json::from_value(serde_json::json!({
            "metadata": {"name": "p"}, "spec": spec, "status": status
        }))
        .expect("a valid pod")
    }

    fn message(r: Result<String, StreamError>) -> String {
        match r {
            Err(StreamError::BadRequest(m)) => m,
            other => panic!("expected BadRequest, got {other:?}"),
        }
    }

    #[test]
    fn default_container_is_the_only_app_container() {
        let p = pod(
            serde_json::json!({"initContainers": [{"name": "init"}], "containers": [{"name": "app"}]}),
            serde_json::json!({}),
        );
        assert_eq!(choose_container(&p, "p", "").ok().as_deref(), Some("app"));
        assert_eq!(
            choose_container(&p, "p", "init").ok().as_deref(),
            Some("init")
        );
        assert_eq!(
            message(choose_container(&p, "p", "nope")),
            "container nope is not valid for pod p"
        );
        let two = pod(
            serde_json::json!({"initContainers": [{"name": "init"}],
                               "containers": [{"name": "a"}, {"name": "b"}]}),
            serde_json::json!({}),
        );
        assert_eq!(
            message(choose_container(&two, "p", "")),
            "a container name must be specified for pod p, choose one of: [init a b]"
        );
    }

    #[test]
    fn waiting_containers_say_why_they_have_no_log() {
        let spec = serde_json::json!({"containers": [{"name": "c"}]});
        let waiting = |reason: &str| {
            pod(
                spec.clone(),
                serde_json::json!({"containerStatuses": [{"name": "c", "image": "i", "imageID": "",
                    "ready": false, "restartCount": 0, "state": {"waiting": {"reason": reason}}}]}),
            )
        };
        let cases = [
            ("ContainerCreating", "ContainerCreating"),
            ("ErrImagePull", "image can't be pulled"),
            ("ImagePullBackOff", "trying and failing to pull image"),
            ("ErrImageNeverPull", "ErrImageNeverPull"),
        ];
        for (reason, said) in cases {
            assert_eq!(
                message(id_from_status(&waiting(reason), "c", false)),
                format!("container \"c\" in pod \"p\" is waiting to start: {said}")
            );
        }
        // No status yet: as a kubelet reports a container before its first sync.
        assert_eq!(
            message(id_from_status(
                &pod(spec.clone(), serde_json::json!({})),
                "c",
                false
            )),
            "container \"c\" in pod \"p\" is waiting to start: ContainerCreating"
        );
        assert_eq!(
            message(id_from_status(&waiting("ContainerCreating"), "c", true)),
            "previous terminated container \"c\" in pod \"p\" not found"
        );
    }

    #[test]
    fn reported_instances_are_used_when_the_agent_has_none() {
        let p = pod(
            serde_json::json!({"containers": [{"name": "c"}]}),
            serde_json::json!({"containerStatuses": [{"name": "c", "image": "i", "imageID": "",
                "ready": false, "restartCount": 1, "containerID": "peapod://cur",
                "state": {"waiting": {"reason": "CrashLoopBackOff"}},
                "lastState": {"terminated": {"exitCode": 1, "containerID": "peapod://old"}}}]}),
        );
        assert_eq!(id_from_status(&p, "c", false).ok().as_deref(), Some("old"));
        assert_eq!(id_from_status(&p, "c", true).ok().as_deref(), Some("old"));
    }
}
