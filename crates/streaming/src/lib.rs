//! peapod's kubelet-style streaming server.
//!
//! The node agent serves it over HTTPS (default port 10250, client certificates required); the
//! API server proxies kubectl's `pods/log`, `pods/exec`, `pods/attach` and `pods/portforward`
//! requests to it byte for byte, so it speaks exactly what kubectl speaks:
//! * logs: CRI log files with follow, tailLines, timestamps, previous, since*, limitBytes;
//! * exec/attach: WebSocket `v5.channel.k8s.io` (or v4), stream ids 0–4 and 255, a Status on
//!   channel 3, Close 1000 at the end;
//! * port-forward: SPDY/3.1 inside a WebSocket (`SPDY/3.1+portforward.k8s.io`) or raw SPDY,
//!   dialling localhost in the pod's network namespace.
//!
//! The agent supplies a [`StreamingBackend`].

mod backend;
pub mod channel;
pub mod cri_log;
mod error;
mod exec_session;
mod http_exec;
mod http_logs;
mod http_portforward;
mod log_stream;
pub mod netns;
pub mod portforward;
mod query;
mod response;
mod server;
pub mod spdy;
mod status;
mod tls;
mod ws_portforward;

pub use backend::{
    BoxedReader, BoxedWriter, ContainerRef, LogSource, Process, ProcessControl, StdioSpec,
    StreamingBackend, TerminalSize,
};
pub use error::StreamError;
pub use http_portforward::WEBSOCKET_PROTOCOL as PORTFORWARD_WEBSOCKET_PROTOCOL;
pub use server::{router, serve, DEFAULT_PORT};
pub use status::exit_status;
pub use tls::ServerTls;
