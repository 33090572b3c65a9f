//! A port-forward session: SPDY/3.1 streams from kubectl, each pair (error + data stream with the
//! same `requestid`) forwarded to one TCP connection in the pod.
//!
//! The session works on a plain byte stream: the caller feeds what arrives (WebSocket message
//! payloads or raw upgraded bytes, cut anywhere) and sends out what the session produces.

use std::collections::HashMap;
use std::io;
use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use futures::future::BoxFuture;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::spdy::frame::{self, Frame, FLAG_FIN, RST_PROTOCOL_ERROR};
use crate::spdy::{HeaderCompressor, HeaderDecompressor, SpdyError};

/// Opens a TCP connection to a port of the pod.
pub type Dialer = Arc<dyn Fn(u16) -> BoxFuture<'static, io::Result<TcpStream>> + Send + Sync>;

/// How much is read from a forwarded TCP connection at a time (SPDY and WebSocket alike).
pub(crate) const TCP_CHUNK: usize = 32 * 1024;

/// The two SPDY streams kubectl opens per forwarded connection.
#[derive(Default)]
struct PendingPair {
    port: Option<String>,
    error_stream: Option<u32>,
    data_stream: Option<u32>,
}

/// What the session tells a connection task.
enum ToPod {
    Data(Bytes),
    /// The client half-closed the data stream.
    Fin,
}

struct Connection {
    to_pod: mpsc::Sender<ToPod>,
    task: JoinHandle<()>,
}

/// Run a session until the client goes away or sends GOAWAY.
pub async fn run(
    mut input: mpsc::Receiver<Bytes>,
    output: mpsc::Sender<Bytes>,
    dial: Dialer,
    pod: String,
) {
    let mut session = Session {
        buffer: BytesMut::new(),
        inflater: HeaderDecompressor::new(),
        deflater: HeaderCompressor::stored(),
        pending: HashMap::new(),
        connections: HashMap::new(),
        output,
        dial,
        pod,
    };
    'outer: while let Some(chunk) = input.recv().await {
        session.buffer.extend_from_slice(&chunk);
        loop {
            match frame::parse(&mut session.buffer) {
                Ok(Some(frame)) => match session.handle(frame).await {
                    Ok(true) => {}
                    Ok(false) => break 'outer,
                    Err(err) => {
                        tracing::debug!(%err, "port-forward session protocol error");
                        break 'outer;
                    }
                },
                Ok(None) => break,
                Err(err) => {
                    tracing::debug!(%err, "port-forward session framing error");
                    break 'outer;
                }
            }
        }
    }
    for connection in session.connections.into_values() {
        connection.task.abort();
    }
}

struct Session {
    buffer: BytesMut,
    inflater: HeaderDecompressor,
    deflater: HeaderCompressor,
    /// Stream pairs still waiting for their partner, by requestid.
    pending: HashMap<String, PendingPair>,
    /// Live connections by data stream id.
    connections: HashMap<u32, Connection>,
    output: mpsc::Sender<Bytes>,
    dial: Dialer,
    pod: String,
}

impl Session {
    /// Handle one frame; `Ok(false)` ends the session.
    async fn handle(&mut self, frame: Frame) -> Result<bool, SpdyError> {
        match frame {
            Frame::SynStream {
                stream_id,
                header_block,
                ..
            } => {
                // Always inflate: the zlib stream must see every block to stay in sync.
                let headers = self.inflater.decode(&header_block)?;
                self.on_syn_stream(stream_id, &headers).await;
            }
            Frame::Headers { header_block, .. } => {
                self.inflater.decode(&header_block)?;
            }
            Frame::Data {
                stream_id,
                flags,
                data,
            } => {
                if let Some(connection) = self.connections.get(&stream_id) {
                    let mut ok = true;
                    if !data.is_empty() {
                        ok = connection.to_pod.send(ToPod::Data(data)).await.is_ok();
                    }
                    if ok && flags & FLAG_FIN != 0 {
                        let _ = connection.to_pod.send(ToPod::Fin).await;
                    }
                }
                // Data on error streams (kubectl only FINs them) and unknown streams: ignored.
            }
            Frame::RstStream { stream_id, .. } => {
                if let Some(connection) = self.connections.remove(&stream_id) {
                    connection.task.abort();
                }
            }
            Frame::Ping { id } => self.send(&Frame::Ping { id }).await,
            Frame::GoAway { .. } => return Ok(false),
            Frame::SynReply { .. }
            | Frame::Settings
            | Frame::WindowUpdate { .. }
            | Frame::Unknown { .. } => {}
        }
        Ok(true)
    }

    async fn on_syn_stream(&mut self, stream_id: u32, headers: &[(String, String)]) {
        let header = |name: &str| {
            headers
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.clone())
        };
        let (Some(stream_type), Some(port)) = (header("streamtype"), header("port")) else {
            self.send(&Frame::RstStream {
                stream_id,
                status: RST_PROTOCOL_ERROR,
            })
            .await;
            return;
        };
        let request_id = header("requestid").unwrap_or_default();
        match self.deflater.encode(&[]) {
            Ok(header_block) => {
                self.send(&Frame::SynReply {
                    stream_id,
                    flags: 0,
                    header_block,
                })
                .await
            }
            Err(err) => tracing::warn!(%err, "cannot encode SYN_REPLY"),
        }
        let pair = self.pending.entry(request_id.clone()).or_default();
        pair.port = Some(port);
        match stream_type.as_str() {
            "error" => pair.error_stream = Some(stream_id),
            "data" => pair.data_stream = Some(stream_id),
            other => {
                tracing::debug!(stream_type = other, "unknown port-forward stream type");
                return;
            }
        }
        if let (Some(_), Some(_)) = (pair.error_stream, pair.data_stream) {
            if let Some(pair) = self.pending.remove(&request_id) {
                self.start_connection(pair);
            }
        }
    }

    fn start_connection(&mut self, pair: PendingPair) {
        let (Some(error_stream), Some(data_stream)) = (pair.error_stream, pair.data_stream) else {
            return;
        };
        // Forget connections that ended without the client resetting their streams.
        self.connections.retain(|_, c| !c.task.is_finished());
        let (to_pod, from_client) = mpsc::channel(64);
        let streams = PairStreams {
            error_stream,
            data_stream,
            output: self.output.clone(),
        };
        let port = pair.port.unwrap_or_default();
        let dial = self.dial.clone();
        let pod = self.pod.clone();
        let task = tokio::spawn(async move {
            let result = match port.parse::<u16>() {
                Ok(port) if port > 0 => match dial(port).await {
                    Ok(tcp) => forward(tcp, from_client, &streams).await,
                    Err(err) => Err(format!(
                        "error forwarding port {port} to pod {pod}: failed to connect to localhost:{port}: {err}"
                    )),
                },
                _ => Err(format!("invalid port header {port:?} for pod {pod}")),
            };
            match result {
                Ok(()) => streams.finish().await,
                Err(message) => streams.fail(message).await,
            }
        });
        self.connections
            .insert(data_stream, Connection { to_pod, task });
    }

    async fn send(&mut self, frame: &Frame) {
        send_frame(&self.output, frame).await;
    }
}

/// The stream ids of one forwarded connection and the way back to the client.
struct PairStreams {
    error_stream: u32,
    data_stream: u32,
    output: mpsc::Sender<Bytes>,
}

impl PairStreams {
    async fn data(&self, stream_id: u32, data: Bytes, flags: u8) -> bool {
        send_frame(
            &self.output,
            &Frame::Data {
                stream_id,
                flags,
                data,
            },
        )
        .await
    }

    /// Report an error: its text and EOF on the error stream (kubectl prints
    /// "an error occurred forwarding ..."), then EOF on the data stream.
    async fn fail(&self, message: String) {
        let error = Bytes::from(message.into_bytes());
        self.data(self.error_stream, error, FLAG_FIN).await;
        self.data(self.data_stream, Bytes::new(), FLAG_FIN).await;
    }

    /// End both streams: kubectl waits for EOF on the error stream.
    async fn finish(&self) {
        self.data(self.data_stream, Bytes::new(), FLAG_FIN).await;
        self.data(self.error_stream, Bytes::new(), FLAG_FIN).await;
    }
}

async fn send_frame(output: &mpsc::Sender<Bytes>, frame: &Frame) -> bool {
    let mut wire = BytesMut::new();
    if let Err(err) = frame::encode(frame, &mut wire) {
        tracing::warn!(%err, "cannot encode SPDY frame");
        return false;
    }
    output.send(wire.freeze()).await.is_ok()
}

/// Copy both ways until the pod side reaches EOF. Errors become text for the error stream.
async fn forward(
    tcp: TcpStream,
    mut from_client: mpsc::Receiver<ToPod>,
    streams: &PairStreams,
) -> Result<(), String> {
    let (mut pod_read, mut pod_write) = tcp.into_split();
    let upstream = async move {
        while let Some(message) = from_client.recv().await {
            match message {
                ToPod::Data(bytes) => {
                    if pod_write.write_all(&bytes).await.is_err() {
                        break;
                    }
                }
                ToPod::Fin => break,
            }
        }
        // Half-close: the pod sees EOF but can still answer.
        let _ = pod_write.shutdown().await;
    };
    let upstream = tokio::spawn(upstream);
    let mut buf = vec![0u8; TCP_CHUNK];
    let result = loop {
        match pod_read.read(&mut buf).await {
            Ok(0) => break Ok(()),
            Ok(n) => {
                let chunk = Bytes::copy_from_slice(&buf[..n]);
                if !streams.data(streams.data_stream, chunk, 0).await {
                    break Ok(());
                }
            }
            Err(err) => break Err(format!("error reading from the pod: {err}")),
        }
    };
    upstream.abort();
    result
}
